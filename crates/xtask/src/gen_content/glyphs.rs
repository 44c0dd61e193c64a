//! Text for plotters' bitmap backend, drawn with ab_glyph directly.
//!
//! plotters 0.3.7 places each glyph of an ab_glyph font at the left edge of its advance box,
//! ignoring the glyph's own bearing, so narrow characters (`:` `-` `.`) stick to their left
//! neighbour ("06: 00"). [`GlyphBackend`] wraps [`BitMapBackend`] and draws text itself, at the
//! positions the font gives; everything else goes to the bitmap backend unchanged.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// [`BitMapBackend`] with correctly spaced text in one font.
pub struct GlyphBackend<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> GlyphBackend<'a> {
    /// Draws into `rgb` (`size.0 × size.1` pixels, 3 bytes each) with `font` for all text.
    pub fn new(rgb: &'a mut [u8], size: (u32, u32), font: FontRef<'static>) -> GlyphBackend<'a> {
        GlyphBackend {
            inner: BitMapBackend::with_buffer(rgb, size),
            font,
        }
    }

    /// Where each glyph of `text` starts on the baseline at `size`, and the width of the text.
    fn layout(&self, text: &str, size: f32) -> (Vec<(GlyphId, f32)>, f32) {
        let font = self.font.as_scaled(PxScale::from(size));
        let mut glyphs = Vec::with_capacity(text.len());
        let mut caret = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                caret += font.kern(p, id);
            }
            glyphs.push((id, caret));
            caret += font.h_advance(id);
            previous = Some(id);
        }
        (glyphs, caret)
    }

    /// The font's ascent and descent (negative) at `size`.
    fn vertical_metrics(&self, size: f32) -> (f32, f32) {
        let font = self.font.as_scaled(PxScale::from(size));
        (font.ascent(), font.descent())
    }
}

type Result<T> =
    std::result::Result<T, DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

impl DrawingBackend for GlyphBackend<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<()> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<()> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<()> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<()> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<()> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<()> {
        self.inner.draw_path(path, style)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<()> {
        self.inner.fill_polygon(vertices, style)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32)> {
        let size = style.size() as f32;
        let (_, width) = self.layout(text, size);
        let (ascent, descent) = self.vertical_metrics(size);
        Ok((width.ceil() as u32, (ascent - descent).ceil() as u32))
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<()> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size() as f32;
        let (glyphs, width) = self.layout(text, size);
        let (ascent, descent) = self.vertical_metrics(size);
        let height = ascent - descent;
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Right => -width,
            HPos::Center => -width / 2.0,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        for (id, caret) in glyphs {
            let glyph = id.with_scale_and_position(PxScale::from(size), point(caret, ascent));
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let mut pixels = Vec::new();
            outline.draw(|x, y, coverage| pixels.push((x, y, coverage)));
            for (x, y, coverage) in pixels {
                if coverage <= 0.0 {
                    continue;
                }
                let local_x = (bounds.min.x + x as f32 + dx).round() as i32;
                let local_y = (bounds.min.y + y as f32 + dy).round() as i32;
                let (tx, ty) = transform.transform(local_x, local_y);
                let (px, py) = (pos.0 + tx, pos.1 + ty);
                if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                    self.inner.draw_pixel(
                        (px, py),
                        BackendColor {
                            alpha: color.alpha * f64::from(coverage.min(1.0)),
                            rgb: color.rgb,
                        },
                    )?;
                }
            }
        }
        Ok(())
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, (iw, ih): (u32, u32), src: &[u8]) -> Result<()> {
        self.inner.blit_bitmap(pos, (iw, ih), src)
    }
}
