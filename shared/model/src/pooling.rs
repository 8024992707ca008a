//! Turning per-token hidden states into one vector per text.

use anyhow::{bail, Context, Result};
use std::path::Path;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Average of the non-padding tokens (sentence-transformers' `pooling_mode_mean_tokens`).
    Mean,
    /// The first token's state (BGE-M3's dense vector).
    Cls,
}

impl Pooling {
    pub fn parse(text: &str) -> Result<Pooling> {
        match text {
            "mean" => Ok(Pooling::Mean),
            "cls" => Ok(Pooling::Cls),
            s => bail!("unknown pooling {s:?} (use mean or cls)"),
        }
    }

    /// A value parser for a `--pooling` option (the model crate has no command line of its
    /// own: this is only the text-to-value half).
    pub fn arg(text: &str) -> Result<Pooling, String> {
        Self::parse(text).map_err(|e| e.to_string())
    }

    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
        }
    }

    /// Reads a sentence-transformers `1_Pooling/config.json`.
    pub fn from_sentence_transformers(path: &Path) -> Result<Pooling> {
        #[derive(serde::Deserialize)]
        struct Cfg {
            #[serde(default)]
            pooling_mode_cls_token: bool,
            #[serde(default)]
            pooling_mode_mean_tokens: bool,
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let cfg: Cfg =
            serde_json::from_str(&text).with_context(|| format!("{}: invalid pooling config", path.display()))?;
        match (cfg.pooling_mode_mean_tokens, cfg.pooling_mode_cls_token) {
            (true, false) => Ok(Pooling::Mean),
            (false, true) => Ok(Pooling::Cls),
            _ => bail!("{}: only plain mean or CLS pooling is supported", path.display()),
        }
    }

    /// `hidden (B, T, H)`, `mask (B, T)` of 0/1 → `(B, H)` in f32.
    pub fn pool(self, hidden: &Tensor, mask: &Tensor) -> Tensor {
        match self {
            Pooling::Cls => hidden.select(1, 0).to_kind(Kind::Float),
            Pooling::Mean => {
                let hidden = hidden.to_kind(Kind::Float);
                let m = mask.to_kind(Kind::Float).unsqueeze(-1);
                let summed = (hidden * &m).sum_dim_intlist(1, false, Kind::Float);
                let counts = m.sum_dim_intlist(1, false, Kind::Float).clamp_min(1e-9);
                summed / counts
            }
        }
    }
}

/// Scales each row to unit length (rows of zeros stay zero).
pub fn l2_normalize(x: &Tensor) -> Tensor {
    let norm = x.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12);
    x / norm
}
