//! The fast architecture (the reference author's proposed redesign): the video's cached
//! embedding (from vrd-encode media), the compressed activity token and the window's time
//! share per app, joined by a small fusion MLP, into the same two heads — beside a wide
//! (linear) path per question over [`WideFeatures`]. The wide path is the regularised
//! logistic regression of the fit part, fixed; the deep heads start at zero and learn what
//! it misses, so training starts from the linear model and the deep part has to earn its
//! weight (the start itself competes as epoch 0). No transformer runs at training or
//! ranking time, so it trains in minutes on a CPU and scores thousands of videos in
//! milliseconds.
//!
//! Each question is answered by what won on the training run's inner validation
//! ([`Scorer`]): this model, or one of the linear baselines it was compared with, whose
//! weights it carries.

use super::activity::{Activity, WindowSummary};
use super::compressor::{CompressorConfig, SequenceCompressor};
use super::heads::{HeadLogits, Heads};
use super::wide::{WideConfig, WideFeatures};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;
use vrd_core::records::{Head, PerHead};

/// What answers a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scorer {
    /// The deep and wide model.
    #[default]
    Model,
    /// L2-regularised logistic regression on the wide features.
    LogisticRegression,
    /// Similarity to the positively answered rows' mean wide features.
    Similarity,
}

impl Scorer {
    pub fn name(self) -> &'static str {
        match self {
            Scorer::Model => "model",
            Scorer::LogisticRegression => "logistic_regression",
            Scorer::Similarity => "similarity",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FastConfig {
    /// Width of the media input: the cached embedding, then the metadata bag.
    pub media_dim: i64,
    /// The metadata bag's columns at the end of the media input (0: none; cards written
    /// before the bag).
    #[serde(default)]
    pub metadata_buckets: i64,
    pub compressor: CompressorConfig,
    /// Width of the fused representation the heads read.
    pub hidden: i64,
    pub dropout: f64,
    pub wide: WideConfig,
    /// What answers each question.
    pub scorers: PerHead<Scorer>,
}

impl FastConfig {
    /// Activity events embedded at `context_dim` with `num_features` numbers each, apps in
    /// `app_buckets`, windows of `window_s`, the time shares of `share_buckets` as wide
    /// features.
    pub fn new(
        media_dim: i64,
        context_dim: i64,
        num_features: i64,
        app_buckets: i64,
        window_s: f64,
        share_buckets: Vec<i64>,
    ) -> FastConfig {
        let compressor = CompressorConfig::small(context_dim, num_features, 64, 96, app_buckets);
        let wide = WideConfig::new(media_dim, context_dim, share_buckets, app_buckets, window_s);
        FastConfig {
            media_dim,
            metadata_buckets: 0,
            compressor,
            hidden: 256,
            dropout: 0.1,
            wide,
            scorers: PerHead::default(),
        }
    }
}

/// One batch of inputs: each row's video embedding, the activity before its moment (empty
/// for questions that do not depend on it) and the video's duration.
pub struct FastInput<'a> {
    pub media: &'a Tensor,
    pub activity: &'a Activity,
    /// The video's duration z-score, `(B,)` (the compressor's condition).
    pub duration_z: &'a Tensor,
}

/// A fixed (not trained) margin layer `(F_head → 1)` per question over its wide features.
fn linear_per_head(p: nn::Path, wide: &WideConfig) -> PerHead<nn::Linear> {
    let dims = PerHead { interest: wide.interest_dim(), right_time: wide.right_time_dim() };
    dims.map(|head, &dim| {
        let layer = nn::linear(&p / head.key(), dim, 1, vrd_model::linear::zero_init());
        let _ = layer.ws.set_requires_grad(false);
        if let Some(b) = &layer.bs {
            let _ = b.set_requires_grad(false);
        }
        layer
    })
}

#[derive(Debug)]
pub struct FastModel {
    compressor: SequenceCompressor,
    fuse_in: nn::Linear,
    fuse_norm: nn::LayerNorm,
    fuse_out: nn::Linear,
    heads: Heads,
    pub features: WideFeatures,
    /// The wide path: the fit part's regression, fixed. Trained along with the deep part
    /// it drifted from the tuned regression under the deep part's learning rate and weight
    /// decay; fixed, the deep part is a residual over it.
    wide: PerHead<nn::Linear>,
    /// The linear baseline chosen for a question (fixed; zero when none is).
    baseline: PerHead<nn::Linear>,
    pub config: FastConfig,
}

impl FastModel {
    pub fn new(p: nn::Path, config: FastConfig) -> FastModel {
        let token = config.compressor.out_dim;
        let buckets = config.compressor.app_buckets;
        FastModel {
            compressor: SequenceCompressor::new(&p / "compressor", config.compressor),
            // The media vector, the token, the app shares, the active fraction and the
            // duration side by side.
            fuse_in: nn::linear(
                &p / "fuse_in",
                config.media_dim + token + buckets + 2,
                config.hidden,
                Default::default(),
            ),
            fuse_norm: nn::layer_norm(&p / "fuse_norm", vec![config.hidden], Default::default()),
            fuse_out: nn::linear(&p / "fuse_out", config.hidden, config.hidden, Default::default()),
            heads: Heads::zero_output(&p / "heads", config.hidden, config.dropout),
            features: WideFeatures::new(&p / "features", config.wide.clone()),
            wide: linear_per_head(&p / "wide", &config.wide),
            baseline: linear_per_head(&p / "baseline", &config.wide),
            config,
        }
    }

    /// The compressed activity token `(B, token)`.
    pub fn context_token(&self, input: &FastInput, train: bool) -> Tensor {
        self.compressor.forward(input.activity, input.duration_z, train)
    }

    /// The windows' flat summary (active fraction, app shares, mean text).
    pub fn summary(&self, activity: &Activity) -> WindowSummary {
        activity.summary(self.config.compressor.app_buckets, self.config.wide.window_s)
    }

    /// The wide features of both questions; interest never sees the activity.
    pub fn wide_inputs(&self, media: &Tensor, window: &WindowSummary) -> PerHead<Tensor> {
        PerHead { interest: self.features.interest(media), right_time: self.features.right_time(media, window) }
    }

    /// Logits with each question answered by the configured scorer; with `context_blind`
    /// the activity is emptied (the baseline that shows what the context is worth).
    pub fn forward(&self, input: &FastInput, train: bool, context_blind: bool) -> HeadLogits {
        self.forward_as(input, train, context_blind, &self.config.scorers)
    }

    /// As [`FastModel::forward`], with the scorers given (the model's own, for reports).
    pub fn forward_as(
        &self,
        input: &FastInput,
        train: bool,
        context_blind: bool,
        scorers: &PerHead<Scorer>,
    ) -> HeadLogits {
        let emptied;
        let activity = if context_blind {
            emptied = input.activity.emptied();
            &emptied
        } else {
            input.activity
        };
        let input = FastInput { activity, ..*input };
        let token = self.context_token(&input, train);
        self.forward_with_token(input.media, &token, &self.summary(activity), input.duration_z, train, scorers)
    }

    /// The heads for given tokens and window summaries: ranking computes those of "now"
    /// once and reuses them for every candidate.
    pub fn forward_with_token(
        &self,
        media: &Tensor,
        token: &Tensor,
        window: &WindowSummary,
        duration_z: &Tensor,
        train: bool,
        scorers: &PerHead<Scorer>,
    ) -> HeadLogits {
        let kind = media.kind();
        let joined = Tensor::cat(
            &[
                media.shallow_clone(),
                token.shallow_clone(),
                window.shares.to_kind(kind),
                window.active.to_kind(kind),
                duration_z.unsqueeze(1),
            ],
            1,
        );
        let h = self.fuse_norm.forward(&self.fuse_in.forward(&joined)).gelu("none").dropout(self.config.dropout, train);
        let h = &h + self.fuse_out.forward(&h).gelu("none").dropout(self.config.dropout, train);
        let deep = self.heads.forward(&h, train);
        let wide = self.wide_inputs(media, window);
        let logits = |head: Head, deep: Tensor| {
            let x = wide.get(head);
            match scorers.get(head) {
                Scorer::Model => deep + as_logits(&self.wide.get(head).forward(x)),
                _ => as_logits(&self.baseline.get(head).forward(x)),
            }
        };
        HeadLogits {
            interest: logits(Head::Interest, deep.interest),
            right_time: logits(Head::RightTime, deep.right_time),
        }
    }

    /// Sets a question's wide path under the deep part (`wide_path` false: the baseline
    /// that answers it instead) to the margin `x · weight + bias` over its wide features.
    pub fn set_linear(&self, head: Head, wide_path: bool, weight: &Tensor, bias: f64) {
        let layer = if wide_path { self.wide.get(head) } else { self.baseline.get(head) };
        tch::no_grad(|| {
            layer.ws.shallow_clone().copy_(&weight.view([1, -1]).to_kind(layer.ws.kind()).to_device(layer.ws.device()));
            if let Some(b) = &layer.bs {
                let _ = b.shallow_clone().fill_(bias);
            }
        });
    }
}

/// A margin `(B, 1)` as two-class logits `[0, margin]`.
fn as_logits(margin: &Tensor) -> Tensor {
    Tensor::cat(&[margin.zeros_like(), margin.shallow_clone()], 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn activity(b: i64, l: i64, app: i64) -> Activity {
        let opts = (Kind::Float, Device::Cpu);
        Activity {
            text: Tensor::randn([b, l, 8], opts),
            num: Tensor::randn([b, l, 5], opts),
            mask: Tensor::ones([b, l], (Kind::Int64, Device::Cpu)),
            app: Tensor::full([b, l], app, (Kind::Int64, Device::Cpu)),
            category: Tensor::full([b, l], 1, (Kind::Int64, Device::Cpu)),
            seconds: Tensor::full([b, l], 300.0, opts),
        }
    }

    fn model() -> (nn::VarStore, FastModel) {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = FastModel::new(vs.root(), FastConfig::new(12, 8, 5, 16, 3600.0, vec![2, 5]));
        // Untrained deep heads start at zero: give them weights, as training would.
        for (name, t) in vs.variables() {
            if name.contains("heads") || name.starts_with("wide.") {
                tch::no_grad(|| t.shallow_clone().copy_(&(t.randn_like() * 0.3)));
            }
        }
        (vs, model)
    }

    #[test]
    fn the_context_blind_model_ignores_the_activity() {
        let _rng = crate::torch_rng_lock();
        let (_vs, model) = model();
        let media = Tensor::randn([2, 12], (Kind::Float, Device::Cpu));
        let dz = Tensor::randn([2], (Kind::Float, Device::Cpu));
        let run = |a: &Activity, blind: bool| {
            let input = FastInput { media: &media, activity: a, duration_z: &dz };
            model.forward(&input, false, blind).right_time
        };
        let (a1, a2) = (activity(2, 6, 2), activity(2, 6, 5));
        assert!((run(&a1, false) - run(&a2, false)).abs().max().double_value(&[]) > 1e-4);
        assert!((run(&a1, true) - run(&a2, true)).abs().max().double_value(&[]) < 1e-7);
    }

    #[test]
    fn the_app_alone_changes_right_time() {
        let _rng = crate::torch_rng_lock();
        // Same texts and numbers, another app: a window with no titles still says something.
        let (_vs, model) = model();
        let media = Tensor::randn([1, 12], (Kind::Float, Device::Cpu));
        let dz = Tensor::zeros([1], (Kind::Float, Device::Cpu));
        let a = activity(1, 4, 2);
        let b = Activity { app: Tensor::full([1, 4], 5, (Kind::Int64, Device::Cpu)), ..a.shallow_clone() };
        let run =
            |x: &Activity| model.forward(&FastInput { media: &media, activity: x, duration_z: &dz }, false, false);
        assert!((run(&a).right_time - run(&b).right_time).abs().max().double_value(&[]) > 1e-4);
    }

    #[test]
    fn a_chosen_baseline_answers_its_question_alone() {
        let _rng = crate::torch_rng_lock();
        let (_vs, mut model) = model();
        let media = Tensor::randn([3, 12], (Kind::Float, Device::Cpu));
        let dz = Tensor::zeros([3], (Kind::Float, Device::Cpu));
        let a = activity(3, 4, 2);
        let w = Tensor::randn([12], (Kind::Float, Device::Cpu));
        model.set_linear(Head::Interest, false, &w, 0.25);
        model.config.scorers.interest = Scorer::LogisticRegression;
        let logits = model.forward(&FastInput { media: &media, activity: &a, duration_z: &dz }, false, false);
        let expected = media.matmul(&w) + 0.25;
        let margins = logits.interest.select(1, 1) - logits.interest.select(1, 0);
        assert!((margins - expected).abs().max().double_value(&[]) < 1e-5);
    }
}
