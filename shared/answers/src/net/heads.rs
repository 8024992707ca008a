//! The two questions the model answers about a (video, moment) pair, as in the reference:
//! interest (SwiGLU to 256 with a hidden width of 512, dropout, linear to 2 logits) and
//! right-time (linear to 256, ReLU, dropout, linear to 2 logits).

use tch::nn::{self, Module};
use tch::Tensor;
use vrd_model::linear::zero_init;

pub const HEAD_WIDTH: i64 = 256;

/// SwiGLU: one bias-free projection split into a gate and a value, `silu(gate) * value`,
/// projected down (Shazeer 2020).
#[derive(Debug)]
struct SwiGlu {
    gate_value: nn::Linear,
    down: nn::Linear,
    hidden: i64,
}

impl SwiGlu {
    fn new(p: nn::Path, in_dim: i64, out_dim: i64) -> SwiGlu {
        let hidden = 2 * out_dim;
        let cfg = nn::LinearConfig { bias: false, ..Default::default() };
        SwiGlu {
            gate_value: nn::linear(&p / "gate_value", in_dim, 2 * hidden, cfg),
            down: nn::linear(&p / "down", hidden, out_dim, cfg),
            hidden,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let gv = self.gate_value.forward(x);
        let gate = gv.narrow(-1, 0, self.hidden);
        let value = gv.narrow(-1, self.hidden, self.hidden);
        self.down.forward(&(gate.silu() * value))
    }
}

#[derive(Debug)]
pub struct Heads {
    interest_in: SwiGlu,
    interest_out: nn::Linear,
    right_time_in: nn::Linear,
    right_time_out: nn::Linear,
    dropout: f64,
}

/// Logits `(B, 2)` per question; class 1 is the positive answer (interest, right time).
pub struct HeadLogits {
    pub interest: Tensor,
    pub right_time: Tensor,
}

impl HeadLogits {
    /// One head's logit margins `logit₁ − logit₀` per row, on the host: what calibration
    /// and thresholds work on.
    pub fn margins(logits: &Tensor) -> Vec<f64> {
        let m = (logits.select(1, 1) - logits.select(1, 0)).to_kind(tch::Kind::Double).to_device(tch::Device::Cpu);
        Vec::<f64>::try_from(&m).unwrap_or_default()
    }
}

impl Heads {
    pub fn new(p: nn::Path, in_dim: i64, dropout: f64) -> Heads {
        Heads::with_output_init(p, in_dim, dropout, Default::default())
    }

    /// Heads whose output layers start at zero: beside a linear path, the model starts as
    /// that linear model and the deep part has to earn its weight.
    pub fn zero_output(p: nn::Path, in_dim: i64, dropout: f64) -> Heads {
        Heads::with_output_init(p, in_dim, dropout, zero_init())
    }

    fn with_output_init(p: nn::Path, in_dim: i64, dropout: f64, out: nn::LinearConfig) -> Heads {
        Heads {
            interest_in: SwiGlu::new(&p / "interest" / "swiglu", in_dim, HEAD_WIDTH),
            interest_out: nn::linear(&p / "interest" / "out", HEAD_WIDTH, 2, out),
            right_time_in: nn::linear(&p / "right_time" / "hidden", in_dim, HEAD_WIDTH, Default::default()),
            right_time_out: nn::linear(&p / "right_time" / "out", HEAD_WIDTH, 2, out),
            dropout,
        }
    }

    pub fn forward(&self, x: &Tensor, train: bool) -> HeadLogits {
        let interest = self.interest_out.forward(&self.interest_in.forward(x).dropout(self.dropout, train));
        let right_time =
            self.right_time_out.forward(&self.right_time_in.forward(x).relu().dropout(self.dropout, train));
        HeadLogits { interest, right_time }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn shapes_and_parameter_names() {
        let vs = nn::VarStore::new(Device::Cpu);
        let heads = Heads::new(vs.root() / "heads", 32, 0.1);
        let out = heads.forward(&Tensor::randn([3, 32], (Kind::Float, Device::Cpu)), false);
        assert_eq!((out.interest.size(), out.right_time.size()), (vec![3, 2], vec![3, 2]));
        let mut names: Vec<String> = vs.variables().into_keys().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "heads.interest.out.bias",
                "heads.interest.out.weight",
                "heads.interest.swiglu.down.weight",
                "heads.interest.swiglu.gate_value.weight",
                "heads.right_time.hidden.bias",
                "heads.right_time.hidden.weight",
                "heads.right_time.out.bias",
                "heads.right_time.out.weight",
            ]
        );
        assert_eq!(vs.variables()["heads.interest.swiglu.gate_value.weight"].size(), [1024, 32], "hidden 512 × 2");
    }
}
