//! The activity-sequence compressor: the app events before a moment, `(B, L, D_text)` text
//! embeddings plus `(B, L, F)` numeric features, into one token of the encoder's width.
//!
//! As the reference (`ResBlock`/`SEBlock`/`AdaLN` of Vrdndi's components.py): numeric
//! features projected and concatenated to the text embeddings, three pre-activation
//! residual blocks (AdaLN → SiLU → Conv1d → Dropout → AdaLN → SiLU → Conv1d → squeeze-
//! excitation gate; a strided 1×1 conv + LayerNorm on the skip path when the shape
//! changes), AdaLN zero-initialised and conditioned on the video's duration z-score, then
//! an average pool. Fixed here: padding is masked everywhere (the reference computed the
//! mask and never used it, so its token depended on how much padding a batch had):
//! padded positions are zeroed before every convolution, the squeeze-excitation and final
//! pools average only real positions, and a sequence with no events at all gives the zero
//! token (the reference fed a zero row, whose token then varied with the duration).

use super::activity::Activity;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Channel widths and kernel sizes of the reference, scaled by the output width.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CompressorConfig {
    /// Width of each event's text embedding.
    pub text_dim: i64,
    /// Project the text embeddings to this width first (the fast model keeps the
    /// convolutions small); `None` uses them as they are (the reference).
    #[serde(default)]
    pub text_proj: Option<i64>,
    /// Numeric features per event.
    pub num_features: i64,
    /// The projected width of the numeric features (the reference: the text width).
    pub num_dim: i64,
    /// Width of the token (the encoder's hidden size, or the fusion width).
    pub out_dim: i64,
    pub dropout: f64,
    /// Buckets of the hashed app and category ids (`vrd_core::context::APP_BUCKETS`).
    pub app_buckets: i64,
    /// Width of the learned app (plus category) embedding beside each event's text: what
    /// the app was says something even when it has no title and a name the text encoder
    /// cannot read.
    pub app_dim: i64,
}

impl CompressorConfig {
    /// The reference's shape for a given text width and token width.
    pub fn new(text_dim: i64, num_features: i64, out_dim: i64, app_buckets: i64) -> CompressorConfig {
        CompressorConfig {
            text_dim,
            text_proj: None,
            num_features,
            num_dim: text_dim,
            out_dim,
            dropout: 0.3,
            app_buckets,
            app_dim: 32,
        }
    }

    /// A small compressor: text projected to `width`, numbers and apps to a quarter of it.
    pub fn small(text_dim: i64, num_features: i64, width: i64, out_dim: i64, app_buckets: i64) -> CompressorConfig {
        CompressorConfig {
            text_dim,
            text_proj: Some(width),
            num_features,
            num_dim: width / 4,
            out_dim,
            dropout: 0.1,
            app_buckets,
            app_dim: width / 4,
        }
    }
}

/// LayerNorm without affine parameters, then a per-sample scale and shift computed from
/// the condition by a zero-initialised linear layer (so it starts as a plain LayerNorm).
#[derive(Debug)]
struct AdaLn {
    width: i64,
    modulation: nn::Linear,
}

impl AdaLn {
    fn new(p: nn::Path, width: i64, cond_dim: i64) -> AdaLn {
        let cfg = nn::LinearConfig { ws_init: nn::Init::Const(0.0), bias: false, ..Default::default() };
        AdaLn { width, modulation: nn::linear(&p / "modulation", cond_dim, 2 * width, cfg) }
    }

    /// `x` is `(B, C, L)`; `cond` `(B, cond_dim)`.
    fn forward(&self, x: &Tensor, cond: &Tensor) -> Tensor {
        let xt = x.transpose(1, 2);
        let normed = xt.layer_norm([self.width], None::<Tensor>, None::<Tensor>, 1e-6, false);
        let mods = self.modulation.forward(&cond.silu()).unsqueeze(1);
        let gamma = mods.narrow(2, 0, self.width);
        let beta = mods.narrow(2, self.width, self.width);
        (normed * (gamma + 1.0) + beta).transpose(1, 2)
    }
}

/// Squeeze-excitation: a per-channel gate from the (masked) mean over length.
#[derive(Debug)]
struct SqueezeExcite {
    down: nn::Linear,
    up: nn::Linear,
}

impl SqueezeExcite {
    fn new(p: nn::Path, width: i64) -> SqueezeExcite {
        let cfg = nn::LinearConfig { bias: false, ..Default::default() };
        let hidden = (width / 16).max(1);
        SqueezeExcite {
            down: nn::linear(&p / "down", width, hidden, cfg),
            up: nn::linear(&p / "up", hidden, width, cfg),
        }
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Tensor {
        let pooled = masked_mean(x, mask);
        let gate = self.up.forward(&self.down.forward(&pooled).relu()).sigmoid();
        x * gate.unsqueeze(2)
    }
}

#[derive(Debug)]
struct ResBlock {
    norm1: AdaLn,
    conv1: nn::Conv1D,
    norm2: AdaLn,
    conv2: nn::Conv1D,
    se: SqueezeExcite,
    skip: Option<(nn::Conv1D, nn::LayerNorm)>,
    kernel: i64,
    stride: i64,
    dropout: f64,
}

impl ResBlock {
    fn new(p: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, dropout: f64) -> ResBlock {
        let pad = (kernel - 1) / 2;
        let conv = |stride, padding| nn::ConvConfig { stride, padding, bias: false, ..Default::default() };
        let skip = (stride > 1 || c_in != c_out).then(|| {
            (
                nn::conv1d(&p / "skip_conv", c_in, c_out, 1, conv(stride, 0)),
                nn::layer_norm(&p / "skip_norm", vec![c_out], Default::default()),
            )
        });
        ResBlock {
            norm1: AdaLn::new(&p / "norm1", c_in, 1),
            conv1: nn::conv1d(&p / "conv1", c_in, c_out, kernel, conv(stride, pad)),
            norm2: AdaLn::new(&p / "norm2", c_out, 1),
            conv2: nn::conv1d(&p / "conv2", c_out, c_out, kernel, conv(1, pad)),
            se: SqueezeExcite::new(&p / "se", c_out),
            skip,
            kernel,
            stride,
            dropout,
        }
    }

    /// `x` `(B, C_in, L)` with padding zeroed, `lengths` `(B,)` real positions; returns the
    /// output with padding zeroed and its lengths.
    fn forward(&self, x: &Tensor, lengths: &Tensor, cond: &Tensor, train: bool) -> (Tensor, Tensor) {
        let pad = (self.kernel - 1) / 2;
        let out_lengths = (lengths + 2 * pad - self.kernel).floor_divide_scalar(self.stride) + 1;
        let out_lengths = out_lengths.clamp_min(0) * lengths.gt(0).to_kind(Kind::Int64);
        let mask_in = length_mask(lengths, x.size()[2], x.kind());
        let h = self.conv1.forward(&(self.norm1.forward(x, cond).silu() * mask_in.unsqueeze(1)));
        let mask_out = length_mask(&out_lengths, h.size()[2], h.kind());
        let h = h.dropout(self.dropout, train);
        let h = self.conv2.forward(&(self.norm2.forward(&h, cond).silu() * mask_out.unsqueeze(1)));
        let h = self.se.forward(&(h * mask_out.unsqueeze(1)), &mask_out);
        let skip = match &self.skip {
            None => x.shallow_clone(),
            Some((conv, norm)) => norm.forward(&conv.forward(x).transpose(1, 2)).transpose(1, 2),
        };
        ((h + skip) * mask_out.unsqueeze(1), out_lengths)
    }
}

/// The whole compressor.
#[derive(Debug)]
pub struct SequenceCompressor {
    text_projector: Option<nn::Linear>,
    num_projector: nn::Linear,
    app_embedding: nn::Embedding,
    blocks: Vec<ResBlock>,
    pub config: CompressorConfig,
}

impl SequenceCompressor {
    pub fn new(p: nn::Path, config: CompressorConfig) -> SequenceCompressor {
        let c_in = config.text_proj.unwrap_or(config.text_dim) + config.num_dim + config.app_dim;
        let out = config.out_dim;
        // The reference goes 768 → 894 → 1024 → 1024: the middle width halfway between.
        let mid = (c_in + out) / 2;
        let blocks = vec![
            ResBlock::new(&p / "block1", c_in, mid, 7, 2, config.dropout),
            ResBlock::new(&p / "block2", mid, out, 5, 2, config.dropout),
            ResBlock::new(&p / "block3", out, out, 3, 1, config.dropout),
        ];
        SequenceCompressor {
            text_projector: config
                .text_proj
                .map(|w| nn::linear(&p / "text_projector", config.text_dim, w, Default::default())),
            num_projector: nn::linear(&p / "num_projector", config.num_features, config.num_dim, Default::default()),
            app_embedding: nn::embedding(
                &p / "app_embedding",
                config.app_buckets.max(1),
                config.app_dim,
                nn::EmbeddingConfig { ws_init: nn::Init::Randn { mean: 0.0, stdev: 0.1 }, ..Default::default() },
            ),
            blocks,
            config,
        }
    }

    /// The activity `(B, L, ·)` (right padded) and `cond` `(B,)` the video's duration
    /// z-score → `(B, out_dim)`.
    ///
    /// Only the windows with events go through the blocks, cut to the longest of them: an
    /// empty window's token is zero and padding never reaches a real position, so the
    /// tokens are those of the whole padded batch, at the cost of the events there are.
    /// That is most of training's time: the demo person's hourly windows hold at most 8 of
    /// the 64 events they are padded to, and half the rows (interest answers) none.
    pub fn forward(&self, activity: &Activity, cond: &Tensor, train: bool) -> Tensor {
        let (batch, kind) = (activity.mask.size()[0], activity.text.kind());
        let lengths = activity.mask.to_kind(Kind::Int64).sum_dim_intlist(1, false, Kind::Int64);
        let with_events = lengths.gt(0).nonzero().squeeze_dim(1);
        let rows = with_events.size()[0];
        let zeros = || Tensor::zeros([batch, self.config.out_dim], (kind, activity.text.device()));
        if rows == 0 {
            return zeros();
        }
        let longest = lengths.max().int64_value(&[]);
        if rows == batch {
            return self.forward_packed(&activity.truncated(longest), cond, train);
        }
        let packed = activity.index_select(&with_events).truncated(longest);
        let tokens = self.forward_packed(&packed, &cond.index_select(0, &with_events), train);
        zeros().index_copy(0, &with_events, &tokens)
    }

    /// [`SequenceCompressor::forward`] on windows that all hold events.
    fn forward_packed(&self, activity: &Activity, cond: &Tensor, train: bool) -> Tensor {
        let (mask, kind) = (&activity.mask, activity.text.kind());
        let mask_f = mask.to_kind(kind);
        let text = match &self.text_projector {
            Some(proj) => proj.forward(&activity.text),
            None => activity.text.shallow_clone(),
        };
        let buckets = self.config.app_buckets.max(1) - 1;
        let apps = self.app_embedding.forward(&activity.app.clamp(0, buckets))
            + self.app_embedding.forward(&activity.category.clamp(0, buckets));
        let features = Tensor::cat(&[text, self.num_projector.forward(&activity.num), apps.to_kind(kind)], 2);
        let mut x = (features * mask_f.unsqueeze(2)).transpose(1, 2);
        let mut lengths = mask.to_kind(Kind::Int64).sum_dim_intlist(1, false, Kind::Int64);
        let cond = cond.to_kind(kind).unsqueeze(1);
        for block in &self.blocks {
            (x, lengths) = block.forward(&x, &lengths, &cond, train);
        }
        let final_mask = length_mask(&lengths, x.size()[2], x.kind());
        masked_mean(&x, &final_mask)
    }
}

/// `(B, L)` 1 where the position is below the sample's length, in `kind` (the
/// activations', so that bf16 stays bf16).
fn length_mask(lengths: &Tensor, len: i64, kind: Kind) -> Tensor {
    let positions = Tensor::arange(len, (Kind::Int64, lengths.device())).unsqueeze(0);
    positions.lt_tensor(&lengths.unsqueeze(1)).to_kind(kind)
}

/// Mean over length of `(B, C, L)` counting only masked-in positions; zero where none.
fn masked_mean(x: &Tensor, mask: &Tensor) -> Tensor {
    let mask = mask.to_kind(x.kind());
    let total = (x * mask.unsqueeze(1)).sum_dim_intlist(2, false, x.kind());
    total / mask.sum_dim_intlist(1, true, x.kind()).clamp_min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// An activity batch of these texts and numbers, every event of app bucket 3.
    fn activity(text: Tensor, num: Tensor, mask: Tensor) -> Activity {
        let (b, l) = (mask.size()[0], mask.size()[1]);
        Activity {
            text,
            num,
            app: Tensor::full([b, l], 3, (Kind::Int64, Device::Cpu)),
            category: Tensor::full([b, l], 5, (Kind::Int64, Device::Cpu)),
            seconds: Tensor::full([b, l], 60.0, (Kind::Float, Device::Cpu)),
            mask,
        }
    }

    fn compressor() -> (nn::VarStore, SequenceCompressor) {
        tch::manual_seed(7);
        let vs = nn::VarStore::new(Device::Cpu);
        let c = SequenceCompressor::new(vs.root() / "compressor", CompressorConfig::new(16, 5, 24, 8));
        (vs, c)
    }

    #[test]
    fn padding_does_not_change_the_token() {
        let _rng = crate::torch_rng_lock();
        let (_vs, c) = compressor();
        let text = Tensor::randn([1, 9, 16], (Kind::Float, Device::Cpu));
        let num = Tensor::randn([1, 9, 5], (Kind::Float, Device::Cpu));
        let cond = Tensor::from_slice(&[0.7f32]);
        let ones = Tensor::ones([1, 9], (Kind::Int64, Device::Cpu));
        let alone = c.forward(&activity(text.shallow_clone(), num.shallow_clone(), ones), &cond, false);
        // The same sequence right-padded to 20 with garbage, in a batch with another one.
        let pad_text = Tensor::cat(&[text, Tensor::randn([1, 11, 16], (Kind::Float, Device::Cpu)) * 50.0], 1);
        let pad_num = Tensor::cat(&[num, Tensor::randn([1, 11, 5], (Kind::Float, Device::Cpu)) * 50.0], 1);
        let other_text = Tensor::randn([1, 20, 16], (Kind::Float, Device::Cpu));
        let other_num = Tensor::randn([1, 20, 5], (Kind::Float, Device::Cpu));
        let mask = Tensor::cat(
            &[
                Tensor::cat(
                    &[
                        Tensor::ones([1, 9], (Kind::Int64, Device::Cpu)),
                        Tensor::zeros([1, 11], (Kind::Int64, Device::Cpu)),
                    ],
                    1,
                ),
                Tensor::ones([1, 20], (Kind::Int64, Device::Cpu)),
            ],
            0,
        );
        let batch = c.forward(
            &activity(Tensor::cat(&[pad_text, other_text], 0), Tensor::cat(&[pad_num, other_num], 0), mask),
            &Tensor::from_slice(&[0.7f32, -1.0]),
            false,
        );
        let diff = (batch.get(0) - alone.get(0)).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "padding changed the token by {diff}");
        assert_eq!(batch.size(), [2, 24]);
    }

    #[test]
    fn empty_windows_in_a_batch_give_zero_tokens_and_change_no_other() {
        let _rng = crate::torch_rng_lock();
        let (_vs, c) = compressor();
        let f = (Kind::Float, Device::Cpu);
        let (text, num) = (Tensor::randn([3, 12, 16], f), Tensor::randn([3, 12, 5], f));
        // Lengths 5, 0 and 3 of 12: only two windows run, cut to 5 positions.
        let mask = Tensor::from_slice2(&[[1i64; 12], [0; 12], [1; 12]])
            * Tensor::arange(12, (Kind::Int64, Device::Cpu)).lt_tensor(&Tensor::from_slice(&[5i64, 0, 3]).unsqueeze(1));
        let cond = Tensor::from_slice(&[0.3f32, -0.2, 1.1]);
        let batch = c.forward(&activity(text.shallow_clone(), num.shallow_clone(), mask.shallow_clone()), &cond, false);
        assert_eq!(batch.size(), [3, 24]);
        assert_eq!(batch.get(1).abs().max().double_value(&[]), 0.0, "the empty window's token is zero");
        for row in [0i64, 2] {
            let pick = |t: &Tensor| t.narrow(0, row, 1);
            let alone = c.forward(&activity(pick(&text), pick(&num), pick(&mask)), &pick(&cond), false);
            let diff = (batch.get(row) - alone.get(0)).abs().max().double_value(&[]);
            assert!(diff < 1e-5, "row {row} changed by {diff} in company");
        }
        // Gradients reach the compressor through the rows that ran.
        let text = text.set_requires_grad(true);
        c.forward(&activity(text.shallow_clone(), num, mask), &cond, true).sum(Kind::Float).backward();
        let g = text.grad();
        assert!(g.get(0).abs().sum(Kind::Float).double_value(&[]) > 0.0);
        assert_eq!(g.get(1).abs().sum(Kind::Float).double_value(&[]), 0.0);
    }

    fn run(c: &SequenceCompressor, mask: &Tensor, cond: f32) -> Tensor {
        tch::manual_seed(1);
        let len = mask.size()[1];
        c.forward(
            &activity(
                Tensor::randn([1, len, 16], (Kind::Float, Device::Cpu)),
                Tensor::randn([1, len, 5], (Kind::Float, Device::Cpu)),
                mask.shallow_clone(),
            ),
            &Tensor::from_slice(&[cond]),
            false,
        )
    }

    #[test]
    fn no_events_give_the_zero_token_and_adaln_starts_neutral() {
        let _rng = crate::torch_rng_lock();
        let (_vs, c) = compressor();
        let empty = run(&c, &Tensor::zeros([1, 4], (Kind::Int64, Device::Cpu)), 0.5);
        assert_eq!(empty.abs().max().double_value(&[]), 0.0);
        // Zero-initialised modulation: the condition changes nothing until trained.
        let ones = Tensor::ones([1, 6], (Kind::Int64, Device::Cpu));
        assert!((run(&c, &ones, 1.0) - run(&c, &ones, -1.0)).abs().max().double_value(&[]) < 1e-7);
    }

    #[test]
    fn the_condition_matters_once_adaln_has_learnt() {
        let _rng = crate::torch_rng_lock();
        let (vs, c) = compressor();
        for (name, t) in vs.variables() {
            if name.contains("modulation") {
                tch::no_grad(|| t.shallow_clone().copy_(&(t.randn_like() * 0.5)));
            }
        }
        let ones = Tensor::ones([1, 6], (Kind::Int64, Device::Cpu));
        assert!((run(&c, &ones, 1.0) - run(&c, &ones, -1.0)).abs().max().double_value(&[]) > 1e-3);
    }
}
