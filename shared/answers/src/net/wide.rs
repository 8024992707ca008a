//! The linear ("wide") features of each question, computed inside the model so that a
//! linear scorer trained on them ranks with nothing else: for interest the video's
//! embedding; for right-time the embedding, the window's mean event-text embedding, its
//! active fraction, the share of its active time of the person's main apps (and of all
//! others), and each share times a few whitened principal components of the embedding
//! (which videos fit after which apps). The features keep their natural scales (unit-length
//! embeddings, shares in [0, 1], components of unit variance), which the linear scorers'
//! single L2 penalty relies on: standardising every column alike would make each of the
//! hundreds of embedding dimensions as cheap as an app share.

use super::activity::{Activity, WindowSummary};
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

/// Principal components of the media embedding crossed with the app shares. On the real
/// phone timeline 16 and 32 ranked right time no better than 8 (the regression's ROC-AUC
/// 0.740 at 8, 0.727 at 16, 0.721 at 32; `scripts/bench-right-time`, 2026-12-04).
pub const PRINCIPAL_COMPONENTS: i64 = 8;

impl WideConfig {
    pub fn new(media_dim: i64, context_dim: i64, share_buckets: Vec<i64>, app_buckets: i64, window_s: f64) -> Self {
        WideConfig { media_dim, context_dim, share_buckets, app_buckets, window_s, components: PRINCIPAL_COMPONENTS }
    }

    pub fn interest_dim(&self) -> i64 {
        self.media_dim
    }

    pub fn right_time_dim(&self) -> i64 {
        let shares = self.share_buckets.len() as i64 + 1;
        self.media_dim + self.context_dim + 1 + shares + shares * self.components
    }
}

/// The fixed (untrained) parts: the principal axes, fitted on the training videos.
#[derive(Debug)]
pub struct WideFeatures {
    /// `(media_dim, components)`: the principal axes, each divided by its component's
    /// standard deviation (so the components have unit variance over the fitted videos).
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

    /// Fits the whitened principal axes on `media` `(N, D)` (training videos).
    pub fn fit_pca(&self, media: &Tensor) {
        let media = media.to_kind(Kind::Float).to_device(self.pca.device());
        let n = media.size()[0];
        let mean = media.mean_dim(0, false, Kind::Float);
        let centred = &media - &mean;
        let k = self.config.components.min(n).min(self.config.media_dim);
        // `svd` (not `linalg_svd`, whose driver argument is CUDA-only) gives V's columns.
        let (_, singular, v) = centred.svd(true, true);
        // A component's standard deviation is its singular value over √(n − 1); one of
        // (numerically) no spread stays unscaled rather than blowing up.
        let std = (singular.narrow(0, 0, k) / ((n - 1).max(1) as f64).sqrt()).clamp_min(1e-4);
        let axes = v.narrow(1, 0, k) / std.unsqueeze(0); // (D, k)
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
        Tensor::cat(
            &[
                media.shallow_clone(),
                window.mean_text.to_kind(kind),
                window.active.to_kind(kind),
                shares,
                crossed.flatten(1, 2),
            ],
            1,
        )
    }
}

/// The main apps of some windows: the `k` buckets that filled the most time.
pub fn main_buckets(activity: &Activity, buckets: i64, k: usize) -> Vec<i64> {
    let totals = activity.app_seconds(buckets).sum_dim_intlist(0, false, Kind::Double);
    let totals = Vec::<f64>::try_from(&totals.to_device(tch::Device::Cpu)).unwrap_or_default();
    let mut order: Vec<usize> = (1..totals.len()).filter(|&b| totals[b] > 0.0).collect();
    order.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
    let mut main: Vec<i64> = order.into_iter().take(k).map(|b| b as i64).collect();
    main.sort_unstable();
    main
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn config(share_buckets: Vec<i64>) -> WideConfig {
        WideConfig { media_dim: 6, context_dim: 3, share_buckets, app_buckets: 8, window_s: 3600.0, components: 2 }
    }

    #[test]
    fn components_are_whitened_over_the_fitted_videos() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(5);
        // Two directions of very different spread: both components come out at unit variance.
        let scales = Tensor::from_slice(&[10.0f32, 0.1, 0.01, 0.01, 0.01, 0.01]);
        let media = Tensor::randn([200, 6], (Kind::Float, Device::Cpu)) * scales.unsqueeze(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let w = WideFeatures::new(vs.root(), config(vec![]));
        w.fit_pca(&media);
        let pcs = (&media - &w.pca_mean).matmul(&w.pca);
        let std = Vec::<f64>::try_from(pcs.std_dim(0, true, false).to_kind(Kind::Double)).unwrap();
        assert!(std.iter().all(|s| (s - 1.0).abs() < 1e-3), "{std:?}");
    }

    #[test]
    fn right_time_features_are_media_text_active_shares_and_crossings() {
        let _rng = crate::torch_rng_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let w = WideFeatures::new(vs.root(), config(vec![2, 5]));
        let media = Tensor::ones([1, 6], (Kind::Float, Device::Cpu));
        // Bucket 2 took half the active time, bucket 7 (not a main app) the rest.
        let shares = Tensor::from_slice(&[0.0f32, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5]).view([1, 8]);
        let window = WindowSummary {
            shares,
            active: Tensor::from_slice(&[0.25f32]).view([1, 1]),
            mean_text: Tensor::from_slice(&[0.1f32, 0.2, 0.3]).view([1, 3]),
        };
        let x = w.right_time(&media, &window);
        assert_eq!(x.size(), vec![1, w.config.right_time_dim()]);
        let v = Vec::<f32>::try_from(x.view([-1])).unwrap();
        assert_eq!(&v[6..9], &[0.1, 0.2, 0.3], "mean event text");
        assert_eq!(v[9], 0.25, "active fraction");
        assert_eq!(&v[10..13], &[0.5, 0.0, 0.5], "main apps, then all other apps");
    }
}
