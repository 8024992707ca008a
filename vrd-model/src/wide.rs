//! The linear ("wide") features of each question, computed inside the model so that a
//! linear scorer trained on them ranks with nothing else: for interest the video's
//! embedding; for right-time the embedding, the window's time share of the person's main
//! apps (and of all others), and each share times a few principal components of the
//! embedding (which videos fit after which apps), and the window's mean event-text
//! embedding.

use crate::activity::{Activity, WindowSummary};
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WideConfig {
    pub media_dim: i64,
    /// Width of the activity text embeddings (their window mean is a feature).
    pub context_dim: i64,
    /// The app buckets given a share feature of their own (the training windows' main
    /// apps); every other bucket adds to one "other" share.
    pub share_buckets: Vec<i64>,
    /// All buckets of the hashed app ids.
    pub app_buckets: i64,
    /// The window length the shares are taken of.
    pub window_s: f64,
    /// Principal components of the media embedding crossed with the shares.
    pub components: i64,
}

impl WideConfig {
    pub fn interest_dim(&self) -> i64 {
        self.media_dim
    }

    pub fn right_time_dim(&self) -> i64 {
        let shares = self.share_buckets.len() as i64 + 1;
        self.media_dim + self.context_dim + shares + shares * self.components
    }
}

/// The fixed (untrained) parts: the principal axes, fitted on the training videos.
#[derive(Debug)]
pub struct WideFeatures {
    /// `(media_dim, components)`.
    pub pca: Tensor,
    /// `(media_dim,)` the mean the axes were fitted around.
    pub pca_mean: Tensor,
    pub config: WideConfig,
}

impl WideFeatures {
    pub fn new(p: nn::Path, config: WideConfig) -> WideFeatures {
        let frozen = |name: &str, dims: &[i64]| {
            let t = p.var(name, dims, nn::Init::Const(0.0));
            let _ = t.set_requires_grad(false);
            t
        };
        WideFeatures {
            pca: frozen("pca", &[config.media_dim, config.components]),
            pca_mean: frozen("pca_mean", &[config.media_dim]),
            config,
        }
    }

    /// Fits the principal axes on `media` `(N, D)` (training videos).
    pub fn fit_pca(&self, media: &Tensor) {
        let media = media.to_kind(Kind::Float).to_device(self.pca.device());
        let mean = media.mean_dim(0, false, Kind::Float);
        let centred = &media - &mean;
        let k = self.config.components.min(centred.size()[0]).min(self.config.media_dim);
        // `svd` (not `linalg_svd`, whose driver argument is CUDA-only) gives V's columns.
        let (_, _, v) = centred.svd(true, true);
        let axes = v.narrow(1, 0, k); // (D, k)
        tch::no_grad(|| {
            let _ = self.pca.shallow_clone().zero_();
            self.pca.shallow_clone().narrow(1, 0, k).copy_(&axes);
            self.pca_mean.shallow_clone().copy_(&mean);
        });
    }

    /// `(B, interest_dim)`.
    pub fn interest(&self, media: &Tensor) -> Tensor {
        media.shallow_clone()
    }

    /// `(B, right_time_dim)` from the window's summary.
    pub fn right_time(&self, media: &Tensor, window: &WindowSummary) -> Tensor {
        let kind = media.kind();
        let all = window.shares.to_kind(kind);
        let shares = if self.config.share_buckets.is_empty() {
            all.sum_dim_intlist(1, true, kind)
        } else {
            let index = Tensor::from_slice(&self.config.share_buckets).to_device(media.device());
            let main = all.index_select(1, &index);
            let other = all.sum_dim_intlist(1, true, kind) - main.sum_dim_intlist(1, true, kind);
            Tensor::cat(&[main, other.clamp_min(0.0)], 1)
        };
        let pcs = (media - self.pca_mean.to_kind(kind)).matmul(&self.pca.to_kind(kind)); // (B, k)
        let crossed = shares.unsqueeze(2) * pcs.unsqueeze(1); // (B, S, k)
        Tensor::cat(&[media.shallow_clone(), window.mean_text.to_kind(kind), shares, crossed.flatten(1, 2)], 1)
    }
}

/// The main apps of some windows: the `k` buckets that filled the most time.
pub fn main_buckets(activity: &Activity, buckets: i64, k: usize) -> Vec<i64> {
    let totals = activity.app_shares(buckets, 1.0).sum_dim_intlist(0, false, Kind::Double);
    let totals = Vec::<f64>::try_from(&totals.to_device(tch::Device::Cpu)).unwrap_or_default();
    let mut order: Vec<usize> = (1..totals.len()).filter(|&b| totals[b] > 0.0).collect();
    order.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
    let mut main: Vec<i64> = order.into_iter().take(k).map(|b| b as i64).collect();
    main.sort_unstable();
    main
}
