//! The network being trained, its optimiser and schedule, the epoch loop that keeps the
//! best epoch, and the checkpoints a resumed run picks up.

use super::setup::Setup;
use super::{auc_and_standard_error, margins, TrainOptions};
use crate::data::{Dataset, DurationScale, Row, IGNORE};
use crate::net::heads::HeadLogits;
use crate::net::{Net, RankerSpec};
use crate::resume::{self, with_prefix, Checkpoints, LoopState};
use anyhow::{anyhow, Result};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};
use vrd_core::records::{Head, PerHead};
use vrd_core::rng::Rng;
use vrd_model::optim::AdamW;

/// The network being trained, its optimiser and the precision it trains in.
pub(super) struct Training {
    pub(super) vs: nn::VarStore,
    pub(super) model: Net,
    pub(super) opt: AdamW,
    pub(super) kind: Kind,
}

impl Training {
    pub(super) fn start(
        arch: &RankerSpec,
        data: &Dataset,
        setup: &Setup,
        opts: &TrainOptions,
        device: Device,
    ) -> Result<Training> {
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
    pub(super) fn epoch(
        &mut self,
        data: &Dataset,
        setup: &Setup,
        arch: &RankerSpec,
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
pub(super) fn group_lrs(arch: &RankerSpec, opts: &TrainOptions, factor: f64) -> [f64; 2] {
    match arch {
        RankerSpec::Fast => [opts.lr * factor, opts.lr * factor],
        RankerSpec::Fusion { .. } => [opts.lr_encoder * factor, opts.lr * factor],
    }
}

/// How the steps fall: batches per epoch, optimiser steps in all, the warm-up, and each fit
/// row's sampling weight.
pub(super) struct StepPlan {
    pub(super) steps_per_epoch: usize,
    pub(super) total_steps: usize,
    pub(super) warmup: f64,
    pub(super) sample_weights: Vec<f64>,
}

impl StepPlan {
    pub(super) fn new(fit: &[&Row], opts: &TrainOptions) -> StepPlan {
        let steps_per_epoch = fit.len().div_ceil(opts.batch_size).max(1);
        let total_steps = (steps_per_epoch * opts.epochs).div_ceil(opts.accumulation).max(1);
        let warmup = ((total_steps as f64) * opts.warmup).ceil().max(1.0);
        StepPlan { steps_per_epoch, total_steps, warmup, sample_weights: mix_weights(fit) }
    }
}

/// The epoch whose weights are kept: its smoothed validation score (the start's raised by
/// the deep margin it must be beaten by), its number, its weights.
pub(super) struct BestEpoch {
    pub(super) score: f64,
    pub(super) epoch: usize,
    pub(super) weights: Weights,
}

/// Where the epoch loop stands: what a checkpoint saves and a resumed run restores.
pub(super) struct EpochLoop {
    pub(super) rng: Rng,
    pub(super) step: usize,
    /// The best epoch so far (epoch 0: the start, the deep heads at zero). The baselines
    /// compete afterwards, per question, on the other half of the validation slice.
    pub(super) best: BestEpoch,
    pub(super) ema: Option<f64>,
    pub(super) start_epoch: usize,
}

impl EpochLoop {
    pub(super) fn new(seed: u64) -> EpochLoop {
        EpochLoop {
            rng: Rng::new(seed),
            step: 0,
            best: BestEpoch { score: f64::NEG_INFINITY, epoch: 0, weights: Vec::new() },
            ema: None,
            start_epoch: 0,
        }
    }

    /// Smooths the epoch's validation score and keeps the weights when it is the best yet.
    pub(super) fn record(&mut self, score: f64, epoch: usize, ema_weight: f64, vs: &nn::VarStore) {
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
pub(super) fn resume_from(
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
pub(super) fn save_checkpoint(
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

/// What makes a checkpoint this model's: the architecture, options, rows and job.
pub(super) fn run_key(
    data: &Dataset,
    rows: &[&Row],
    arch: &RankerSpec,
    opts: &TrainOptions,
    blind: bool,
    job: &str,
) -> String {
    let options = serde_json::to_string(opts).unwrap_or_default();
    let rows_id: String = rows
        .iter()
        .map(|r| {
            let (interest, right_time) = (r.target_class(Head::Interest), r.target_class(Head::RightTime));
            format!("{}:{interest}:{right_time}:{}:{}", r.at.timestamp_millis(), r.media, r.context)
        })
        .collect::<Vec<_>>()
        .join(",");
    let arch_id = match arch {
        RankerSpec::Fast => arch.kind().name().to_string(),
        RankerSpec::Fusion { encoder, finetune, max_length } => {
            format!("{}:{}:{finetune:?}:{max_length}", arch.kind().name(), encoder.display())
        }
    };
    resume::run_key(&[&arch_id, &options, &rows_id, &data.media_model, &blind.to_string(), job])
}

/// Sampling weights that give interest rows and right-time rows half the draws each.
pub(super) fn mix_weights(rows: &[&Row]) -> Vec<f64> {
    let n_interest = rows.iter().filter(|r| r.question == Head::Interest).count() as f64;
    let n_right = rows.len() as f64 - n_interest;
    let cumulative: Vec<f64> = rows
        .iter()
        .map(|r| match (r.question == Head::Interest, n_interest > 0.0 && n_right > 0.0) {
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

pub(super) fn weighted_pick(rng: &mut Rng, cumulative: &[f64]) -> usize {
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

pub(super) fn head_loss(logits: &Tensor, targets: &Tensor, weights: &Tensor) -> Tensor {
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
pub(super) fn schedule(base: f64, step: f64, warmup: f64, total: f64) -> f64 {
    if step < warmup {
        base * (step + 1.0) / warmup
    } else {
        let progress = ((step - warmup) / (total - warmup).max(1.0)).min(1.0);
        base * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// The mean ROC-AUC of the heads that have both classes in the validation slice.
pub(super) fn validation_score(
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
pub(super) type Weights = Vec<(String, Tensor)>;

pub(super) fn snapshot(vs: &nn::VarStore) -> Weights {
    let mut vars: Weights =
        vs.variables().into_iter().filter(|(_, v)| v.requires_grad()).map(|(k, v)| (k, v.detach().copy())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

pub(super) fn restore(vs: &nn::VarStore, weights: &[(String, Tensor)]) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine() {
        let _rng = crate::torch_rng_lock();
        assert!((schedule(1.0, 0.0, 10.0, 100.0) - 0.1).abs() < 1e-12);
        assert!((schedule(1.0, 9.0, 10.0, 100.0) - 1.0).abs() < 1e-12);
        assert!((schedule(1.0, 55.0, 10.0, 100.0) - 0.5).abs() < 1e-12);
        assert!(schedule(1.0, 100.0, 10.0, 100.0) < 1e-12);
    }
}
