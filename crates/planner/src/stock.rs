//! An index of the stock a departure may load: per (destination, item,
//! departure node) the lot classes in order of preference (soonest expiry
//! first), with a min-tree over the day each class can be at the departure's
//! node, so the first class with stock left that is in time for a departure
//! is found in logarithmic time instead of by a scan.

use crate::instance::Day;

/// Days of classes with no stock left (or that cannot reach the node).
const NEVER: Day = Day::MAX;

/// The fixed part, built once per instance.
pub(crate) struct StockLists {
    pub nodes: usize,
    pub items: usize,
    /// Per list (`destination * items + item`), its classes in order.
    pub lists: Vec<Vec<usize>>,
    /// Per class, its leaves in the trees it can ever be found in.
    leaves: Vec<Vec<Leaf>>,
    /// Per list and node, the day each member can be loaded at that node.
    ready: Vec<Vec<Vec<Day>>>,
    /// Offset of each (list, node) tree in [`Trees::values`], and its size.
    offsets: Vec<(usize, usize)>,
    total: usize,
}

impl StockLists {
    /// `ready_at(class, node)` is the first day the class can be loaded at
    /// `node` (`None`: it cannot get there).
    pub fn new(
        destination_classes: &[Vec<Vec<usize>>],
        class_count: usize,
        nodes: usize,
        items: usize,
        ready_at: impl Fn(usize, usize) -> Option<Day>,
    ) -> Self {
        let mut lists = Vec::new();
        let mut leaves = vec![Vec::new(); class_count];
        let mut ready = Vec::new();
        let mut offsets = Vec::new();
        let mut total = 0;
        for per_item in destination_classes {
            debug_assert_eq!(per_item.len(), items);
            for list in per_item {
                let size = list.len().next_power_of_two();
                let mut per_node = Vec::with_capacity(nodes);
                for node in 0..nodes {
                    let days: Vec<Day> = list
                        .iter()
                        .map(|&c| ready_at(c, node).unwrap_or(NEVER))
                        .collect();
                    for (position, (&c, &ready)) in list.iter().zip(&days).enumerate() {
                        // A class that can never reach the node stays `NEVER` there.
                        if ready != NEVER {
                            leaves[c].push(Leaf {
                                tree: total,
                                index: (size + position) as u32,
                                ready,
                            });
                        }
                    }
                    per_node.push(days);
                    offsets.push((total, size));
                    total += 2 * size;
                }
                ready.push(per_node);
                lists.push(list.clone());
            }
        }
        StockLists {
            nodes,
            items,
            lists,
            leaves,
            ready,
            offsets,
            total,
        }
    }

    /// The day each member of `list` can be loaded at `node` (`Day::MAX`: never).
    pub fn ready(&self, list: usize, node: usize) -> &[Day] {
        &self.ready[list][node]
    }

    pub fn list_id(&self, destination: usize, item: usize) -> usize {
        destination * self.items + item
    }

    /// Trees with every class that has stock (`alive`) present.
    pub fn trees(&self, alive: impl Fn(usize) -> bool) -> Trees {
        let mut values = vec![NEVER; self.total];
        let alive: Vec<bool> = (0..self.leaves.len()).map(alive).collect();
        for (list, members) in self.lists.iter().enumerate() {
            for node in 0..self.nodes {
                let (offset, size) = self.offsets[list * self.nodes + node];
                let tree = &mut values[offset..offset + 2 * size];
                for (position, &c) in members.iter().enumerate() {
                    if alive[c] {
                        tree[size + position] = self.ready[list][node][position];
                    }
                }
                for i in (1..size).rev() {
                    tree[i] = tree[2 * i].min(tree[2 * i + 1]);
                }
            }
        }
        Trees { values, alive }
    }

    /// Marks class `c` as having stock or not. A class that runs out stays in
    /// the trees until a search meets it there (most classes that run out get
    /// their stock back before any search passes by); one that gets stock back
    /// is put back at once where it had been taken out.
    pub fn set_alive(&self, trees: &mut Trees, c: usize, alive: bool) {
        trees.alive[c] = alive;
        if !alive {
            return;
        }
        for leaf in &self.leaves[c] {
            let (tree, index) = (leaf.tree, leaf.index as usize);
            let tree = &mut trees.values[tree..];
            if tree[index] != leaf.ready {
                set_node(tree, index, leaf.ready);
            }
        }
    }

    /// The first position at or after `from` in list `list` whose class has
    /// stock and can be loaded at `node` by `day`.
    pub fn first_ready(
        &self,
        trees: &mut Trees,
        list: usize,
        node: usize,
        from: usize,
        day: Day,
    ) -> Option<usize> {
        let (offset, size) = self.offsets[list * self.nodes + node];
        let members = &self.lists[list];
        let tree = &mut trees.values[offset..offset + 2 * size];
        loop {
            let found = first_leaf(tree, size, from, day)?;
            if trees.alive[members[found]] {
                return Some(found);
            }
            // A class that ran out: take it out now, and look again.
            set_leaf(tree, size, found, NEVER);
        }
    }
}

/// Sets a leaf of a min-tree and the minima above it.
fn set_leaf(tree: &mut [Day], size: usize, position: usize, value: Day) {
    set_node(tree, size + position, value);
}

/// Sets node `i` (a leaf) of a min-tree and the minima above it.
fn set_node(tree: &mut [Day], mut i: usize, value: Day) {
    tree[i] = value;
    i /= 2;
    while i >= 1 {
        let value = tree[2 * i].min(tree[2 * i + 1]);
        if tree[i] == value {
            break;
        }
        tree[i] = value;
        i /= 2;
    }
}

/// The first leaf at or after `from` whose value is at most `day`.
fn first_leaf(tree: &[Day], size: usize, from: usize, day: Day) -> Option<usize> {
    if from >= size || tree[1] > day {
        return None;
    }
    // Up from the leaf until a subtree to the right holds a match, then
    // down to its leftmost match.
    let mut i = size + from;
    if tree[i] > day {
        loop {
            while i & 1 == 1 {
                i >>= 1;
            }
            if i == 0 {
                return None;
            }
            i += 1;
            if tree[i] <= day {
                break;
            }
        }
        while i < size {
            i *= 2;
            if tree[i] > day {
                i += 1;
            }
        }
    }
    Some(i - size)
}

/// Where a class sits in one (list, node) tree.
#[derive(Debug, Clone, Copy)]
struct Leaf {
    /// Offset of the tree in [`Trees`]'s values.
    tree: usize,
    /// The leaf's index within its tree (the tree's size plus the position).
    index: u32,
    /// The day the class can be loaded at the tree's node.
    ready: Day,
}

/// The changing part: one min-tree per (list, node), kept in a [`State`](crate::state::State).
#[derive(Debug, Clone)]
pub(crate) struct Trees {
    values: Vec<Day>,
    /// Per class, whether it has stock; a class without may still sit in a
    /// tree until a search meets it.
    alive: Vec<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_ready_class_with_stock() {
        // One destination, one item, one node; classes 0..5 ready on days 5, 1, 9, 2, 7.
        let days = [5, 1, 9, 2, 7];
        let lists = StockLists::new(&[vec![vec![0, 1, 2, 3, 4]]], 5, 1, 1, |c, _| Some(days[c]));
        let mut trees = lists.trees(|_| true);
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 0, 3), Some(1));
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 2, 3), Some(3));
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 4, 3), None);
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 0, 0), None);
        lists.set_alive(&mut trees, 1, false);
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 0, 3), Some(3));
        lists.set_alive(&mut trees, 3, false);
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 0, 6), Some(0));
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 1, 6), None);
        lists.set_alive(&mut trees, 1, true);
        assert_eq!(lists.first_ready(&mut trees, 0, 0, 1, 6), Some(1));
    }

    #[test]
    fn random_changes_agree_with_a_scan() {
        // Two destinations, two items, two nodes; classes in several lists each.
        let mut rng = crate::model::SplitMix64::new(11);
        for _case in 0..50 {
            let classes = 1 + rng.below(40);
            let ready: Vec<[Option<Day>; 2]> = (0..classes)
                .map(|_| std::array::from_fn(|_| (rng.unit() < 0.9).then(|| rng.below(30) as Day)))
                .collect();
            let item: Vec<usize> = (0..classes).map(|_| rng.below(2)).collect();
            let destination_classes: Vec<Vec<Vec<usize>>> = (0..2)
                .map(|_| {
                    (0..2)
                        .map(|i| {
                            (0..classes)
                                .filter(|&c| item[c] == i && rng.unit() < 0.7)
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let lists = StockLists::new(&destination_classes, classes, 2, 2, |c, node| {
                ready[c][node]
            });
            let mut alive: Vec<bool> = (0..classes).map(|_| rng.unit() < 0.5).collect();
            let mut trees = lists.trees(|c| alive[c]);
            for _step in 0..500 {
                if rng.unit() < 0.5 {
                    let c = rng.below(classes);
                    alive[c] = !alive[c];
                    lists.set_alive(&mut trees, c, alive[c]);
                } else {
                    let list = rng.below(4);
                    let node = rng.below(2);
                    let members = &lists.lists[list];
                    let from = rng.below(members.len() + 1);
                    let day = rng.below(32) as Day;
                    let expected = (from..members.len()).find(|&p| {
                        let c = members[p];
                        alive[c] && ready[c][node].is_some_and(|r| r <= day)
                    });
                    assert_eq!(
                        lists.first_ready(&mut trees, list, node, from, day),
                        expected
                    );
                }
            }
        }
    }
}
