//! The transfers between two levels, P (interpolation) and Pᵀ
//! (restriction), as lists made once when the hierarchy is built: per fine
//! node its coarse parents, per coarse node the fine nodes of its support,
//! each entry an index with its weight. A V-cycle then reads the lists
//! instead of finding each neighbour by its coordinates on the node grid
//! (the grid-id map, the bounds and the wrap), which made the transfers
//! about a fifth of a plastic solve's time. The entries keep the order of
//! the loops they replace, so every sum is the same to the bit.

use super::levels::{for_support, parents, Nodes};

/// The weights an entry can carry: products of the per-axis 1 and ½.
const WEIGHTS: [f64; 4] = [1.0, 0.5, 0.25, 0.125];

/// An entry: the index in its low 30 bits, the weight's position in
/// [`WEIGHTS`] in the top two.
fn pack(index: usize, weight: f64) -> u32 {
    let code = WEIGHTS
        .iter()
        .position(|&w| w == weight)
        .unwrap_or_else(|| panic!("transfer weight {weight} is not a product of 1 and ½"));
    assert!(index < 1 << 30, "node index {index} beyond 2^30");
    index as u32 | (code as u32) << 30
}

#[inline(always)]
fn unpack(e: u32) -> (usize, f64) {
    ((e & ((1 << 30) - 1)) as usize, WEIGHTS[(e >> 30) as usize])
}

/// P and Pᵀ between one level and the next coarser, as compressed rows.
#[derive(Debug, Clone)]
pub(super) struct Transfer {
    /// Per fine node a..a+1, its parents `prolong[start[a]..start[a+1]]`.
    prolong_start: Vec<u32>,
    prolong: Vec<u32>,
    /// Per coarse node, the fine nodes of its support.
    restrict_start: Vec<u32>,
    restrict: Vec<u32>,
}

/// Rows of `n` lists, each filled by `row(a, push)`, as (start, entries).
fn rows(n: usize, mut row: impl FnMut(usize, &mut dyn FnMut(usize, f64))) -> (Vec<u32>, Vec<u32>) {
    let mut start = Vec::with_capacity(n + 1);
    let mut entries = Vec::new();
    start.push(0);
    for a in 0..n {
        row(a, &mut |i, w| entries.push(pack(i, w)));
        let len = u32::try_from(entries.len()).expect("transfer entries beyond 2^32");
        start.push(len);
    }
    // Held for the hierarchy's life: no spare capacity.
    entries.shrink_to_fit();
    (start, entries)
}

impl Transfer {
    /// The transfers between `fine` and `coarse` (its coarse node set).
    pub(super) fn new(fine: &Nodes, coarse: &Nodes) -> Transfer {
        let (prolong_start, prolong) = rows(fine.len(), |i, push| {
            let f = fine.coords(i);
            for (cx, wx) in parents(f[0]) {
                for (cy, wy) in parents(f[1]) {
                    for (cz, wz) in parents(f[2]) {
                        let w = wx * wy * wz;
                        if w == 0.0 {
                            continue;
                        }
                        if let Some(j) = coarse.index([cx, cy, cz]) {
                            push(j, w);
                        }
                    }
                }
            }
        });
        let (restrict_start, restrict) = rows(coarse.len(), |ca, push| {
            for_support(fine, coarse.coords(ca), &mut *push);
        });
        Transfer {
            prolong_start,
            prolong,
            restrict_start,
            restrict,
        }
    }

    /// Bytes held.
    pub(super) fn bytes(&self) -> usize {
        4 * (self.prolong_start.len()
            + self.prolong.len()
            + self.restrict_start.len()
            + self.restrict.len())
    }

    /// The parents of fine node `i` with their weights, in order.
    #[inline(always)]
    pub(super) fn parents(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (a, b) = (self.prolong_start[i] as usize, self.prolong_start[i + 1]);
        self.prolong[a..b as usize].iter().map(|&e| unpack(e))
    }

    /// The fine nodes of coarse node `c`'s support with their weights, in
    /// order.
    #[inline(always)]
    pub(super) fn support(&self, c: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (a, b) = (self.restrict_start[c] as usize, self.restrict_start[c + 1]);
        self.restrict[a..b as usize].iter().map(|&e| unpack(e))
    }
}
