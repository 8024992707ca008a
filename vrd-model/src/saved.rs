//! A trained ranking model on disk: `model.safetensors` (every trained weight: projection,
//! compressor, fusion, heads) and `model.json` (the architecture and its configuration,
//! the statistics fitted on the training data, the thresholds and probability calibration
//! chosen on the validation slice, and the ids of the models that made its inputs).
//! Loading checks that every weight is present with its shape (the reference saved only
//! its LoRA weights, so its heads were random at inference).

use crate::checkpoint::load_safetensors;
use crate::fast::{FastConfig, FastModel};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Device};

pub const FORMAT: &str = "vrd-model/1";
pub const WEIGHTS: &str = "model.safetensors";
pub const CARD: &str = "model.json";

/// Platt scaling of one head: `p = sigmoid(a · (logit₁ − logit₀) + b)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    pub a: f64,
    pub b: f64,
}

impl Calibration {
    pub const IDENTITY: Calibration = Calibration { a: 1.0, b: 0.0 };

    pub fn apply(&self, margin: f64) -> f64 {
        1.0 / (1.0 + (-(self.a * margin + self.b)).exp())
    }
}

/// Per question (interest, right-time).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PerHead<T> {
    pub interest: T,
    pub right_time: T,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelCard {
    pub format: String,
    /// `fast` (cached media embeddings + activity token); the early-fusion model will be
    /// another value.
    pub architecture: String,
    pub config: FastConfig,
    /// log1p(duration) mean and standard deviation over the training rows.
    pub duration_log1p_mean: f64,
    pub duration_log1p_std: f64,
    pub thresholds: PerHead<f64>,
    pub calibration: PerHead<Calibration>,
    /// The media embeddings' model id (vrd-encode media): ranking must use the same.
    pub media_model: String,
    /// The activity tensors' metadata (vrd-encode context): model id, window, features,
    /// duration statistics; ranking cuts "now" the same way.
    pub context: BTreeMap<String, String>,
    /// How it was trained (options, rows, best epoch, time).
    pub training: serde_json::Value,
}

pub struct SavedModel {
    pub card: ModelCard,
    pub vs: nn::VarStore,
    pub model: FastModel,
}

impl SavedModel {
    /// Writes both files into `dir` (created if needed); each appears complete or not at
    /// all, the card last.
    pub fn save(vs: &nn::VarStore, card: &ModelCard, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let weights = dir.join(WEIGHTS);
        // tch picks the file format by the extension: the temporary name keeps it.
        let tmp = dir.join(format!(".tmp-{WEIGHTS}"));
        vs.save(&tmp).map_err(|e| anyhow!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &weights).with_context(|| format!("cannot write {}", weights.display()))?;
        let text = serde_json::to_string_pretty(card)? + "\n";
        shared::output::write_atomic(&dir.join(CARD), |f| Ok(std::io::Write::write_all(f, text.as_bytes())?))
    }

    pub fn load(dir: &Path, device: Device) -> Result<SavedModel> {
        let card_path = dir.join(CARD);
        let text = std::fs::read_to_string(&card_path)
            .with_context(|| format!("cannot read {} (not a vrd-train model folder?)", card_path.display()))?;
        let card: ModelCard =
            serde_json::from_str(&text).map_err(|e| anyhow!("{}: not a vrd model card: {e}", card_path.display()))?;
        if card.format != FORMAT {
            bail!("{}: format {:?}, this vrd reads {FORMAT:?}", card_path.display(), card.format);
        }
        if card.architecture != "fast" {
            bail!("{}: architecture {:?} is not one this vrd-rank can run", card_path.display(), card.architecture);
        }
        let vs = nn::VarStore::new(device);
        let model = FastModel::new(vs.root(), card.config.clone());
        load_safetensors(&vs, &dir.join(WEIGHTS), &[])?;
        Ok(SavedModel { card, vs, model })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(config: FastConfig) -> ModelCard {
        ModelCard {
            format: FORMAT.into(),
            architecture: "fast".into(),
            config,
            duration_log1p_mean: 6.0,
            duration_log1p_std: 1.0,
            thresholds: PerHead { interest: 0.5, right_time: 0.4 },
            calibration: PerHead { interest: Calibration::IDENTITY, right_time: Calibration { a: 2.0, b: -0.5 } },
            media_model: "m".into(),
            context: BTreeMap::new(),
            training: serde_json::Value::Null,
        }
    }

    #[test]
    fn saved_models_load_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let config = FastConfig::new(12, 8, 5);
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let _model = FastModel::new(vs.root(), config.clone());
        SavedModel::save(&vs, &card(config.clone()), dir.path()).unwrap();
        let loaded = SavedModel::load(dir.path(), Device::Cpu).unwrap();
        assert_eq!(loaded.card, card(config.clone()));
        for (name, t) in vs.variables() {
            assert!(t.equal(&loaded.vs.variables()[&name]), "{name} round-trips");
        }
        assert!(!dir.path().join(format!(".tmp-{WEIGHTS}")).exists());

        // Weights of another shape (a model trained on other embeddings) are refused.
        let other = dir.path().join("other");
        let vs2 = nn::VarStore::new(Device::Cpu);
        let _m2 = FastModel::new(vs2.root(), FastConfig::new(16, 8, 5));
        SavedModel::save(&vs2, &card(config.clone()), &other).unwrap();
        let err = SavedModel::load(&other, Device::Cpu).err().unwrap().to_string();
        assert!(err.contains("has shape"), "{err}");

        // Heads missing (the reference's LoRA-only checkpoints) are refused by name.
        let partial = dir.path().join("partial");
        let vs3 = nn::VarStore::new(Device::Cpu);
        let _c = crate::compressor::SequenceCompressor::new(vs3.root() / "compressor", config.compressor);
        SavedModel::save(&vs3, &card(config), &partial).unwrap();
        let err = SavedModel::load(&partial, Device::Cpu).err().unwrap().to_string();
        assert!(err.contains("missing tensor `fuse_in.bias`") || err.contains("missing tensor"), "{err}");
    }
}
