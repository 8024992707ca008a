//! Training either architecture on a set of rows: a fit part and, carved from its end
//! with an embargo gap, a validation slice whose two interleaved halves do separate jobs:
//! one picks the best epoch (on an exponential moving average of the validation score)
//! and what answers each question (the model or a linear baseline fitted beside it), the
//! other fits the probability calibration and decision thresholds on margins nothing was
//! chosen on. Nothing here ever sees a test fold.

use crate::calibrate;
use crate::data::{Dataset, DurationScale, Row, IGNORE};
use crate::linear::{self, LinearScorer};
use crate::metrics;
use crate::net::{Arch, Net};
use crate::optim::AdamW;
use crate::resume::{self, with_prefix, Checkpoints, LoopState};
use crate::rng::Rng;
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};
use vrd_core::records::{Head, PerHead};
use vrd_model::calibration::Calibration;
use vrd_model::fast::Scorer;
use vrd_model::heads::HeadLogits;
use vrd_model::wide::{main_buckets, WideConfig, WideFeatures};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// The encoder's (or its LoRA adapters') learning rate in the fusion model.
    pub lr_encoder: f64,
    pub weight_decay: f64,
    /// Share of the steps spent warming the learning rate up (then cosine decay).
    pub warmup: f64,
    /// Micro-batches per optimiser step.
    pub accumulation: usize,
    pub seed: u64,
    /// Smoothing of the validation score across epochs for picking the best one.
    pub ema: f64,
    /// Standard errors of the validation ROC-AUC by which a trained epoch must beat the
    /// start (the regression alone, the deep part at zero) to be kept; 0: any gain.
    pub deep_margin: f64,
    /// Share of the training rows (the latest) held out for validation.
    pub validation: f64,
    /// Train in bf16 (with f32 master weights): the default on CUDA.
    pub bf16: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 20,
            batch_size: 32,
            lr: 5e-4,
            lr_encoder: 5e-5,
            weight_decay: 0.01,
            warmup: 0.1,
            accumulation: 1,
            seed: 42,
            ema: 0.5,
            deep_margin: 1.0,
            validation: 0.2,
            bf16: false,
        }
    }
}

/// A calibrated way of answering one question, with its decision threshold.
#[derive(Debug, Clone, Copy)]
pub struct Calibrated {
    pub calibration: Calibration,
    pub threshold: f64,
}

/// What answers one question, why, and how its margins become probabilities.
#[derive(Debug, Clone)]
pub struct Choice {
    pub scorer: Scorer,
    pub calibrated: Calibrated,
    /// ROC-AUC of each candidate on the held-out validation half the choice was made on.
    pub validation: BTreeMap<String, f64>,
    /// The standard error of the model's ROC-AUC there: what it had to beat the baseline by.
    pub standard_error: Option<f64>,
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

/// A trained model with what it needs to be used.
pub struct Trained {
    pub vs: nn::VarStore,
    pub model: Net,
    pub scale: DurationScale,
    /// Epochs of training behind the kept weights.
    pub best_epoch: usize,
    pub context_blind: bool,
    /// The model's own calibration per question.
    pub own: PerHead<Calibrated>,
    /// What ships per question.
    pub chosen: PerHead<Choice>,
    pub baselines: PerHead<Baselines>,
    features: WideFeatures,
}

/// Whose probabilities to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The model itself.
    Model,
    /// What was chosen per question (the model or a baseline).
    Chosen,
    LogisticRegression,
    Similarity,
}

impl Trained {
    /// Calibrated probabilities per question of `method` on `rows`.
    pub fn probabilities(&self, data: &Dataset, rows: &[&Row], method: Method) -> PerHead<Vec<f64>> {
        // The network runs only when one of the questions is answered by it.
        let model = std::cell::OnceCell::new();
        PerHead::new(|head| {
            let scorer = match method {
                Method::Model => Scorer::Model,
                Method::Chosen => self.chosen.get(head).scorer,
                Method::LogisticRegression => Scorer::LogisticRegression,
                Method::Similarity => Scorer::Similarity,
            };
            let (margins, calibrated) = match scorer {
                Scorer::Model => {
                    (model.get_or_init(|| self.margins(data, rows)).get(head).clone(), *self.own.get(head))
                }
                Scorer::LogisticRegression => {
                    let b = self.baselines.get(head);
                    (
                        b.logistic.margins(&wide_matrix(&self.features, data, rows, head, self.context_blind)),
                        b.logistic_calibrated,
                    )
                }
                Scorer::Similarity => {
                    let b = self.baselines.get(head);
                    (
                        b.similarity.margins(&wide_matrix(&self.features, data, rows, head, self.context_blind)),
                        b.similarity_calibrated,
                    )
                }
            };
            margins.iter().map(|m| calibrated.calibration.apply(*m)).collect()
        })
    }

    /// The model's own margins per question.
    pub fn margins(&self, data: &Dataset, rows: &[&Row]) -> PerHead<Vec<f64>> {
        margins(&self.model, data, rows, &self.scale, (self.vs.device(), self.vs.kind()), self.context_blind)
    }
}

fn margins(
    model: &Net,
    data: &Dataset,
    rows: &[&Row],
    scale: &DurationScale,
    (device, kind): (Device, Kind),
    context_blind: bool,
) -> PerHead<Vec<f64>> {
    let mut out = PerHead::<Vec<f64>>::default();
    tch::no_grad(|| {
        for chunk in rows.chunks(256) {
            let b = data.batch(chunk, scale, device, kind);
            let logits = model.forward(&b, false, context_blind).expect("batches carry what the model needs");
            out.interest.extend(HeadLogits::margins(&logits.interest));
            out.right_time.extend(HeadLogits::margins(&logits.right_time));
        }
    });
    out
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

/// Rows labelled for `head` and their answers.
fn labelled<'a>(rows: &[&'a Row], head: Head) -> (Vec<&'a Row>, Vec<bool>) {
    rows.iter().filter(|r| r.target(head) != IGNORE).map(|r| (*r, r.target(head) == 1)).unzip()
}

/// Splits time-ordered rows into a fit part and a later validation slice. A fit row that
/// sees activity keeps `embargo` (the window length) before the first validation row, so
/// no two windows overlap across the split; rows that see none only need to be earlier.
pub fn carve_validation<'a>(rows: &[&'a Row], share: f64, embargo: chrono::Duration) -> (Vec<&'a Row>, Vec<&'a Row>) {
    let n_val = ((rows.len() as f64) * share).round() as usize;
    let start = rows.len().saturating_sub(n_val.max(1));
    let val: Vec<&Row> = rows[start..].to_vec();
    let first = val.first().map(|r| r.at);
    let fit: Vec<&Row> = rows[..start].iter().copied().filter(|r| first.is_none_or(|f| r.before(f, embargo))).collect();
    (fit, val)
}

/// Inner time-series splits of the baselines' penalty search.
const INNER_SPLITS: usize = 4;

/// The inner splits of time-ordered `rows`: the time-series folds of an evaluation, cut
/// within a training run's fit part (indices into `rows`).
pub fn inner_splits(rows: &[&Row], k: usize, embargo: chrono::Duration) -> Vec<(Vec<usize>, Vec<usize>)> {
    crate::folds::time_series_folds(rows, k, embargo).into_iter().map(|f| (f.train, f.test)).collect()
}

/// The latest labels of a training run as two interleaved halves: one picks the epoch;
/// on the other, which nothing was tuned on, the model meets the better baseline and the
/// probabilities are fitted (the choice reads only the ranking, the calibration only the
/// scale). Decision thresholds only cut the ranking and take the whole slice.
struct Validation<'a> {
    all: Vec<&'a Row>,
    select: Vec<&'a Row>,
    calibrate: Vec<&'a Row>,
}

impl<'a> Validation<'a> {
    fn split(all: Vec<&'a Row>) -> Validation<'a> {
        if all.len() < 8 {
            return Validation { select: all.clone(), calibrate: all.clone(), all };
        }
        let select = all.iter().step_by(2).copied().collect();
        let calibrate = all.iter().skip(1).step_by(2).copied().collect();
        Validation { all, select, calibrate }
    }
}

/// Class weights `n / (2 n_c)` over the rows labelled for a head (1 where a class is absent).
fn class_weights(targets: &[i64]) -> [f64; 2] {
    let n0 = targets.iter().filter(|t| **t == 0).count() as f64;
    let n1 = targets.iter().filter(|t| **t == 1).count() as f64;
    let n = n0 + n1;
    if n0 == 0.0 || n1 == 0.0 {
        return [1.0, 1.0];
    }
    [n / (2.0 * n0), n / (2.0 * n1)]
}

/// The margins of the rows answering `head`, with the answers.
fn answered(margins: &[f64], rows: &[&Row], head: Head) -> (Vec<f64>, Vec<bool>) {
    margins.iter().zip(rows).filter(|(_, r)| r.target(head) != IGNORE).map(|(m, r)| (*m, r.target(head) == 1)).unzip()
}

/// The calibration of a scorer's margins (`margins_of` some rows) for `head`, fitted on
/// the calibration half, and its F1-best threshold over the whole validation slice.
fn calibrate_on(val: &Validation, head: Head, margins_of: impl Fn(&[&Row]) -> Vec<f64>) -> Calibrated {
    let (m, y) = answered(&margins_of(&val.calibrate), &val.calibrate, head);
    let calibration = calibrate::fit(&m, &y);
    let (m, y) = answered(&margins_of(&val.all), &val.all, head);
    let probs: Vec<f64> = m.iter().map(|x| calibration.apply(*x)).collect();
    Calibrated { calibration, threshold: metrics::best_threshold(&probs, &y) }
}

/// ROC-AUC of `margins` on the rows labelled for `head` (None with one class).
fn auc_on(margins: &[f64], rows: &[&Row], head: Head) -> Option<f64> {
    auc_and_standard_error(margins, rows, head).map(|(auc, _)| auc)
}

/// As [`auc_on`], with the ROC-AUC's standard error on those rows (Hanley & McNeil).
fn auc_and_standard_error(margins: &[f64], rows: &[&Row], head: Head) -> Option<(f64, f64)> {
    let (m, y) = answered(margins, rows, head);
    let pos = y.iter().filter(|v| **v).count();
    let neg = y.len() - pos;
    (pos > 0 && neg > 0).then(|| {
        let auc = metrics::roc_auc(&m, &y);
        (auc, metrics::roc_auc_standard_error(auc, pos, neg))
    })
}

/// The linear baselines of `head` on the fit part, tuned on its inner splits and
/// calibrated on the held-out half of the validation slice.
fn fit_baselines(
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
        let (model, l2, auc) = linear::logistic_tuned(&x_fit, &fit_y, &splits);
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
    let similarity = linear::similarity(&x_fit, &fit_y);
    if let Some(auc) = linear::inner_roc_auc(&x_fit, &fit_y, &splits, linear::similarity) {
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
fn refit_baselines(b: &mut Baselines, features: &WideFeatures, data: &Dataset, rows: &[&Row], head: Head, blind: bool) {
    let (rows, y) = labelled(rows, head);
    // A fit part with one answer only gave the prior and no strength: it stays.
    if b.l2 <= 0.0 || !(y.iter().any(|v| *v) && y.iter().any(|v| !*v)) {
        return;
    }
    let x = wide_matrix(features, data, &rows, head, blind);
    b.logistic = linear::logistic(&x, &y, b.l2);
    b.similarity = linear::similarity(&x, &y);
}

/// Trains one model on `rows`. With `checkpoint` (the folder and this model's job name),
/// its state is saved after every epoch and, when resuming, picked up where it stopped.
///
/// Four steps: [`Setup::new`] (the validation slice, scales, the wide features and the
/// baselines from the fit part), [`Training::start`] (the network, its wide path started as
/// the regression), the epochs ([`Training::epoch`], with [`EpochLoop::record`] keeping
/// the best and [`save_checkpoint`]), and [`calibrate_and_choose`].
#[allow(clippy::too_many_arguments)]
pub fn train(
    data: &Dataset,
    rows: &[&Row],
    arch: &Arch,
    opts: &TrainOptions,
    device: Device,
    context_blind: bool,
    progress: Option<&indicatif::ProgressBar>,
    checkpoint: Option<(&Checkpoints, &str)>,
) -> Result<Trained> {
    let setup = Setup::new(data, rows, opts, device, context_blind);
    let mut training = Training::start(arch, data, &setup, opts, device)?;
    let plan = StepPlan::new(&setup.fit, opts);
    let mut state = EpochLoop::new(opts.seed);
    let key = checkpoint.map(|(_, job)| run_key(data, rows, arch, opts, context_blind, job));
    if let (Some((checkpoints, job)), Some(key)) = (checkpoint, &key) {
        if resume_from(checkpoints, job, key, &mut training, &mut state)? {
            let note = || (checkpoints.resumed)(job, state.start_epoch);
            match progress {
                Some(bar) => bar.suspend(note),
                None => note(),
            }
        }
    }
    // The epochs are picked by the model's ROC-AUC on the selection half of the slice.
    let score_now = |t: &Training| {
        validation_score(&t.model, data, &setup.val.select, &setup.scale, (device, t.kind), context_blind)
    };
    if state.start_epoch == 0 {
        // The start competes too: the deep heads at zero, the model is its wide path, the
        // fit part's regression. The deep part ships only from an epoch that beats it by
        // more than `deep_margin` standard errors: on a few dozen answers a trained epoch
        // beats the start by chance about half the time, and the deep part kept so cost
        // held-out ROC-AUC (MovieLens interest: model 0.571 with any gain, 0.588 with one
        // standard error; see BENCHMARKS.md).
        let (score, standard_error) = score_now(&training);
        state.best =
            BestEpoch { score: score + opts.deep_margin * standard_error, epoch: 0, weights: snapshot(&training.vs) };
    }
    let mut last_save = std::time::Instant::now();
    for epoch in state.start_epoch..opts.epochs {
        let loss = training.epoch(data, &setup, arch, opts, &plan, &mut state, epoch, context_blind)?;
        let (score, _) = score_now(&training);
        state.record(score, epoch, opts.ema, &training.vs);
        if let Some(bar) = progress {
            bar.set_message(format!("epoch {} loss {loss:.4} val {score:.3}", epoch + 1));
        }
        let due = |c: &Checkpoints| epoch + 1 == opts.epochs || last_save.elapsed() >= c.every;
        if let (Some((checkpoints, job)), Some(key)) = (checkpoint.filter(|(c, _)| due(c)), &key) {
            save_checkpoint(checkpoints, job, key, &training, &state, epoch + 1)?;
            last_save = std::time::Instant::now();
        }
    }
    calibrate_and_choose(setup, training, state, data, arch, device, context_blind)
}

/// What one model is trained and judged from, all of it from the fit part: the validation
/// slice carved from its end, the duration scale, the class weights, the wide features'
/// fixed parts (the main apps of its windows, the principal axes of its videos) and the
/// baselines fitted on those features.
struct Setup<'a> {
    fit: Vec<&'a Row>,
    val: Validation<'a>,
    scale: DurationScale,
    class_weights: PerHead<Tensor>,
    share_buckets: Vec<i64>,
    features: WideFeatures,
    baselines: PerHead<Baselines>,
}

impl<'a> Setup<'a> {
    fn new(data: &Dataset, rows: &[&'a Row], opts: &TrainOptions, device: Device, context_blind: bool) -> Setup<'a> {
        let (fit, val) = carve_validation(rows, opts.validation, data.window());
        let fit = if fit.is_empty() { rows.to_vec() } else { fit };
        let val = Validation::split(val);
        let scale = DurationScale::fit(&fit);
        let weights = |f: fn(&Row) -> i64| {
            let w = class_weights(&fit.iter().map(|r| f(r)).collect::<Vec<_>>());
            Tensor::from_slice(&[w[0] as f32, w[1] as f32]).to_device(device)
        };
        let class_weights = PerHead { interest: weights(|r| r.interest), right_time: weights(|r| r.right_time) };
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

/// The network being trained, its optimiser and the precision it trains in.
struct Training {
    vs: nn::VarStore,
    model: Net,
    opt: AdamW,
    kind: Kind,
}

impl Training {
    fn start(arch: &Arch, data: &Dataset, setup: &Setup, opts: &TrainOptions, device: Device) -> Result<Training> {
        tch::manual_seed(opts.seed as i64);
        let mut vs = nn::VarStore::new(device);
        let model = Net::build(arch, &vs, data, setup.share_buckets.clone())?;
        if let Net::Fast(m) = &model {
            // The wide path starts as the tuned logistic regression, the deep heads at zero.
            tch::no_grad(|| {
                m.features.pca.shallow_clone().copy_(&setup.features.pca);
                m.features.pca_mean.shallow_clone().copy_(&setup.features.pca_mean);
            });
            for head in Head::ALL {
                let b = setup.baselines.get(head);
                m.set_linear(head, true, &b.logistic.weight, b.logistic.bias);
            }
        }
        // bf16 explicitly (tch's autocast knows only fp16): every weight and activation in
        // bf16, the optimiser's f32 masters holding the trained weights, losses in f32.
        let kind = if opts.bf16 {
            vs.bfloat16();
            Kind::BFloat16
        } else {
            Kind::Float
        };
        // Group 0 is the fast model, or the fusion model's encoder; group 1 its new layers.
        let opt = AdamW::new(&vs, 2, |name| usize::from(Net::is_new_layer(arch, name)), opts.weight_decay);
        Ok(Training { vs, model, opt, kind })
    }

    /// One pass of weighted batches over the fit part; the mean loss.
    #[allow(clippy::too_many_arguments)]
    fn epoch(
        &mut self,
        data: &Dataset,
        setup: &Setup,
        arch: &Arch,
        opts: &TrainOptions,
        plan: &StepPlan,
        state: &mut EpochLoop,
        epoch: usize,
        context_blind: bool,
    ) -> Result<f64> {
        // Dropout draws from libtorch's generator: seeding it per epoch makes a resumed
        // run draw what the uninterrupted one would have.
        tch::manual_seed(opts.seed as i64 + 1 + epoch as i64);
        let device = self.vs.device();
        let mut epoch_loss = 0.0;
        let mut micro = 0usize;
        for _ in 0..plan.steps_per_epoch {
            let batch_rows: Vec<&Row> =
                (0..opts.batch_size).map(|_| setup.fit[weighted_pick(&mut state.rng, &plan.sample_weights)]).collect();
            let b = data.batch(&batch_rows, &setup.scale, device, self.kind);
            let logits = self.model.forward(&b, true, context_blind)?;
            let loss = loss(&logits, &b.interest, &b.right_time, &setup.class_weights);
            epoch_loss += loss.double_value(&[]);
            (loss / opts.accumulation as f64).backward();
            micro += 1;
            if micro.is_multiple_of(opts.accumulation) {
                let factor = schedule(1.0, state.step as f64, plan.warmup, plan.total_steps as f64);
                optimizer_step(&mut self.opt, group_lrs(arch, opts, factor));
                state.step += 1;
            }
        }
        if !micro.is_multiple_of(opts.accumulation) {
            // No gradient carries over into the next epoch (the reference's leak).
            self.opt.zero_grad();
        }
        Ok(epoch_loss / plan.steps_per_epoch as f64)
    }
}

/// The learning rates of the two parameter groups at `factor` of the schedule.
fn group_lrs(arch: &Arch, opts: &TrainOptions, factor: f64) -> [f64; 2] {
    match arch {
        Arch::Fast => [opts.lr * factor, opts.lr * factor],
        Arch::Fusion { .. } => [opts.lr_encoder * factor, opts.lr * factor],
    }
}

/// How the steps fall: batches per epoch, optimiser steps in all, the warm-up, and each fit
/// row's sampling weight.
struct StepPlan {
    steps_per_epoch: usize,
    total_steps: usize,
    warmup: f64,
    sample_weights: Vec<f64>,
}

impl StepPlan {
    fn new(fit: &[&Row], opts: &TrainOptions) -> StepPlan {
        let steps_per_epoch = fit.len().div_ceil(opts.batch_size).max(1);
        let total_steps = (steps_per_epoch * opts.epochs).div_ceil(opts.accumulation).max(1);
        let warmup = ((total_steps as f64) * opts.warmup).ceil().max(1.0);
        StepPlan { steps_per_epoch, total_steps, warmup, sample_weights: mix_weights(fit) }
    }
}

/// The epoch whose weights are kept: its smoothed validation score (the start's raised by
/// the deep margin it must be beaten by), its number, its weights.
struct BestEpoch {
    score: f64,
    epoch: usize,
    weights: Weights,
}

/// Where the epoch loop stands: what a checkpoint saves and a resumed run restores.
struct EpochLoop {
    rng: Rng,
    step: usize,
    /// The best epoch so far (epoch 0: the start, the deep heads at zero). The baselines
    /// compete afterwards, per question, on the other half of the validation slice.
    best: BestEpoch,
    ema: Option<f64>,
    start_epoch: usize,
}

impl EpochLoop {
    fn new(seed: u64) -> EpochLoop {
        EpochLoop {
            rng: Rng::new(seed),
            step: 0,
            best: BestEpoch { score: f64::NEG_INFINITY, epoch: 0, weights: Vec::new() },
            ema: None,
            start_epoch: 0,
        }
    }

    /// Smooths the epoch's validation score and keeps the weights when it is the best yet.
    fn record(&mut self, score: f64, epoch: usize, ema_weight: f64, vs: &nn::VarStore) {
        let smoothed = match self.ema {
            None => score,
            Some(prev) => ema_weight * prev + (1.0 - ema_weight) * score,
        };
        self.ema = Some(smoothed);
        if smoothed > self.best.score || self.best.weights.is_empty() {
            self.best = BestEpoch { score: smoothed, epoch: epoch + 1, weights: snapshot(vs) };
        }
    }
}

/// Picks up an interrupted run of the same job; whether there was one.
fn resume_from(
    checkpoints: &Checkpoints,
    job: &str,
    key: &str,
    training: &mut Training,
    state: &mut EpochLoop,
) -> Result<bool> {
    let Some((saved_state, saved)) = checkpoints.load(job, key)? else {
        return Ok(false);
    };
    restore(&training.vs, &with_prefix(&saved, "model."))?;
    training.opt.load_state(&saved, saved_state.steps as i64)?;
    state.best = BestEpoch {
        score: saved_state.best_score,
        epoch: saved_state.best_epoch,
        weights: with_prefix(&saved, "best."),
    };
    (state.start_epoch, state.step, state.ema) = (saved_state.epochs_done, saved_state.steps, saved_state.ema);
    state.rng = Rng::from_state(saved_state.sampler);
    Ok(true)
}

/// The loop's position, the weights now and at the best epoch, and the optimiser's state.
fn save_checkpoint(
    checkpoints: &Checkpoints,
    job: &str,
    key: &str,
    training: &Training,
    state: &EpochLoop,
    epochs_done: usize,
) -> Result<()> {
    let loop_state = LoopState {
        run_key: key.to_string(),
        epochs_done,
        steps: state.step,
        sampler: state.rng.state(),
        ema: state.ema,
        best_score: state.best.score,
        best_epoch: state.best.epoch,
        weights: String::new(),
    };
    let mut tensors: Vec<(String, Tensor)> =
        snapshot(&training.vs).into_iter().map(|(n, t)| (format!("model.{n}"), t)).collect();
    tensors.extend(state.best.weights.iter().map(|(n, t)| (format!("best.{n}"), t.shallow_clone())));
    tensors.extend(training.opt.state());
    checkpoints.save(job, loop_state, &tensors)
}

/// The best epoch's weights back, in f32 (what ranking runs); calibrated on the held-out
/// half of the validation slice, met there with the baselines per question, and the
/// chosen scorer written into the fast model.
fn calibrate_and_choose(
    setup: Setup,
    training: Training,
    state: EpochLoop,
    data: &Dataset,
    arch: &Arch,
    device: Device,
    context_blind: bool,
) -> Result<Trained> {
    let Setup { fit, val, scale, features, mut baselines, .. } = setup;
    let Training { mut vs, mut model, .. } = training;
    let BestEpoch { epoch: best_epoch, weights: weights_at_best, .. } = state.best;
    restore(&vs, &weights_at_best)?;
    // What is calibrated, evaluated and saved is the f32 model ranking will run.
    vs.float();
    let on = (device, Kind::Float);

    // The model meets the baseline on the half its epoch was not picked on: on the other,
    // the best of 20 epochs would flatter it.
    let own_held = margins(&model, data, &val.calibrate, &scale, on, context_blind);
    let own = PerHead::new(|head| {
        calibrate_on(&val, head, |rows| margins(&model, data, rows, &scale, on, context_blind).get(head).clone())
    });
    let chosen = PerHead::new(|head| {
        choose(
            head,
            arch,
            &baselines,
            own_held.get(head),
            *own.get(head),
            &features,
            data,
            &val.calibrate,
            context_blind,
        )
    });
    // Chosen and calibrated, the baselines are fitted again with the validation slice
    // added (their strength kept): a quarter more answers, which a linear model on a few
    // hundred is worth (MovieLens interest 0.58 → 0.60). Their calibration, and the
    // model's, stays the one fitted on held-out margins; a test fold is in neither.
    let everything: Vec<&Row> = fit.iter().chain(&val.all).copied().collect();
    for head in Head::ALL {
        refit_baselines(baselines.get_mut(head), &features, data, &everything, head, context_blind);
    }
    if let Net::Fast(m) = &mut model {
        for head in Head::ALL {
            let choice = chosen.get(head);
            let b = baselines.get(head);
            // The model's wide path becomes the refitted regression too, the deep residual
            // kept: it was chosen over the start on the slice, and the regression is the
            // better for the slice's answers. With the deep part at zero (the start won)
            // the model is the regression exactly, never below it.
            m.set_linear(head, true, &b.logistic.weight, b.logistic.bias);
            match choice.scorer {
                Scorer::Model => {}
                Scorer::LogisticRegression => m.set_linear(head, false, &b.logistic.weight, b.logistic.bias),
                Scorer::Similarity => m.set_linear(head, false, &b.similarity.weight, b.similarity.bias),
            }
            *m.config.scorers.get_mut(head) = choice.scorer;
        }
    }
    Ok(Trained { vs, model, scale, best_epoch, context_blind, own, chosen, baselines, features })
}

/// How many apps get a time-share feature of their own.
const MAIN_APPS: usize = 16;

fn wide_config(data: &Dataset, share_buckets: Vec<i64>) -> WideConfig {
    WideConfig::new(
        data.media_dim(),
        data.context_dim(),
        share_buckets,
        data.spec.app_buckets as i64,
        data.spec.window_s as f64,
    )
}

/// Picks what answers `head`: the model, unless the better baseline ranks the held-out
/// validation half within one standard error as well. Which baseline competes is
/// settled first on the inner time-series splits of the fit part, which hold many more
/// answers than the slice: comparing all three on a few dozen answers let the weakest
/// win by chance. The fusion model cannot carry a baseline and always answers itself.
#[allow(clippy::too_many_arguments)]
fn choose(
    head: Head,
    arch: &Arch,
    baselines: &PerHead<Baselines>,
    own_margins: &[f64],
    own: Calibrated,
    features: &WideFeatures,
    data: &Dataset,
    held: &[&Row],
    blind: bool,
) -> Choice {
    let b = baselines.get(head);
    let x = wide_matrix(features, data, held, head, blind);
    let mut validation = BTreeMap::new();
    let inner = |s: Scorer| b.inner_roc_auc.get(s.name()).copied();
    let contender = match (inner(Scorer::LogisticRegression), inner(Scorer::Similarity)) {
        (Some(lr), Some(sim)) if sim > lr + 1e-12 => Some(Scorer::Similarity),
        (Some(_), _) => Some(Scorer::LogisticRegression),
        (None, Some(_)) => Some(Scorer::Similarity),
        // No split to settle it on: both compete on the slice.
        (None, None) => None,
    };
    let own_scored = auc_and_standard_error(own_margins, held, head);
    let candidates = [
        (Scorer::LogisticRegression, auc_on(&b.logistic.margins(&x), held, head), b.logistic_calibrated),
        (Scorer::Similarity, auc_on(&b.similarity.margins(&x), held, head), b.similarity_calibrated),
        (Scorer::Model, own_scored.map(|(auc, _)| auc), own),
    ];
    let mut baseline: Option<(Scorer, f64, Calibrated)> = None;
    let mut model_auc = None;
    for (scorer, auc, calibrated) in candidates {
        let Some(auc) = auc else { continue };
        validation.insert(scorer.name().to_string(), auc);
        if scorer == Scorer::Model {
            model_auc = Some(auc);
        } else if matches!(arch, Arch::Fast)
            && contender.is_none_or(|c| c == scorer)
            && baseline.is_none_or(|(_, a, _)| auc > a + 1e-12)
        {
            baseline = Some((scorer, auc, calibrated));
        }
    }
    // The one-standard-error rule: the model, the less simple candidate, must beat the
    // baseline by more than its own ROC-AUC's standard error on this half. A few dozen
    // answers cannot tell two near-equal scorers apart, and then the baseline, refitted
    // on more answers afterwards, is the better bet.
    let standard_error = own_scored.map(|(_, se)| se);
    let contest = Contest { baseline: baseline.map(|(s, auc, _)| (s, auc)), model: model_auc.zip(standard_error) };
    let scorer = contest.winner();
    let calibrated = match baseline {
        Some((s, _, calibrated)) if s == scorer => calibrated,
        _ => own,
    };
    Choice { scorer, calibrated, validation, standard_error }
}

/// One question's contenders on the held-out half of the validation slice: the better
/// baseline (its scorer and ROC-AUC) and the model (its ROC-AUC and that figure's standard
/// error), each where it could be scored.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Contest {
    baseline: Option<(Scorer, f64)>,
    model: Option<(f64, f64)>,
}

impl Contest {
    /// The one-standard-error rule: the model, the less simple candidate, answers only if
    /// it beats the baseline by more than its own ROC-AUC's standard error; a baseline
    /// answers when the model could not be scored; the model when there is no baseline.
    fn winner(&self) -> Scorer {
        match (self.baseline, self.model) {
            (Some((scorer, auc)), Some((model, se))) if model <= auc + se => scorer,
            (Some((scorer, _)), None) => scorer,
            _ => Scorer::Model,
        }
    }
}

/// Sampling weights that give interest rows and right-time rows half the draws each.
fn mix_weights(rows: &[&Row]) -> Vec<f64> {
    let n_interest = rows.iter().filter(|r| r.interest != IGNORE).count() as f64;
    let n_right = rows.len() as f64 - n_interest;
    let cumulative: Vec<f64> = rows
        .iter()
        .map(|r| match (r.interest != IGNORE, n_interest > 0.0 && n_right > 0.0) {
            (_, false) => 1.0,
            (true, true) => 0.5 / n_interest,
            (false, true) => 0.5 / n_right,
        })
        .scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect();
    cumulative
}

fn weighted_pick(rng: &mut Rng, cumulative: &[f64]) -> usize {
    let total = *cumulative.last().unwrap_or(&1.0);
    let x = rng.uniform() * total;
    cumulative.partition_point(|c| *c <= x).min(cumulative.len() - 1)
}

/// Class-weighted cross entropy over the rows labelled for this head; zero when none is.
/// The training loss: both heads' class-weighted cross-entropy, in f32 whatever the
/// precision, rows not labelled for a head left out of it. `vrd-train bench` times this.
pub fn loss(logits: &HeadLogits, interest: &Tensor, right_time: &Tensor, class_weights: &PerHead<Tensor>) -> Tensor {
    head_loss(&logits.interest, interest, &class_weights.interest)
        + head_loss(&logits.right_time, right_time, &class_weights.right_time)
}

/// One optimiser step over the accumulated gradients at the two groups' learning rates:
/// clipped to norm 1, then cleared.
pub fn optimizer_step(opt: &mut AdamW, lrs: [f64; 2]) {
    opt.set_lr(0, lrs[0]);
    opt.set_lr(1, lrs[1]);
    opt.clipped_step(1.0);
    opt.zero_grad();
}

fn head_loss(logits: &Tensor, targets: &Tensor, weights: &Tensor) -> Tensor {
    let labelled = targets.ne(IGNORE).sum(Kind::Int64).int64_value(&[]);
    if labelled == 0 {
        return logits.sum(Kind::Float) * 0.0;
    }
    logits.to_kind(Kind::Float).cross_entropy_loss::<Tensor>(
        targets,
        Some(weights.shallow_clone()),
        Reduction::Mean,
        IGNORE,
        0.0,
    )
}

/// Linear warm-up, then cosine decay to zero.
fn schedule(base: f64, step: f64, warmup: f64, total: f64) -> f64 {
    if step < warmup {
        base * (step + 1.0) / warmup
    } else {
        let progress = ((step - warmup) / (total - warmup).max(1.0)).min(1.0);
        base * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// The mean ROC-AUC of the heads that have both classes in the validation slice.
fn validation_score(
    model: &Net,
    data: &Dataset,
    val: &[&Row],
    scale: &DurationScale,
    on: (Device, Kind),
    context_blind: bool,
) -> (f64, f64) {
    if val.is_empty() {
        return (0.0, 0.0);
    }
    let m = margins(model, data, val, scale, on, context_blind);
    let scored: Vec<(f64, f64)> =
        Head::ALL.iter().filter_map(|&head| auc_and_standard_error(m.get(head), val, head)).collect();
    if scored.is_empty() {
        return (0.0, 0.0);
    }
    let k = scored.len() as f64;
    let mean = scored.iter().map(|(a, _)| a).sum::<f64>() / k;
    let standard_error = scored.iter().map(|(_, se)| se * se).sum::<f64>().sqrt() / k;
    (mean, standard_error)
}

/// A copy of every trained variable, by name (frozen ones never change).
type Weights = Vec<(String, Tensor)>;

fn snapshot(vs: &nn::VarStore) -> Weights {
    let mut vars: Weights =
        vs.variables().into_iter().filter(|(_, v)| v.requires_grad()).map(|(k, v)| (k, v.detach().copy())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

fn restore(vs: &nn::VarStore, weights: &[(String, Tensor)]) -> Result<()> {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (name, value) in weights {
            let var =
                vars.get(name).ok_or_else(|| anyhow!("the checkpoint has `{name}`, which this model does not"))?;
            var.shallow_clone().copy_(value);
        }
        Ok(())
    })
}

/// What makes a checkpoint this model's: the architecture, options, rows and job.
fn run_key(data: &Dataset, rows: &[&Row], arch: &Arch, opts: &TrainOptions, blind: bool, job: &str) -> String {
    let options = serde_json::to_string(opts).unwrap_or_default();
    let rows_id: String = rows
        .iter()
        .map(|r| format!("{}:{}:{}:{}:{}", r.at.timestamp_millis(), r.interest, r.right_time, r.media, r.context))
        .collect::<Vec<_>>()
        .join(",");
    let arch_id = match arch {
        Arch::Fast => arch.kind().name().to_string(),
        Arch::Fusion { encoder, finetune, max_length } => {
            format!("{}:{}:{finetune:?}:{max_length}", arch.kind().name(), encoder.display())
        }
    };
    resume::run_key(&[&arch_id, &options, &rows_id, &data.media_model, &blind.to_string(), job])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine() {
        assert!((schedule(1.0, 0.0, 10.0, 100.0) - 0.1).abs() < 1e-12);
        assert!((schedule(1.0, 9.0, 10.0, 100.0) - 1.0).abs() < 1e-12);
        assert!((schedule(1.0, 55.0, 10.0, 100.0) - 0.5).abs() < 1e-12);
        assert!(schedule(1.0, 100.0, 10.0, 100.0) < 1e-12);
    }

    #[test]
    fn the_model_answers_only_beyond_one_standard_error() {
        let lr = Some((Scorer::LogisticRegression, 0.80));
        let contest = |baseline, model| Contest { baseline, model }.winner();
        // Ahead by less than its standard error, or level: the baseline.
        assert_eq!(contest(lr, Some((0.83, 0.05))), Scorer::LogisticRegression);
        assert_eq!(contest(lr, Some((0.85, 0.05))), Scorer::LogisticRegression, "exactly one error ahead");
        // Ahead by more: the model.
        assert_eq!(contest(lr, Some((0.86, 0.05))), Scorer::Model);
        let sim = Some((Scorer::Similarity, 0.70));
        assert_eq!(contest(sim, Some((0.60, 0.01))), Scorer::Similarity, "behind");
        // The model could not be scored on the half (one class only): the baseline.
        assert_eq!(contest(sim, None), Scorer::Similarity);
        // No baseline competes (the fusion model, or none could be scored): the model.
        assert_eq!(contest(None, Some((0.5, 0.1))), Scorer::Model);
        assert_eq!(contest(None, None), Scorer::Model);
    }
}
