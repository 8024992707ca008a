//! Fitting the next-watch scorer: a listwise regression (softmax over each moment's
//! group: the picked video against its negatives) and, beside it, a one-layer network
//! that starts at zero (so it starts as the regression). Both are judged on the latest
//! slice of the moments, held out from their training, by mean reciprocal rank; the
//! network ships only if it beats the regression there by `deep_margin` standard errors
//! of the paired difference (as the label model's deep part), and the regression only if
//! it beats the best single signal. The chosen one is then refitted on every moment.

use super::data::Dataset;
use tch::nn::OptimizerConfig;
use tch::{nn, Device, Kind, Tensor};
use vrd_next_watch::card::{standardised, NextWatchScorer, CONSTANT_STD};
use vrd_next_watch::features::{Feature, FEATURES};

#[derive(Debug, Clone, serde::Serialize)]
pub struct FitOptions {
    /// The latest share of the moments held out for the choice.
    pub validation_share: f64,
    pub hidden: usize,
    /// Full-batch steps of the network (the kept step is chosen on the slice).
    pub steps: usize,
    pub lr: f64,
    pub regression_steps: usize,
    pub l2: f64,
    /// The L2 penalty of the taste direction (0: none).
    pub taste_l2: f64,
    pub deep_margin: f64,
    pub seed: u64,
    /// The early-fusion contender (`--arch fusion`), if it is trained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion: Option<super::fusion::FusionOptions>,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            validation_share: 0.2,
            hidden: 16,
            steps: 300,
            lr: 0.01,
            regression_steps: 300,
            l2: 1e-3,
            taste_l2: 1e-3,
            deep_margin: 1.0,
            seed: 42,
            fusion: None,
        }
    }
}

/// The single signals the learners must beat (the similarity to the last watch, channel
/// recency, the taste profile).
pub const SIGNALS: [Feature; 3] = [Feature::SimLast, Feature::ChannelDecayedLog, Feature::SimProfile];

/// The features' mean and standard deviation over every real row.
pub fn standardisation(ds: &Dataset, groups: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
    let f = FEATURES.len();
    let (mut sum, mut sq, mut n) = (vec![0f64; f], vec![0f64; f], 0f64);
    for g in groups {
        for r in 0..ds.sizes[g] {
            for (k, &v) in ds.row(g, r).iter().enumerate() {
                sum[k] += f64::from(v);
                sq[k] += f64::from(v) * f64::from(v);
            }
            n += 1.0;
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / n.max(1.0)).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| ((q / n.max(1.0) - m * m).max(0.0).sqrt()).max(f64::from(CONSTANT_STD)) as f32)
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

/// A slice of the groups as standardised tensors: `x` `[groups, width, features]` and the
/// mask of real rows.
pub struct Batch<'e> {
    pub x: Tensor,
    pub mask: Tensor,
    /// Each row's video's row in `embeddings`.
    pub rows: Tensor,
    /// Every embedding, unit length, `[videos, dim]`.
    pub embeddings: &'e Tensor,
}

impl Batch<'_> {
    /// `u · e` of every row.
    fn taste(&self, u: &Tensor) -> Tensor {
        self.embeddings.matmul(u).index_select(0, &self.rows.flatten(0, 1)).view_as(&self.rows)
    }
}

/// The embeddings as one tensor, each row at unit length.
pub fn embedding_tensor(e: &vrd_core::tensors::Embeddings) -> Tensor {
    let t = Tensor::from_slice(e.data()).view([e.meta.rows() as i64, e.meta.dim as i64]);
    let norm = t.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12);
    t / norm
}

pub fn batch<'e>(
    ds: &Dataset,
    groups: std::ops::Range<usize>,
    mean: &[f32],
    std: &[f32],
    embeddings: &'e Tensor,
) -> Batch<'e> {
    let f = FEATURES.len();
    let n = groups.len();
    let groups_start = groups.start;
    let mut x = vec![0f32; n * ds.width * f];
    let mut mask = vec![false; n * ds.width];
    for (i, g) in groups.enumerate() {
        for r in 0..ds.sizes[g] {
            mask[i * ds.width + r] = true;
            for (k, &v) in ds.row(g, r).iter().enumerate() {
                x[(i * ds.width + r) * f + k] = standardised(v, mean[k], std[k]);
            }
        }
    }
    let rows = &ds.embedding_rows[groups_start * ds.width..(groups_start + n) * ds.width];
    Batch {
        x: Tensor::from_slice(&x).view([n as i64, ds.width as i64, f as i64]),
        mask: Tensor::from_slice(&mask).view([n as i64, ds.width as i64]),
        rows: Tensor::from_slice(rows).view([n as i64, ds.width as i64]),
        embeddings,
    }
}

/// The mean negative log-probability of each group's positive (row 0) under a softmax
/// over its real rows.
fn listwise_loss(scores: &Tensor, b: &Batch) -> Tensor {
    let masked = scores.masked_fill(&b.mask.logical_not(), -1e9);
    -masked.log_softmax(1, Kind::Float).select(1, 0).mean(Kind::Float)
}

/// The regression's weights on the features and on the embedding (the taste direction;
/// none when `o.taste_l2` is 0), fitted with L2 penalties by Adam on the whole batch.
pub fn fit_regression(b: &Batch, o: &FitOptions) -> (Vec<f32>, Vec<f32>) {
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs.root().zeros("w", &[FEATURES.len() as i64]);
    let u = vs.root().zeros("u", &[b.embeddings.size()[1]]);
    let mut opt = nn::Adam::default().build(&vs, 0.05).expect("Adam");
    let with_taste = o.taste_l2 > 0.0;
    for _ in 0..o.regression_steps {
        let (scores, penalty) = (b.x.matmul(&w), o.l2 * w.pow_tensor_scalar(2).sum(Kind::Float));
        // Out of place, so that autograd keeps every intermediate.
        let (scores, penalty) = match with_taste {
            true => (scores + b.taste(&u), penalty + o.taste_l2 * u.pow_tensor_scalar(2).sum(Kind::Float)),
            false => (scores, penalty),
        };
        let loss = listwise_loss(&scores, b) + penalty;
        opt.backward_step(&loss);
    }
    let taste = match with_taste {
        true => Vec::<f32>::try_from(&u.detach()).expect("a float vector"),
        false => Vec::new(),
    };
    (Vec::<f32>::try_from(&w.detach()).expect("a float vector"), taste)
}

/// The network beside a fixed regression: its weights after every `every` steps (step 0,
/// the regression alone, first).
pub fn fit_network(
    b: &Batch,
    (weights, taste): (&[f32], &[f32]),
    o: &FitOptions,
    every: usize,
) -> Vec<(usize, NextWatchScorer)> {
    tch::manual_seed(o.seed as i64);
    let f = FEATURES.len() as i64;
    let h = o.hidden as i64;
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let hidden = root.var("hidden", &[h, f], nn::Init::Randn { mean: 0.0, stdev: (1.0 / f as f64).sqrt() });
    let bias = root.zeros("hidden_bias", &[h]);
    let output = root.zeros("output", &[h]);
    let fixed = Tensor::from_slice(weights);
    let mut opt = nn::AdamW { wd: 1e-3, ..Default::default() }.build(&vs, o.lr).expect("AdamW");
    let snapshot = |step: usize| {
        let rows: Vec<Vec<f32>> = (0..h).map(|k| Vec::<f32>::try_from(&hidden.get(k).detach()).unwrap()).collect();
        (
            step,
            NextWatchScorer::Network {
                weights: weights.to_vec(),
                taste: taste.to_vec(),
                hidden: rows,
                hidden_bias: Vec::<f32>::try_from(&bias.detach()).unwrap(),
                output: Vec::<f32>::try_from(&output.detach()).unwrap(),
            },
        )
    };
    let mut out = vec![snapshot(0)];
    let wide = match taste.is_empty() {
        true => b.x.matmul(&fixed),
        false => b.x.matmul(&fixed) + b.taste(&Tensor::from_slice(taste)),
    };
    for step in 1..=o.steps {
        let deep = (b.x.matmul(&hidden.tr()) + &bias).relu().matmul(&output);
        let loss = listwise_loss(&(&wide + deep), b);
        opt.backward_step(&loss);
        if step % every == 0 || step == o.steps {
            out.push(snapshot(step));
        }
    }
    out
}
