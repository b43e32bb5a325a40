//! Which request gets which unit: given the units of one item each departure
//! to a destination carries, the deliveries to that destination's requests
//! for the item that use every unit and are worth the most. A
//! transportation problem, solved as a min-cost flow by successive shortest
//! paths (Bellman-Ford, as the costs are negated values).

/// Units per `(departure, request)` that place all of `supply` within
/// `demand`, only where `value[departure][request]` is `Some`, with the
/// greatest total value; `None` when the units cannot all be placed.
pub(crate) fn best_attribution(
    supply: &[i64],
    demand: &[i64],
    value: &[Vec<Option<f64>>],
) -> Option<Vec<Vec<i64>>> {
    let (k, m) = (supply.len(), demand.len());
    // Nodes: source 0, departures 1..=k, requests k+1..=k+m, sink k+m+1.
    let nodes = k + m + 2;
    let (source, sink) = (0, k + m + 1);
    // Edges as (to, capacity, cost), each followed by its reverse.
    let mut edges: Vec<(usize, i64, f64)> = Vec::new();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    let add = |edges: &mut Vec<(usize, i64, f64)>,
               out: &mut Vec<Vec<usize>>,
               from: usize,
               to: usize,
               capacity: i64,
               cost: f64| {
        out[from].push(edges.len());
        edges.push((to, capacity, cost));
        out[to].push(edges.len());
        edges.push((from, 0, -cost));
    };
    let total: i64 = supply.iter().sum();
    for (e, &units) in supply.iter().enumerate() {
        add(&mut edges, &mut out, source, 1 + e, units, 0.0);
    }
    let mut pair_edges = vec![vec![usize::MAX; m]; k];
    for e in 0..k {
        for r in 0..m {
            if let Some(v) = value[e][r] {
                pair_edges[e][r] = edges.len();
                add(&mut edges, &mut out, 1 + e, 1 + k + r, total, -v);
            }
        }
    }
    for (r, &units) in demand.iter().enumerate() {
        add(&mut edges, &mut out, 1 + k + r, sink, units, 0.0);
    }
    let mut flow = 0;
    while flow < total {
        // Bellman-Ford from the source over edges with capacity left.
        let mut distance = vec![f64::INFINITY; nodes];
        let mut via = vec![usize::MAX; nodes];
        distance[source] = 0.0;
        for _ in 0..nodes {
            let mut changed = false;
            for from in 0..nodes {
                if distance[from].is_infinite() {
                    continue;
                }
                for &id in &out[from] {
                    let (to, capacity, cost) = edges[id];
                    if capacity > 0 && distance[from] + cost < distance[to] - 1e-9 {
                        distance[to] = distance[from] + cost;
                        via[to] = id;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if distance[sink].is_infinite() {
            return None;
        }
        // The path's bottleneck, then push it.
        let mut push = total - flow;
        let mut at = sink;
        while at != source {
            let id = via[at];
            push = push.min(edges[id].1);
            at = edges[id ^ 1].0;
        }
        let mut at = sink;
        while at != source {
            let id = via[at];
            edges[id].1 -= push;
            edges[id ^ 1].1 += push;
            at = edges[id ^ 1].0;
        }
        flow += push;
    }
    Some(
        pair_edges
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&id| if id == usize::MAX { 0 } else { edges[id ^ 1].1 })
                    .collect()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SplitMix64;

    /// The best value by trying every split of each departure's units.
    fn brute_force(supply: &[i64], demand: &[i64], value: &[Vec<Option<f64>>]) -> Option<f64> {
        fn walk(
            e: usize,
            r: usize,
            left_here: i64,
            supply: &[i64],
            demand: &mut Vec<i64>,
            value: &[Vec<Option<f64>>],
        ) -> Option<f64> {
            if e == supply.len() {
                return Some(0.0);
            }
            if r == demand.len() {
                return if left_here == 0 {
                    let next = supply.get(e + 1).copied().unwrap_or(0);
                    walk(e + 1, 0, next, supply, demand, value)
                } else {
                    None
                };
            }
            let mut best: Option<f64> = None;
            let most = match value[e][r] {
                Some(_) => left_here.min(demand[r]),
                None => 0,
            };
            for units in 0..=most {
                demand[r] -= units;
                if let Some(rest) = walk(e, r + 1, left_here - units, supply, demand, value) {
                    let here = units as f64 * value[e][r].unwrap_or(0.0) + rest;
                    best = Some(best.map_or(here, |b: f64| b.max(here)));
                }
                demand[r] += units;
            }
            best
        }
        let mut demand = demand.to_vec();
        walk(
            0,
            0,
            supply.first().copied().unwrap_or(0),
            supply,
            &mut demand,
            value,
        )
    }

    #[test]
    fn best_attribution_matches_trying_every_split() {
        let mut rng = SplitMix64::new(11);
        for case in 0..400 {
            let k = 1 + rng.below(3);
            let m = 1 + rng.below(3);
            let supply: Vec<i64> = (0..k).map(|_| rng.below(5) as i64).collect();
            let demand: Vec<i64> = (0..m).map(|_| rng.below(6) as i64).collect();
            let value: Vec<Vec<Option<f64>>> = (0..k)
                .map(|_| {
                    (0..m)
                        .map(|_| (rng.unit() < 0.8).then(|| (rng.unit() * 50.0).round()))
                        .collect()
                })
                .collect();
            let expected = brute_force(&supply, &demand, &value);
            let found = best_attribution(&supply, &demand, &value);
            match (expected, found) {
                (None, None) => {}
                (Some(best), Some(units)) => {
                    let mut got = 0.0;
                    for e in 0..k {
                        assert_eq!(units[e].iter().sum::<i64>(), supply[e], "case {case}");
                        for r in 0..m {
                            assert!(units[e][r] == 0 || value[e][r].is_some(), "case {case}");
                            got += units[e][r] as f64 * value[e][r].unwrap_or(0.0);
                        }
                    }
                    for r in 0..m {
                        let placed: i64 = (0..k).map(|e| units[e][r]).sum();
                        assert!(placed <= demand[r], "case {case}");
                    }
                    assert!(
                        (got - best).abs() < 1e-6,
                        "case {case}: {got} against {best}"
                    );
                }
                (expected, found) => {
                    panic!("case {case}: expected {expected:?}, found {found:?}")
                }
            }
        }
    }
}
