//! Honest evaluation: expanding-window time-series folds over all labels (both questions),
//! an embargo of the activity-window length between the training side and each test
//! block (no test window overlaps a training window), and the model compared with
//! baselines on the very same folds.
//!
//! Methods: the model itself; what ships ("chosen": per question the model or the linear
//! baseline that won on the training side's inner validation); the class prior; logistic
//! regression and similarity to the positive answers on the frozen wide features (the
//! video's embedding for interest; with the window's app time shares and their crossing
//! with the embedding's principal components for right-time), both fitted inside each
//! training run; and the model with its activity emptied (context-blind), which shows
//! what the context is worth.

use crate::data::{Dataset, Row};
pub use crate::folds::{time_series_folds, Fold};
use crate::metrics::{self, Scores};
use crate::net::fast::Scorer;
use crate::net::RankerSpec;
use crate::train::{self, Method, TrainOptions, Trained};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use tch::Device;
use vrd_core::records::{Head, PerHead};

/// The methods a report compares: the one list of their names (the report's keys, the
/// plot's legend) and of how each is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedMethod {
    /// The model itself.
    Model,
    /// What ships: per question the model or the baseline that won.
    Chosen,
    /// The model with its activity emptied.
    ContextBlind,
    LogisticRegression,
    Similarity,
    /// The training side's positive rate.
    Prior,
}

impl ReportedMethod {
    pub const ALL: [ReportedMethod; 6] = [
        ReportedMethod::Model,
        ReportedMethod::Chosen,
        ReportedMethod::ContextBlind,
        ReportedMethod::LogisticRegression,
        ReportedMethod::Similarity,
        ReportedMethod::Prior,
    ];

    /// The name in the report; the baselines' are their scorers' (`Scorer::name`).
    pub fn name(self) -> &'static str {
        match self {
            ReportedMethod::Model => Scorer::Model.name(),
            ReportedMethod::Chosen => "chosen",
            ReportedMethod::ContextBlind => "context_blind",
            ReportedMethod::LogisticRegression => Scorer::LogisticRegression.name(),
            ReportedMethod::Similarity => Scorer::Similarity.name(),
            ReportedMethod::Prior => "prior",
        }
    }

    /// Its colour in the plot.
    pub fn colour(self) -> &'static str {
        match self {
            ReportedMethod::Model => "#d62728",
            ReportedMethod::Chosen => "#9467bd",
            ReportedMethod::ContextBlind => "#ff7f0e",
            ReportedMethod::LogisticRegression => "#1f77b4",
            ReportedMethod::Similarity => "#2ca02c",
            ReportedMethod::Prior => "#7f7f7f",
        }
    }

    /// Whose probabilities it scores, of the trained model (or its context-blind twin);
    /// None for the prior, which needs no model.
    fn trained(self) -> Option<Method> {
        match self {
            ReportedMethod::Model | ReportedMethod::ContextBlind => Some(Method::Model),
            ReportedMethod::Chosen => Some(Method::Chosen),
            ReportedMethod::LogisticRegression => Some(Method::LogisticRegression),
            ReportedMethod::Similarity => Some(Method::Similarity),
            ReportedMethod::Prior => None,
        }
    }
}

/// Why no folds could be cut, in the labels' terms.
fn no_folds(rows: &[Row], k: usize, embargo: chrono::Duration) -> anyhow::Error {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return anyhow!("no labels to evaluate on");
    };
    let span = last.at - first.at;
    let minutes = |d: chrono::Duration| format!("{:.1} min", d.num_seconds() as f64 / 60.0);
    if rows.len() < k + 1 {
        return anyhow!("{k} time-series folds need at least {} labels; there are {}", k + 1, rows.len());
    }
    anyhow!(
        "cannot cut {k} time-series folds from {} labels given within {}: the right-time labels before each test \
         block must end {} (the activity window) before it, and none does; label over a longer span, pass fewer \
         --folds, or cut shorter windows (vrd-encode context --window)",
        rows.len(),
        minutes(span),
        minutes(embargo)
    )
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
    /// What answered each question in `chosen`, and the inner-validation ROC-AUC of every
    /// candidate it was chosen from.
    pub choice: PerHead<ChoiceReport>,
    /// The model's kept epoch: 0 when none beat the start (the regression alone).
    pub best_epoch: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChoiceReport {
    pub scorer: String,
    pub validation_roc_auc: BTreeMap<String, f64>,
    /// The baselines' mean ROC-AUC over the inner time-series splits of the fit part,
    /// which settle the baseline that competes with the model.
    pub inner_roc_auc: BTreeMap<String, f64>,
    /// The logistic regression's L2 strength chosen on those splits.
    pub logistic_l2: f64,
}

impl ChoiceReport {
    pub fn of(trained: &Trained, head: Head) -> ChoiceReport {
        let c = trained.chosen.get(head);
        ChoiceReport {
            scorer: c.scorer.name().to_string(),
            validation_roc_auc: c.validation.clone(),
            inner_roc_auc: trained.baselines.get(head).inner_roc_auc.clone(),
            logistic_l2: trained.baselines.get(head).l2,
        }
    }
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

/// The folds of `data`'s rows for `k` (an error that says why when none can be cut).
pub fn folds(data: &Dataset, k: usize) -> Result<Vec<Fold>> {
    let folds = time_series_folds(&data.rows, k, data.window());
    if folds.is_empty() {
        return Err(no_folds(&data.rows, k, data.window()));
    }
    Ok(folds)
}

/// One split at `from`: train on what may train it, test on every row from then on.
pub fn holdout(data: &Dataset, from: vrd_core::time::Timestamp) -> Result<Vec<Fold>> {
    let test: Vec<usize> = (0..data.rows.len()).filter(|&i| data.rows[i].at >= from).collect();
    let train: Vec<usize> = (0..data.rows.len()).filter(|&i| data.rows[i].before(from, data.window())).collect();
    if test.is_empty() || train.is_empty() {
        bail!(
            "--test-from {}: {} labels to train on and {} to test on; both need some",
            vrd_core::time::format_rfc3339(&from),
            train.len(),
            test.len()
        );
    }
    Ok(vec![Fold { train, test }])
}

pub fn evaluate(
    data: &Dataset,
    folds: &[Fold],
    arch: &RankerSpec,
    opts: &TrainOptions,
    device: Device,
    progress: &indicatif::ProgressBar,
    checkpoints: Option<&crate::resume::Checkpoints>,
) -> Result<Report> {
    let mut reports = Vec::new();
    for (i, fold) in folds.iter().enumerate() {
        let train_rows: Vec<&Row> = fold.train.iter().map(|&j| &data.rows[j]).collect();
        let test_rows: Vec<&Row> = fold.test.iter().map(|&j| &data.rows[j]).collect();
        let mut methods = BTreeMap::new();
        let (mut choice, mut best_epoch) = (None, 0);
        // Without right-time answers the activity is never seen: no context-blind twin.
        let twins: &[bool] = if train_rows.iter().any(|r| r.sees_activity()) { &[false, true] } else { &[false] };
        for &blind in twins {
            let twin = if blind { ReportedMethod::ContextBlind } else { ReportedMethod::Model };
            progress.set_prefix(format!("fold {}/{} {}", i + 1, folds.len(), twin.name()));
            let job = format!("fold-{}-{}", i + 1, twin.name());
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
            let mut score = |reported: ReportedMethod| {
                let method = reported.trained().expect("a method of the trained model");
                let probs = trained.probabilities(data, &test_rows, method);
                let thresholds = PerHead::new(|head| threshold_of(&trained, head, method));
                methods.insert(reported.name().to_string(), score_heads(&test_rows, &probs, &thresholds));
            };
            if blind {
                score(ReportedMethod::ContextBlind);
            } else {
                use ReportedMethod::{Chosen, LogisticRegression, Model, Similarity};
                [Model, Chosen, LogisticRegression, Similarity].into_iter().for_each(&mut score);
                choice = Some(PerHead::new(|head| ChoiceReport::of(&trained, head)));
                best_epoch = trained.best_epoch;
            }
            progress.inc(1);
        }
        methods.insert(ReportedMethod::Prior.name().into(), prior(&train_rows, &test_rows));
        reports.push(FoldReport {
            fold: i + 1,
            train_rows: train_rows.len(),
            test_rows: test_rows.len(),
            test_from: vrd_core::time::format_rfc3339(&test_rows[0].at),
            test_to: vrd_core::time::format_rfc3339(&test_rows[test_rows.len() - 1].at),
            methods,
            choice: choice.expect("the model is trained in every fold"),
            best_epoch,
        });
    }
    let summary = summarize(&reports);
    Ok(Report {
        architecture: arch.kind().name().to_string(),
        rows: data.rows.len(),
        folds: reports,
        summary,
        embargo_s: data.window().num_seconds(),
    })
}

fn threshold_of(trained: &Trained, head: Head, method: Method) -> f64 {
    let b = trained.baselines.get(head);
    match method {
        Method::Model => trained.own.get(head).threshold,
        Method::Chosen => trained.chosen.get(head).calibrated.threshold,
        Method::LogisticRegression => b.logistic_calibrated.threshold,
        Method::Similarity => b.similarity_calibrated.threshold,
    }
}

/// Scores of both heads on the rows labelled for each.
fn score_heads(rows: &[&Row], probs: &PerHead<Vec<f64>>, thresholds: &PerHead<f64>) -> HeadResult {
    let head = |h: Head| {
        let (p, y): (Vec<f64>, Vec<bool>) =
            probs.get(h).iter().zip(rows).filter_map(|(p, r)| r.target(h).map(|y| (*p, y))).unzip();
        metrics::score(&p, &y, *thresholds.get(h))
    };
    HeadResult { interest: head(Head::Interest), right_time: head(Head::RightTime) }
}

fn positive_rate(rows: &[&Row], head: Head) -> f64 {
    let labelled: Vec<bool> = rows.iter().filter_map(|r| r.target(head)).collect();
    labelled.iter().filter(|y| **y).count() as f64 / labelled.len().max(1) as f64
}

/// Every row gets the training side's positive rate.
fn prior(train: &[&Row], test: &[&Row]) -> HeadResult {
    let probs = PerHead::new(|head| vec![positive_rate(train, head); test.len()]);
    score_heads(test, &probs, &PerHead::new(|_| 0.5))
}

fn summarize(reports: &[FoldReport]) -> BTreeMap<String, BTreeMap<String, BTreeMap<String, Summary>>> {
    let mut out = BTreeMap::new();
    for method in ReportedMethod::ALL.map(ReportedMethod::name) {
        let mut heads = BTreeMap::new();
        for head in ["interest", "right_time"] {
            let mut metrics_out = BTreeMap::new();
            for metric in ["f1", "precision", "recall", "roc_auc", "pr_auc", "ndcg_at_10", "log_loss", "brier", "ece"] {
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
                            "log_loss" => s.log_loss,
                            "brier" => s.brier,
                            "ece" => s.ece,
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

    /// Rows every `step_s` seconds, right-time labels (they see activity) unless `interest`.
    fn rows(n: usize, step_s: i64, interest: bool) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                at: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
                    + chrono::Duration::seconds(step_s * i as i64),
                question: if interest { Head::Interest } else { Head::RightTime },
                answer: true,
                media: i,
                context: i,
                duration_log1p: 0.0,
            })
            .collect()
    }

    #[test]
    fn folds_expand_and_keep_the_embargo_for_rows_with_activity() {
        let _rng = crate::torch_rng_lock();
        let r = rows(60, 1800, false);
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

    #[test]
    fn interest_answers_in_one_sitting_still_fold() {
        let _rng = crate::torch_rng_lock();
        // 407 answers in 23 minutes (a MovieLens rater, or an imported liked list): interest
        // rows see no activity, so no embargo applies to them.
        let r = rows(407, 3, true);
        let folds = time_series_folds(&r, 3, chrono::Duration::hours(1));
        assert_eq!(folds.len(), 3);
        assert!(folds.iter().all(|f| f.train.len() == f.test[0]), "every earlier row trains");
        // The same sitting as right-time answers cannot fold; the error says why.
        let rt = rows(407, 3, false);
        assert!(time_series_folds(&rt, 3, chrono::Duration::hours(1)).is_empty());
        let msg = no_folds(&rt, 3, chrono::Duration::hours(1)).to_string();
        assert!(msg.contains("407 labels given within 20.3 min") && msg.contains("60.0 min"), "{msg}");
    }
}
