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
use crate::simulate::Rng;
use anyhow::{anyhow, Result};
use shared::records::{Head, PerHead};
use std::collections::BTreeMap;
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};
use vrd_model::fast::Scorer;
use vrd_model::heads::HeadLogits;
use vrd_model::saved::Calibration;
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
    crate::evaluate::time_series_folds(rows, k, embargo).into_iter().map(|f| (f.train, f.test)).collect()
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
    let (m, y) = answered(margins, rows, head);
    (y.iter().any(|v| *v) && y.iter().any(|v| !*v)).then(|| metrics::roc_auc(&m, &y))
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
    let (fit, val) = carve_validation(rows, opts.validation, data.window());
    let fit = if fit.is_empty() { rows.to_vec() } else { fit };
    let val = Validation::split(val);
    let scale = DurationScale::fit(&fit);
    let weights = |f: fn(&Row) -> i64| {
        let w = class_weights(&fit.iter().map(|r| f(r)).collect::<Vec<_>>());
        Tensor::from_slice(&[w[0] as f32, w[1] as f32]).to_device(device)
    };
    let (w_interest, w_right) = (weights(|r| r.interest), weights(|r| r.right_time));

    // The wide features' fixed parts come from the fit part alone: the main apps of its
    // windows and the principal axes of its videos.
    let fit_idx = Tensor::from_slice(&fit.iter().map(|r| r.context as i64).collect::<Vec<_>>());
    let share_buckets = main_buckets(&data.context.index_select(&fit_idx), data.spec.app_buckets as i64, MAIN_APPS);
    let features_vs = nn::VarStore::new(Device::Cpu);
    let features = WideFeatures::new(features_vs.root(), wide_config(data, share_buckets.clone()));
    let media_idx = Tensor::from_slice(&fit.iter().map(|r| r.media as i64).collect::<Vec<_>>());
    features.fit_pca(&data.media.index_select(0, &media_idx));
    let mut baselines = PerHead::new(|head| fit_baselines(&features, data, (&fit, &val), head, context_blind));

    tch::manual_seed(opts.seed as i64);
    let mut vs = nn::VarStore::new(device);
    let mut model = Net::build(arch, &vs, data, share_buckets)?;
    if let Net::Fast(m) = &model {
        // The wide path starts as the tuned logistic regression, the deep heads at zero.
        tch::no_grad(|| {
            m.features.pca.shallow_clone().copy_(&features.pca);
            m.features.pca_mean.shallow_clone().copy_(&features.pca_mean);
        });
        for head in Head::ALL {
            let b = baselines.get(head);
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
    let mut opt = AdamW::new(&vs, 2, |name| usize::from(Net::is_new_layer(arch, name)), opts.weight_decay);
    let group_lr = |factor: f64| match arch {
        Arch::Fast => [opts.lr * factor, opts.lr * factor],
        Arch::Fusion { .. } => [opts.lr_encoder * factor, opts.lr * factor],
    };
    let mut rng = Rng::new(opts.seed);
    let sample_weights = mix_weights(&fit);

    let steps_per_epoch = fit.len().div_ceil(opts.batch_size).max(1);
    let total_steps = (steps_per_epoch * opts.epochs).div_ceil(opts.accumulation).max(1);
    let warmup = ((total_steps as f64) * opts.warmup).ceil().max(1.0);
    let mut step = 0usize;
    let mut micro = 0usize;
    // Epochs compete among themselves; the linear model the wide path starts from competes
    // afterwards, as the logistic-regression candidate of each question.
    let mut best: (f64, usize, Weights) = (f64::NEG_INFINITY, 0, Vec::new());
    let mut ema: Option<f64> = None;
    let mut start_epoch = 0;
    let key = checkpoint.map(|(_, job)| run_key(data, rows, arch, opts, context_blind, job));
    if let (Some((checkpoints, job)), Some(key)) = (checkpoint, &key) {
        if let Some((state, saved)) = checkpoints.load(job, key)? {
            restore(&vs, &with_prefix(&saved, "model."))?;
            opt.load_state(&saved, state.steps as i64)?;
            best = (state.best_score, state.best_epoch, with_prefix(&saved, "best."));
            (start_epoch, step, ema) = (state.epochs_done, state.steps, state.ema);
            rng = Rng::from_state(state.sampler);
            let note = || eprintln!("vrd-train: {job}: resuming after epoch {start_epoch}");
            match progress {
                Some(bar) => bar.suspend(note),
                None => note(),
            }
        }
    }
    let mut last_save = std::time::Instant::now();
    for epoch in start_epoch..opts.epochs {
        // Dropout draws from libtorch's generator: seeding it per epoch makes a resumed
        // run draw what the uninterrupted one would have.
        tch::manual_seed(opts.seed as i64 + 1 + epoch as i64);
        let mut epoch_loss = 0.0;
        for _ in 0..steps_per_epoch {
            let batch_rows: Vec<&Row> =
                (0..opts.batch_size).map(|_| fit[weighted_pick(&mut rng, &sample_weights)]).collect();
            let b = data.batch(&batch_rows, &scale, device, kind);
            let logits = model.forward(&b, true, context_blind)?;
            let loss = head_loss(&logits.interest, &b.interest, &w_interest)
                + head_loss(&logits.right_time, &b.right_time, &w_right);
            epoch_loss += loss.double_value(&[]);
            (loss / opts.accumulation as f64).backward();
            micro += 1;
            if micro % opts.accumulation == 0 {
                let [g0, g1] = group_lr(schedule(1.0, step as f64, warmup, total_steps as f64));
                opt.set_lr(0, g0);
                opt.set_lr(1, g1);
                opt.clip_grad_norm(1.0);
                opt.step();
                opt.zero_grad();
                step += 1;
            }
        }
        if micro % opts.accumulation != 0 {
            // No gradient carries over into the next epoch (the reference's leak).
            opt.zero_grad();
        }
        micro = 0;
        let score = validation_score(&model, data, &val.select, &scale, (device, kind), context_blind);
        let smoothed = match ema {
            None => score,
            Some(prev) => opts.ema * prev + (1.0 - opts.ema) * score,
        };
        ema = Some(smoothed);
        if smoothed > best.0 || best.2.is_empty() {
            best = (smoothed, epoch + 1, snapshot(&vs));
        }
        if let Some(bar) = progress {
            bar.set_message(format!(
                "epoch {} loss {:.4} val {:.3}",
                epoch + 1,
                epoch_loss / steps_per_epoch as f64,
                score
            ));
        }
        let due = |c: &Checkpoints| epoch + 1 == opts.epochs || last_save.elapsed() >= c.every;
        if let (Some((checkpoints, job)), Some(key)) = (checkpoint.filter(|(c, _)| due(c)), &key) {
            let state = LoopState {
                run_key: key.clone(),
                epochs_done: epoch + 1,
                steps: step,
                sampler: rng.state(),
                ema,
                best_score: best.0,
                best_epoch: best.1,
                weights: String::new(),
            };
            let mut tensors: Vec<(String, Tensor)> =
                snapshot(&vs).into_iter().map(|(n, t)| (format!("model.{n}"), t)).collect();
            tensors.extend(best.2.iter().map(|(n, t)| (format!("best.{n}"), t.shallow_clone())));
            tensors.extend(opt.state());
            checkpoints.save(job, state, &tensors)?;
            last_save = std::time::Instant::now();
        }
    }
    let (_, best_epoch, weights_at_best) = best;
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
    // hundred is worth (MovieLens interest 0.58 → 0.60). Their calibration stays the one
    // fitted on held-out margins; a test fold is in neither.
    let everything: Vec<&Row> = fit.iter().chain(&val.all).copied().collect();
    for head in Head::ALL {
        refit_baselines(baselines.get_mut(head), &features, data, &everything, head, context_blind);
    }
    if let Net::Fast(m) = &mut model {
        for head in Head::ALL {
            let choice = chosen.get(head);
            let b = baselines.get(head);
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
    WideConfig {
        media_dim: data.media_dim(),
        context_dim: data.context_dim(),
        share_buckets,
        app_buckets: data.spec.app_buckets as i64,
        window_s: data.spec.window_s as f64,
        components: 8,
    }
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
    let candidates = [
        (Scorer::LogisticRegression, auc_on(&b.logistic.margins(&x), held, head), b.logistic_calibrated),
        (Scorer::Similarity, auc_on(&b.similarity.margins(&x), held, head), b.similarity_calibrated),
        (Scorer::Model, auc_on(own_margins, held, head), own),
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
    let (_, y) = answered(own_margins, held, head);
    let (pos, neg) = (y.iter().filter(|v| **v).count(), y.iter().filter(|v| !**v).count());
    let scorer = match (baseline, model_auc) {
        (Some((scorer, auc, calibrated)), Some(m)) if m <= auc + metrics::roc_auc_standard_error(m, pos, neg) => {
            (scorer, calibrated)
        }
        (Some((scorer, _, calibrated)), None) => (scorer, calibrated),
        _ => (Scorer::Model, own),
    };
    Choice { scorer: scorer.0, calibrated: scorer.1, validation }
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
) -> f64 {
    if val.is_empty() {
        return 0.0;
    }
    let m = margins(model, data, val, scale, on, context_blind);
    let aucs: Vec<f64> = Head::ALL.iter().filter_map(|&head| auc_on(m.get(head), val, head)).collect();
    if aucs.is_empty() {
        0.0
    } else {
        aucs.iter().sum::<f64>() / aucs.len() as f64
    }
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
        Arch::Fast => "fast".to_string(),
        Arch::Fusion { encoder, finetune, max_length } => {
            format!("fusion:{}:{finetune:?}:{max_length}", encoder.display())
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
}
