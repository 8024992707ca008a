//! A dense layer under HF's names (`weight`, `bias`) with a faster CPU inference path.
//!
//! libtorch's CPU f32 matmul goes to MKL, which on AMD processors takes a slower code path;
//! oneDNN (also inside libtorch) runs the same f32 products up to about twice as fast there
//! (BENCHMARKS.md). At inference, on CPU, in f32, with frozen weights, the layer therefore
//! goes through oneDNN with its weights converted once. Training, other devices and other
//! dtypes use the ordinary path. `VRD_CPU_MATMUL=mkl` turns the oneDNN path off.

use std::cell::OnceCell;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

pub struct Linear {
    inner: nn::Linear,
    /// Weight and bias in oneDNN's layout, made on first use. Only built from frozen
    /// weights, which cannot change afterwards.
    onednn: OnceCell<(Tensor, Option<Tensor>)>,
}

impl Linear {
    pub fn new(p: nn::Path, in_dim: i64, out_dim: i64) -> Linear {
        Linear { inner: nn::linear(p, in_dim, out_dim, Default::default()), onednn: OnceCell::new() }
    }

    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
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

fn onednn_enabled() -> bool {
    thread_local! {
        static ENABLED: bool = std::env::var("VRD_CPU_MATMUL").map(|v| v != "mkl").unwrap_or(true)
            && tch::utils::has_mkldnn();
    }
    ENABLED.with(|e| *e)
}
