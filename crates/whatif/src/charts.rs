//! SVG charts of a report, drawn with `plotters`' SVG backend into strings
//! (no files, no fonts loaded, no network): the value delivered per
//! scenario, a fan chart of the random runs, the shortfall per destination
//! and a timeline of departures per node with the closures.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::doc::day;
use crate::report::{Report, ScenarioReport};

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart {chart}: {message}")]
pub struct ChartError {
    pub chart: &'static str,
    pub message: String,
}

/// The charts of a report: (file name, SVG text).
pub fn all(report: &Report) -> Result<Vec<(&'static str, String)>, ChartError> {
    Ok(vec![
        ("value.svg", value_chart(report)?),
        ("fan.svg", fan_chart(report)?),
        ("shortfall.svg", shortfall_chart(report)?),
        ("timeline.svg", timeline_chart(report)?),
    ])
}

/// Colours of the columns (baseline first); all reach 4.5:1 on white.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x4e, 0x9a),
    RGBColor(0xb3, 0x3c, 0x00),
    RGBColor(0x2e, 0x6b, 0x30),
    RGBColor(0x7b, 0x2c, 0x8f),
    RGBColor(0x8a, 0x5a, 0x00),
    RGBColor(0x00, 0x6d, 0x77),
];
const GREY: RGBColor = RGBColor(0x59, 0x59, 0x59);
const CLOSED: RGBColor = RGBColor(0xc6, 0x28, 0x28);

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn err<E: std::fmt::Debug>(chart: &'static str) -> impl Fn(E) -> ChartError {
    move |e| ChartError {
        chart,
        message: format!("{e:?}"),
    }
}

/// A number in a short form: 12.3M, 450k, 12.
fn short(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.1}G", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The name of the item at a whole axis position; nothing between them.
fn at_whole<T>(items: &[T], x: f64, name: impl Fn(&T) -> String) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        items.get(i as usize).map(name).unwrap_or_default()
    } else {
        String::new()
    }
}

/// A day of the report's axis as month-day (`03-31`).
fn day_label(days: &[String], x: f64) -> String {
    days.get(x.round().max(0.0) as usize)
        .map(|d| d.get(5..).unwrap_or(d).to_string())
        .unwrap_or_default()
}

/// The legend box of a chart: its series' labels on a white ground.
fn legend<'a>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    position: SeriesLabelPosition,
    font_size: u32,
    chart_name: &'static str,
) -> Result<(), ChartError> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font(("sans-serif", font_size))
        .draw()
        .map_err(err(chart_name))
}

fn label(c: &ScenarioReport) -> String {
    if c.random && c.runs > 1 {
        format!("{} ({} runs)", c.name, c.runs)
    } else {
        c.name.clone()
    }
}

/// Bars of the value delivered: the median, with a whisker from the 10th
/// to the 90th percentile for random scenarios.
pub fn value_chart(report: &Report) -> Result<String, ChartError> {
    const NAME: &str = "value.svg";
    let e = err(NAME);
    let columns: Vec<&ScenarioReport> = report.columns().collect();
    let top = columns
        .iter()
        .map(|c| {
            c.figures
                .value_delivered
                .p90
                .max(c.figures.value_delivered.p50)
        })
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let n = columns.len();
        let mut chart = ChartBuilder::on(&root)
            .caption("Aid value delivered per scenario", ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| at_whole(&columns, *x, |c| label(c)))
            .y_label_formatter(&|y| short(*y))
            .y_desc("value delivered")
            .draw()
            .map_err(&e)?;
        for (i, c) in columns.iter().enumerate() {
            let x = i as f64;
            let v = c.figures.value_delivered;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 0.0), (x + 0.3, v.p50)],
                    colour(i).filled(),
                )))
                .map_err(&e)?;
            if c.random && c.runs > 1 {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, v.p10), (x, v.p90)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(&e)?;
                for y in [v.p10, v.p90] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x - 0.08, y), (x + 0.08, y)],
                            BLACK.stroke_width(2),
                        )))
                        .map_err(&e)?;
                }
            }
            let text = if c.random && c.runs > 1 {
                format!("{} ({}-{})", short(v.p50), short(v.p10), short(v.p90))
            } else {
                short(v.p50)
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (x, v.p90.max(v.p50) + top * 0.02),
                    ("sans-serif", 15)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(&e)?;
        }
        root.present().map_err(&e)?;
    }
    Ok(svg)
}

/// Cumulative value delivered by arrival day: the baseline and fixed
/// scenarios as lines, random ones as a band from the 10th to the 90th
/// percentile around their median.
pub fn fan_chart(report: &Report) -> Result<String, ChartError> {
    const NAME: &str = "fan.svg";
    let e = err(NAME);
    let columns: Vec<&ScenarioReport> = report.columns().filter(|c| c.runs > 0).collect();
    let days = report.days.len().max(1);
    let top = columns
        .iter()
        .flat_map(|c| c.value_by_day.p90.iter().chain(&c.value_by_day.p50))
        .copied()
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.08;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Value delivered by day (cumulative)", ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..(days as f64 - 1.0).max(1.0), 0f64..top)
            .map_err(&e)?;
        let day_names = &report.days;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| day_label(day_names, *x))
            .y_label_formatter(&|y| short(*y))
            .x_desc("arrival day")
            .y_desc("value delivered")
            .draw()
            .map_err(&e)?;
        for (i, c) in columns.iter().enumerate() {
            let fan = &c.value_by_day;
            let line = |v: &Vec<f64>| -> Vec<(f64, f64)> {
                v.iter().enumerate().map(|(d, y)| (d as f64, *y)).collect()
            };
            if c.random && c.runs > 1 {
                let mut band = line(&fan.p90);
                band.extend(line(&fan.p10).into_iter().rev());
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band,
                        colour(i).mix(0.25).filled(),
                    )))
                    .map_err(&e)?;
            }
            let style = colour(i).stroke_width(if i == 0 { 3 } else { 2 });
            let name = if c.random && c.runs > 1 {
                format!("{} (median; band 10th-90th percentile)", label(c))
            } else {
                label(c)
            };
            chart
                .draw_series(LineSeries::new(line(&fan.p50), style))
                .map_err(&e)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 14, NAME)?;
        root.present().map_err(&e)?;
    }
    Ok(svg)
}

/// Tonnes requested but not delivered, per destination, each column's bar
/// side by side (the median, with a 10th-90th whisker for random ones).
pub fn shortfall_chart(report: &Report) -> Result<String, ChartError> {
    const NAME: &str = "shortfall.svg";
    let e = err(NAME);
    let columns: Vec<&ScenarioReport> = report.columns().filter(|c| c.runs > 0).collect();
    let destinations: Vec<String> = {
        let set: std::collections::BTreeSet<&String> = columns
            .iter()
            .flat_map(|c| c.figures.shortfall_t_by_destination.keys())
            .collect();
        set.into_iter().cloned().collect()
    };
    let top = columns
        .iter()
        .flat_map(|c| c.figures.shortfall_t_by_destination.values())
        .map(|s| s.p90.max(s.p50))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.4;
    let n = destinations.len().max(1);
    let k = columns.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Shortfall per destination (tonnes requested, not delivered)",
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(&e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| at_whole(&destinations, *x, String::clone))
            .y_desc("tonnes short")
            .draw()
            .map_err(&e)?;
        let width = 0.8 / k as f64;
        for (j, c) in columns.iter().enumerate() {
            let bars: Vec<(f64, crate::report::Stat)> = destinations
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let x = i as f64 - 0.4 + width * (j as f64 + 0.5);
                    (
                        x,
                        c.figures
                            .shortfall_t_by_destination
                            .get(d)
                            .copied()
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let fill = colour(j).filled();
            chart
                .draw_series(bars.iter().map(|(x, s)| {
                    Rectangle::new([(x - width * 0.45, 0.0), (x + width * 0.45, s.p50)], fill)
                }))
                .map_err(&e)?
                .label(label(c))
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], fill));
            if c.random && c.runs > 1 {
                chart
                    .draw_series(bars.iter().map(|(x, s)| {
                        PathElement::new(vec![(*x, s.p10), (*x, s.p90)], BLACK.stroke_width(1))
                    }))
                    .map_err(&e)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 14, NAME)?;
        root.present().map_err(&e)?;
    }
    Ok(svg)
}

/// Departures per node on a day axis: used by the baseline's plan (filled),
/// not used (hollow), cancelled by a scenario (a red cross), and each
/// scenario's closures as shaded spans.
pub fn timeline_chart(report: &Report) -> Result<String, ChartError> {
    const NAME: &str = "timeline.svg";
    let e = err(NAME);
    let first = report.days.first().and_then(|d| day(d)).unwrap_or(0);
    let days = report.days.len().max(1) as f64;
    let nodes = &report.nodes;
    let rows = nodes.len().max(1) as f64;
    let row_of = |node: &str| nodes.iter().position(|n| n == node).unwrap_or(0) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 120 + 90 * nodes.len() as u32))
            .into_drawing_area();
        root.fill(&WHITE).map_err(&e)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Departures per node, and closures", ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(120)
            .build_cartesian_2d(-0.5f64..(days - 0.5).max(0.5), -0.5f64..(rows - 0.5))
            .map_err(&e)?;
        let day_names = &report.days;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_labels(8)
            .y_labels(nodes.len().max(1))
            .y_label_formatter(&|y| at_whole(nodes, *y, String::clone))
            .x_label_formatter(&|x| day_label(day_names, *x))
            .x_desc("departure day")
            .draw()
            .map_err(&e)?;
        // Closures first, under the markers.
        for (j, c) in report.scenarios.iter().enumerate() {
            for closure in &c.closures {
                let y = row_of(&closure.node);
                let from = closure
                    .from
                    .as_deref()
                    .and_then(day)
                    .map_or(-0.5, |d| f64::from(d - first) - 0.5);
                let to = closure
                    .to
                    .as_deref()
                    .and_then(day)
                    .map_or(days - 0.5, |d| f64::from(d - first) + 0.5);
                let from = from.max(-0.5);
                let to = to.min(days - 0.5);
                if to <= from {
                    continue;
                }
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(from, y - 0.4), (to, y + 0.4)],
                        CLOSED.mix(0.15).filled(),
                    )))
                    .map_err(&e)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("closed ({})", c.name),
                        (from + 0.2, y + 0.38),
                        ("sans-serif", 13).into_font().color(&CLOSED),
                    )))
                    .map_err(&e)?;
                let _ = j;
            }
        }
        let used: std::collections::BTreeSet<&str> = report
            .baseline
            .used_departures
            .iter()
            .map(String::as_str)
            .collect();
        let cancelled: std::collections::BTreeSet<&str> = report
            .scenarios
            .iter()
            .flat_map(|c| c.cancelled.iter().map(String::as_str))
            .collect();
        let position = |d: &crate::report::DepartureRow, k: usize| -> Option<(f64, f64)> {
            let x = f64::from(day(&d.departs)? - first);
            // Departures of one day spread a little up and down.
            let y = row_of(&d.node) + (k % 5) as f64 * 0.08;
            Some((x, y))
        };
        let mut per_day: std::collections::BTreeMap<(String, String), usize> = Default::default();
        let mut points = Vec::new();
        for d in &report.departures {
            let k = per_day
                .entry((d.node.clone(), d.departs.clone()))
                .or_default();
            if let Some(p) = position(d, *k) {
                points.push((d, p));
            }
            *k += 1;
        }
        let base = colour(0);
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|(d, _)| used.contains(d.id.as_str()))
                    .map(|(_, p)| Circle::new(*p, 5, base.filled())),
            )
            .map_err(&e)?
            .label("used by the baseline's plan")
            .legend(move |(x, y)| Circle::new((x + 7, y), 5, base.filled()));
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|(d, _)| !used.contains(d.id.as_str()))
                    .map(|(_, p)| Circle::new(*p, 5, base.stroke_width(1))),
            )
            .map_err(&e)?
            .label("not used")
            .legend(move |(x, y)| Circle::new((x + 7, y), 5, base.stroke_width(1)));
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|(d, _)| cancelled.contains(d.id.as_str()))
                    .map(|(_, p)| Cross::new(*p, 6, CLOSED.stroke_width(2))),
            )
            .map_err(&e)?
            .label("cancelled in a scenario")
            .legend(|(x, y)| Cross::new((x + 7, y), 6, CLOSED.stroke_width(2)));
        legend(&mut chart, SeriesLabelPosition::LowerRight, 13, NAME)?;
        root.present().map_err(&e)?;
    }
    Ok(svg)
}
