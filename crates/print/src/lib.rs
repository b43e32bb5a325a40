//! The hub's printed documents as PDF: waybill, loading list,
//! goods-received note, proof of delivery and donor statement.
//!
//! A document is first described as a [`Doc`] (title, facts, a table of
//! lines, notes, signature blocks, an optional QR code) by the builders of
//! [`documents`], which read the hub's data through
//! [`reliefhub_ops::Ops`]; [`render`] then lays it out on A4 pages with no
//! IO. The font (DejaVu Sans, which covers Latin, Cyrillic and Arabic) is
//! embedded in the binary, so nothing is fetched at run time; Arabic
//! documents are laid out right to left, with codes, dates and numbers kept
//! left to right.

pub mod documents;
pub mod labels;

use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

pub use labels::Lang;

/// DejaVu Sans (Bitstream Vera licence, see fonts/DejaVuSans-LICENSE.txt).
static FONT_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("{0}")]
    Ops(#[from] reliefhub_ops::OpsError),
    #[error("{0}")]
    Store(#[from] reliefhub_store::StoreError),
    #[error("cannot make the PDF: {0}")]
    Pdf(String),
    #[error("cannot make the QR code: {0}")]
    Qr(String),
}

/// One cell of a table: text, and whether it reads left to right whatever
/// the language (codes, dates, numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub ltr: bool,
    /// Right-aligned in a left-to-right document (numbers).
    pub num: bool,
}

impl Cell {
    /// Words in the document's language.
    pub fn words(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ltr: false,
            num: false,
        }
    }
    /// A code or date: always left to right.
    pub fn code(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ltr: true,
            num: false,
        }
    }
    /// A number.
    pub fn num(text: impl ToString) -> Cell {
        Cell {
            text: text.to_string(),
            ltr: true,
            num: true,
        }
    }
}

/// A table column: its heading and its share of the width.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub heading: String,
    pub weight: f32,
}

/// A document, ready to lay out.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub lang: Lang,
    /// The document's kind, in its language ("Waybill").
    pub title: String,
    /// The code the document is about (a departure, a leg, a donor).
    pub code: String,
    /// Facts above the lines: (label, value).
    pub facts: Vec<(String, Cell)>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Lines of text below the table (totals, discrepancies).
    pub notes: Vec<String>,
    /// Signature blocks: one labelled box each.
    pub signatures: Vec<String>,
    /// Text of a QR code printed beside the title.
    pub qr: Option<String>,
    /// A line at the foot of every page.
    pub footer: String,
}

impl Doc {
    /// SHA-256 of the document's content (everything but the QR code and the
    /// footer), in hex: printed on the page and carried by the QR code.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut put = |s: &str| {
            h.update(s.as_bytes());
            h.update([0x1f]);
        };
        put(self.lang.code());
        put(&self.title);
        put(&self.code);
        for (label, value) in &self.facts {
            put(label);
            put(&value.text);
        }
        for c in &self.columns {
            put(&c.heading);
        }
        for row in &self.rows {
            for cell in row {
                put(&cell.text);
            }
            put("\n");
        }
        for n in &self.notes {
            put(n);
        }
        hex::encode(h.finalize())
    }
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 36.0;
const BODY: f32 = 8.5;
const ROW_H: f32 = 13.0;

struct Text {
    font: Font,
    face: rustybuzz::Face<'static>,
}

impl Text {
    fn new() -> Result<Text, PrintError> {
        let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(FONT_DATA);
        let font = Font::new(data.into(), 0)
            .ok_or_else(|| PrintError::Pdf("the embedded font cannot be read".into()))?;
        let face = rustybuzz::Face::from_slice(FONT_DATA, 0)
            .ok_or_else(|| PrintError::Pdf("the embedded font cannot be shaped".into()))?;
        Ok(Text { font, face })
    }

    /// The width of `text` at `size`, shaped as it will be drawn.
    fn width(&self, text: &str, size: f32, rtl: bool) -> f32 {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(if rtl {
            rustybuzz::Direction::RightToLeft
        } else {
            rustybuzz::Direction::LeftToRight
        });
        let glyphs = rustybuzz::shape(&self.face, &[], buffer);
        let units: i32 = glyphs.glyph_positions().iter().map(|p| p.x_advance).sum();
        units as f32 * size / self.face.units_per_em() as f32
    }

    /// Cuts `text` to fit `max` points, with an ellipsis.
    fn fit(&self, text: &str, size: f32, max: f32, rtl: bool) -> String {
        if self.width(text, size, rtl) <= max {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let mut n = chars.len();
        while n > 0 {
            n -= 1;
            let s: String = chars[..n].iter().collect::<String>() + "…";
            if self.width(&s, size, rtl) <= max {
                return s;
            }
        }
        String::new()
    }

    /// The size at which `text` fits `max` points (down to 5.5 pt), and the
    /// text itself, cut with an ellipsis only if even that is too wide.
    fn shrink(&self, text: &str, size: f32, max: f32, rtl: bool) -> (f32, String) {
        let w = self.width(text, size, rtl);
        if w <= max {
            return (size, text.to_string());
        }
        let smaller = (size * max / w).max(5.5);
        (smaller, self.fit(text, smaller, max, rtl))
    }

    /// Draws `text` with its left edge at `x` (or its right edge, `align_end`).
    /// In a right-to-left line (`rtl`), runs of Arabic and of other scripts
    /// (codes, numbers, Latin names) are laid from right to left, each in its
    /// own direction, so "المجموع: 3200 kg" keeps its number readable.
    #[allow(clippy::too_many_arguments)]
    fn draw(
        &self,
        s: &mut Surface,
        x: f32,
        y: f32,
        size: f32,
        text: &str,
        rtl: bool,
        align_end: bool,
    ) {
        if text.is_empty() {
            return;
        }
        let runs = if rtl {
            runs(text)
        } else {
            vec![(text.to_string(), false)]
        };
        let widths: Vec<f32> = runs.iter().map(|(r, a)| self.width(r, size, *a)).collect();
        let total: f32 = widths.iter().sum();
        let left = if align_end { x - total } else { x };
        if !rtl {
            s.draw_text(
                Point::from_xy(left, y),
                self.font.clone(),
                size,
                text,
                false,
                TextDirection::LeftToRight,
            );
            return;
        }
        let mut right = left + total;
        for ((run, arabic), w) in runs.iter().zip(widths) {
            let direction = if *arabic {
                TextDirection::RightToLeft
            } else {
                TextDirection::LeftToRight
            };
            s.draw_text(
                Point::from_xy(right - w, y),
                self.font.clone(),
                size,
                run,
                false,
                direction,
            );
            right -= w;
        }
    }
}

fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

/// Splits text into runs of Arabic and of other letters and digits; spaces
/// and punctuation stay with the run before them.
fn runs(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for c in text.chars() {
        let strong = if is_arabic(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (out.last_mut(), strong) {
            (Some((run, arabic)), Some(a)) if *arabic == a => run.push(c),
            (Some((run, _)), None) => run.push(c),
            (_, Some(a)) => out.push((c.to_string(), a)),
            (None, None) => out.push((c.to_string(), true)),
        }
    }
    out
}

fn fill(s: &mut Surface, r: u8, g: u8, b: u8) {
    s.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }));
}

fn rect(s: &mut Surface, x: f32, y: f32, w: f32, h: f32) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        s.draw_path(&path);
    }
}

/// A rectangle's outline, drawn as four thin filled bars.
fn frame(s: &mut Surface, x: f32, y: f32, w: f32, h: f32) {
    rect(s, x, y, w, 0.6);
    rect(s, x, y + h - 0.6, w, 0.6);
    rect(s, x, y, 0.6, h);
    rect(s, x + w - 0.6, y, 0.6, h);
}

/// The QR code's modules as filled squares, `size` points wide.
fn draw_qr(s: &mut Surface, text: &str, x: f32, y: f32, size: f32) -> Result<(), PrintError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PrintError::Qr(e.to_string()))?;
    let width = code.width();
    let quiet = 4usize;
    let module = size / (width + 2 * quiet) as f32;
    fill(s, 255, 255, 255);
    rect(s, x, y, size, size);
    fill(s, 0, 0, 0);
    let mut pb = PathBuilder::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            let (cx, cy) = (i % width, i / width);
            if let Some(r) = Rect::from_xywh(
                x + (cx + quiet) as f32 * module,
                y + (cy + quiet) as f32 * module,
                module,
                module,
            ) {
                pb.push_rect(r);
            }
        }
    }
    if let Some(path) = pb.finish() {
        s.draw_path(&path);
    }
    Ok(())
}

/// Lays the document out on A4 pages and returns the PDF file.
pub fn render(doc: &Doc) -> Result<Vec<u8>, PrintError> {
    let text = Text::new()?;
    let rtl = doc.lang.rtl();
    let hash = doc.content_hash();
    let content_w = PAGE_W - 2.0 * MARGIN;
    // x of a point `d` points from the start edge (left, or right in Arabic).
    let at = |d: f32| if rtl { PAGE_W - MARGIN - d } else { MARGIN + d };

    let total_weight: f32 = doc.columns.iter().map(|c| c.weight).sum::<f32>().max(1.0);
    let widths: Vec<f32> = doc
        .columns
        .iter()
        .map(|c| content_w * c.weight / total_weight)
        .collect();

    let mut document = Document::new();
    let mut row_index = 0usize;
    let mut page_no = 0;
    loop {
        page_no += 1;
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| PrintError::Pdf("bad page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut s = page.surface();
        let mut y = MARGIN + 14.0;
        fill(&mut s, 11, 79, 138);
        // Title and code: words in the language, the code left to right.
        text.draw(&mut s, at(0.0), y, 16.0, &doc.title, rtl, rtl);
        let title_w = text.width(&doc.title, 16.0, rtl) + 10.0;
        text.draw(&mut s, at(title_w), y, 16.0, &doc.code, false, rtl);
        fill(&mut s, 70, 80, 90);
        y += 14.0;
        text.draw(
            &mut s,
            at(0.0),
            y,
            7.0,
            &format!("reliefhub · sha256 {}", &hash[..16]),
            false,
            rtl,
        );
        let qr_size = 92.0;
        if page_no == 1 {
            if let Some(qr) = &doc.qr {
                let qx = if rtl {
                    MARGIN
                } else {
                    PAGE_W - MARGIN - qr_size
                };
                draw_qr(&mut s, qr, qx, MARGIN - 6.0, qr_size)?;
            }
        }
        y += 14.0;
        if page_no == 1 {
            // Facts in two columns, clear of the QR code.
            let fact_w = (content_w - if doc.qr.is_some() { qr_size + 8.0 } else { 0.0 }) / 2.0;
            for (i, (label, value)) in doc.facts.iter().enumerate() {
                let col = (i % 2) as f32;
                let fy = y + (i / 2) as f32 * 12.0;
                let x0 = col * fact_w;
                fill(&mut s, 70, 80, 90);
                let label = text.fit(label, 7.5, fact_w * 0.42, rtl);
                text.draw(&mut s, at(x0), fy, 7.5, &label, rtl, rtl);
                fill(&mut s, 20, 24, 28);
                let v_rtl = rtl && !value.ltr;
                let v = text.fit(&value.text, 8.5, fact_w * 0.56, v_rtl);
                text.draw(&mut s, at(x0 + fact_w * 0.44), fy, 8.5, &v, v_rtl, rtl);
            }
            y += (doc.facts.len().div_ceil(2)) as f32 * 12.0 + 10.0;
            y = y.max(MARGIN + qr_size + 4.0);
        }
        // Table heading.
        fill(&mut s, 230, 235, 240);
        rect(&mut s, MARGIN, y - 9.5, content_w, ROW_H);
        fill(&mut s, 20, 24, 28);
        let mut x = 0.0;
        for (c, w) in doc.columns.iter().zip(&widths) {
            let (size, h) = text.shrink(&c.heading, 7.5, w - 4.0, rtl);
            text.draw(&mut s, at(x + 2.0), y, size, &h, rtl, rtl);
            x += w;
        }
        y += ROW_H;
        // Rows until the page is full (room kept for notes and signatures on the last).
        let bottom = PAGE_H - MARGIN - 20.0;
        while row_index < doc.rows.len() && y < bottom {
            let row = &doc.rows[row_index];
            if row_index % 2 == 1 {
                fill(&mut s, 246, 248, 250);
                rect(&mut s, MARGIN, y - 9.5, content_w, ROW_H);
            }
            fill(&mut s, 20, 24, 28);
            let mut x = 0.0;
            for (cell, w) in row.iter().zip(&widths) {
                let cell_rtl = rtl && !cell.ltr;
                let (size, t) = text.shrink(&cell.text, BODY, w - 4.0, cell_rtl);
                if cell.num && !rtl {
                    text.draw(&mut s, at(x + w - 2.0), y, size, &t, false, true);
                } else {
                    text.draw(&mut s, at(x + 2.0), y, size, &t, cell_rtl, rtl);
                }
                x += w;
            }
            y += ROW_H;
            row_index += 1;
        }
        let last = row_index >= doc.rows.len();
        let sig_h = 58.0;
        let notes_h = doc.notes.len() as f32 * 12.0 + 8.0;
        let fits_tail = y
            + notes_h
            + if doc.signatures.is_empty() {
                0.0
            } else {
                sig_h + 14.0
            }
            < bottom;
        if last && fits_tail {
            y += 8.0;
            fill(&mut s, 20, 24, 28);
            for n in &doc.notes {
                let t = text.fit(n, 8.5, content_w, rtl);
                text.draw(&mut s, at(0.0), y, 8.5, &t, rtl, rtl);
                y += 12.0;
            }
            if !doc.signatures.is_empty() {
                y += 10.0;
                let n = doc.signatures.len() as f32;
                let gap = 10.0;
                let w = (content_w - gap * (n - 1.0)) / n;
                for (i, label) in doc.signatures.iter().enumerate() {
                    let d = i as f32 * (w + gap);
                    let left = if rtl {
                        PAGE_W - MARGIN - d - w
                    } else {
                        MARGIN + d
                    };
                    fill(&mut s, 120, 128, 136);
                    frame(&mut s, left, y, w, sig_h);
                    fill(&mut s, 20, 24, 28);
                    let (size, l) = text.shrink(label, 8.0, w - 8.0, rtl);
                    text.draw(&mut s, at(d + 4.0), y + 11.0, size, &l, rtl, rtl);
                    fill(&mut s, 90, 98, 106);
                    let sign = text.fit(doc.lang.signature_line(), 7.0, w - 8.0, rtl);
                    text.draw(&mut s, at(d + 4.0), y + sig_h - 6.0, 7.0, &sign, rtl, rtl);
                }
            }
        }
        // Footer.
        fill(&mut s, 90, 98, 106);
        let foot = format!("{} · {}", doc.footer, page_no);
        text.draw(
            &mut s,
            at(0.0),
            PAGE_H - MARGIN + 10.0,
            7.0,
            &foot,
            rtl,
            rtl,
        );
        s.finish();
        page.finish();
        if last && fits_tail {
            break;
        }
        if page_no > 500 {
            return Err(PrintError::Pdf(
                "the document would need more than 500 pages".into(),
            ));
        }
    }
    document
        .finish()
        .map_err(|e| PrintError::Pdf(format!("{e:?}")))
}
