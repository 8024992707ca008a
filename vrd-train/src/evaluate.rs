//! Honest evaluation: expanding-window time-series folds over all labels (both questions),
//! an embargo of the activity-window length between the training side and each test
//! block (no test window overlaps a training window), and the model compared with
//! baselines on the very same folds.
//!
//! Baselines: the class prior; logistic regression on the frozen embeddings (the video's
//! for interest; the video's and the mean activity embedding for right-time); similarity
//! to the positively labelled history; and the model itself with its activity token
//! zeroed (context-blind), which shows what the context is worth.

use crate::data::{Dataset, Row, IGNORE};
use crate::metrics::{self, Scores};
use crate::net::Arch;
use crate::train::{self, TrainOptions};
use anyhow::{bail, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

pub const METHODS: [&str; 5] = ["model", "context_blind", "logistic_regression", "similarity", "prior"];

/// Rows (indices into the time-ordered rows) of each fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// `k` test blocks of equal size after a first training block; each trains on every row
/// before its test block that ends more than `embargo` before the block's first row.
pub fn time_series_folds(rows: &[Row], k: usize, embargo: chrono::Duration) -> Vec<Fold> {
    let n = rows.len();
    let block = n / (k + 1);
    (0..k)
        .filter_map(|i| {
            let start = (i + 1) * block;
            let end = if i + 1 == k { n } else { start + block };
            let first = rows.get(start)?.at;
            let train: Vec<usize> = (0..start).filter(|&j| rows[j].at < first - embargo).collect();
            (!train.is_empty() && end > start).then(|| Fold { train, test: (start..end).collect() })
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct HeadResult {
    pub interest: Scores,
    pub right_time: Scores,
}

#[derive(Debug, Serialize)]
pub struct FoldReport {
    pub fold: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub test_from: String,
    pub test_to: String,
    pub methods: BTreeMap<String, HeadResult>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// The architecture "model" and "context_blind" are (fast or fusion).
    pub architecture: String,
    pub rows: usize,
    pub folds: Vec<FoldReport>,
    /// method → head → metric → mean ± std over the folds that had it.
    pub summary: BTreeMap<String, BTreeMap<String, BTreeMap<String, Summary>>>,
    pub embargo_s: i64,
}

pub fn evaluate(
    data: &Dataset,
    k: usize,
    arch: &Arch,
    opts: &TrainOptions,
    device: Device,
    progress: &indicatif::ProgressBar,
    checkpoints: Option<&crate::resume::Checkpoints>,
) -> Result<Report> {
    let embargo = data.window();
    let folds = time_series_folds(&data.rows, k, embargo);
    if folds.is_empty() {
        bail!("too few labels for {k} time-series folds ({} rows)", data.rows.len());
    }
    let mut reports = Vec::new();
    for (i, fold) in folds.iter().enumerate() {
        let train_rows: Vec<&Row> = fold.train.iter().map(|&j| &data.rows[j]).collect();
        let test_rows: Vec<&Row> = fold.test.iter().map(|&j| &data.rows[j]).collect();
        let mut methods = BTreeMap::new();
        for blind in [false, true] {
            progress.set_prefix(format!(
                "fold {}/{} {}",
                i + 1,
                folds.len(),
                if blind { "context-blind" } else { "model" }
            ));
            let job = format!("fold-{}-{}", i + 1, if blind { "context-blind" } else { "model" });
            let trained = train::train(
                data,
                &train_rows,
                arch,
                opts,
                device,
                blind,
                Some(progress),
                checkpoints.map(|c| (c, job.as_str())),
            )?;
            let probs = trained.probabilities(data, &test_rows);
            let name = if blind { "context_blind" } else { "model" };
            methods.insert(name.to_string(), score_heads(&test_rows, &probs, trained.thresholds));
            progress.inc(1);
        }
        methods.insert("prior".into(), prior(&train_rows, &test_rows));
        methods.insert("logistic_regression".into(), logistic(data, &train_rows, &test_rows, device)?);
        methods.insert("similarity".into(), similarity(data, &train_rows, &test_rows));
        reports.push(FoldReport {
            fold: i + 1,
            train_rows: train_rows.len(),
            test_rows: test_rows.len(),
            test_from: shared::time::format_rfc3339(&test_rows[0].at),
            test_to: shared::time::format_rfc3339(&test_rows[test_rows.len() - 1].at),
            methods,
        });
    }
    let summary = summarize(&reports);
    Ok(Report {
        architecture: arch.name().to_string(),
        rows: data.rows.len(),
        folds: reports,
        summary,
        embargo_s: embargo.num_seconds(),
    })
}

/// Scores of both heads on the rows labelled for each.
fn score_heads(rows: &[&Row], probs: &[Vec<f64>; 2], thresholds: [f64; 2]) -> HeadResult {
    let head = |h: usize, f: fn(&Row) -> i64| {
        let (p, y): (Vec<f64>, Vec<bool>) =
            probs[h].iter().zip(rows).filter(|(_, r)| f(r) != IGNORE).map(|(p, r)| (*p, f(r) == 1)).unzip();
        metrics::score(&p, &y, thresholds[h])
    };
    HeadResult { interest: head(0, |r| r.interest), right_time: head(1, |r| r.right_time) }
}

fn positive_rate(rows: &[&Row], f: fn(&Row) -> i64) -> f64 {
    let labelled: Vec<i64> = rows.iter().map(|r| f(r)).filter(|t| *t != IGNORE).collect();
    labelled.iter().filter(|t| **t == 1).count() as f64 / labelled.len().max(1) as f64
}

/// Every row gets the training side's positive rate.
fn prior(train: &[&Row], test: &[&Row]) -> HeadResult {
    let rates = [positive_rate(train, |r| r.interest), positive_rate(train, |r| r.right_time)];
    let probs = [vec![rates[0]; test.len()], vec![rates[1]; test.len()]];
    score_heads(test, &probs, [0.5, 0.5])
}

/// Frozen features: the video's embedding; for right-time also the mean activity text
/// embedding of the window and its mean numeric features.
fn features(data: &Dataset, rows: &[&Row], with_context: bool) -> Tensor {
    let media_idx = Tensor::from_slice(&rows.iter().map(|r| r.media as i64).collect::<Vec<_>>());
    let media = data.media.index_select(0, &media_idx);
    if !with_context {
        return media;
    }
    let ctx_idx = Tensor::from_slice(&rows.iter().map(|r| r.context as i64).collect::<Vec<_>>());
    let mask = data.context_mask.index_select(0, &ctx_idx).to_kind(Kind::Float).unsqueeze(2);
    let count = mask.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0);
    let text = (data.context_text.index_select(0, &ctx_idx) * &mask).sum_dim_intlist(1, false, Kind::Float) / &count;
    let num = (data.context_num.index_select(0, &ctx_idx) * &mask).sum_dim_intlist(1, false, Kind::Float) / &count;
    Tensor::cat(&[media, text, num], 1)
}

fn logistic(data: &Dataset, train: &[&Row], test: &[&Row], device: Device) -> Result<HeadResult> {
    let mut probs = [vec![0.5; test.len()], vec![0.5; test.len()]];
    let mut thresholds = [0.5, 0.5];
    for (h, f) in [(0usize, (|r: &Row| r.interest) as fn(&Row) -> i64), (1, |r: &Row| r.right_time)] {
        let labelled: Vec<&Row> = train.iter().copied().filter(|r| f(r) != IGNORE).collect();
        let y: Vec<f32> = labelled.iter().map(|r| f(r) as f32).collect();
        if y.iter().all(|v| *v == 1.0) || y.iter().all(|v| *v == 0.0) {
            probs[h] = vec![positive_rate(train, f); test.len()];
            continue;
        }
        let x = features(data, &labelled, h == 1).to_device(device);
        let (mean, std) = (x.mean_dim(0, true, Kind::Float), x.std_dim(0, true, true).clamp_min(1e-6));
        let norm = |t: &Tensor| (t - &mean) / &std;
        let xn = norm(&x);
        let target = Tensor::from_slice(&y).to_device(device);
        let pos = y.iter().filter(|v| **v == 1.0).count() as f64;
        let pos_weight = Tensor::from_slice(&[((y.len() as f64 - pos) / pos) as f32]).to_device(device);
        tch::manual_seed(0);
        let vs = nn::VarStore::new(device);
        let linear = nn::linear(vs.root(), x.size()[1], 1, Default::default());
        let mut opt = nn::AdamW { wd: 0.05, ..Default::default() }.build(&vs, 0.05)?;
        for _ in 0..300 {
            let logits = linear.forward(&xn).squeeze_dim(1);
            let loss = logits.binary_cross_entropy_with_logits::<Tensor>(
                &target,
                None,
                Some(pos_weight.shallow_clone()),
                tch::Reduction::Mean,
            );
            opt.backward_step(&loss);
        }
        let predict = |rows: &[&Row]| -> Vec<f64> {
            tch::no_grad(|| {
                let p = linear.forward(&norm(&features(data, rows, h == 1).to_device(device))).sigmoid().squeeze_dim(1);
                Vec::<f64>::try_from(&p.to_kind(Kind::Double).to_device(Device::Cpu)).unwrap_or_default()
            })
        };
        let train_probs = predict(&labelled);
        thresholds[h] = metrics::best_threshold(&train_probs, &y.iter().map(|v| *v == 1.0).collect::<Vec<_>>());
        probs[h] = predict(test);
    }
    Ok(score_heads(test, &probs, thresholds))
}

/// Cosine similarity to the mean of the positively labelled training rows' features,
/// mapped to [0, 1]; the threshold is the training side's best.
fn similarity(data: &Dataset, train: &[&Row], test: &[&Row]) -> HeadResult {
    let mut probs = [vec![0.5; test.len()], vec![0.5; test.len()]];
    let mut thresholds = [0.5, 0.5];
    for (h, f) in [(0usize, (|r: &Row| r.interest) as fn(&Row) -> i64), (1, |r: &Row| r.right_time)] {
        let positives: Vec<&Row> = train.iter().copied().filter(|r| f(r) == 1).collect();
        if positives.is_empty() {
            continue;
        }
        let centre = features(data, &positives, h == 1).mean_dim(0, true, Kind::Float);
        let sim = |rows: &[&Row]| -> Vec<f64> {
            let x = features(data, rows, h == 1);
            let cos = Tensor::cosine_similarity(&x, &centre, 1, 1e-8);
            Vec::<f64>::try_from(&((cos + 1.0) / 2.0).to_kind(Kind::Double)).unwrap_or_default()
        };
        let labelled: Vec<&Row> = train.iter().copied().filter(|r| f(r) != IGNORE).collect();
        let train_y: Vec<bool> = labelled.iter().map(|r| f(r) == 1).collect();
        thresholds[h] = metrics::best_threshold(&sim(&labelled), &train_y);
        probs[h] = sim(test);
    }
    score_heads(test, &probs, thresholds)
}

fn summarize(reports: &[FoldReport]) -> BTreeMap<String, BTreeMap<String, BTreeMap<String, Summary>>> {
    let mut out = BTreeMap::new();
    for method in METHODS {
        let mut heads = BTreeMap::new();
        for head in ["interest", "right_time"] {
            let mut metrics_out = BTreeMap::new();
            for metric in ["f1", "precision", "recall", "roc_auc", "pr_auc", "ndcg_at_10"] {
                let values: Vec<f64> = reports
                    .iter()
                    .filter_map(|r| r.methods.get(method))
                    .filter_map(|m| {
                        let s = if head == "interest" { &m.interest } else { &m.right_time };
                        match metric {
                            "f1" => (s.n > 0).then_some(s.f1),
                            "precision" => (s.n > 0).then_some(s.precision),
                            "recall" => (s.n > 0).then_some(s.recall),
                            "roc_auc" => s.roc_auc,
                            "pr_auc" => s.pr_auc,
                            _ => s.ndcg_at_10,
                        }
                    })
                    .collect();
                if values.is_empty() {
                    continue;
                }
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
                metrics_out.insert(metric.to_string(), Summary { mean, std });
            }
            heads.insert(head.to_string(), metrics_out);
        }
        out.insert(method.to_string(), heads);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                at: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
                    + chrono::Duration::minutes(30 * i as i64),
                interest: 1,
                right_time: IGNORE,
                media: i,
                context: i,
                duration_log1p: 0.0,
            })
            .collect()
    }

    #[test]
    fn folds_expand_and_keep_the_embargo() {
        let r = rows(60);
        let folds = time_series_folds(&r, 5, chrono::Duration::hours(2));
        assert_eq!(folds.len(), 5);
        for (i, f) in folds.iter().enumerate() {
            assert_eq!(f.test[0], (i + 1) * 10);
            let first = r[f.test[0]].at;
            assert!(f.train.iter().all(|&j| r[j].at < first - chrono::Duration::hours(2)), "embargo kept");
            assert_eq!(f.train.len(), f.test[0] - 4, "rows within two hours (four half-hour steps) left out");
        }
        assert_eq!(*folds[4].test.last().unwrap(), 59, "the last block takes the remainder");
    }
}
