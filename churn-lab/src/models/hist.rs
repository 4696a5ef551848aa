//! Histogram decision trees: the engine under our random forest and gradient boosting.
//!
//! Why not linfa-trees: its splitter visits every training row at every node (a mask marks the
//! node's rows), so a deep tree costs O(rows × nodes × features); fitting 300 trees on ~18k
//! customers took minutes. Here each feature is cut once into at most 255 quantile bins, a
//! node only visits its own rows to fill a histogram per feature, and the best split is one
//! scan of the bins — O(rows × depth × features) per tree, the approach of LightGBM and
//! scikit-learn's HistGradientBoosting.
//!
//! One growth routine serves both ensembles: a node holds sums `g` and `h`, its value is
//! `g / (h + λ)` and a split's gain is `gL²/(hL+λ) + gR²/(hR+λ) − g²/(h+λ)`. With `g = y`,
//! `h = 1`, `λ = 0` that is the class-1 share and the Gini decrease (forest); with the logistic
//! loss's negative gradient and hessian it is the Newton step (boosting).

use ndarray::{ArrayView1, ArrayView2};
use rand::Rng;
use rand::seq::index::sample;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Per-feature cut points: value `x` falls in bin `b` = number of cuts below `x`, so
/// `bin <= b` exactly when `x <= cuts[b]`.
#[derive(Debug, Clone)]
pub struct Binner {
    cuts: Vec<Vec<f64>>,
}

const MAX_BINS: usize = 256;

/// Where a feature with more distinct values than bins is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binning {
    /// At the rows' quantiles, so that each bin holds about as many rows: fine where
    /// customers are dense, coarse in long tails (how LightGBM and scikit-learn's
    /// HistGradientBoosting bin).
    Rows,
    /// At the quantiles of the distinct values, so that thresholds reach into the tails as
    /// well.
    Values,
}

impl Binner {
    pub fn fit(x: ArrayView2<f64>, binning: Binning) -> Self {
        let cuts = x
            .columns()
            .into_iter()
            .map(|column| {
                let mut values: Vec<f64> =
                    column.iter().copied().filter(|v| v.is_finite()).collect();
                values.sort_by(f64::total_cmp);
                let mut distinct = values.clone();
                distinct.dedup();
                if distinct.len() <= MAX_BINS {
                    distinct.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
                } else {
                    let quantiles = match binning {
                        Binning::Rows => &values,
                        Binning::Values => &distinct,
                    };
                    let mut cuts: Vec<f64> = (1..MAX_BINS)
                        .map(|k| quantiles[k * quantiles.len() / MAX_BINS])
                        .collect();
                    cuts.dedup();
                    cuts
                }
            })
            .collect();
        Self { cuts }
    }

    pub fn bin(&self, feature: usize, x: f64) -> u8 {
        self.cuts[feature].partition_point(|&c| c < x) as u8
    }

    /// The bins of every value, column by column and row by row.
    pub fn transform(&self, x: ArrayView2<f64>) -> BinnedMatrix {
        let (rows, features) = x.dim();
        let mut bins = vec![0u8; rows * features];
        let mut by_row = vec![0u8; rows * features];
        for f in 0..features {
            for (r, &v) in x.column(f).iter().enumerate() {
                let bin = self.bin(f, v);
                bins[f * rows + r] = bin;
                by_row[r * features + f] = bin;
            }
        }
        BinnedMatrix {
            rows,
            features,
            bins,
            by_row,
        }
    }

    fn bins_of(&self, feature: usize) -> usize {
        self.cuts[feature].len() + 1
    }
}

/// Every value's bin, stored twice: column-major for one feature's histogram over a node's
/// rows (the forest, which samples features per split) and for partitioning, row-major for
/// every feature's histograms in one pass over the rows (boosting and AdaBoost).
#[derive(Debug, Clone)]
pub struct BinnedMatrix {
    pub rows: usize,
    pub features: usize,
    bins: Vec<u8>,
    by_row: Vec<u8>,
}

impl BinnedMatrix {
    fn column(&self, feature: usize) -> &[u8] {
        &self.bins[feature * self.rows..(feature + 1) * self.rows]
    }

    fn row(&self, row: usize) -> &[u8] {
        &self.by_row[row * self.features..(row + 1) * self.features]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// Minimum sum of `h` on each side of a split.
    pub min_child_weight: f64,
    pub lambda: f64,
    /// Features tried at each split (all when `>=` the feature count).
    pub max_features: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    Leaf {
        value: f64,
    },
    Split {
        feature: u32,
        threshold: f64,
        bin: u8,
        left: u32,
        right: u32,
    },
}

/// A fitted tree: `nodes[0]` is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    pub fn predict(&self, row: ArrayView1<f64>) -> f64 {
        let mut at = 0;
        loop {
            match &self.nodes[at] {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    ..
                } => {
                    at = if row[*feature as usize] <= *threshold {
                        *left as usize
                    } else {
                        *right as usize
                    };
                }
            }
        }
    }

    pub(super) fn predict_binned(&self, data: &BinnedMatrix, row: usize) -> f64 {
        let mut at = 0;
        loop {
            match &self.nodes[at] {
                Node::Leaf { value } => return *value,
                Node::Split {
                    feature,
                    bin,
                    left,
                    right,
                    ..
                } => {
                    at = if data.column(*feature as usize)[row] <= *bin {
                        *left as usize
                    } else {
                        *right as usize
                    };
                }
            }
        }
    }

    /// Whether every split names a feature below `features` and children that come after it
    /// (so traversal always ends) — checked before running a tree from an uploaded artifact.
    pub fn is_well_formed(&self, features: usize) -> bool {
        !self.nodes.is_empty()
            && self.nodes.iter().enumerate().all(|(at, node)| match node {
                Node::Leaf { value } => value.is_finite(),
                Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } => {
                    (*feature as usize) < features
                        && [*left, *right]
                            .iter()
                            .all(|&c| c as usize > at && (c as usize) < self.nodes.len())
                }
            })
    }

    pub fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }

    /// Grows a tree on the rows listed in `rows`, in ascending order (a row may be listed
    /// once; weight it through `g` and `h`).
    pub fn grow(
        data: &BinnedMatrix,
        binner: &Binner,
        g: &[f64],
        h: &[f64],
        mut rows: Vec<u32>,
        params: &TreeParams,
        rng: &mut impl Rng,
    ) -> Grown {
        let mut grower = Grower::new(data, binner, g, h, params);
        grower.scratch.reserve(rows.len());
        let sums = rows.iter().fold((0.0, 0.0), |(g, h), &r| {
            (g + grower.g[r as usize], h + grower.h[r as usize])
        });
        grower.grow(&mut rows, 0, sums, None, rng);
        Grown {
            tree: Tree {
                nodes: grower.nodes,
            },
            rows,
            leaves: grower.leaves,
        }
    }
}

/// A grown tree, and which of the rows it grew on ended in which leaf.
pub struct Grown {
    pub tree: Tree,
    /// The rows, leaf by leaf.
    rows: Vec<u32>,
    /// Each leaf's row count and value, in the order of `rows`.
    leaves: Vec<(usize, f64)>,
}

impl Grown {
    /// Calls `f` with each row the tree grew on and the tree's output for that row — what
    /// [`Tree::predict_binned`] gives, without walking the tree again.
    pub fn for_each_row(&self, mut f: impl FnMut(usize, f64)) {
        let mut rows = self.rows.iter();
        for &(count, value) in &self.leaves {
            for &r in rows.by_ref().take(count) {
                f(r as usize, value);
            }
        }
    }
}

struct Grower<'a> {
    data: &'a BinnedMatrix,
    binner: &'a Binner,
    g: &'a [f64],
    h: &'a [f64],
    params: &'a TreeParams,
    /// Feature `f`'s buckets in [`Histograms`] are `offsets[f]..offsets[f + 1]`.
    offsets: Vec<usize>,
    nodes: Vec<Node>,
    /// Each final leaf's row count and value, left to right (the order the rows end in).
    leaves: Vec<(usize, f64)>,
    /// The right side's rows while a node's rows are partitioned.
    scratch: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Candidate {
    gain: f64,
    feature: usize,
    bin: u8,
    /// The left side's sums of `g` and `h`.
    left: (f64, f64),
}

#[derive(Clone, Copy, Default)]
struct Bucket {
    g: f64,
    h: f64,
    n: u32,
}

type Histogram = [Bucket; MAX_BINS];

/// Every feature's histogram side by side (see `Grower::offsets`), as many buckets as the
/// features have bins.
type Histograms = Vec<Bucket>;

/// Nodes with fewer rows than this fill their histograms on one thread.
const PARALLEL_ROWS: usize = 2048;

/// Rows per chunk when a node's histograms are filled in parallel. The chunks are fixed, and
/// their sums are added in chunk order, so a tree does not depend on the number of threads.
const CHUNK_ROWS: usize = 2048;

impl<'a> Grower<'a> {
    fn new(
        data: &'a BinnedMatrix,
        binner: &'a Binner,
        g: &'a [f64],
        h: &'a [f64],
        params: &'a TreeParams,
    ) -> Self {
        let offsets = std::iter::once(0)
            .chain((0..data.features).scan(0, |end, f| {
                *end += binner.bins_of(f);
                Some(*end)
            }))
            .collect();
        Grower {
            data,
            binner,
            g,
            h,
            params,
            offsets,
            nodes: Vec::new(),
            leaves: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn score(&self, g: f64, h: f64) -> f64 {
        g * g / (h + self.params.lambda)
    }

    /// Whether every split considers every feature. Then a node's histograms serve its
    /// children: fill them for the smaller child and take the larger one's as the parent's
    /// minus the smaller's (LightGBM's histogram subtraction), which halves the work below
    /// the root. With per-split feature sampling (the forest) the children need other
    /// features than the parent had, so each node fills its own.
    fn subtracts(&self) -> bool {
        self.params.max_features >= self.data.features
    }

    fn grow(
        &mut self,
        rows: &mut [u32],
        depth: usize,
        (g, h): (f64, f64),
        histograms: Option<Histograms>,
        rng: &mut impl Rng,
    ) -> u32 {
        let id = self.nodes.len() as u32;
        let value = g / (h + self.params.lambda);
        self.nodes.push(Node::Leaf { value });
        let p = self.params;
        if depth >= p.max_depth || rows.len() < 2 * p.min_samples_leaf.max(1) {
            self.leaves.push((rows.len(), value));
            return id;
        }
        let features: Vec<usize> = if self.subtracts() {
            (0..self.data.features).collect()
        } else {
            sample(rng, self.data.features, p.max_features.max(1)).into_vec()
        };
        let parent = self.score(g, h);
        let total = rows.len() as u32;
        // Boosting keeps every histogram for its children; the forest fills and scans one
        // feature's at a time, so it stays in the first-level cache.
        let (histograms, candidates): (Option<Histograms>, Vec<Candidate>) = if self.subtracts() {
            let histograms = histograms.unwrap_or_else(|| self.histograms(rows));
            let candidates = features
                .iter()
                .filter_map(|&f| {
                    let buckets = &histograms[self.offsets[f]..self.offsets[f + 1]];
                    self.best_split(buckets, total, f, g, h, parent)
                })
                .collect();
            (Some(histograms), candidates)
        } else {
            let best_of = |&f: &usize| {
                let buckets = &self.histogram(rows, f)[..self.binner.bins_of(f)];
                self.best_split(buckets, total, f, g, h, parent)
            };
            let candidates = if rows.len() >= PARALLEL_ROWS {
                features.par_iter().filter_map(best_of).collect()
            } else {
                features.iter().filter_map(best_of).collect()
            };
            (None, candidates)
        };
        let best = candidates
            .into_iter()
            .fold(None::<Candidate>, |best, c| match best {
                Some(b) if b.gain >= c.gain => Some(b),
                _ => Some(c),
            });
        let Some(best) = best.filter(|b| b.gain > 1e-12) else {
            self.leaves.push((rows.len(), value));
            return id;
        };
        // A stable partition: rows stay in ascending order, so every histogram fill below
        // reads the bins and gradients front to back instead of jumping around memory.
        let column = self.data.column(best.feature);
        self.scratch.clear();
        let mut split = 0;
        for i in 0..rows.len() {
            let r = rows[i];
            if column[r as usize] <= best.bin {
                rows[split] = r;
                split += 1;
            } else {
                self.scratch.push(r);
            }
        }
        rows[split..].copy_from_slice(&self.scratch);
        let (left_rows, right_rows) = rows.split_at_mut(split);
        let (left_histograms, right_histograms) = if let Some(histograms) = histograms
            && depth + 1 < p.max_depth
        {
            let left_smaller = left_rows.len() <= right_rows.len();
            let smaller = self.histograms(if left_smaller { left_rows } else { right_rows });
            let mut larger = histograms;
            for (p, c) in larger.iter_mut().zip(&smaller) {
                p.g -= c.g;
                p.h -= c.h;
                p.n -= c.n;
            }
            if left_smaller {
                (Some(smaller), Some(larger))
            } else {
                (Some(larger), Some(smaller))
            }
        } else {
            (None, None)
        };
        let (gl, hl) = best.left;
        let left = self.grow(left_rows, depth + 1, (gl, hl), left_histograms, rng);
        let right = self.grow(
            right_rows,
            depth + 1,
            (g - gl, h - hl),
            right_histograms,
            rng,
        );
        self.nodes[id as usize] = Node::Split {
            feature: best.feature as u32,
            threshold: self.binner.cuts[best.feature][best.bin as usize],
            bin: best.bin,
            left,
            right,
        };
        id
    }

    /// The sums of `g`, `h` and the row count in each bin of `feature` over `rows`.
    fn histogram(&self, rows: &[u32], feature: usize) -> Histogram {
        let column = self.data.column(feature);
        let mut histogram = [Bucket::default(); MAX_BINS];
        for &r in rows {
            let b = &mut histogram[column[r as usize] as usize];
            b.g += self.g[r as usize];
            b.h += self.h[r as usize];
            b.n += 1;
        }
        histogram
    }

    /// [`Self::histogram`] of every feature, in one pass over the rows: each row's `g`, `h`
    /// and bins are read once, from the row-major copy of the bins.
    fn histograms(&self, rows: &[u32]) -> Histograms {
        let fill = |rows: &[u32]| {
            let mut histograms = vec![Bucket::default(); self.offsets[self.data.features]];
            for &r in rows {
                let r = r as usize;
                let (g, h) = (self.g[r], self.h[r]);
                for (&bin, &offset) in self.data.row(r).iter().zip(&self.offsets) {
                    let b = &mut histograms[offset + bin as usize];
                    b.g += g;
                    b.h += h;
                    b.n += 1;
                }
            }
            histograms
        };
        if rows.len() < 2 * CHUNK_ROWS {
            return fill(rows);
        }
        let chunks: Vec<Histograms> = rows.par_chunks(CHUNK_ROWS).map(fill).collect();
        let mut chunks = chunks.into_iter();
        let mut sum = chunks.next().unwrap_or_default();
        for chunk in chunks {
            for (s, c) in sum.iter_mut().zip(&chunk) {
                s.g += c.g;
                s.h += c.h;
                s.n += c.n;
            }
        }
        sum
    }

    /// The best split of `feature` given its histogram, `buckets` (one per bin).
    fn best_split(
        &self,
        buckets: &[Bucket],
        total: u32,
        feature: usize,
        g: f64,
        h: f64,
        parent: f64,
    ) -> Option<Candidate> {
        if buckets.len() < 2 {
            return None;
        }
        let p = self.params;
        let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
        let mut best: Option<Candidate> = None;
        for (bin, bucket) in buckets[..buckets.len() - 1].iter().enumerate() {
            gl += bucket.g;
            hl += bucket.h;
            nl += bucket.n;
            let nr = total - nl;
            if (nl as usize) < p.min_samples_leaf.max(1) || hl < p.min_child_weight {
                continue;
            }
            if (nr as usize) < p.min_samples_leaf.max(1) || h - hl < p.min_child_weight {
                break;
            }
            let gain = self.score(gl, hl) + self.score(g - gl, h - hl) - parent;
            if best.is_none_or(|b| gain > b.gain) {
                best = Some(Candidate {
                    gain,
                    feature,
                    bin: bin as u8,
                    left: (gl, hl),
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;

    fn params(
        max_depth: usize,
        min_samples_leaf: usize,
        lambda: f64,
        max_features: usize,
    ) -> TreeParams {
        TreeParams {
            max_depth,
            min_samples_leaf,
            min_child_weight: 0.0,
            lambda,
            max_features,
        }
    }

    #[test]
    fn a_tree_separates_a_threshold_and_predicts_shares() {
        let x = array![[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]];
        let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let binner = Binner::fit(x.view(), Binning::Rows);
        let data = binner.transform(x.view());
        let params = params(3, 1, 0.0, 1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let grown = Tree::grow(
            &data,
            &binner,
            &y,
            &[1.0; 6],
            (0..6).collect(),
            &params,
            &mut rng,
        );
        let tree = &grown.tree;
        assert_eq!(tree.leaves(), 2);
        assert_eq!(tree.predict(array![3.4].view()), 0.0);
        assert_eq!(tree.predict(array![3.6].view()), 1.0);
        // Binned and raw traversal agree.
        for r in 0..6 {
            assert_eq!(tree.predict_binned(&data, r), tree.predict(x.row(r)));
        }
    }

    /// Rows binning spends its bins where the rows are; values binning where the values are.
    #[test]
    fn binning_follows_rows_or_values() {
        // 9,000 customers share 300 small values; 1,000 have distinct large ones.
        let x = ndarray::Array2::from_shape_fn((10_000, 1), |(r, _)| {
            if r < 9_000 {
                (r % 300) as f64
            } else {
                r as f64
            }
        });
        let below_300 = |binning| {
            let binner = Binner::fit(x.view(), binning);
            assert!(binner.bins_of(0) <= MAX_BINS);
            binner.cuts[0].iter().filter(|&&c| c < 300.0).count()
        };
        assert!(
            below_300(Binning::Rows) > 200,
            "{}",
            below_300(Binning::Rows)
        );
        assert!(
            below_300(Binning::Values) < 70,
            "{}",
            below_300(Binning::Values)
        );
    }

    /// Rows of a seeded, noisy two-feature problem (with a constant third feature).
    fn noisy(rows: usize) -> (ndarray::Array2<f64>, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let x = ndarray::Array2::from_shape_fn((rows, 3), |(_, f)| match f {
            0 => rng.gen_range(0.0..100.0),
            1 => f64::from(rng.gen_range(0..7)),
            _ => 1.0,
        });
        let y = x
            .rows()
            .into_iter()
            .map(|r| {
                f64::from(u8::from(
                    r[0] + 10.0 * r[1] + rng.gen_range(0.0..40.0) > 90.0,
                ))
            })
            .collect();
        (x, y)
    }

    /// The row-wise fill of every feature's histograms, in parallel chunks, sums what the
    /// per-feature fill sums.
    #[test]
    fn row_wise_histograms_equal_per_feature_histograms() {
        let (x, y) = noisy(10_000);
        let binner = Binner::fit(x.view(), Binning::Rows);
        let data = binner.transform(x.view());
        let h: Vec<f64> = (0..y.len()).map(|r| 0.5 + (r % 3) as f64).collect();
        let params = params(4, 1, 0.0, 3);
        let grower = Grower::new(&data, &binner, &y, &h, &params);
        // Every other row, so the fill skips rows as a node's would; more than two chunks.
        let rows: Vec<u32> = (0..10_000).step_by(2).collect();
        let all = grower.histograms(&rows);
        assert_eq!(all.len(), binner.bins_of(0) + binner.bins_of(1) + 1);
        for f in 0..3 {
            let one = grower.histogram(&rows, f);
            let bins = &all[grower.offsets[f]..grower.offsets[f + 1]];
            for (a, b) in bins.iter().zip(&one) {
                assert_eq!(a.n, b.n, "feature {f}");
                assert!(
                    (a.g - b.g).abs() < 1e-9 && (a.h - b.h).abs() < 1e-9,
                    "feature {f}"
                );
            }
            assert_eq!(bins.iter().map(|b| b.n).sum::<u32>(), 5_000);
        }
    }

    /// A tree grown on one thread is the tree grown on two: parallel fills sum fixed chunks in
    /// a fixed order.
    #[test]
    fn trees_do_not_depend_on_the_number_of_threads() {
        let (x, y) = noisy(12_000);
        let binner = Binner::fit(x.view(), Binning::Rows);
        let data = binner.transform(x.view());
        let h: Vec<f64> = (0..y.len()).map(|r| 0.1 + (r % 7) as f64 / 7.0).collect();
        let params = params(6, 5, 1.0, 3);
        let grow_on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let rows = (0..12_000).collect();
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
                Tree::grow(&data, &binner, &y, &h, rows, &params, &mut rng).tree
            })
        };
        let one = grow_on(1);
        assert!(one.leaves() > 20);
        assert_eq!(one, grow_on(2));
    }

    /// What a grown tree reports for each row it grew on is what it predicts for that row,
    /// and every row is reported once.
    #[test]
    fn grown_rows_carry_the_trees_prediction() {
        let (x, y) = noisy(9_000);
        let binner = Binner::fit(x.view(), Binning::Rows);
        let data = binner.transform(x.view());
        let params = params(4, 20, 1.0, 3);
        let rows: Vec<u32> = (0..9_000).filter(|r| r % 5 != 0).collect();
        let grown = Tree::grow(
            &data,
            &binner,
            &y,
            &vec![1.0; y.len()],
            rows.clone(),
            &params,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(1),
        );
        assert!(grown.tree.leaves() >= 8);
        let mut seen = Vec::new();
        grown.for_each_row(|r, value| {
            assert_eq!(value, grown.tree.predict_binned(&data, r), "row {r}");
            seen.push(r as u32);
        });
        seen.sort_unstable();
        assert_eq!(seen, rows);
    }
}
