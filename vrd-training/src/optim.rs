//! AdamW (decoupled weight decay, PyTorch's update) written out over the trainable
//! variables, so that its moments can be saved with a checkpoint and a resumed run
//! continues exactly where it stopped: tch's optimiser keeps its state inside libtorch
//! with no way to read it back.

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
    m: Tensor,
    v: Tensor,
}

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
}

impl AdamW {
    /// Over the variables of `vs` that require gradients; `group_of` names each one's
    /// learning-rate group (`groups` of them).
    pub fn new(vs: &nn::VarStore, groups: usize, group_of: impl Fn(&str) -> usize, weight_decay: f64) -> AdamW {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, v)| v.requires_grad()).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let params = vars
            .into_iter()
            .map(|(name, var)| {
                let master = (var.kind() != Kind::Float).then(|| var.detach().to_kind(Kind::Float));
                let zeros = || var.detach().to_kind(Kind::Float).zeros_like();
                Param { group: group_of(&name).min(groups - 1), master, m: zeros(), v: zeros(), name, var }
            })
            .collect();
        AdamW { params, lr: vec![0.0; groups], beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay, steps: 0 }
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

    pub fn step(&mut self) {
        self.steps += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let correction1 = 1.0 - b1.powi(self.steps as i32);
        let correction2 = (1.0 - b2.powi(self.steps as i32)).sqrt();
        tch::no_grad(|| {
            for p in &mut self.params {
                let g = p.var.grad();
                if !g.defined() {
                    continue;
                }
                let g = g.to_kind(Kind::Float);
                let lr = self.lr[p.group];
                let mut target = p.master.as_ref().unwrap_or(&p.var).shallow_clone();
                let _ = target.g_mul_scalar_(1.0 - lr * self.weight_decay);
                let _ = p.m.g_mul_scalar_(b1);
                let _ = p.m.g_add_(&(&g * (1.0 - b1)));
                let _ = p.v.g_mul_scalar_(b2);
                let _ = p.v.g_add_(&(g.square() * (1.0 - b2)));
                let denom = p.v.sqrt() / correction2 + self.eps;
                let _ = target.g_sub_(&(&p.m / denom * (lr / correction1)));
                if let Some(master) = &p.master {
                    p.var.copy_(&master.to_kind(p.var.kind()));
                }
            }
        });
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
    #[test]
    fn matches_libtorch_adamw() {
        let run = |ours: bool| {
            tch::manual_seed(7);
            let vs = nn::VarStore::new(Device::Cpu);
            let lin = nn::linear(vs.root() / "l", 4, 3, Default::default());
            let x = Tensor::randn([8, 4], (Kind::Float, Device::Cpu));
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

    #[test]
    fn clipping_bounds_the_global_norm() {
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
