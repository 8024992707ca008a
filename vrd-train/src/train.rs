//! Training either architecture on a set of rows: a fit part and, carved from its end
//! with an embargo gap, a validation slice that picks the best epoch (on a real
//! exponential moving average of the validation score), the decision thresholds and the
//! probability calibration. Nothing here ever sees a test fold.

use crate::data::{Dataset, DurationScale, Row, IGNORE};
use crate::metrics;
use crate::net::{Arch, Net};
use crate::optim::AdamW;
use crate::resume::{self, with_prefix, Checkpoints, LoopState};
use crate::simulate::Rng;
use anyhow::{anyhow, Result};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};
use vrd_model::heads::HeadLogits;
use vrd_model::saved::Calibration;

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

/// Platt scaling fitted by Newton's method on the log loss (with Platt's smoothed
/// targets), on validation margins.
pub fn fit_calibration(margins: &[f64], labels: &[bool]) -> Calibration {
    let pos = labels.iter().filter(|y| **y).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Calibration::IDENTITY;
    }
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..50 {
        let (mut g_a, mut g_b, mut h_aa, mut h_ab, mut h_bb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (m, &y) in margins.iter().zip(labels) {
            let t = if y { hi } else { lo };
            let p = 1.0 / (1.0 + (-(a * m + b)).exp());
            let (d, w) = (p - t, p * (1.0 - p));
            g_a += d * m;
            g_b += d;
            h_aa += w * m * m;
            h_ab += w * m;
            h_bb += w;
        }
        let det = h_aa * h_bb - h_ab * h_ab;
        if det.abs() < 1e-12 {
            break;
        }
        let (da, db) = ((h_bb * g_a - h_ab * g_b) / det, (h_aa * g_b - h_ab * g_a) / det);
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-10 {
            break;
        }
    }
    // A slope at or below zero says the validation slice is too small or noisy to
    // calibrate on; flipping the model's ranking would be worse than not calibrating.
    if a > 0.0 && a.is_finite() && b.is_finite() {
        Calibration { a, b }
    } else {
        Calibration::IDENTITY
    }
}

/// A trained model with what it needs to be used.
pub struct Trained {
    pub vs: nn::VarStore,
    pub model: Net,
    pub scale: DurationScale,
    pub thresholds: [f64; 2],
    pub calibration: [Calibration; 2],
    pub best_epoch: usize,
    pub context_blind: bool,
}

/// Raw logit margins per head (`logit₁ − logit₀`).
pub struct Margins {
    pub interest: Vec<f64>,
    pub right_time: Vec<f64>,
}

impl Trained {
    pub fn margins(&self, data: &Dataset, rows: &[&Row]) -> Margins {
        margins(&self.model, data, rows, &self.scale, (self.vs.device(), self.vs.kind()), self.context_blind)
    }

    /// Calibrated probabilities per head.
    pub fn probabilities(&self, data: &Dataset, rows: &[&Row]) -> [Vec<f64>; 2] {
        let m = self.margins(data, rows);
        [
            m.interest.iter().map(|x| self.calibration[0].apply(*x)).collect(),
            m.right_time.iter().map(|x| self.calibration[1].apply(*x)).collect(),
        ]
    }
}

fn margins(
    model: &Net,
    data: &Dataset,
    rows: &[&Row],
    scale: &DurationScale,
    (device, kind): (Device, Kind),
    context_blind: bool,
) -> Margins {
    let mut out = Margins { interest: Vec::new(), right_time: Vec::new() };
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

/// Splits time-ordered rows into a fit part and a later validation slice, with no row of
/// the fit part within `embargo` before the first validation row.
pub fn carve_validation<'a>(rows: &[&'a Row], share: f64, embargo: chrono::Duration) -> (Vec<&'a Row>, Vec<&'a Row>) {
    let n_val = ((rows.len() as f64) * share).round() as usize;
    let start = rows.len().saturating_sub(n_val.max(1));
    let val: Vec<&Row> = rows[start..].to_vec();
    let cutoff = val.first().map(|r| r.at - embargo);
    let fit: Vec<&Row> = rows[..start].iter().copied().filter(|r| cutoff.is_none_or(|c| r.at < c)).collect();
    (fit, val)
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
    let scale = DurationScale::fit(&fit);
    let weights = |f: fn(&Row) -> i64| {
        let w = class_weights(&fit.iter().map(|r| f(r)).collect::<Vec<_>>());
        Tensor::from_slice(&[w[0] as f32, w[1] as f32]).to_device(device)
    };
    let (w_interest, w_right) = (weights(|r| r.interest), weights(|r| r.right_time));

    tch::manual_seed(opts.seed as i64);
    let mut vs = nn::VarStore::new(device);
    let model = Net::build(arch, &vs, data)?;
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
    let mut best: Option<(f64, usize, Weights)> = None;
    let mut ema: Option<f64> = None;
    let mut start_epoch = 0;
    let key = checkpoint.map(|(_, job)| run_key(data, rows, arch, opts, context_blind, job));
    if let (Some((checkpoints, job)), Some(key)) = (checkpoint, &key) {
        if let Some((state, saved)) = checkpoints.load(job, key)? {
            restore(&vs, &with_prefix(&saved, "model."))?;
            opt.load_state(&saved, state.steps as i64)?;
            let best_weights: Weights = with_prefix(&saved, "best.");
            best = Some((state.best_score, state.best_epoch, best_weights));
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
        let score = validation_score(&model, data, &val, &scale, (device, kind), context_blind);
        let smoothed = match ema {
            None => score,
            Some(prev) => opts.ema * prev + (1.0 - opts.ema) * score,
        };
        ema = Some(smoothed);
        if best.as_ref().is_none_or(|(s, _, _)| smoothed > *s) {
            best = Some((smoothed, epoch, snapshot(&vs)));
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
        if let (Some((checkpoints, job)), Some(key), Some((best_score, best_epoch, best_weights))) =
            (checkpoint.filter(|(c, _)| due(c)), &key, &best)
        {
            let state = LoopState {
                run_key: key.clone(),
                epochs_done: epoch + 1,
                steps: step,
                sampler: rng.state(),
                ema,
                best_score: *best_score,
                best_epoch: *best_epoch,
                weights: String::new(),
            };
            let mut tensors: Vec<(String, Tensor)> =
                snapshot(&vs).into_iter().map(|(n, t)| (format!("model.{n}"), t)).collect();
            tensors.extend(best_weights.iter().map(|(n, t)| (format!("best.{n}"), t.shallow_clone())));
            tensors.extend(opt.state());
            checkpoints.save(job, state, &tensors)?;
            last_save = std::time::Instant::now();
        }
    }
    let (_, best_epoch, weights_at_best) = best.expect("at least one epoch");
    restore(&vs, &weights_at_best)?;
    // What is calibrated, evaluated and saved is the f32 model ranking will run.
    vs.float();
    let kind = Kind::Float;

    let val_margins = margins(&model, data, &val, &scale, (device, kind), context_blind);
    let pick = |m: &[f64], f: fn(&Row) -> i64| -> (Vec<f64>, Vec<bool>) {
        m.iter().zip(&val).filter(|(_, r)| f(r) != IGNORE).map(|(x, r)| (*x, f(r) == 1)).unzip()
    };
    let (mi, yi) = pick(&val_margins.interest, |r| r.interest);
    let (mr, yr) = pick(&val_margins.right_time, |r| r.right_time);
    let calibration = [fit_calibration(&mi, &yi), fit_calibration(&mr, &yr)];
    let thresholds = [
        metrics::best_threshold(&mi.iter().map(|x| calibration[0].apply(*x)).collect::<Vec<_>>(), &yi),
        metrics::best_threshold(&mr.iter().map(|x| calibration[1].apply(*x)).collect::<Vec<_>>(), &yr),
    ];
    Ok(Trained { vs, model, scale, thresholds, calibration, best_epoch, context_blind })
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
    let mut aucs = Vec::new();
    for (margins, f) in
        [(&m.interest, (|r: &Row| r.interest) as fn(&Row) -> i64), (&m.right_time, |r: &Row| r.right_time)]
    {
        let (x, y): (Vec<f64>, Vec<bool>) =
            margins.iter().zip(val).filter(|(_, r)| f(r) != IGNORE).map(|(x, r)| (*x, f(r) == 1)).unzip();
        if y.iter().any(|v| *v) && y.iter().any(|v| !*v) {
            aucs.push(metrics::roc_auc(&x, &y));
        }
    }
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
    fn platt_scaling_recovers_a_known_slope() {
        // Labels drawn from p = sigmoid(2m - 1).
        let mut rng = Rng::new(5);
        let mut m = Vec::new();
        let mut y = Vec::new();
        for _ in 0..4000 {
            let x = rng.uniform() * 6.0 - 3.0;
            m.push(x);
            y.push(rng.uniform() < 1.0 / (1.0 + (-(2.0 * x - 1.0)).exp()));
        }
        let c = fit_calibration(&m, &y);
        assert!((c.a - 2.0).abs() < 0.25 && (c.b + 1.0).abs() < 0.2, "{c:?}");
    }

    #[test]
    fn warmup_then_cosine() {
        assert!((schedule(1.0, 0.0, 10.0, 100.0) - 0.1).abs() < 1e-12);
        assert!((schedule(1.0, 9.0, 10.0, 100.0) - 1.0).abs() < 1e-12);
        assert!((schedule(1.0, 55.0, 10.0, 100.0) - 0.5).abs() < 1e-12);
        assert!(schedule(1.0, 100.0, 10.0, 100.0) < 1e-12);
    }
}
