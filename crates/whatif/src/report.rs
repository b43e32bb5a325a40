//! The comparison: every figure of the baseline and of each scenario, as
//! the 10th, 50th and 90th percentiles of its runs (one run: all three the
//! same), plus what the charts draw.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use reliefhub_planner::instance::format_day;
use serde::Serialize;

use crate::apply::apply;
use crate::doc::InstanceDoc;
use crate::run::{Job, RunOptions};
use crate::scenario::{HubFacts, Scenario};
use crate::summary::{DayAxis, RunSummary, REASONS};

/// The report's format tag (`--json`, the API's answer).
pub const REPORT_FORMAT: &str = "reliefhub-whatif-report/1";

/// Percentiles of one figure over a scenario's runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stat {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// The `p`-th percentile (0 to 100) of sorted values, interpolated
/// linearly between the two nearest ranks.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
            let low = rank.floor() as usize;
            let high = rank.ceil() as usize;
            sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
        }
    }
}

impl Stat {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stat {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        // Adding 0.0 turns a negative zero (a sum of tiny negatives) into 0.
        Stat {
            p10: percentile(&v, 10.0) + 0.0,
            p50: percentile(&v, 50.0) + 0.0,
            p90: percentile(&v, 90.0) + 0.0,
        }
    }
}

/// Every figure of one scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Aid value delivered (value per unit x timeliness), in the cost unit.
    pub value_delivered: Stat,
    /// The plan's objective: value less freight.
    pub objective: Stat,
    pub freight_cost: Stat,
    pub delivered_t: Stat,
    /// Share (0 to 1) of the requested kg delivered by the needed-by day,
    /// by priority ("1" most urgent); priorities without requests are left out.
    pub on_time_share: BTreeMap<String, Stat>,
    pub tonnes_by_destination: BTreeMap<String, Stat>,
    /// Requested less delivered, tonnes.
    pub shortfall_t_by_destination: BTreeMap<String, Stat>,
    /// Unmet requests (count) by reason.
    pub unmet_requests_by_reason: BTreeMap<String, Stat>,
    /// Unmet tonnes by reason.
    pub unmet_t_by_reason: BTreeMap<String, Stat>,
    /// Stock not planned that expires by the horizon's last day, tonnes.
    pub expiring_unused_t: Stat,
}

/// Cumulative value delivered by day: percentiles over the runs, per day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fan {
    pub p10: Vec<f64>,
    pub p50: Vec<f64>,
    pub p90: Vec<f64>,
}

/// A node closed for a window (dates inclusive; `None` is open-ended).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Closure {
    pub node: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One column of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub description: String,
    pub random: bool,
    /// Runs planned (fewer than asked when stopped).
    pub runs: usize,
    /// What the scenario's fixed changes did, a sentence each.
    pub effects: Vec<String>,
    /// Departures of the baseline that do not leave (fixed changes).
    pub cancelled: Vec<String>,
    pub closures: Vec<Closure>,
    /// Departures the plan uses (runs that are not random draws).
    pub used_departures: Vec<String>,
    pub figures: Figures,
    /// Each run's value delivered, in draw order.
    pub run_values: Vec<f64>,
    pub value_by_day: Fan,
    /// kg loaded on departures, by the departure's node (p50).
    pub loaded_kg_by_node: BTreeMap<String, f64>,
    /// kg taken from stock, by the node the stock is at (p50).
    pub taken_kg_by_lot_node: BTreeMap<String, f64>,
}

/// A departure of the baseline, for the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartureRow {
    pub id: String,
    pub node: String,
    pub destination: String,
    pub mode: String,
    pub departs: String,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub format: &'static str,
    pub instance: String,
    /// The charts' day axis.
    pub days: Vec<String>,
    pub time_limit_s: Option<f64>,
    pub max_moves: Option<u64>,
    pub draws: usize,
    /// True when the runs were stopped before all were planned.
    pub stopped: bool,
    pub baseline: ScenarioReport,
    pub scenarios: Vec<ScenarioReport>,
    pub departures: Vec<DepartureRow>,
    pub nodes: Vec<String>,
}

fn figures(runs: &[&RunSummary]) -> Figures {
    let stat = |f: &dyn Fn(&RunSummary) -> f64| Stat::of(runs.iter().map(|r| f(r)));
    let mut on_time_share = BTreeMap::new();
    for p in 0..5 {
        if runs.iter().any(|r| r.on_time_kg[p].0 > 0.0) {
            on_time_share.insert(
                (p + 1).to_string(),
                stat(&|r| {
                    let (requested, on_time) = r.on_time_kg[p];
                    if requested > 0.0 {
                        on_time / requested
                    } else {
                        1.0
                    }
                }),
            );
        }
    }
    let destinations: BTreeSet<&String> =
        runs.iter().flat_map(|r| r.by_destination.keys()).collect();
    let mut tonnes_by_destination = BTreeMap::new();
    let mut shortfall_t_by_destination = BTreeMap::new();
    for d in destinations {
        let get = |r: &RunSummary| r.by_destination.get(d).copied().unwrap_or_default();
        tonnes_by_destination.insert(d.clone(), stat(&|r| get(r).1 / 1000.0));
        shortfall_t_by_destination.insert(
            d.clone(),
            stat(&|r| {
                let (requested, delivered) = get(r);
                (requested - delivered).max(0.0) / 1000.0
            }),
        );
    }
    let mut unmet_requests_by_reason = BTreeMap::new();
    let mut unmet_t_by_reason = BTreeMap::new();
    for reason in REASONS {
        if runs.iter().any(|r| r.unmet.contains_key(reason)) {
            let get = |r: &RunSummary| r.unmet.get(reason).copied().unwrap_or_default();
            unmet_requests_by_reason
                .insert(reason.to_string(), stat(&|r| f64::from(get(r).requests)));
            unmet_t_by_reason.insert(reason.to_string(), stat(&|r| get(r).kg / 1000.0));
        }
    }
    Figures {
        value_delivered: stat(&|r| r.value_delivered),
        objective: stat(&|r| r.objective),
        freight_cost: stat(&|r| r.freight_cost),
        delivered_t: stat(&|r| r.delivered_kg / 1000.0),
        on_time_share,
        tonnes_by_destination,
        shortfall_t_by_destination,
        unmet_requests_by_reason,
        unmet_t_by_reason,
        expiring_unused_t: stat(&|r| r.expiring_unused_kg / 1000.0),
    }
}

fn fan(runs: &[&RunSummary], axis: DayAxis) -> Fan {
    let mut out = Fan::default();
    for day in 0..axis.len {
        let s = Stat::of(
            runs.iter()
                .map(|r| r.value_by_day.get(day).copied().unwrap_or(0.0)),
        );
        out.p10.push(s.p10);
        out.p50.push(s.p50);
        out.p90.push(s.p90);
    }
    out
}

fn p50_map(
    runs: &[&RunSummary],
    f: &dyn Fn(&RunSummary) -> &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| f(r).keys()).collect();
    keys.into_iter()
        .map(|k| {
            (
                k.clone(),
                Stat::of(runs.iter().map(|r| f(r).get(k).copied().unwrap_or(0.0))).p50,
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn column(
    name: &str,
    description: &str,
    random: bool,
    runs: &[&RunSummary],
    axis: DayAxis,
    effects: Vec<String>,
    cancelled: Vec<String>,
    closures: Vec<Closure>,
) -> ScenarioReport {
    ScenarioReport {
        name: name.to_string(),
        description: description.to_string(),
        random,
        runs: runs.len(),
        effects,
        cancelled,
        closures,
        used_departures: if random {
            Vec::new()
        } else {
            runs.first()
                .map(|r| r.used_departures.clone())
                .unwrap_or_default()
        },
        figures: figures(runs),
        run_values: runs.iter().map(|r| r.value_delivered).collect(),
        value_by_day: fan(runs, axis),
        loaded_kg_by_node: p50_map(runs, &|r| &r.loaded_kg_by_node),
        taken_kg_by_lot_node: p50_map(runs, &|r| &r.taken_kg_by_lot_node),
    }
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        base: &InstanceDoc,
        scenarios: &[Scenario],
        facts: &HubFacts,
        jobs: &[Job],
        results: Vec<Option<RunSummary>>,
        axis: DayAxis,
        options: &RunOptions,
        stopped: bool,
    ) -> Report {
        let of = |scenario: Option<usize>| -> Vec<&RunSummary> {
            jobs.iter()
                .zip(&results)
                .filter(|(j, _)| j.scenario == scenario)
                .filter_map(|(_, r)| r.as_ref())
                .collect()
        };
        let baseline = column(
            "baseline",
            "the hub's state as it is",
            false,
            &of(None),
            axis,
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let columns = scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let fixed = apply(base, s, facts, None);
                let mut effects = fixed.effects;
                if let Some(random) = &s.random {
                    if let Some(d) = &random.departure_delay {
                        effects.push(format!(
                            "each run: every departure delayed, log-normal with median {} days and spread {}",
                            d.median_days, d.spread
                        ));
                    }
                    if let Some(d) = &random.leg_delay {
                        effects.push(format!(
                            "each run: every inbound leg delayed, log-normal with median {} days and spread {}",
                            d.median_days, d.spread
                        ));
                    }
                    if let Some(p) = random.charter_cancellation {
                        effects.push(format!(
                            "each run: every charter cancelled with probability {p}"
                        ));
                    }
                }
                let closures = fixed
                    .closures
                    .iter()
                    .map(|(node, w)| Closure {
                        node: node.clone(),
                        from: w.from.map(format_day),
                        to: w.to.map(format_day),
                    })
                    .collect();
                column(
                    &s.name,
                    &s.description,
                    s.is_random(),
                    &of(Some(i)),
                    axis,
                    effects,
                    fixed.cancelled.into_iter().collect(),
                    closures,
                )
            })
            .collect();
        Report {
            format: REPORT_FORMAT,
            instance: base.name.clone(),
            days: (0..axis.len)
                .map(|d| format_day(axis.first + d as i32))
                .collect(),
            time_limit_s: options.time_limit.map(|t| t.as_secs_f64()),
            max_moves: options.max_moves,
            draws: options.draws,
            stopped,
            baseline,
            scenarios: columns,
            departures: base
                .departures
                .iter()
                .map(|d| DepartureRow {
                    id: d.id.clone(),
                    node: d.node.clone(),
                    destination: d.destination.clone(),
                    mode: d.mode.clone(),
                    departs: d.departs.clone(),
                })
                .collect(),
            nodes: base.nodes.iter().map(|n| n.id.clone()).collect(),
        }
    }

    /// Every column: the baseline, then the scenarios.
    pub fn columns(&self) -> impl Iterator<Item = &ScenarioReport> {
        std::iter::once(&self.baseline).chain(&self.scenarios)
    }

    /// The comparison as a text table, figures side by side (random
    /// scenarios as `p50 (p10-p90)`).
    pub fn to_text(&self) -> String {
        let columns: Vec<&ScenarioReport> = self.columns().collect();
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let cell = |c: &ScenarioReport, s: Option<&Stat>, scale: f64, decimals: usize| match s {
            None => "-".to_string(),
            Some(s) if c.random && c.runs > 1 => format!(
                "{:.d$} ({:.d$}-{:.d$})",
                s.p50 * scale,
                s.p10 * scale,
                s.p90 * scale,
                d = decimals
            ),
            Some(s) => format!("{:.d$}", s.p50 * scale, d = decimals),
        };
        let mut row =
            |label: &str, f: &dyn Fn(&ScenarioReport) -> Option<Stat>, scale: f64, dec: usize| {
                rows.push((
                    label.to_string(),
                    columns
                        .iter()
                        .map(|c| cell(c, f(c).as_ref(), scale, dec))
                        .collect(),
                ));
            };
        row(
            "runs",
            &|c| {
                Some(Stat {
                    p10: c.runs as f64,
                    p50: c.runs as f64,
                    p90: c.runs as f64,
                })
            },
            1.0,
            0,
        );
        row(
            "aid value delivered",
            &|c| Some(c.figures.value_delivered),
            1.0,
            0,
        );
        row("freight cost", &|c| Some(c.figures.freight_cost), 1.0, 0);
        row(
            "plan value (objective)",
            &|c| Some(c.figures.objective),
            1.0,
            0,
        );
        row("tonnes delivered", &|c| Some(c.figures.delivered_t), 1.0, 1);
        row(
            "stock expiring unused, t",
            &|c| Some(c.figures.expiring_unused_t),
            1.0,
            1,
        );
        let priorities: BTreeSet<&String> = columns
            .iter()
            .flat_map(|c| c.figures.on_time_share.keys())
            .collect();
        for p in priorities {
            row(
                &format!("on time, priority {p}, %"),
                &|c| c.figures.on_time_share.get(p).copied(),
                100.0,
                0,
            );
        }
        let destinations: BTreeSet<&String> = columns
            .iter()
            .flat_map(|c| c.figures.tonnes_by_destination.keys())
            .collect();
        for d in &destinations {
            row(
                &format!("t to {d}"),
                &|c| c.figures.tonnes_by_destination.get(*d).copied(),
                1.0,
                1,
            );
        }
        for d in &destinations {
            row(
                &format!("t short at {d}"),
                &|c| c.figures.shortfall_t_by_destination.get(*d).copied(),
                1.0,
                1,
            );
        }
        for reason in REASONS {
            if columns
                .iter()
                .any(|c| c.figures.unmet_requests_by_reason.contains_key(reason))
            {
                row(
                    &format!("unmet requests: {reason}"),
                    &|c| {
                        Some(
                            c.figures
                                .unmet_requests_by_reason
                                .get(reason)
                                .copied()
                                .unwrap_or_default(),
                        )
                    },
                    1.0,
                    0,
                );
            }
        }
        let headers: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let label_width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns.len())
            .map(|i| {
                rows.iter()
                    .map(|r| r.1[i].chars().count())
                    .chain(std::iter::once(headers[i].chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let _ = write!(out, "{:label_width$}", "");
        for (h, w) in headers.iter().zip(&widths) {
            let _ = write!(out, "  {h:>w$}");
        }
        out.push('\n');
        for (label, cells) in &rows {
            let _ = write!(out, "{label:label_width$}");
            for (c, w) in cells.iter().zip(&widths) {
                let _ = write!(out, "  {c:>w$}");
            }
            out.push('\n');
        }
        for c in &self.scenarios {
            let _ = writeln!(out, "\n{}:", c.name);
            for e in &c.effects {
                let _ = writeln!(out, "  - {e}");
            }
        }
        if self.stopped {
            out.push_str(
                "\nstopped before every run was planned; the figures cover the runs shown\n",
            );
        }
        out
    }
}
