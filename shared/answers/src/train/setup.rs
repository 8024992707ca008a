//! What one model is trained and judged from, all of it from the fit part: the validation
//! slice carved from its end, the duration scale, the class weights, the wide features'
//! fixed parts, and the linear baselines fitted on those features.

use super::calibration::{calibrate_on, Calibrated};
use super::validation::{carve_validation, Validation};
use super::{labelled, TrainOptions};
use crate::baselines::{self, LinearScorer};
use crate::data::{Dataset, DurationScale, Row};
use crate::net::fast::Scorer;
use crate::net::wide::{main_buckets, WideConfig, WideFeatures};
use std::collections::BTreeMap;
use tch::nn;
use tch::{Device, Kind, Tensor};
use vrd_core::records::{Head, PerHead};

/// What one model is trained and judged from, all of it from the fit part: the validation
/// slice carved from its end, the duration scale, the class weights, the wide features'
/// fixed parts (the main apps of its windows, the principal axes of its videos) and the
/// baselines fitted on those features.
pub(super) struct Setup<'a> {
    pub(super) fit: Vec<&'a Row>,
    pub(super) val: Validation<'a>,
    pub(super) scale: DurationScale,
    pub(super) class_weights: PerHead<Tensor>,
    pub(super) share_buckets: Vec<i64>,
    pub(super) features: WideFeatures,
    pub(super) baselines: PerHead<Baselines>,
}

impl<'a> Setup<'a> {
    pub(super) fn new(
        data: &Dataset,
        rows: &[&'a Row],
        opts: &TrainOptions,
        device: Device,
        context_blind: bool,
    ) -> Setup<'a> {
        let (fit, val) = carve_validation(rows, opts.validation, data.window());
        let fit = if fit.is_empty() { rows.to_vec() } else { fit };
        let val = Validation::split(val);
        let scale = DurationScale::fit(&fit);
        let class_weights = PerHead::new(|head| {
            let w = class_weights(&fit.iter().filter_map(|r| r.target(head)).collect::<Vec<_>>());
            Tensor::from_slice(&[w[0] as f32, w[1] as f32]).to_device(device)
        });
        let fit_idx = Tensor::from_slice(&fit.iter().map(|r| r.context as i64).collect::<Vec<_>>());
        let share_buckets = main_buckets(&data.context.index_select(&fit_idx), data.spec.app_buckets as i64, MAIN_APPS);
        let features_vs = nn::VarStore::new(Device::Cpu);
        let features = WideFeatures::new(features_vs.root(), wide_config(data, share_buckets.clone()));
        let media_idx = Tensor::from_slice(&fit.iter().map(|r| r.media as i64).collect::<Vec<_>>());
        features.fit_pca(&data.media.index_select(0, &media_idx));
        let baselines = PerHead::new(|head| fit_baselines(&features, data, (&fit, &val), head, context_blind));
        Setup { fit, val, scale, class_weights, share_buckets, features, baselines }
    }
}

/// Inner time-series splits of the baselines' penalty search.
pub(super) const INNER_SPLITS: usize = 4;

/// The inner splits of time-ordered `rows`: the time-series folds of an evaluation, cut
/// within a training run's fit part (indices into `rows`).
pub fn inner_splits(rows: &[&Row], k: usize, embargo: chrono::Duration) -> Vec<(Vec<usize>, Vec<usize>)> {
    crate::folds::time_series_folds(rows, k, embargo).into_iter().map(|f| (f.train, f.test)).collect()
}

/// Class weights `n / (2 n_c)` over the rows labelled for a head (1 where a class is absent).
pub(super) fn class_weights(answers: &[bool]) -> [f64; 2] {
    let n1 = answers.iter().filter(|y| **y).count() as f64;
    let n0 = answers.len() as f64 - n1;
    let n = n0 + n1;
    if n0 == 0.0 || n1 == 0.0 {
        return [1.0, 1.0];
    }
    [n / (2.0 * n0), n / (2.0 * n1)]
}

/// How many apps get a time-share feature of their own.
pub(super) const MAIN_APPS: usize = 16;

pub(super) fn wide_config(data: &Dataset, share_buckets: Vec<i64>) -> WideConfig {
    WideConfig::new(
        data.media_dim(),
        data.context_dim(),
        share_buckets,
        data.spec.app_buckets as i64,
        data.spec.window_s as f64,
    )
}

/// The wide features of `head` for `rows` `(N, F)` (on the CPU; the activity emptied for
/// the context-blind twin).
pub fn wide_matrix(features: &WideFeatures, data: &Dataset, rows: &[&Row], head: Head, blind: bool) -> Tensor {
    let index = |f: fn(&Row) -> usize| Tensor::from_slice(&rows.iter().map(|r| f(r) as i64).collect::<Vec<_>>());
    let media = data.media.index_select(0, &index(|r| r.media));
    match head {
        Head::Interest => features.interest(&media),
        Head::RightTime => {
            // Only what the shares need is gathered (not the windows' text embeddings).
            let ctx = index(|r| r.context);
            let keep: Vec<i64> = rows.iter().map(|r| i64::from(r.sees_activity() && !blind)).collect();
            let window = data
                .context
                .index_select(&ctx)
                .keep_rows(&Tensor::from_slice(&keep))
                .summary(features.config.app_buckets, features.config.window_s);
            features.right_time(&media, &window)
        }
    }
}

/// The linear baselines of one question, fitted on the training run's fit part.
pub struct Baselines {
    pub logistic: LinearScorer,
    /// The L2 strength chosen by inner time-series splits of the fit part.
    pub l2: f64,
    /// Each baseline's mean ROC-AUC over those splits (where they could be cut).
    pub inner_roc_auc: BTreeMap<String, f64>,
    pub logistic_calibrated: Calibrated,
    pub similarity: LinearScorer,
    pub similarity_calibrated: Calibrated,
}

/// The linear baselines of `head` on the fit part, tuned on its inner splits and
/// calibrated on the held-out half of the validation slice.
pub(super) fn fit_baselines(
    features: &WideFeatures,
    data: &Dataset,
    (fit, val): (&[&Row], &Validation),
    head: Head,
    blind: bool,
) -> Baselines {
    let (fit_rows, fit_y) = labelled(fit, head);
    let x_fit = wide_matrix(features, data, &fit_rows, head, blind);
    let splits = inner_splits(&fit_rows, INNER_SPLITS, data.window());
    let mut inner_roc_auc = BTreeMap::new();
    let (logistic, l2) = if fit_y.iter().any(|v| *v) && fit_y.iter().any(|v| !*v) {
        let (model, l2, auc) = baselines::logistic_tuned(&x_fit, &fit_y, &splits);
        if let Some(auc) = auc {
            inner_roc_auc.insert(Scorer::LogisticRegression.name().to_string(), auc);
        }
        (model, l2)
    } else {
        let dim = x_fit.size()[1];
        let rate = fit_y.iter().filter(|v| **v).count() as f64 / fit_y.len().max(1) as f64;
        let bias = (rate.clamp(0.01, 0.99) / (1.0 - rate.clamp(0.01, 0.99))).ln();
        (LinearScorer { weight: Tensor::zeros([dim], (Kind::Double, Device::Cpu)), bias }, 0.0)
    };
    let similarity = baselines::similarity(&x_fit, &fit_y);
    if let Some(auc) = baselines::inner_roc_auc(&x_fit, &fit_y, &splits, baselines::similarity) {
        inner_roc_auc.insert(Scorer::Similarity.name().to_string(), auc);
    }
    let x = |rows: &[&Row]| wide_matrix(features, data, rows, head, blind);
    Baselines {
        logistic_calibrated: calibrate_on(val, head, |rows| logistic.margins(&x(rows))),
        similarity_calibrated: calibrate_on(val, head, |rows| similarity.margins(&x(rows))),
        logistic,
        l2,
        inner_roc_auc,
        similarity,
    }
}

/// Fits `b`'s logistic regression (at its chosen strength) and similarity again on `rows`.
pub(super) fn refit_baselines(
    b: &mut Baselines,
    features: &WideFeatures,
    data: &Dataset,
    rows: &[&Row],
    head: Head,
    blind: bool,
) {
    let (rows, y) = labelled(rows, head);
    // A fit part with one answer only gave the prior and no strength: it stays.
    if b.l2 <= 0.0 || !(y.iter().any(|v| *v) && y.iter().any(|v| !*v)) {
        return;
    }
    let x = wide_matrix(features, data, &rows, head, blind);
    b.logistic = baselines::logistic(&x, &y, b.l2);
    b.similarity = baselines::similarity(&x, &y);
}
