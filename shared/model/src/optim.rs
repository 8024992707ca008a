//! AdamW (decoupled weight decay, PyTorch's update) written out over the trainable
//! variables, so that its moments can be saved with a checkpoint and a resumed run
//! continues exactly where it stopped: tch's optimiser keeps its state inside libtorch
//! with no way to read it back.
//!
//! The update runs over runs of consecutive variables flattened together, not variable by
//! variable: the fast model has some sixty small tensors, and a dozen libtorch calls on
//! each per step cost more than its forward pass (9 ms of a 30 ms step on the demo
//! person). The moments live in one flat buffer per optimiser, each variable's slices
//! views into it, so a run's moments are one contiguous slice.

use anyhow::{anyhow, Result};
use std::collections::HashMap;
use tch::{nn, Kind, Tensor};

struct Param {
    name: String,
    var: Tensor,
    group: usize,
    /// An f32 copy of a variable kept in lower precision (bf16 training): the updates
    /// accumulate here, where they are not rounded away, and are copied into the variable.
    master: Option<Tensor>,
    /// Views into [`AdamW::moments`] at `offset`.
    m: Tensor,
    v: Tensor,
    offset: i64,
    numel: i64,
}

/// The most elements one run flattens together: the small variables of the fast model go
/// in one or two runs, an encoder's big matrices each alone (no copy of a whole encoder's
/// gradients at once).
const RUN_ELEMENTS: i64 = 1 << 17;

pub struct AdamW {
    params: Vec<Param>,
    /// Learning rate per group.
    lr: Vec<f64>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    /// Updates done so far (the bias corrections' exponent).
    pub steps: i64,
    /// `(2, total)` f32: the first and second moments of every variable, in `params` order.
    moments: Tensor,
}

impl AdamW {
    /// Over the variables of `vs` that require gradients; `group_of` names each one's
    /// learning-rate group (`groups` of them).
    pub fn new(vs: &nn::VarStore, groups: usize, group_of: impl Fn(&str) -> usize, weight_decay: f64) -> AdamW {
        let mut vars: Vec<(usize, String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, v)| v.requires_grad())
            .map(|(name, var)| (group_of(&name).min(groups - 1), name, var))
            .collect();
        // By group, then name: a group's variables are neighbours in the flat buffer.
        vars.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let total: i64 = vars.iter().map(|(_, _, v)| v.numel() as i64).sum();
        let moments = Tensor::zeros([2, total], (Kind::Float, vs.device()));
        let mut offset = 0;
        let params = vars
            .into_iter()
            .map(|(group, name, var)| {
                let numel = var.numel() as i64;
                let slot = |row: i64| moments.get(row).narrow(0, offset, numel).view(var.size().as_slice());
                let master = (var.kind() != Kind::Float).then(|| var.detach().to_kind(Kind::Float));
                let param = Param { group, master, m: slot(0), v: slot(1), offset, numel, name, var };
                offset += numel;
                param
            })
            .collect();
        AdamW { params, lr: vec![0.0; groups], beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay, steps: 0, moments }
    }

    pub fn set_lr(&mut self, group: usize, lr: f64) {
        self.lr[group] = lr;
    }

    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            let mut g = p.var.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// Scales the gradients so that their global L2 norm is at most `max`; returns the
    /// norm before clipping.
    pub fn clip_grad_norm(&mut self, max: f64) -> f64 {
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self.params.iter().map(|p| p.var.grad()).filter(|g| g.defined()).collect();
            if grads.is_empty() {
                return 0.0;
            }
            let squares: Vec<Tensor> = grads.iter().map(|g| g.to_kind(Kind::Float).square().sum(Kind::Float)).collect();
            let norm = Tensor::stack(&squares, 0).sum(Kind::Float).sqrt().double_value(&[]);
            if norm > max {
                let scale = max / (norm + 1e-6);
                for mut g in grads {
                    let _ = g.g_mul_scalar_(scale);
                }
            }
            norm
        })
    }

    /// One update from the gradients there are (a variable without one is left alone).
    pub fn step(&mut self) {
        self.update(None);
    }

    /// [`AdamW::clip_grad_norm`] then [`AdamW::step`] in one pass over the gradients (they
    /// themselves stay unscaled); returns the norm before clipping.
    pub fn clipped_step(&mut self, max_norm: f64) -> f64 {
        self.update(Some(max_norm))
    }

    fn update(&mut self, max_norm: Option<f64>) -> f64 {
        tch::no_grad(|| {
            let runs = self.runs();
            let grads: Vec<Tensor> = runs.iter().map(|run| self.flat_grads(run)).collect();
            let norm = match (max_norm, grads.is_empty()) {
                (Some(_), false) => {
                    let squares: Vec<Tensor> = grads.iter().map(|g| g.square().sum(Kind::Float)).collect();
                    Tensor::stack(&squares, 0).sum(Kind::Float).sqrt().double_value(&[])
                }
                _ => 0.0,
            };
            let scale = max_norm.filter(|max| norm > *max).map_or(1.0, |max| max / (norm + 1e-6));
            self.steps += 1;
            for (run, g) in runs.iter().zip(grads) {
                let g = if scale == 1.0 { g } else { g * scale };
                self.update_run(run, &g);
            }
            norm
        })
    }

    /// Index ranges of `params` with gradients, each one group and precision and at most
    /// [`RUN_ELEMENTS`] (or a single bigger variable).
    fn runs(&self) -> Vec<std::ops::Range<usize>> {
        let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
        let mut size = 0;
        for (i, p) in self.params.iter().enumerate() {
            if !p.var.grad().defined() {
                continue;
            }
            let joins = runs.last().is_some_and(|r| {
                let last = &self.params[r.end - 1];
                r.end == i
                    && last.group == p.group
                    && last.master.is_none()
                    && p.master.is_none()
                    && size + p.numel <= RUN_ELEMENTS
            });
            if joins {
                runs.last_mut().expect("a run to join").end = i + 1;
                size += p.numel;
            } else {
                runs.push(i..i + 1);
                size = p.numel;
            }
        }
        runs
    }

    /// A run's gradients, flattened in f32.
    fn flat_grads(&self, run: &std::ops::Range<usize>) -> Tensor {
        let parts: Vec<Tensor> =
            self.params[run.clone()].iter().map(|p| p.var.grad().to_kind(Kind::Float).reshape([-1])).collect();
        if parts.len() == 1 {
            parts.into_iter().next().expect("one part")
        } else {
            Tensor::cat(&parts, 0)
        }
    }

    /// PyTorch's AdamW on one run, `g` its flat (clipped) gradients.
    fn update_run(&self, run: &std::ops::Range<usize>, g: &Tensor) {
        let (b1, b2) = (self.beta1, self.beta2);
        let correction1 = 1.0 - b1.powi(self.steps as i32);
        let correction2 = (1.0 - b2.powi(self.steps as i32)).sqrt();
        let params = &self.params[run.clone()];
        let (offset, len) = (params[0].offset, params.iter().map(|p| p.numel).sum::<i64>());
        let mut m = self.moments.get(0).narrow(0, offset, len);
        let mut v = self.moments.get(1).narrow(0, offset, len);
        // In place where libtorch allows: each temporary of a run is a fresh allocation.
        let _ = m.lerp_(g, 1.0 - b1);
        let _ = v.lerp_(&g.square(), 1.0 - b2);
        let lr = self.lr[params[0].group];
        if lr == 0.0 {
            // Neither decay nor a step (and no division by the rate below).
            return;
        }
        // −(lr / c1) · m / (√v / c2 + ε), PyTorch's `addcdiv_(m, denom, value=-step_size)`.
        let mut denom = v.sqrt();
        let _ = denom.g_div_scalar_(correction2);
        let _ = denom.g_add_scalar_(self.eps);
        let _ = denom.g_mul_scalar_(-correction1 / lr);
        // A lone contiguous variable is updated where it lives; a run through a flat copy
        // written back (a master copy for a lower-precision variable).
        let in_place = params.len() == 1 && params[0].master.is_none() && params[0].var.is_contiguous();
        let mut target = match (&params[0].master, in_place) {
            (Some(master), _) => master.view([-1]),
            (None, true) => params[0].var.view([-1]),
            (None, false) => Tensor::cat(&params.iter().map(|p| p.var.reshape([-1])).collect::<Vec<_>>(), 0),
        };
        let _ = target.g_mul_scalar_(1.0 - lr * self.weight_decay);
        let _ = target.addcdiv_(&m, &denom);
        if in_place {
            return;
        }
        let mut at = 0;
        for p in params {
            let mut var = p.var.shallow_clone();
            var.copy_(&target.narrow(0, at, p.numel).view(p.var.size().as_slice()).to_kind(p.var.kind()));
            at += p.numel;
        }
    }

    /// The moments, named `adam.m.<variable>` and `adam.v.<variable>`, and the f32
    /// masters, `adam.master.<variable>`.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for p in &self.params {
            out.push((format!("adam.m.{}", p.name), p.m.shallow_clone()));
            out.push((format!("adam.v.{}", p.name), p.v.shallow_clone()));
            if let Some(master) = &p.master {
                out.push((format!("adam.master.{}", p.name), master.shallow_clone()));
            }
        }
        out
    }

    /// Restores what [`AdamW::state`] saved (and the step count).
    pub fn load_state(&mut self, saved: &HashMap<String, Tensor>, steps: i64) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for p in &mut self.params {
                let mut slots = vec![("m", &mut p.m), ("v", &mut p.v)];
                if let Some(master) = &mut p.master {
                    slots.push(("master", master));
                }
                for (kind, slot) in slots {
                    let key = format!("adam.{kind}.{}", p.name);
                    let t = saved.get(&key).ok_or_else(|| anyhow!("the checkpoint has no `{key}`"))?;
                    slot.copy_(&t.to_device(slot.device()).to_kind(slot.kind()));
                }
            }
            Ok(())
        })?;
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig;
    use tch::Device;

    /// The same updates as libtorch's own AdamW, step for step.
    /// Values from the crate's own generator, not libtorch's: libtorch's is one for the
    /// process, and the tests running beside one draw from it between its two runs.
    fn fixed(shape: &[i64], seed: u64) -> Tensor {
        let mut rng = vrd_core::rng::Rng::new(seed);
        let n = shape.iter().product::<i64>() as usize;
        let v: Vec<f32> = (0..n).map(|_| (rng.uniform() * 2.0 - 1.0) as f32).collect();
        Tensor::from_slice(&v).view(shape)
    }

    /// Sets every variable of `vs` to fixed values (in name order), as a seeded start.
    fn start_fixed(vs: &nn::VarStore, seed: u64) {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        tch::no_grad(|| {
            for (k, (_, v)) in vars.iter_mut().enumerate() {
                v.copy_(&fixed(&v.size(), seed + k as u64));
            }
        });
    }

    #[test]
    fn matches_libtorch_adamw() {
        let _rng = crate::torch_rng_lock();
        let run = |ours: bool| {
            let vs = nn::VarStore::new(Device::Cpu);
            let lin = nn::linear(vs.root() / "l", 4, 3, Default::default());
            start_fixed(&vs, 7);
            let x = fixed(&[8, 4], 70);
            let loss = |l: &nn::Linear| nn::Module::forward(l, &x).square().mean(Kind::Float);
            if ours {
                let mut opt = AdamW::new(&vs, 1, |_| 0, 0.01);
                opt.set_lr(0, 0.05);
                for _ in 0..5 {
                    opt.zero_grad();
                    loss(&lin).backward();
                    opt.step();
                }
            } else {
                let mut opt = nn::AdamW { wd: 0.01, ..Default::default() }.build(&vs, 0.05).unwrap();
                for _ in 0..5 {
                    opt.backward_step(&loss(&lin));
                }
            }
            lin.ws.copy()
        };
        let diff = (run(true) - run(false)).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
    }

    /// Two groups, a variable left without a gradient, clipping: the flat pass equals
    /// clipping then stepping, and leaves the idle variable and its moments alone.
    #[test]
    fn the_clipped_step_is_clipping_then_stepping() {
        let _rng = crate::torch_rng_lock();
        let run = |fused: bool| {
            let vs = nn::VarStore::new(Device::Cpu);
            let a = nn::linear(vs.root() / "a", 5, 4, Default::default());
            let b = nn::linear(vs.root() / "b", 4, 2, Default::default());
            let idle = nn::linear(vs.root() / "idle", 3, 3, Default::default());
            start_fixed(&vs, 11);
            let x = fixed(&[6, 5], 110);
            let mut opt = AdamW::new(&vs, 2, |name| usize::from(name.starts_with("b.")), 0.05);
            opt.set_lr(0, 0.03);
            opt.set_lr(1, 0.2);
            for _ in 0..4 {
                opt.zero_grad();
                (nn::Module::forward(&b, &nn::Module::forward(&a, &x)).square().sum(Kind::Float) * 50.0).backward();
                if fused {
                    opt.clipped_step(0.5);
                } else {
                    opt.clip_grad_norm(0.5);
                    opt.step();
                }
            }
            let moments: f64 = opt
                .state()
                .iter()
                .filter(|(n, _)| n.contains("idle"))
                .map(|(_, t)| t.abs().sum(Kind::Float).double_value(&[]))
                .sum();
            (a.ws.copy(), b.bs.as_ref().unwrap().copy(), idle.ws.copy(), moments)
        };
        let (fused, plain) = (run(true), run(false));
        assert!((&fused.0 - &plain.0).abs().max().double_value(&[]) < 1e-6);
        assert!((&fused.1 - &plain.1).abs().max().double_value(&[]) < 1e-6);
        assert!(fused.2.equal(&plain.2), "no gradient, no weight decay");
        assert_eq!((fused.3, plain.3), (0.0, 0.0));
        let fresh = nn::VarStore::new(Device::Cpu);
        let _ = nn::linear(fresh.root() / "a", 5, 4, Default::default());
        let _ = nn::linear(fresh.root() / "b", 4, 2, Default::default());
        let untouched = nn::linear(fresh.root() / "idle", 3, 3, Default::default());
        start_fixed(&fresh, 11);
        assert!(fused.2.equal(&untouched.ws), "the idle variable kept its initial weights");
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let _rng = crate::torch_rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[3], nn::Init::Const(1.0));
        (&w * 100.0).sum(Kind::Float).backward();
        let mut opt = AdamW::new(&vs, 1, |_| 0, 0.0);
        let before = opt.clip_grad_norm(1.0);
        assert!((before - 100.0 * 3f64.sqrt()).abs() < 1e-3);
        assert!((w.grad().norm().double_value(&[]) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn bf16_variables_learn_through_f32_masters() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(3);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let _ = vs.root().var("w", &[4], nn::Init::Const(1.0));
        vs.bfloat16();
        let w = vs.variables()["w"].shallow_clone();
        assert_eq!(w.kind(), Kind::BFloat16);
        let mut opt = AdamW::new(&vs, 1, |_| 0, 0.0);
        opt.set_lr(0, 1e-4);
        // Steps far below bf16's resolution at 1.0 (2^-7): lost without a master copy.
        for _ in 0..100 {
            opt.zero_grad();
            w.to_kind(Kind::Float).sum(Kind::Float).backward();
            opt.step();
        }
        let master = opt.state().into_iter().find(|(n, _)| n == "adam.master.w").unwrap().1;
        assert!((master.double_value(&[0]) - (1.0 - 100.0 * 1e-4)).abs() < 1e-4, "{master}");
        assert!(w.double_value(&[0]) < 1.0, "the variable follows once the change shows in bf16");
    }
}
