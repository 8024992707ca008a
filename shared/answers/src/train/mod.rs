//! Training either architecture on a set of rows: a fit part and, carved from its end
//! with an embargo gap, a validation slice whose two interleaved halves do separate jobs:
//! one picks the best epoch (on an exponential moving average of the validation score)
//! and what answers each question (the model or a linear baseline fitted beside it), the
//! other fits the probability calibration and decision thresholds on margins nothing was
//! chosen on. Nothing here ever sees a test fold.
//!
//! One module per step of [`train`]: [`validation`] (the held-out slice and its halves),
//! [`setup`] (scales, wide features and baselines from the fit part), [`epochs`] (the
//! network, its optimiser, the epoch loop and its checkpoints), [`calibration`] (margins to
//! probabilities and thresholds) and [`choice`] (what answers each question, by the
//! one-standard-error rule). Here: the
//! options, the trained result, and what every step reads of the rows.

mod calibration;
mod choice;
mod epochs;
mod setup;
mod validation;

pub use calibration::Calibrated;
pub use choice::Choice;
pub use epochs::{loss, optimizer_step};
pub use setup::Baselines;

use crate::data::{Dataset, DurationScale, Row};
use crate::metrics;
use crate::net::fast::Scorer;
use crate::net::heads::HeadLogits;
use crate::net::wide::WideFeatures;
use crate::net::{Net, RankerSpec};
use crate::resume::Checkpoints;
use anyhow::Result;
use choice::calibrate_and_choose;
use epochs::{
    resume_from, run_key, save_checkpoint, snapshot, validation_score, BestEpoch, EpochLoop, StepPlan, Training,
};
use setup::{wide_matrix, Setup};
use tch::nn;
use tch::{Device, Kind};
use vrd_core::records::{Head, PerHead};

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

/// Rows labelled for `head` and their answers.
fn labelled<'a>(rows: &[&'a Row], head: Head) -> (Vec<&'a Row>, Vec<bool>) {
    rows.iter().filter_map(|r| r.target(head).map(|y| (*r, y))).unzip()
}

/// The margins of the rows answering `head`, with the answers.
fn answered(margins: &[f64], rows: &[&Row], head: Head) -> (Vec<f64>, Vec<bool>) {
    margins.iter().zip(rows).filter_map(|(m, r)| r.target(head).map(|y| (*m, y))).unzip()
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
    arch: &RankerSpec,
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
