//! Multiple-choice knapsack by dynamic programming: from each group pick at
//! most one choice `(weight_cells, value)` so that the weights fit the
//! capacity and the value is greatest. Used to repack one departure exactly,
//! where loading item by item in order of value density leaves room unused.

/// The choice taken from each group (`None`: nothing from it) in a best
/// selection whose weights sum to at most `capacity_cells`. Values are
/// summed in `f32` (twice as many cells per vector instruction as `f64`):
/// selections whose values differ by less than its rounding (a
/// hundredth or so on a departure's cargo) may be taken for each other,
/// which a move that weighs its result in `f64` afterwards can afford.
pub(crate) fn best_choices(
    groups: &[Vec<(usize, f64)>],
    capacity_cells: usize,
) -> Vec<Option<usize>> {
    let cells = capacity_cells + 1;
    // table[g * cells + c]: the greatest value with weight at most c over
    // the first g groups (row 0: none). Only maxima are kept, so the inner
    // loop vectorises; the choices are found again when walking back.
    // Each row starts as a copy of the one before (row 0 is all zeros).
    let mut table = Vec::with_capacity((groups.len() + 1) * cells);
    table.resize(cells, 0.0f32);
    for (g, choices) in groups.iter().enumerate() {
        table.extend_from_within(g * cells..(g + 1) * cells);
        let (done, next) = table.split_at_mut((g + 1) * cells);
        let best = &done[g * cells..];
        for &(weight, value) in choices {
            let value = value as f32;
            if weight > capacity_cells || value <= 0.0 {
                continue;
            }
            for (target, &from) in next[weight..].iter_mut().zip(&best[..cells - weight]) {
                // Values are finite: the plain comparison is a vector max.
                let candidate = from + value;
                *target = if candidate > *target {
                    candidate
                } else {
                    *target
                };
            }
        }
    }
    let mut picks = vec![None; groups.len()];
    let mut c = capacity_cells;
    for g in (0..groups.len()).rev() {
        let here = table[(g + 1) * cells + c];
        let before = &table[g * cells..(g + 1) * cells];
        if here <= before[c] {
            continue;
        }
        // The same sum in the same order as above, so equal to the bit.
        let pick = groups[g].iter().position(|&(weight, value)| {
            let value = value as f32;
            weight <= c && value > 0.0 && before[c - weight] + value == here
        });
        if let Some(j) = pick {
            picks[g] = Some(j);
            c -= groups[g][j].0;
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SplitMix64;

    fn value_of(groups: &[Vec<(usize, f64)>], picks: &[Option<usize>]) -> (usize, f64) {
        picks
            .iter()
            .zip(groups)
            .filter_map(|(p, g)| p.map(|j| g[j]))
            .fold((0, 0.0), |(w, v), (cw, cv)| (w + cw, v + cv))
    }

    fn brute_force(groups: &[Vec<(usize, f64)>], capacity: usize) -> f64 {
        fn walk(groups: &[Vec<(usize, f64)>], capacity: usize) -> f64 {
            let Some((first, rest)) = groups.split_first() else {
                return 0.0;
            };
            let mut best = walk(rest, capacity);
            for &(w, v) in first {
                if w <= capacity {
                    best = best.max(v + walk(rest, capacity - w));
                }
            }
            best
        }
        walk(groups, capacity)
    }

    #[test]
    fn best_choices_matches_trying_every_selection() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..500 {
            let groups: Vec<Vec<(usize, f64)>> = (0..1 + rng.below(5))
                .map(|_| {
                    (0..rng.below(5))
                        .map(|_| (rng.below(30), (rng.unit() * 100.0).round()))
                        .collect()
                })
                .collect();
            let capacity = rng.below(60);
            let picks = best_choices(&groups, capacity);
            let (weight, value) = value_of(&groups, &picks);
            assert!(weight <= capacity, "selection over capacity");
            let best = brute_force(&groups, capacity);
            assert!(
                (value - best).abs() < 1e-9,
                "dynamic programme {value} against every selection {best}"
            );
        }
    }
}
