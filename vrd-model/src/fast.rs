//! The fast architecture (the reference author's proposed redesign): the video's cached
//! embedding (from vrd-encode media) and the compressed activity token, joined by a small
//! fusion MLP, into the same two heads. No transformer runs at training or ranking time,
//! so it trains in minutes on a CPU and scores thousands of videos in milliseconds.

use crate::compressor::{CompressorConfig, SequenceCompressor};
use crate::heads::{HeadLogits, Heads};
use tch::nn::{self, Module};
use tch::Tensor;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FastConfig {
    /// Width of the cached media embeddings.
    pub media_dim: i64,
    pub compressor: CompressorConfig,
    /// Width of the fused representation the heads read.
    pub hidden: i64,
    pub dropout: f64,
}

impl FastConfig {
    /// Activity events embedded at `context_dim` with `num_features` numbers each.
    pub fn new(media_dim: i64, context_dim: i64, num_features: i64) -> FastConfig {
        let compressor = CompressorConfig::small(context_dim, num_features, 64, 96);
        FastConfig { media_dim, compressor, hidden: 256, dropout: 0.1 }
    }
}

/// One batch of inputs. `context_*` are vrd-encode context's tensors for each row's moment.
pub struct FastInput<'a> {
    pub media: &'a Tensor,
    pub context_text: &'a Tensor,
    pub context_num: &'a Tensor,
    pub context_mask: &'a Tensor,
    /// The video's duration z-score, `(B,)` (the compressor's condition).
    pub duration_z: &'a Tensor,
}

#[derive(Debug)]
pub struct FastModel {
    compressor: SequenceCompressor,
    fuse_in: nn::Linear,
    fuse_norm: nn::LayerNorm,
    fuse_out: nn::Linear,
    heads: Heads,
    pub config: FastConfig,
}

impl FastModel {
    pub fn new(p: nn::Path, config: FastConfig) -> FastModel {
        let token = config.compressor.out_dim;
        FastModel {
            compressor: SequenceCompressor::new(&p / "compressor", config.compressor),
            // The media vector, the token, and their duration condition side by side.
            fuse_in: nn::linear(&p / "fuse_in", config.media_dim + token + 1, config.hidden, Default::default()),
            fuse_norm: nn::layer_norm(&p / "fuse_norm", vec![config.hidden], Default::default()),
            fuse_out: nn::linear(&p / "fuse_out", config.hidden, config.hidden, Default::default()),
            heads: Heads::new(&p / "heads", config.hidden, config.dropout),
            config,
        }
    }

    /// The compressed activity token `(B, token)`.
    pub fn context_token(&self, input: &FastInput, train: bool) -> Tensor {
        self.compressor.forward(input.context_text, input.context_num, input.context_mask, input.duration_z, train)
    }

    /// With `context_blind`, the activity token is zeroed: the baseline that shows what
    /// the context is worth.
    pub fn forward(&self, input: &FastInput, train: bool, context_blind: bool) -> HeadLogits {
        let token = self.context_token(input, train);
        let token = if context_blind { token.zeros_like() } else { token };
        self.forward_with_token(input.media, &token, input.duration_z, train)
    }

    /// The heads for given tokens: ranking computes the token of "now" once and reuses it
    /// for every candidate.
    pub fn forward_with_token(&self, media: &Tensor, token: &Tensor, duration_z: &Tensor, train: bool) -> HeadLogits {
        let joined = Tensor::cat(&[media.shallow_clone(), token.shallow_clone(), duration_z.unsqueeze(1)], 1);
        let h = self.fuse_norm.forward(&self.fuse_in.forward(&joined)).gelu("none").dropout(self.config.dropout, train);
        let h = &h + self.fuse_out.forward(&h).gelu("none").dropout(self.config.dropout, train);
        self.heads.forward(&h, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn the_context_blind_model_ignores_the_activity() {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = FastModel::new(vs.root(), FastConfig::new(12, 8, 5));
        let opts = (Kind::Float, Device::Cpu);
        let media = Tensor::randn([2, 12], opts);
        let dz = Tensor::randn([2], opts);
        let mask = Tensor::ones([2, 6], (Kind::Int64, Device::Cpu));
        let (t1, n1) = (Tensor::randn([2, 6, 8], opts), Tensor::randn([2, 6, 5], opts));
        let (t2, n2) = (Tensor::randn([2, 6, 8], opts), Tensor::randn([2, 6, 5], opts));
        let run = |t: &Tensor, n: &Tensor, blind: bool| {
            let input =
                FastInput { media: &media, context_text: t, context_num: n, context_mask: &mask, duration_z: &dz };
            model.forward(&input, false, blind).right_time
        };
        assert!((run(&t1, &n1, false) - run(&t2, &n2, false)).abs().max().double_value(&[]) > 1e-4);
        assert!((run(&t1, &n1, true) - run(&t2, &n2, true)).abs().max().double_value(&[]) < 1e-7);
    }
}
