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
    /// Per class, the lists it is in and its position there.
    pub slots: Vec<Vec<(u32, u32)>>,
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
        let mut slots = vec![Vec::new(); class_count];
        let mut ready = Vec::new();
        let mut offsets = Vec::new();
        let mut total = 0;
        for per_item in destination_classes {
            debug_assert_eq!(per_item.len(), items);
            for list in per_item {
                let id = lists.len() as u32;
                for (position, &c) in list.iter().enumerate() {
                    slots[c].push((id, position as u32));
                }
                let size = list.len().next_power_of_two();
                let mut per_node = Vec::with_capacity(nodes);
                for node in 0..nodes {
                    per_node.push(
                        list.iter()
                            .map(|&c| ready_at(c, node).unwrap_or(NEVER))
                            .collect::<Vec<Day>>(),
                    );
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
            slots,
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
        for (list, members) in self.lists.iter().enumerate() {
            for node in 0..self.nodes {
                let (offset, size) = self.offsets[list * self.nodes + node];
                let tree = &mut values[offset..offset + 2 * size];
                for (position, &c) in members.iter().enumerate() {
                    if alive(c) {
                        tree[size + position] = self.ready[list][node][position];
                    }
                }
                for i in (1..size).rev() {
                    tree[i] = tree[2 * i].min(tree[2 * i + 1]);
                }
            }
        }
        Trees { values }
    }

    /// Marks class `c` as having stock or not.
    pub fn set_alive(&self, trees: &mut Trees, c: usize, alive: bool) {
        for &(list, position) in &self.slots[c] {
            let (list, position) = (list as usize, position as usize);
            for node in 0..self.nodes {
                let (offset, size) = self.offsets[list * self.nodes + node];
                let tree = &mut trees.values[offset..offset + 2 * size];
                let mut i = size + position;
                tree[i] = if alive {
                    self.ready[list][node][position]
                } else {
                    NEVER
                };
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
        }
    }

    /// The first position at or after `from` in list `list` whose class has
    /// stock and can be loaded at `node` by `day`.
    pub fn first_ready(
        &self,
        trees: &Trees,
        list: usize,
        node: usize,
        from: usize,
        day: Day,
    ) -> Option<usize> {
        let (offset, size) = self.offsets[list * self.nodes + node];
        let tree = &trees.values[offset..offset + 2 * size];
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
}

/// The changing part: one min-tree per (list, node), kept in a [`State`](crate::state::State).
#[derive(Debug, Clone)]
pub(crate) struct Trees {
    values: Vec<Day>,
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
        assert_eq!(lists.first_ready(&trees, 0, 0, 0, 3), Some(1));
        assert_eq!(lists.first_ready(&trees, 0, 0, 2, 3), Some(3));
        assert_eq!(lists.first_ready(&trees, 0, 0, 4, 3), None);
        assert_eq!(lists.first_ready(&trees, 0, 0, 0, 0), None);
        lists.set_alive(&mut trees, 1, false);
        assert_eq!(lists.first_ready(&trees, 0, 0, 0, 3), Some(3));
        lists.set_alive(&mut trees, 3, false);
        assert_eq!(lists.first_ready(&trees, 0, 0, 0, 6), Some(0));
        assert_eq!(lists.first_ready(&trees, 0, 0, 1, 6), None);
        lists.set_alive(&mut trees, 1, true);
        assert_eq!(lists.first_ready(&trees, 0, 0, 1, 6), Some(1));
    }
}
