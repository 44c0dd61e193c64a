//! Terminal screenshots: coloured lines of text drawn in the bundled DejaVu Sans Mono, the way a
//! terminal window shows them (title bar, dark background, long lines wrapped at the last
//! column), encoded as PNG. No system font and no randomness: the same lines give the same bytes.

use std::collections::BTreeMap;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use anyhow::Context;

/// The bundled font (from Debian's fonts-dejavu-core; licence next to it).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// Text size of the terminal, in pixels.
const TEXT_PX: f32 = 15.0;
/// Text size of the window title.
const TITLE_PX: f32 = 13.0;
/// Height of one terminal row.
const ROW_HEIGHT: u32 = 19;
/// Height of the title bar.
const TITLE_BAR: u32 = 30;
/// Space between the window edge and the text.
const PADDING: u32 = 14;
/// Steps of anti-aliasing between background and text colour.
const COVERAGE_LEVELS: f32 = 16.0;

/// A colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The colours of the terminal theme.
pub mod color {
    use super::Rgb;

    /// Window background.
    pub const BACKGROUND: Rgb = Rgb(0x1d, 0x1f, 0x21);
    /// Title bar.
    pub const TITLE_BAR: Rgb = Rgb(0x33, 0x35, 0x38);
    /// Title text.
    pub const TITLE: Rgb = Rgb(0xb0, 0xb3, 0xb8);
    /// Ordinary text.
    pub const TEXT: Rgb = Rgb(0xd5, 0xd8, 0xd6);
    /// The user@host part of the prompt.
    pub const PROMPT_USER: Rgb = Rgb(0x8a, 0xe2, 0x34);
    /// The working directory in the prompt.
    pub const PROMPT_PATH: Rgb = Rgb(0x72, 0x9f, 0xcf);
    /// What grep highlights (bold red).
    pub const ERROR: Rgb = Rgb(0xef, 0x29, 0x29);
    /// Window buttons.
    pub const BUTTONS: [Rgb; 3] = [
        Rgb(0xff, 0x5f, 0x57),
        Rgb(0xfe, 0xbc, 0x2e),
        Rgb(0x28, 0xc8, 0x40),
    ];
}

/// A run of text in one colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The text (one line, no tabs).
    pub text: String,
    /// Its colour.
    pub color: Rgb,
}

/// One line of output, before wrapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// Its coloured runs, left to right.
    pub spans: Vec<Span>,
}

impl Line {
    /// A line in one colour.
    pub fn colored(text: &str, color: Rgb) -> Line {
        Line::default().then(text, color)
    }

    /// This line with `text` in `color` added at its end.
    pub fn then(mut self, text: &str, color: Rgb) -> Line {
        self.spans.push(Span {
            text: text.to_owned(),
            color,
        });
        self
    }

    /// A shell prompt (`user@host:~$ `) followed by a command.
    pub fn prompt(user_host: &str, command: &str) -> Line {
        Line::colored(user_host, color::PROMPT_USER)
            .then(":", color::TEXT)
            .then("~", color::PROMPT_PATH)
            .then("$ ", color::TEXT)
            .then(command, color::TEXT)
    }
}

/// A terminal window and what it shows.
pub struct Terminal {
    /// The window title.
    pub title: String,
    /// Columns before a line wraps.
    pub columns: usize,
    /// Output lines, top to bottom.
    pub lines: Vec<Line>,
    /// Whether to draw the cursor after the last line (a prompt waiting for input).
    pub cursor: bool,
}

impl Terminal {
    /// The screenshot as PNG bytes.
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        let font = FontRef::try_from_slice(FONT).context("reading the bundled font")?;
        let text = font.as_scaled(PxScale::from(TEXT_PX));
        let advance = text.h_advance(font.glyph_id('M'));
        let rows = self.rows();
        let width = PADDING * 2 + (advance * self.columns as f32).ceil() as u32;
        let height = TITLE_BAR + PADDING * 2 + ROW_HEIGHT * rows.len() as u32;
        let mut canvas = Canvas::new(width, height, color::BACKGROUND);
        canvas.fill_rect(0, 0, width, TITLE_BAR, color::TITLE_BAR);
        for (i, button) in color::BUTTONS.iter().enumerate() {
            canvas.fill_circle(18.0 + 20.0 * i as f32, TITLE_BAR as f32 / 2.0, 6.0, *button);
        }
        let title = font.as_scaled(PxScale::from(TITLE_PX));
        let title_width: f32 = self
            .title
            .chars()
            .map(|c| title.h_advance(font.glyph_id(c)))
            .sum();
        let title_baseline = (TITLE_BAR as f32 + title.ascent() + title.descent()) / 2.0;
        canvas.text(
            &font,
            TITLE_PX,
            (width as f32 - title_width) / 2.0,
            title_baseline,
            &self.title,
            color::TITLE,
        );
        let top = (TITLE_BAR + PADDING) as f32;
        // The baseline sits so that ascenders and descenders are centred in the row.
        let baseline_offset = (ROW_HEIGHT as f32 + text.ascent() + text.descent()) / 2.0;
        for (row, cells) in rows.iter().enumerate() {
            let baseline = top + ROW_HEIGHT as f32 * row as f32 + baseline_offset;
            for (col, (c, rgb)) in cells.iter().enumerate() {
                let x = PADDING as f32 + advance * col as f32;
                canvas.glyph(&font, TEXT_PX, x, baseline, *c, *rgb);
            }
        }
        if self.cursor {
            let last = rows.len().saturating_sub(1);
            let col = rows.last().map_or(0, Vec::len);
            let x = PADDING as f32 + advance * col as f32;
            let y = TITLE_BAR + PADDING + ROW_HEIGHT * last as u32 + 2;
            canvas.fill_rect(
                x.round() as u32,
                y,
                advance.round() as u32,
                ROW_HEIGHT - 4,
                color::TEXT,
            );
        }
        canvas.png()
    }

    /// The lines wrapped at [`Terminal::columns`], as (character, colour) cells.
    fn rows(&self) -> Vec<Vec<(char, Rgb)>> {
        let mut rows = Vec::new();
        for line in &self.lines {
            let mut row = Vec::new();
            for span in &line.spans {
                for c in span.text.chars() {
                    if row.len() == self.columns {
                        rows.push(std::mem::take(&mut row));
                    }
                    row.push((c, span.color));
                }
            }
            rows.push(row);
        }
        rows
    }
}

/// An RGB image being drawn.
struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32, background: Rgb) -> Canvas {
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        for _ in 0..width * height {
            pixels.extend([background.0, background.1, background.2]);
        }
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// Mixes `color` into the pixel at (x, y) with `coverage` (0 to 1).
    fn blend(&mut self, x: i64, y: i64, coverage: f32, color: Rgb) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        // Sixteen levels of coverage look the same as more, and keep the colours few enough for
        // an indexed PNG (a quarter of the size of an RGB one).
        let coverage = (coverage.clamp(0.0, 1.0) * COVERAGE_LEVELS).round() / COVERAGE_LEVELS;
        let i = ((y as u32 * self.width + x as u32) * 3) as usize;
        for (channel, target) in [color.0, color.1, color.2].into_iter().enumerate() {
            let old = f32::from(self.pixels[i + channel]);
            let new = old + (f32::from(target) - old) * coverage;
            self.pixels[i + channel] = new.round() as u8;
        }
    }

    fn fill_rect(&mut self, x: u32, y: u32, w: u32, h: u32, color: Rgb) {
        for py in y..(y + h).min(self.height) {
            for px in x..(x + w).min(self.width) {
                self.blend(i64::from(px), i64::from(py), 1.0, color);
            }
        }
    }

    /// A disc, its edge smoothed over one pixel.
    fn fill_circle(&mut self, cx: f32, cy: f32, r: f32, color: Rgb) {
        let (x0, x1) = ((cx - r - 1.0) as i64, (cx + r + 1.0) as i64);
        let (y0, y1) = ((cy - r - 1.0) as i64, (cy + r + 1.0) as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                let distance = (dx * dx + dy * dy).sqrt();
                self.blend(x, y, r + 0.5 - distance, color);
            }
        }
    }

    fn glyph(&mut self, font: &FontRef, px: f32, x: f32, baseline: f32, c: char, color: Rgb) {
        let glyph = font
            .glyph_id(c)
            .with_scale_and_position(PxScale::from(px), point(x, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            let (left, top) = (bounds.min.x as i64, bounds.min.y as i64);
            outlined.draw(|gx, gy, coverage| {
                self.blend(left + i64::from(gx), top + i64::from(gy), coverage, color);
            });
        }
    }

    fn text(&mut self, font: &FontRef, px: f32, x: f32, baseline: f32, text: &str, color: Rgb) {
        let scaled = font.as_scaled(PxScale::from(px));
        let mut pen = x;
        for c in text.chars() {
            self.glyph(font, px, pen, baseline, c, color);
            pen += scaled.h_advance(font.glyph_id(c));
        }
    }

    /// Encodes the image: indexed colour when it has at most 256 colours (it does, see
    /// [`COVERAGE_LEVELS`]), RGB otherwise.
    fn png(&self) -> anyhow::Result<Vec<u8>> {
        let mut palette: BTreeMap<[u8; 3], u8> = BTreeMap::new();
        for pixel in self.pixels.chunks_exact(3) {
            palette.insert([pixel[0], pixel[1], pixel[2]], 0);
            if palette.len() > 256 {
                break;
            }
        }
        let indexed = palette.len() <= 256;
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        let data = if indexed {
            for (i, index) in palette.values_mut().enumerate() {
                *index = u8::try_from(i).context("palette index")?;
            }
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(palette.keys().flatten().copied().collect::<Vec<u8>>());
            self.pixels
                .chunks_exact(3)
                .map(|p| palette[&[p[0], p[1], p[2]]])
                .collect()
        } else {
            encoder.set_color(png::ColorType::Rgb);
            self.pixels.clone()
        };
        let mut writer = encoder.write_header().context("writing the PNG header")?;
        writer.write_image_data(&data).context("encoding the PNG")?;
        writer.finish().context("finishing the PNG")?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_the_column_limit() {
        let terminal = Terminal {
            title: "t".into(),
            columns: 4,
            lines: vec![Line::colored("abcdefghij", color::TEXT), Line::default()],
            cursor: false,
        };
        let rows: Vec<String> = terminal
            .rows()
            .iter()
            .map(|r| r.iter().map(|(c, _)| *c).collect())
            .collect();
        assert_eq!(rows, ["abcd", "efgh", "ij", ""]);
    }

    #[test]
    fn a_screenshot_is_a_png_of_the_expected_size() {
        let terminal = Terminal {
            title: "sre@host: ~".into(),
            columns: 20,
            lines: vec![Line::prompt("sre@host", "ls")],
            cursor: true,
        };
        let png = terminal.png().unwrap();
        let decoder = png::Decoder::new(png.as_slice());
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.height, TITLE_BAR + PADDING * 2 + ROW_HEIGHT);
        assert!(
            info.width > PADDING * 2 + 20 * 7,
            "20 columns of at least 7 px"
        );
    }
}
