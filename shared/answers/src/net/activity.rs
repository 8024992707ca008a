//! The activity before a moment as the models read it: per event its text embedding,
//! numeric features, hashed app and category ids and seconds, with a mask; and the
//! window's summary derived from them: how much of it was active, and the share of that
//! active time per app bucket.

use tch::{Device, Kind, Tensor};

/// A batch of activity windows `(B, L, ·)`, right-padded (mask 0 on padding).
#[derive(Debug)]
pub struct Activity {
    /// `(B, L, D)` event text embeddings.
    pub text: Tensor,
    /// `(B, L, F)` numeric features.
    pub num: Tensor,
    /// `(B, L)` 1 = event (any integer kind).
    pub mask: Tensor,
    /// `(B, L)` i64 app buckets (0 = padding).
    pub app: Tensor,
    /// `(B, L)` i64 category buckets (0 = padding).
    pub category: Tensor,
    /// `(B, L)` seconds of each event within the window.
    pub seconds: Tensor,
}

impl Activity {
    /// The same windows with every event masked out: what a question that does not
    /// depend on the moment sees (interest), and the context-blind baseline.
    pub fn emptied(&self) -> Activity {
        Activity { mask: self.mask.zeros_like(), seconds: self.seconds.zeros_like(), ..self.shallow_clone() }
    }

    pub fn shallow_clone(&self) -> Activity {
        Activity {
            text: self.text.shallow_clone(),
            num: self.num.shallow_clone(),
            mask: self.mask.shallow_clone(),
            app: self.app.shallow_clone(),
            category: self.category.shallow_clone(),
            seconds: self.seconds.shallow_clone(),
        }
    }

    /// Rows `index` of the batch (index `(N,)` i64).
    pub fn index_select(&self, index: &Tensor) -> Activity {
        let pick = |t: &Tensor| t.index_select(0, index);
        Activity {
            text: pick(&self.text),
            num: pick(&self.num),
            mask: pick(&self.mask),
            app: pick(&self.app),
            category: pick(&self.category),
            seconds: pick(&self.seconds),
        }
    }

    /// The first `len` positions of every window (right padding beyond them dropped).
    pub fn truncated(&self, len: i64) -> Activity {
        let cut = |t: &Tensor| t.narrow(1, 0, len);
        Activity {
            text: cut(&self.text),
            num: cut(&self.num),
            mask: cut(&self.mask),
            app: cut(&self.app),
            category: cut(&self.category),
            seconds: cut(&self.seconds),
        }
    }

    /// Float tensors in `kind` on `device`.
    pub fn to(&self, device: Device, kind: Kind) -> Activity {
        Activity {
            text: self.text.to_device(device).to_kind(kind),
            num: self.num.to_device(device).to_kind(kind),
            mask: self.mask.to_device(device).to_kind(Kind::Int64),
            app: self.app.to_device(device).to_kind(Kind::Int64),
            category: self.category.to_device(device).to_kind(Kind::Int64),
            seconds: self.seconds.to_device(device).to_kind(kind),
        }
    }

    /// Rows where `keep` `(B,)` is 0 lose their events (their windows become empty).
    pub fn keep_rows(&self, keep: &Tensor) -> Activity {
        let k = keep.to_device(self.mask.device()).unsqueeze(1);
        Activity {
            mask: &self.mask * &k.to_kind(self.mask.kind()),
            seconds: &self.seconds * &k.to_kind(self.seconds.kind()),
            ..self.shallow_clone()
        }
    }

    /// `(B, buckets)`: the seconds each app bucket filled in the window (padding counts
    /// nowhere).
    pub fn app_seconds(&self, buckets: i64) -> Tensor {
        let (b, device, kind) = (self.app.size()[0], self.app.device(), self.seconds.kind());
        let seconds = &self.seconds * self.mask.to_kind(kind);
        let totals = Tensor::zeros([b, buckets], (kind, device));
        totals.scatter_add(1, &self.app.clamp(0, buckets - 1), &seconds)
    }
}

/// What a window amounts to as flat features: how much of it was active, what share of
/// that active time each app bucket took, and the mean embedding of its events' texts.
/// The shares are of the active time, not of the clock: a phone is used a few minutes an
/// hour, and "mostly chat" should read the same whether the hour held five minutes of use
/// or fifty; how much was used is `active`, a feature of its own.
#[derive(Debug)]
pub struct WindowSummary {
    /// `(B, buckets)`, each row summing to 1 (0 for an empty window).
    pub shares: Tensor,
    /// `(B, 1)` active seconds over the window length.
    pub active: Tensor,
    /// `(B, D)`.
    pub mean_text: Tensor,
}

impl WindowSummary {
    /// Row `index` `(N,)` of every summary, e.g. "now" repeated for N candidates.
    pub fn index_select(&self, index: &Tensor) -> WindowSummary {
        WindowSummary {
            shares: self.shares.index_select(0, index),
            active: self.active.index_select(0, index),
            mean_text: self.mean_text.index_select(0, index),
        }
    }

    /// The summary of empty windows (interest, the context-blind baseline).
    pub fn zeros_like(&self) -> WindowSummary {
        WindowSummary {
            shares: self.shares.zeros_like(),
            active: self.active.zeros_like(),
            mean_text: self.mean_text.zeros_like(),
        }
    }
}

impl Activity {
    pub fn summary(&self, buckets: i64, window_s: f64) -> WindowSummary {
        let kind = self.text.kind();
        let mask = self.mask.to_kind(kind).unsqueeze(2);
        let count = mask.sum_dim_intlist(1, false, kind).clamp_min(1.0);
        let seconds = self.app_seconds(buckets);
        let total = seconds.sum_dim_intlist(1, true, seconds.kind());
        WindowSummary {
            // Below a second of activity there is nothing to share out.
            shares: &seconds / total.clamp_min(1.0),
            active: (total / window_s.max(1.0)).to_kind(kind),
            mean_text: (&self.text * &mask).sum_dim_intlist(1, false, kind) / count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_of_the_active_time_and_active_of_the_window() {
        let f = (Kind::Float, Device::Cpu);
        let a = Activity {
            text: Tensor::zeros([2, 3, 4], f),
            num: Tensor::zeros([2, 3, 5], f),
            mask: Tensor::from_slice2(&[[1i64, 1, 1], [1, 0, 0]]),
            app: Tensor::from_slice2(&[[2i64, 3, 2], [3, 2, 0]]),
            category: Tensor::zeros([2, 3], (Kind::Int64, Device::Cpu)),
            seconds: Tensor::from_slice2(&[[600f32, 1200.0, 600.0], [1800.0, 999.0, 0.0]]),
        };
        let s = a.summary(4, 3600.0);
        let shares: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&s.shares).unwrap();
        assert_eq!(shares, vec![vec![0.0, 0.0, 0.5, 0.5], vec![0.0, 0.0, 0.0, 1.0]], "masked seconds count nowhere");
        let active: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&s.active).unwrap();
        assert_eq!(active, vec![vec![2400.0 / 3600.0], vec![0.5]]);
        let empty = a.emptied().summary(4, 3600.0);
        assert_eq!(empty.shares.abs().sum(Kind::Float).double_value(&[]), 0.0, "an empty window shares nothing");
        assert_eq!(empty.active.abs().sum(Kind::Float).double_value(&[]), 0.0);
    }
}
