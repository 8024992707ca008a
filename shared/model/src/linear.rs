//! A dense layer under HF's names (`weight`, `bias`) with a faster CPU inference path.
//!
//! libtorch's CPU f32 matmul goes to MKL, which on AMD processors takes a slower code path;
//! oneDNN (also inside libtorch) runs the same f32 products up to about twice as fast there
//! (BENCHMARKS.md). At inference, on CPU, in f32, with frozen weights, the layer therefore
//! goes through oneDNN with its weights converted once. Training, other devices and other
//! dtypes use the ordinary path. [`set_cpu_matmul`] chooses MKL instead for the process
//! (the tools' `--cpu-matmul mkl`).
//!
//! With LoRA (Hu et al. 2021) the layer also carries a low-rank update `B·A` (rank r,
//! scaled by alpha/r, dropout on its input; A random, B zero so training starts from the
//! base model): `y = W x + b + (alpha/r) · B A dropout(x)`. Its weights are named
//! `lora_a`/`lora_b` under the layer and are the only trainable part when the base is
//! frozen.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// LoRA's shape: rank, alpha, dropout (the reference: 8, 16, 0.1 on every linear layer).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LoraConfig {
    pub rank: i64,
    pub alpha: f64,
    pub dropout: f64,
}

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig { rank: 8, alpha: 16.0, dropout: 0.1 }
    }
}

struct Lora {
    a: Tensor,
    b: Tensor,
    scale: f64,
    dropout: f64,
}

pub struct Linear {
    inner: nn::Linear,
    lora: Option<Lora>,
    /// Weight and bias in oneDNN's layout, made on first use. Only built from frozen
    /// weights, which cannot change afterwards.
    onednn: OnceCell<(Tensor, Option<Tensor>)>,
}

impl Linear {
    pub fn new(p: nn::Path, in_dim: i64, out_dim: i64) -> Linear {
        Self::with_lora(p, in_dim, out_dim, None)
    }

    pub fn with_lora(p: nn::Path, in_dim: i64, out_dim: i64, lora: Option<LoraConfig>) -> Linear {
        let lora = lora.map(|c| Lora {
            a: p.var("lora_a", &[c.rank, in_dim], nn::Init::Randn { mean: 0.0, stdev: 1.0 / (in_dim as f64).sqrt() }),
            b: p.zeros("lora_b", &[out_dim, c.rank]),
            scale: c.alpha / c.rank as f64,
            dropout: c.dropout,
        });
        Linear { inner: nn::linear(p, in_dim, out_dim, Default::default()), lora, onednn: OnceCell::new() }
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let base = self.base_forward(x, train);
        match &self.lora {
            None => base,
            Some(l) => base + x.dropout(l.dropout, train).matmul(&l.a.tr()).matmul(&l.b.tr()) * l.scale,
        }
    }

    fn base_forward(&self, x: &Tensor, train: bool) -> Tensor {
        if !train && self.onednn_applies(x) {
            let (w, b) =
                self.onednn.get_or_init(|| (self.inner.ws.to_mkldnn(), self.inner.bs.as_ref().map(|b| b.to_mkldnn())));
            let mut out_shape = x.size();
            let in_dim = *out_shape.last().expect("a linear input has a feature dimension");
            *out_shape.last_mut().unwrap() = w.size()[0];
            let x2 = x.reshape([-1, in_dim]).contiguous().to_mkldnn();
            return x2.mkldnn_linear(w, b.as_ref()).to_dense(None, false).view(out_shape.as_slice());
        }
        self.inner.forward(x)
    }

    fn onednn_applies(&self, x: &Tensor) -> bool {
        x.device() == Device::Cpu
            && x.kind() == Kind::Float
            && self.inner.ws.kind() == Kind::Float
            && !self.inner.ws.requires_grad()
            && !x.requires_grad()
            && onednn_enabled()
    }
}

/// How frozen f32 layers multiply on the CPU at inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMatmul {
    /// oneDNN where libtorch has it (the default).
    OneDnn,
    /// libtorch's ordinary path (MKL).
    Mkl,
}

impl vrd_core::choice::Named for CpuMatmul {
    const ALL: &'static [vrd_core::choice::Choice<Self>] = &[
        vrd_core::choice::Choice { value: CpuMatmul::OneDnn, name: "onednn", aliases: &[], help: "" },
        vrd_core::choice::Choice { value: CpuMatmul::Mkl, name: "mkl", aliases: &[], help: "" },
    ];
}

static ONEDNN_CHOSEN: AtomicBool = AtomicBool::new(true);

/// Chooses the CPU matmul path for every layer of this process: a process-wide choice, like
/// libtorch's thread count, made once by the tool before its model runs.
pub fn set_cpu_matmul(choice: CpuMatmul) {
    ONEDNN_CHOSEN.store(choice == CpuMatmul::OneDnn, Ordering::Relaxed);
}

fn onednn_enabled() -> bool {
    thread_local! {
        static AVAILABLE: bool = tch::utils::has_mkldnn();
    }
    ONEDNN_CHOSEN.load(Ordering::Relaxed) && AVAILABLE.with(|a| *a)
}

/// A linear layer that starts at zero, weights and bias: a path that adds nothing until
/// trained (or set).
pub fn zero_init() -> nn::LinearConfig {
    nn::LinearConfig { ws_init: nn::Init::Const(0.0), bs_init: Some(nn::Init::Const(0.0)), bias: true }
}
