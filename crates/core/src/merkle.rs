//! The Merkle tree of RFC 6962 (§2.1): tree hashes, audit paths
//! (inclusion proofs) and consistency proofs, and their verification as
//! RFC 9162 §2.1.3.2 and §2.1.4.2 describe it.
//!
//! Leaf hash = SHA-256(0x00 ‖ leaf), node hash = SHA-256(0x01 ‖ left ‖ right);
//! the hash of an empty tree is SHA-256 of nothing. Nothing here does IO: a
//! log keeps the hashes of its complete subtrees wherever it likes and lends
//! them through [`Nodes`]; proofs are built from those hashes alone, so
//! nothing is ever re-hashed from the leaves.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash of a leaf: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of the empty tree: SHA-256 of no bytes.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The hashes of complete subtrees: `node(level, index)` is the tree hash of
/// leaves `index·2^level .. (index+1)·2^level`. Level 0 holds leaf hashes.
pub trait Nodes {
    type Error;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The tree hash of leaves `start..end`, where `start` is a multiple of the
/// largest power of two not above `end - start` (every range the RFC's
/// recursion visits is). Complete subtrees are read, the rest combined.
fn range_hash<N: Nodes + ?Sized>(nodes: &mut N, start: u64, end: u64) -> Result<Hash, N::Error> {
    let width = end - start;
    if width.is_power_of_two() && start.is_multiple_of(width) {
        return nodes.node(width.trailing_zeros(), start >> width.trailing_zeros());
    }
    let k = split_point(width);
    let left = range_hash(nodes, start, start + k)?;
    let right = range_hash(nodes, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the first `size` leaves.
pub fn root<N: Nodes + ?Sized>(nodes: &mut N, size: u64) -> Result<Hash, N::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(nodes, 0, size)
}

/// The audit path of leaf `index` in the tree of the first `size` leaves
/// (RFC 6962 §2.1.1), nearest the leaf first. Panics unless index < size.
pub fn inclusion_proof<N: Nodes + ?Sized>(
    nodes: &mut N,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, N::Error> {
    assert!(index < size, "leaf {index} is not in a tree of {size}");
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    // Walk down, collecting the sibling subtrees; they are reversed at the end.
    while end - start > 1 {
        let k = split_point(end - start);
        if m < k {
            path.push(range_hash(nodes, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_hash(nodes, start, start + k)?);
            start += k;
            m -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof between the trees of the first `old_size` and
/// `new_size` leaves (RFC 6962 §2.1.2). Empty when old_size is 0 or equal to
/// new_size. Panics unless old_size ≤ new_size.
pub fn consistency_proof<N: Nodes + ?Sized>(
    nodes: &mut N,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, N::Error> {
    assert!(
        old_size <= new_size,
        "a tree of {old_size} is not a prefix of one of {new_size}"
    );
    let mut proof = Vec::new();
    if old_size == 0 || old_size == new_size {
        return Ok(proof);
    }
    // SUBPROOF(m, D[start:end], whole), iteratively.
    let (mut start, mut end, mut m, mut whole) = (0u64, new_size, old_size, true);
    loop {
        let n = end - start;
        if m == n {
            if !whole {
                proof.push(range_hash(nodes, start, end)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(range_hash(nodes, start + k, end)?);
            end = start + k;
        } else {
            proof.push(range_hash(nodes, start, start + k)?);
            start += k;
            m -= k;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {old_size} leaves cannot grow into one of {new_size}")]
    Shrunk { old_size: u64, new_size: u64 },
    #[error("the proof has the wrong number of hashes for these tree sizes")]
    WrongLength,
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
}

/// Checks an audit path: that `leaf` is leaf `index` of the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof: that the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::Shrunk { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if old_size == 0 {
        // The empty tree is a prefix of every tree.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let mut f_r = path[0];
    let mut s_r = path[0];
    for c in &path[1..] {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if f_r != *old_root || s_r != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The nodes a log stores when it appends leaf `index` with hash `leaf`:
/// the leaf itself (level 0) and every complete subtree it closes, as
/// (level, index, hash). `left` lends the left siblings it needs (at most
/// one per level, and on average one per append), never re-hashing the log.
pub fn append<E>(
    index: u64,
    leaf: Hash,
    mut left: impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Vec<(u32, u64, Hash)>, E> {
    let mut out = vec![(0, index, leaf)];
    let (mut level, mut at, mut hash) = (0u32, index, leaf);
    while at & 1 == 1 {
        let sibling = left(level, at - 1)?;
        hash = node_hash(&sibling, &hash);
        level += 1;
        at >>= 1;
        out.push((level, at, hash));
    }
    Ok(out)
}

/// The root of a tree whose leaves arrive one by one, in O(log n) memory:
/// the hashes of its complete subtrees, largest first (the binary digits of
/// the leaf count). [`Frontier::root`] is the RFC 6962 tree hash.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    /// (level, hash) of each complete subtree, left to right.
    subtrees: Vec<(u32, Hash)>,
    len: u64,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }
    pub fn push(&mut self, leaf: Hash) {
        let (mut level, mut hash) = (0u32, leaf);
        while let Some(&(last_level, last)) = self.subtrees.last() {
            if last_level != level {
                break;
            }
            self.subtrees.pop();
            hash = node_hash(&last, &hash);
            level += 1;
        }
        self.subtrees.push((level, hash));
        self.len += 1;
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The tree hash of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.subtrees.iter().rev();
        let Some(&(_, mut hash)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            hash = node_hash(left, &hash);
        }
        hash
    }
}

/// A whole tree in memory: its leaf hashes, with every complete subtree's
/// hash computed on demand. For tests and small proofs.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    leaves: Vec<Hash>,
}

impl MemoryTree {
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }
    pub fn push(&mut self, leaf: Hash) {
        self.leaves.push(leaf);
    }
    pub fn len(&self) -> u64 {
        self.leaves.len() as u64
    }
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }
}

impl Nodes for MemoryTree {
    type Error = std::convert::Infallible;
    fn node(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        fn mth(leaves: &[Hash]) -> Hash {
            match leaves.len() {
                0 => empty_root(),
                1 => leaves[0],
                n => {
                    let k = split_point(n as u64) as usize;
                    node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
                }
            }
        }
        let start = (index << level) as usize;
        let end = ((index + 1) << level) as usize;
        Ok(mth(&self.leaves[start..end.min(self.leaves.len())]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed root is the tree hash, for every size up to 70.
    #[test]
    fn frontier_root_is_the_tree_hash() {
        let mut tree = MemoryTree::new();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), empty_root());
        for i in 0..70u8 {
            let leaf = leaf_hash(&[i]);
            tree.push(leaf);
            frontier.push(leaf);
            let size = tree.len();
            assert_eq!(Ok(frontier.root()), root(&mut tree, size), "size {}", i + 1);
        }
    }

    fn h(text: &str) -> Hash {
        let bytes = hex::decode(text).expect("hex");
        bytes.try_into().expect("32 bytes")
    }

    /// The leaf inputs of the RFC 6962 test vectors (as published with the
    /// Certificate Transparency implementations).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// Root hashes of the trees of the first 1..8 leaves.
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// (leaf index, tree size, audit path).
    const INCLUSION: &[(u64, u64, &[&str])] = &[
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    /// (old size, new size, proof).
    const CONSISTENCY: &[(u64, u64, &[&str])] = &[
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn vector_tree(size: usize) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in &LEAVES[..size] {
            tree.push(leaf_hash(&hex::decode(leaf).expect("hex")));
        }
        tree
    }

    /// A tree stored the way a log stores it: every node [`append`] returns.
    #[derive(Default)]
    struct StoredTree {
        nodes: std::collections::HashMap<(u32, u64), Hash>,
        size: u64,
    }

    impl StoredTree {
        fn push(&mut self, leaf: Hash) {
            let nodes = &self.nodes;
            let new = append::<()>(self.size, leaf, |level, index| {
                Ok(*nodes.get(&(level, index)).expect("left sibling stored"))
            })
            .expect("append");
            for (level, index, hash) in new {
                self.nodes.insert((level, index), hash);
            }
            self.size += 1;
        }
    }

    impl Nodes for StoredTree {
        type Error = ();
        fn node(&mut self, level: u32, index: u64) -> Result<Hash, ()> {
            self.nodes.get(&(level, index)).copied().ok_or(())
        }
    }

    #[test]
    fn empty_tree_hash_is_sha256_of_nothing() {
        assert_eq!(
            empty_root(),
            h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(root(&mut MemoryTree::new(), 0), Ok(empty_root()));
    }

    #[test]
    fn roots_of_one_to_eight_leaves_match_the_vectors() {
        for size in 1..=8 {
            let expected = h(ROOTS[size - 1]);
            assert_eq!(
                root(&mut vector_tree(size), size as u64),
                Ok(expected),
                "size {size}"
            );
            // The incremental log, appending leaf by leaf, reaches the same roots.
            let mut stored = StoredTree::default();
            for leaf in &LEAVES[..size] {
                stored.push(leaf_hash(&hex::decode(leaf).expect("hex")));
            }
            assert_eq!(
                root(&mut stored, size as u64),
                Ok(expected),
                "stored, size {size}"
            );
        }
    }

    #[test]
    fn inclusion_proofs_match_the_vectors_and_verify() {
        for (index, size, path) in INCLUSION {
            let expected: Vec<Hash> = path.iter().map(|p| h(p)).collect();
            let mut tree = vector_tree(*size as usize);
            let proof = inclusion_proof(&mut tree, *index, *size).expect("proof");
            assert_eq!(proof, expected, "leaf {index} of {size}");
            let leaf = leaf_hash(&hex::decode(LEAVES[*index as usize]).expect("hex"));
            let root_hash = h(ROOTS[*size as usize - 1]);
            assert_eq!(
                verify_inclusion(*index, *size, &leaf, &proof, &root_hash),
                Ok(())
            );
            // Tampered: each hash of the path with one bit flipped, a wrong
            // index, a wrong size, a path one hash short or long.
            for i in 0..proof.len() {
                let mut bad = proof.clone();
                bad[i][0] ^= 8;
                assert!(verify_inclusion(*index, *size, &leaf, &bad, &root_hash).is_err());
            }
            assert!(
                verify_inclusion(index ^ 1, *size, &leaf, &proof, &root_hash).is_err()
                    || *size == 1
            );
            assert!(verify_inclusion(*index, size * 2, &leaf, &proof, &root_hash).is_err());
            if !proof.is_empty() {
                assert!(verify_inclusion(*index, *size, &leaf, &proof[1..], &root_hash).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root_hash);
            assert!(verify_inclusion(*index, *size, &leaf, &longer, &root_hash).is_err());
        }
    }

    #[test]
    fn consistency_proofs_match_the_vectors_and_verify() {
        for (old, new, path) in CONSISTENCY {
            let expected: Vec<Hash> = path.iter().map(|p| h(p)).collect();
            let mut tree = vector_tree(*new as usize);
            let proof = consistency_proof(&mut tree, *old, *new).expect("proof");
            assert_eq!(proof, expected, "{old} -> {new}");
            let old_root = h(ROOTS[*old as usize - 1]);
            let new_root = h(ROOTS[*new as usize - 1]);
            assert_eq!(
                verify_consistency(*old, *new, &old_root, &new_root, &proof),
                Ok(())
            );
            if old != new {
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i][0] ^= 16;
                    assert!(verify_consistency(*old, *new, &old_root, &new_root, &bad).is_err());
                }
                assert!(verify_consistency(*old, *new, &new_root, &old_root, &proof).is_err());
                assert!(verify_consistency(*old, *new, &old_root, &new_root, &[]).is_err());
                assert!(verify_consistency(old + 1, *new, &old_root, &new_root, &proof).is_err());
                assert!(verify_consistency(*old, new * 2, &old_root, &new_root, &proof).is_err());
                assert!(verify_consistency(*old, *new, &old_root, &new_root, &proof[1..]).is_err());
            }
        }
    }

    #[test]
    fn trivial_consistency_cases() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(verify_consistency(0, 0, &a, &a, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 1, &a, &b, &[]), Ok(()));
        assert!(verify_consistency(1, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(1, 0, &a, &b, &[]).is_err());
        assert!(verify_consistency(1, 2, &a, &b, &[]).is_err());
        assert!(verify_consistency(0, 1, &a, &a, &[a]).is_err());
    }

    /// Every proof between every pair of sizes up to 70 leaves, built from
    /// the stored nodes of an incremental log, verifies against the roots a
    /// plain recursive computation gives, and rejects a wrong root.
    #[test]
    fn all_proofs_of_trees_up_to_seventy_leaves_verify() {
        let mut memory = MemoryTree::new();
        let mut stored = StoredTree::default();
        let mut roots = vec![empty_root()];
        for i in 0..70u64 {
            let leaf = leaf_hash(&i.to_be_bytes());
            memory.push(leaf);
            stored.push(leaf);
            let r = root(&mut memory, i + 1).expect("root");
            assert_eq!(root(&mut stored, i + 1), Ok(r));
            roots.push(r);
        }
        for size in 1..=70u64 {
            for index in 0..size {
                let proof = inclusion_proof(&mut stored, index, size).expect("stored nodes");
                let leaf = leaf_hash(&index.to_be_bytes());
                assert_eq!(
                    verify_inclusion(index, size, &leaf, &proof, &roots[size as usize]),
                    Ok(())
                );
                assert!(
                    verify_inclusion(index, size, &leaf, &proof, &roots[size as usize - 1])
                        .is_err()
                );
            }
            for old in 0..=size {
                let proof = consistency_proof(&mut stored, old, size).expect("stored nodes");
                let (r_old, r_new) = (roots[old as usize], roots[size as usize]);
                assert_eq!(
                    verify_consistency(old, size, &r_old, &r_new, &proof),
                    Ok(()),
                    "{old} -> {size}"
                );
                if old > 0 && old < size {
                    let wrong = roots[old as usize - 1];
                    assert!(verify_consistency(old, size, &wrong, &r_new, &proof).is_err());
                }
            }
        }
    }
}
