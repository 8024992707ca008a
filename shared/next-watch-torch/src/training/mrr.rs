//! The measure every next-watch scorer is judged by: the reciprocal rank of the video
//! picked among its moment's candidates, its mean over moments, and the standard error
//! of a paired difference (the margin a contender must clear).

use super::data::Dataset;
use vrd_next_watch::card::{score_standardised, standardised, NextWatchScorer};
use vrd_next_watch::features::FEATURES;

/// Each group's reciprocal rank of its positive under `scorer` (ties shared: a positive
/// tied with k others counts the mean of their ranks).
pub fn reciprocal_ranks(
    ds: &Dataset,
    groups: std::ops::Range<usize>,
    (mean, std): (&[f32], &[f32]),
    embeddings: &vrd_core::tensors::Embeddings,
    scorer: &NextWatchScorer,
) -> Vec<f64> {
    let f = FEATURES.len();
    let mut z = vec![0f32; f];
    groups
        .map(|g| {
            let scores: Vec<f64> = (0..ds.sizes[g])
                .map(|r| {
                    for (k, &v) in ds.row(g, r).iter().enumerate() {
                        z[k] = standardised(v, mean[k], std[k]);
                    }
                    score_standardised(scorer, &z, embeddings.row(ds.embedding_rows[g * ds.width + r] as usize))
                })
                .collect();
            1.0 / rank_of_first(&scores)
        })
        .collect()
}

/// The rank (from 1) of `scores[0]` among all, ties counted as half above.
pub fn rank_of_first(scores: &[f64]) -> f64 {
    let (above, tied) = scores[1..].iter().fold((0usize, 0usize), |(a, t), &s| match s.total_cmp(&scores[0]) {
        std::cmp::Ordering::Greater => (a + 1, t),
        std::cmp::Ordering::Equal => (a, t + 1),
        std::cmp::Ordering::Less => (a, t),
    });
    1.0 + above as f64 + tied as f64 / 2.0
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The standard error of the mean of the paired differences `a − b`.
pub fn paired_standard_error(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let m = mean(&d);
    let var = d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (d.len().max(2) - 1) as f64;
    (var / d.len().max(1) as f64).sqrt()
}
