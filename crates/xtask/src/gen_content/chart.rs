//! Monitoring-style line charts as PNG bytes: a title, one or more panels on a shared time axis,
//! a legend per panel. Drawn with plotters on an in-memory bitmap and the bundled font, so the
//! same data gives the same bytes on every machine.

use std::ops::Range;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::glyphs::GlyphBackend;

/// The family name plotters' default text styles ask for; mapped to the bundled font.
const FAMILY: &str = "sans-serif";

/// DejaVu Sans Mono from Debian's fonts-dejavu-core (license next to it).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// Makes the bundled font the one every text of every chart uses (no system font is ever read).
fn register_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(())
        .ok_or_else(|| anyhow!("the bundled font DejaVuSansMono.ttf is not a valid font"))
}

/// A line of a panel.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Line colour.
    pub color: RGBColor,
    /// (time, value) points in time order; a series may stop early (no data after that).
    pub points: Vec<(f64, f64)>,
}

/// A horizontal reference line (a configured limit), drawn dashed with its label in the legend.
pub struct Limit {
    /// Legend text, e.g. `max_connections = 200`.
    pub name: String,
    /// Its value on the y axis.
    pub value: f64,
}

/// One chart of an image.
pub struct Panel {
    /// Above the plot.
    pub title: String,
    /// Its time axis.
    pub time: TimeAxis,
    /// Y axis description with its unit.
    pub y_desc: String,
    /// Y axis range.
    pub y_range: Range<f64>,
    /// Y tick label format.
    pub y_format: fn(f64) -> String,
    /// Lines.
    pub series: Vec<Series>,
    /// Reference lines.
    pub limits: Vec<Limit>,
}

/// The time axis of a panel. Time is in seconds from a fixed origin of the image.
pub struct TimeAxis {
    /// Window, in seconds.
    pub range: Range<f64>,
    /// Where the labelled ticks go, in seconds.
    pub ticks: Vec<f64>,
    /// Tick label for a time.
    pub format: fn(f64) -> String,
    /// Axis description: what the time is and its time zone.
    pub desc: String,
}

impl TimeAxis {
    /// A time axis over `range` with a labelled tick every `step` seconds from its start.
    pub fn every(range: Range<f64>, step: f64, format: fn(f64) -> String, desc: &str) -> TimeAxis {
        let count = ((range.end - range.start) / step).floor() as usize;
        TimeAxis {
            ticks: (0..=count).map(|i| range.start + i as f64 * step).collect(),
            range,
            format,
            desc: desc.to_owned(),
        }
    }
}

/// An image: a title line, a subtitle line (sources) and panels stacked vertically.
pub struct Chart {
    /// Width and height in pixels.
    pub size: (u32, u32),
    /// First line.
    pub title: String,
    /// Second line.
    pub subtitle: String,
    /// Panels, top to bottom.
    pub panels: Vec<Panel>,
}

/// Colours that stay apart for readers with the common colour-vision deficiencies
/// (Okabe–Ito palette), plus black for totals.
pub mod palette {
    use plotters::style::RGBColor;
    /// Blue.
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    /// Orange.
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    /// Bluish green.
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    /// Vermillion.
    pub const RED: RGBColor = RGBColor(213, 94, 0);
    /// Reddish purple.
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    /// Totals.
    pub const BLACK: RGBColor = RGBColor(30, 30, 30);
    /// Limits.
    pub const GREY: RGBColor = RGBColor(110, 110, 110);
}

const GRID: RGBColor = RGBColor(228, 228, 228);
const TEXT: RGBColor = RGBColor(40, 40, 40);

impl Chart {
    /// Draws the chart and encodes it as PNG.
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        register_font()?;
        let (width, height) = self.size;
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        self.draw(&mut rgb)
            .map_err(|e| anyhow!("drawing `{}`: {e}", self.title))?;
        encode_png(width, height, &rgb)
    }

    fn draw(&self, rgb: &mut [u8]) -> Result<(), Box<dyn std::error::Error>> {
        let font = ab_glyph::FontRef::try_from_slice(FONT)?;
        let root = GlyphBackend::new(rgb, self.size, font).into_drawing_area();
        root.fill(&WHITE)?;
        let (header, body) = root.split_vertically(64);
        header.draw_text(
            &self.title,
            &(FAMILY, 22).into_font().color(&TEXT),
            (16, 10),
        )?;
        header.draw_text(
            &self.subtitle,
            &(FAMILY, 15).into_font().color(&palette::GREY),
            (16, 38),
        )?;
        let areas = body.split_evenly((self.panels.len(), 1));
        for (area, panel) in areas.iter().zip(&self.panels) {
            draw_panel(area, panel)?;
        }
        root.present()?;
        Ok(())
    }
}

fn draw_panel(
    area: &DrawingArea<GlyphBackend, plotters::coord::Shift>,
    panel: &Panel,
) -> Result<(), Box<dyn std::error::Error>> {
    let time = &panel.time;
    let x = TimeCoord {
        linear: time.range.clone().into(),
        ticks: time.ticks.clone(),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FAMILY, 17).into_font().color(&TEXT))
        .margin_left(12)
        .margin_right(24)
        .margin_bottom(6)
        .x_label_area_size(48)
        .y_label_area_size(76)
        .build_cartesian_2d(x, panel.y_range.clone())?;
    chart
        .configure_mesh()
        .x_label_formatter(&|t| (time.format)(*t))
        .y_label_formatter(&|v| (panel.y_format)(*v))
        .x_desc(time.desc.as_str())
        .y_desc(panel.y_desc.as_str())
        .label_style((FAMILY, 13).into_font().color(&TEXT))
        .axis_desc_style((FAMILY, 14).into_font().color(&TEXT))
        .bold_line_style(GRID)
        .light_line_style(WHITE)
        .y_labels(6)
        .draw()?;
    let (start, end) = (time.range.start, time.range.end);
    for limit in &panel.limits {
        let style = palette::GREY.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                [(start, limit.value), (end, limit.value)],
                8,
                6,
                style,
            ))?
            .label(limit.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 8, y), (x + 14, y), (x + 22, y)], style)
            });
    }
    for series in &panel.series {
        let style = series.color.stroke_width(2);
        // One path per segment: plotters joins thick polylines with unbounded miters, which
        // shoot spikes across the image at sharp turns of noisy data.
        let visible = series
            .points
            .iter()
            .copied()
            .filter(|(t, _)| (start..=end).contains(t))
            .collect::<Vec<_>>();
        chart
            .draw_series(
                visible
                    .windows(2)
                    .map(|pair| PathElement::new([pair[0], pair[1]], style)),
            )?
            .label(series.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 22, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .margin(8)
        .label_font((FAMILY, 13).into_font().color(&TEXT))
        .background_style(WHITE.mix(0.92))
        .border_style(GRID)
        .draw()?;
    Ok(())
}

/// A linear time axis whose labelled ticks are exactly the given times (whole hours, days),
/// not the round numbers of seconds plotters would choose.
struct TimeCoord {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for TimeCoord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }
}

/// PNG with fixed settings (8-bit RGB, default compression, no timestamps or other metadata).
fn encode_png(width: u32, height: u32, rgb: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header().context("writing the PNG header")?;
    writer
        .write_image_data(rgb)
        .context("writing the PNG data")?;
    writer.finish().context("finishing the PNG")?;
    Ok(bytes)
}
