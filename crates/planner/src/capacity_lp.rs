//! The LP of one departure's load once requests and stock are priced: take
//! `x_i` in `[0, units_i]` of each segment for `profit_i` per unit, within
//! three capacities. Solved exactly by a bounded-variable primal simplex on
//! its three rows; the optimal row duals are the capacity prices.

/// A variable of the three-row LP: a segment or a capacity's slack.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Var {
    Segment(usize),
    Slack(usize),
}

/// Solves `max sum(profit_i x_i)` subject to `sum(use_i[k] x_i) <= capacity[k]`
/// (k = 0..3) and `0 <= x_i <= units_i`. Writes the amounts into `amounts`
/// and returns the capacity prices (the rows' duals, never negative).
///
/// Every use and capacity is non-negative, so `x = 0` is a feasible start.
/// The prices are exact at the optimum; should the iteration cap stop the
/// simplex early they are still non-negative, and any non-negative prices
/// give a valid bound through the dual formula the caller evaluates.
pub(crate) fn solve(
    units: &[f64],
    profit: &[f64],
    use_: &[[f64; 3]],
    capacity: [f64; 3],
    warm: [f64; 3],
    amounts: &mut Vec<f64>,
    order: &mut Vec<(f64, usize)>,
) -> [f64; 3] {
    let n = units.len();
    amounts.clear();
    amounts.resize(n, 0.0);
    // Rows scaled by their capacity, so kilograms and cubic metres weigh alike.
    let scale: [f64; 3] = std::array::from_fn(|k| {
        if capacity[k] > 0.0 {
            1.0 / capacity[k]
        } else {
            1.0
        }
    });
    let rhs: [f64; 3] = std::array::from_fn(|k| capacity[k] * scale[k]);
    let column = |v: Var| -> [f64; 3] {
        match v {
            Var::Segment(i) => std::array::from_fn(|k| use_[i][k] * scale[k]),
            Var::Slack(k) => {
                let mut e = [0.0; 3];
                e[k] = 1.0;
                e
            }
        }
    };
    let cost = |v: Var| -> f64 {
        match v {
            Var::Segment(i) => profit[i],
            Var::Slack(_) => 0.0,
        }
    };
    let mut basis = [Var::Slack(0), Var::Slack(1), Var::Slack(2)];
    // Values of the basic variables.
    let mut value = rhs;
    // Runs: the longest stretches of segments with the same use per unit and
    // profits that never rise (one item's value pieces, best first). A run
    // is always kept in the shape "a prefix at its upper bound, then at
    // most one basic segment, then the rest at zero", so its only candidates
    // to enter are the two segments at the prefix's edge, and pricing costs a
    // run, not a segment. (Two segments of one column are never both basic:
    // their basis would be singular.)
    let mut runs: Vec<usize> = (0..n)
        .filter(|&i| i == 0 || use_[i] != use_[i - 1] || profit[i] > profit[i - 1])
        .collect();
    runs.push(n);
    let run_count = runs.len() - 1;
    let mut run_of = vec![0u32; n];
    for r in 0..run_count {
        for slot in &mut run_of[runs[r]..runs[r + 1]] {
            *slot = r as u32;
        }
    }
    // Per run: how many of its segments are at their upper bound (its
    // prefix), and whether the segment right after them is basic.
    let mut prefix = vec![0usize; run_count];
    let mut run_basic = vec![false; run_count];
    // A segment is at its upper bound when it lies in its run's prefix; the
    // others are at zero unless basic.
    let mut basic_row = vec![usize::MAX; n];
    // A warm start: whole segments, best reduced profit per scaled use at the
    // `warm` prices first, while they fit and each run's prefix stays whole
    // (a basic solution with the slacks basic); the simplex then needs few
    // steps.
    order.clear();
    for i in 0..n {
        let a = use_[i];
        let reduced = profit[i] - (warm[0] * a[0] + warm[1] * a[1] + warm[2] * a[2]);
        let size = a[0] * scale[0] + a[1] * scale[1] + a[2] * scale[2];
        if reduced > 0.0 {
            order.push((reduced / size.max(1e-300), i));
        }
    }
    order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in order.iter() {
        let r = run_of[i] as usize;
        if i != runs[r] + prefix[r] {
            continue;
        }
        let need: [f64; 3] = std::array::from_fn(|k| use_[i][k] * scale[k] * units[i]);
        if (0..3).all(|k| need[k] <= value[k]) {
            for k in 0..3 {
                value[k] -= need[k];
            }
            prefix[r] += 1;
        }
    }
    let mut slack_row = [0usize, 1, 2];
    let tolerance = 1e-9;
    let max_iterations = 64 + 4 * n;
    let mut duals = [0.0; 3];
    for _ in 0..max_iterations {
        let Some(inverse) = invert(std::array::from_fn(|r| column(basis[r]))) else {
            break;
        };
        // duals = c_B^T B^-1 (B's columns are the basic variables' columns).
        let c_b: [f64; 3] = std::array::from_fn(|r| cost(basis[r]));
        duals = std::array::from_fn(|k| (0..3).map(|r| c_b[r] * inverse[r][k]).sum());
        // Entering variable: largest reduced cost that improves (Dantzig).
        // In a run with a basic segment none can improve; otherwise the
        // first segment at zero has the run's best profit and the last at
        // its upper bound the worst.
        let mut entering: Option<(Var, f64, f64)> = None; // (var, direction, |reduced|)
        for r in 0..run_count {
            if run_basic[r] {
                continue;
            }
            let (start, end) = (runs[r], runs[r + 1]);
            let a = column(Var::Segment(start));
            let priced = duals[0] * a[0] + duals[1] * a[1] + duals[2] * a[2];
            let edge = start + prefix[r];
            if edge < end {
                let reduced = profit[edge] - priced;
                if reduced > tolerance * (1.0 + profit[edge])
                    && entering.is_none_or(|(_, _, best)| reduced > best)
                {
                    entering = Some((Var::Segment(edge), 1.0, reduced));
                }
            }
            if edge > start {
                let i = edge - 1;
                let reduced = profit[i] - priced;
                if reduced < -tolerance * (1.0 + profit[i])
                    && entering.is_none_or(|(_, _, best)| -reduced > best)
                {
                    entering = Some((Var::Segment(i), -1.0, -reduced));
                }
            }
        }
        for k in 0..3 {
            if slack_row[k] != usize::MAX {
                continue;
            }
            let reduced = -duals[k];
            if reduced > tolerance && entering.is_none_or(|(_, _, best)| reduced > best) {
                entering = Some((Var::Slack(k), 1.0, reduced));
            }
        }
        let Some((q, direction, _)) = entering else {
            break;
        };
        // Basic values move by -direction * t * w.
        let a = column(q);
        let w: [f64; 3] = std::array::from_fn(|r| (0..3).map(|k| inverse[r][k] * a[k]).sum());
        let mut limit = match q {
            Var::Segment(i) => units[i],
            Var::Slack(_) => f64::INFINITY,
        };
        let mut leaving: Option<(usize, bool)> = None; // (row, to upper)
        for r in 0..3 {
            let change = direction * w[r];
            if change > tolerance {
                let t = value[r].max(0.0) / change;
                if t < limit {
                    limit = t;
                    leaving = Some((r, false));
                }
            } else if change < -tolerance {
                if let Var::Segment(i) = basis[r] {
                    let t = (units[i] - value[r]).max(0.0) / -change;
                    if t < limit {
                        limit = t;
                        leaving = Some((r, true));
                    }
                }
            }
        }
        if !limit.is_finite() {
            break;
        }
        for r in 0..3 {
            value[r] -= direction * limit * w[r];
        }
        match leaving {
            None => {
                // The entering segment goes from one bound to the other: the
                // prefix of its run grows (it was at zero, going up) or
                // shrinks by one.
                if let Var::Segment(i) = q {
                    let run = run_of[i] as usize;
                    if direction > 0.0 {
                        prefix[run] += 1;
                    } else {
                        prefix[run] -= 1;
                    }
                }
            }
            Some((r, to_upper)) => {
                match basis[r] {
                    Var::Segment(i) => {
                        let run = run_of[i] as usize;
                        basic_row[i] = usize::MAX;
                        run_basic[run] = false;
                        if to_upper {
                            prefix[run] += 1;
                        }
                    }
                    Var::Slack(k) => slack_row[k] = usize::MAX,
                }
                let entered_at = match q {
                    Var::Segment(i) => {
                        let run = run_of[i] as usize;
                        // Going down, it leaves its run's prefix.
                        let start = if direction < 0.0 {
                            prefix[run] -= 1;
                            units[i]
                        } else {
                            0.0
                        };
                        basic_row[i] = r;
                        run_basic[run] = true;
                        start + direction * limit
                    }
                    Var::Slack(k) => {
                        slack_row[k] = r;
                        limit
                    }
                };
                basis[r] = q;
                value[r] = entered_at;
            }
        }
    }
    for i in 0..n {
        amounts[i] = if basic_row[i] != usize::MAX {
            value[basic_row[i]].clamp(0.0, units[i])
        } else if i < runs[run_of[i] as usize] + prefix[run_of[i] as usize] {
            units[i]
        } else {
            0.0
        };
    }
    std::array::from_fn(|k| (duals[k] * scale[k]).max(0.0))
}

/// The inverse of a 3x3 matrix given by its columns, `None` when singular.
/// Returns `inverse[r][k]` such that `sum_k inverse[r][k] * column_j[k] = [r == j]`.
fn invert(columns: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    // m[k][j] = columns[j][k]
    let m: [[f64; 3]; 3] = std::array::from_fn(|k| std::array::from_fn(|j| columns[j][k]));
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let norm = |c: &[f64; 3]| (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt();
    let size = norm(&columns[0]) * norm(&columns[1]) * norm(&columns[2]);
    if det.is_nan() || det.abs() <= 1e-12 * size {
        return None;
    }
    let inv_det = 1.0 / det;
    let cofactor = |a: usize, b: usize, c: usize, d: usize| m[a][c] * m[b][d] - m[a][d] * m[b][c];
    Some([
        [
            cofactor(1, 2, 1, 2) * inv_det,
            -cofactor(0, 2, 1, 2) * inv_det,
            cofactor(0, 1, 1, 2) * inv_det,
        ],
        [
            -cofactor(1, 2, 0, 2) * inv_det,
            cofactor(0, 2, 0, 2) * inv_det,
            -cofactor(0, 1, 0, 2) * inv_det,
        ],
        [
            cofactor(1, 2, 0, 1) * inv_det,
            -cofactor(0, 2, 0, 1) * inv_det,
            cofactor(0, 1, 0, 1) * inv_det,
        ],
    ])
}

/// The departure's value for capacity prices `prices` (never negative):
/// `prices . capacity + sum(units_i * max(0, profit_i - prices . use_i))`, an
/// upper bound on the LP's optimum for any such prices, equal to it at the
/// optimal ones.
pub(crate) fn dual_value(
    units: &[f64],
    profit: &[f64],
    use_: &[[f64; 3]],
    capacity: [f64; 3],
    prices: [f64; 3],
) -> f64 {
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let mut value = dot(prices, capacity);
    for ((&u, &p), &a) in units.iter().zip(profit).zip(use_) {
        let reduced = p - dot(prices, a);
        if reduced > 0.0 {
            value += u * reduced;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SplitMix64;

    fn primal(profit: &[f64], amounts: &[f64]) -> f64 {
        profit.iter().zip(amounts).map(|(p, x)| p * x).sum()
    }

    #[test]
    fn one_row_is_the_fractional_knapsack() {
        // Profit densities 3, 2, 1 per kg; 10 kg of room.
        let units = [4.0, 4.0, 4.0];
        let profit = [3.0, 2.0, 1.0];
        let use_ = [[1.0, 0.0, 0.0]; 3];
        let mut amounts = Vec::new();
        let prices = solve(
            &units,
            &profit,
            &use_,
            [10.0, 5.0, 0.0],
            [0.0; 3],
            &mut amounts,
            &mut Vec::new(),
        );
        for (x, want) in amounts.iter().zip([4.0, 4.0, 2.0]) {
            assert!((x - want).abs() < 1e-9, "{amounts:?}");
        }
        assert!((prices[0] - 1.0).abs() < 1e-9);
        assert_eq!(prices[1], 0.0);
        let value = dual_value(&units, &profit, &use_, [10.0, 5.0, 0.0], prices);
        assert!((value - 22.0).abs() < 1e-9, "{value}");
    }

    #[test]
    fn random_programs_meet_their_dual_bound() {
        let mut rng = SplitMix64::new(7);
        for case in 0..2_000 {
            let n = 1 + rng.below(40);
            let units: Vec<f64> = (0..n).map(|_| (1 + rng.below(500)) as f64).collect();
            let mut profit: Vec<f64> = (0..n).map(|_| 0.01 + 50.0 * rng.unit()).collect();
            // Runs of segments share an item's use per unit, as in a departure,
            // mostly with falling profits (an item's value pieces, best first).
            let mut use_: Vec<[f64; 3]> = Vec::with_capacity(n);
            for i in 0..n {
                if i > 0 && rng.unit() < 0.7 {
                    profit[i] = profit[i - 1] * [1.0, rng.unit()][rng.below(2)];
                }
                if use_.is_empty() || rng.unit() < 0.4 {
                    let weight = 1.0 + 400.0 * rng.unit();
                    let volume = 0.01 + 2.0 * rng.unit();
                    let cold = if rng.unit() < 0.3 { volume } else { 0.0 };
                    use_.push([weight, volume, cold]);
                } else {
                    use_.push(use_[use_.len() - 1]);
                }
            }
            let capacity = [
                20_000.0 * rng.unit(),
                100.0 * rng.unit(),
                if rng.unit() < 0.2 {
                    0.0
                } else {
                    10.0 * rng.unit()
                },
            ];
            let mut amounts = Vec::new();
            let warm = if rng.unit() < 0.5 {
                [0.0; 3]
            } else {
                [rng.unit() * 10.0, rng.unit() * 100.0, rng.unit() * 100.0]
            };
            let prices = solve(
                &units,
                &profit,
                &use_,
                capacity,
                warm,
                &mut amounts,
                &mut Vec::new(),
            );
            for (i, &x) in amounts.iter().enumerate() {
                assert!(
                    x >= 0.0 && x <= units[i],
                    "case {case}: amount {x} out of [0, {}]",
                    units[i]
                );
            }
            for k in 0..3 {
                let used: f64 = amounts.iter().zip(&use_).map(|(x, a)| x * a[k]).sum();
                assert!(
                    used <= capacity[k] * (1.0 + 1e-9) + 1e-9,
                    "case {case}: row {k} uses {used} of {}",
                    capacity[k]
                );
            }
            let lower = primal(&profit, &amounts);
            let upper = dual_value(&units, &profit, &use_, capacity, prices);
            assert!(
                upper - lower <= 1e-7 * (1.0 + upper.abs()),
                "case {case}: primal {lower} and dual {upper} differ"
            );
        }
    }
}
