//! Report tables, rendered as aligned text, CSV with an HXL hashtag row, or
//! JSON (an array of objects keyed by column name).

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A number shown with the given decimals.
    Real(f64, usize),
    Empty,
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Real(x, decimals) => format!("{x:.decimals$}"),
            Cell::Empty => String::new(),
        }
    }
    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(t) => serde_json::Value::String(t.clone()),
            Cell::Int(n) => serde_json::Value::from(*n),
            Cell::Real(x, decimals) => {
                let factor = 10f64.powi(*decimals as i32);
                serde_json::Value::from((x * factor).round() / factor)
            }
            Cell::Empty => serde_json::Value::Null,
        }
    }
    fn numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Real(..))
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

/// A column: its name and its HXL hashtag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub hxl: &'static str,
}

pub const fn column(name: &'static str, hxl: &'static str) -> Column {
    Column { name, hxl }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// How to print a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Csv,
    Json,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: Vec<Column>) -> Table {
        Table {
            title: title.into(),
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "a row has one cell per column"
        );
        self.rows.push(row);
    }

    pub fn render(&self, output: Output) -> String {
        match output {
            Output::Text => self.text(),
            Output::Csv => self.csv(),
            Output::Json => serde_json::to_string_pretty(&self.json()).unwrap_or_default() + "\n",
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.rows
                .iter()
                .map(|row| {
                    serde_json::Value::Object(
                        self.columns
                            .iter()
                            .zip(row)
                            .map(|(c, cell)| (c.name.to_string(), cell.json()))
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    pub fn text(&self) -> String {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|c| c.name.chars().count())
            .collect();
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::text).collect())
            .collect();
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&self.title);
            out.push('\n');
        }
        let line = |values: Vec<(String, bool)>| -> String {
            let parts: Vec<String> = values
                .into_iter()
                .zip(&widths)
                .map(|((v, right), w)| {
                    if right {
                        format!("{v:>w$}")
                    } else {
                        format!("{v:<w$}")
                    }
                })
                .collect();
            parts.join("  ").trim_end().to_string() + "\n"
        };
        out.push_str(&line(
            self.columns
                .iter()
                .map(|c| (c.name.to_string(), false))
                .collect(),
        ));
        out.push_str(&line(
            widths.iter().map(|w| ("-".repeat(*w), false)).collect(),
        ));
        for (row, texts) in self.rows.iter().zip(cells) {
            out.push_str(&line(
                texts
                    .into_iter()
                    .zip(row)
                    .map(|(t, c)| (t, c.numeric()))
                    .collect(),
            ));
        }
        if self.rows.is_empty() {
            out.push_str("(none)\n");
        }
        out
    }

    pub fn csv(&self) -> String {
        let escape = |v: String| {
            if v.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                v
            }
        };
        let mut out = String::new();
        out.push_str(
            &self
                .columns
                .iter()
                .map(|c| escape(c.name.to_string()))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
        out.push_str(
            &self
                .columns
                .iter()
                .map(|c| c.hxl.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
        for row in &self.rows {
            out.push_str(
                &row.iter()
                    .map(|c| escape(c.text()))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        out
    }
}
