//! The answers' model on disk (learned from the interest and right-time answers): `model.safetensors` (every trained weight: for the
//! fast model all of them; for the fusion model the adapters or fine-tuned encoder, the
//! compressor and the heads, over the encoder folder the card names) and `model.json` (the architecture and its configuration,
//! the statistics fitted on the training data, the thresholds and probability calibration
//! chosen on the validation slice, and the ids of the models that made its inputs).
//! Loading checks that every weight is present with its shape (the reference saved only
//! its LoRA weights, so its heads were random at inference).

use crate::calibrate::Calibration;
use crate::net::fast::{FastConfig, FastModel};
use crate::net::fusion::{FusionConfig, FusionModel};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Tensor};
use vrd_core::model_dir::{ModelDir, ANSWERS_FORMAT as FORMAT};
use vrd_encoder::encoder_dir::fine_tuned_encoder;
use vrd_model::checkpoint::load_safetensors;
use vrd_model::fusion::FusionTokenizer;
use vrd_model::RankerArch;

pub use vrd_core::records::PerHead;

/// The ranking network: its architecture and configuration (`architecture` and `config`
/// in the card).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "architecture", content = "config", rename_all = "kebab-case")]
pub enum RankerCard {
    /// Cached media embeddings + the activity token.
    Fast(FastConfig),
    /// The encoder fine-tuned over the video's text with the activity token appended.
    Fusion(FusionCard),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FusionCard {
    /// The network's configuration (`fused` in the card, the name its format gave it).
    #[serde(rename = "fused")]
    pub network: FusionConfig,
    /// The encoder folder it was fine-tuned from: its frozen weights are read from there
    /// (a BGE-M3 copy in every model folder would be 2 GB).
    pub encoder: PathBuf,
    /// [`vrd_encoder::encoder_dir::fingerprint`] of that folder: another encoder is refused.
    pub encoder_fingerprint: String,
    /// Tokens of video text read (the activity token comes on top).
    pub max_length: usize,
    /// How each video's text was made ([`vrd_core::text::TextTemplate`]).
    pub text_template: String,
    pub description_chars: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AnswersCard {
    pub format: String,
    #[serde(flatten)]
    pub arch: RankerCard,
    /// log1p(duration) mean and standard deviation over the training rows.
    pub duration_log1p_mean: f64,
    pub duration_log1p_std: f64,
    pub thresholds: PerHead<f64>,
    pub calibration: PerHead<Calibration>,
    /// The media embeddings' model id (vrd-encode media): the fast model must rank with
    /// the same; ranking uses them for diversity and explanations with either model.
    pub media_model: String,
    /// How the training windows were cut (vrd-encode context); ranking cuts "now" the same way.
    pub context: vrd_core::context::ContextSpec,
    /// Per question, the inner-validation ROC-AUC of the model and of each baseline it was
    /// compared with; what won answers the question (`config.scorers`).
    pub selection: PerHead<BTreeMap<String, f64>>,
    /// How it was trained (options, rows, best epoch, time).
    pub training: serde_json::Value,
}

impl AnswersCard {
    pub fn architecture(&self) -> RankerArch {
        match self.arch {
            RankerCard::Fast(_) => RankerArch::Fast,
            RankerCard::Fusion(_) => RankerArch::Fusion,
        }
    }

    /// What answers each question.
    pub fn scorers(&self) -> PerHead<crate::net::fast::Scorer> {
        match &self.arch {
            RankerCard::Fast(c) => c.scorers,
            RankerCard::Fusion(_) => PerHead::default(),
        }
    }
}

/// The network of a saved model, ready to score.
pub enum RankNet {
    Fast(Box<FastModel>),
    Fusion { model: Box<FusionModel>, tokenizer: Box<FusionTokenizer> },
}

pub struct AnswersModel {
    pub card: AnswersCard,
    pub vs: nn::VarStore,
    pub net: RankNet,
}

/// What the architecture does not read back from anywhere else: every variable of the
/// fast model; the trained ones of the fusion model.
pub fn weights_to_save(card: &AnswersCard, vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    match card.arch {
        RankerCard::Fast(_) => {
            let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
            vars.sort_by(|a, b| a.0.cmp(&b.0));
            vars
        }
        RankerCard::Fusion(_) => vrd_model::fusion::trained_variables(vs),
    }
}

impl AnswersModel {
    /// Writes both files into `dir` (created if needed); each appears complete or not at
    /// all, the card last.
    pub fn save(vs: &nn::VarStore, card: &AnswersCard, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let weights = ModelDir::new(dir).answers_weights();
        let tmp = weights.with_file_name(format!(".tmp-{}", weights.file_name().unwrap().to_string_lossy()));
        let vars = weights_to_save(card, vs);
        Tensor::write_safetensors(&vars, &tmp).map_err(|e| anyhow!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &weights).with_context(|| format!("cannot write {}", weights.display()))?;
        let text = serde_json::to_string_pretty(card)? + "\n";
        vrd_core::output::write_bytes_atomic(&ModelDir::new(dir).answers_card(), text.as_bytes())
    }

    pub fn read_card(dir: &Path) -> Result<AnswersCard> {
        let card_path = ModelDir::new(dir).answers_card();
        let text = std::fs::read_to_string(&card_path)
            .with_context(|| format!("cannot read {} (not a vrd-train model folder?)", card_path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| anyhow!("{}: not a vrd model card: {e}", card_path.display()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            bail!(
                "{}: format {}, this vrd reads {FORMAT:?}",
                card_path.display(),
                value.get("format").unwrap_or(&serde_json::Value::Null)
            );
        }
        let architecture = value.get("architecture").and_then(|a| a.as_str());
        if architecture.and_then(RankerArch::parse).is_none() {
            bail!(
                "{}: architecture {architecture:?} is not one this vrd can run ({})",
                card_path.display(),
                RankerArch::names()
            );
        }
        serde_json::from_value(value).map_err(|e| anyhow!("{}: not a vrd model card: {e}", card_path.display()))
    }

    /// Loads a model folder. `encoder` overrides the fusion model's encoder folder (moved
    /// since training); it must be the same weights.
    pub fn load(dir: &Path, device: Device, encoder: Option<&Path>) -> Result<AnswersModel> {
        let card = AnswersModel::read_card(dir)?;
        let vs = nn::VarStore::new(device);
        let net = match &card.arch {
            RankerCard::Fast(config) => {
                let model = FastModel::new(vs.root(), config.clone());
                load_safetensors(&vs, &ModelDir::new(dir).answers_weights(), &[])?;
                RankNet::Fast(Box::new(model))
            }
            RankerCard::Fusion(f) => {
                let encoder_dir = fine_tuned_encoder(&f.encoder, encoder, &f.encoder_fingerprint, (dir, "model"))?;
                let model = FusionModel::load_trained(
                    &vs,
                    encoder_dir,
                    f.network.clone(),
                    &ModelDir::new(dir).answers_weights(),
                )?;
                let tokenizer = FusionTokenizer::load(encoder_dir, f.max_length)?;
                RankNet::Fusion { model: Box::new(model), tokenizer: Box::new(tokenizer) }
            }
        };
        Ok(AnswersModel { card, vs, net })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_encoder::encoder_dir::fingerprint;

    fn card(config: FastConfig) -> AnswersCard {
        AnswersCard {
            format: FORMAT.into(),
            arch: RankerCard::Fast(config),
            duration_log1p_mean: 6.0,
            duration_log1p_std: 1.0,
            thresholds: PerHead { interest: 0.5, right_time: 0.4 },
            calibration: PerHead {
                interest: Calibration::IDENTITY,
                right_time: Calibration { a: 2.0, b: -0.5, floor: 0.01 },
            },
            media_model: "m".into(),
            context: vrd_core::context::ContextSpec {
                model_id: "m".into(),
                text_prefix: String::new(),
                window_s: 3600,
                max_events: 8,
                timezone: "UTC".into(),
                features: vec![],
                duration: vrd_core::context::DurationStats { mean: 0.0, std: 1.0 },
                app_buckets: 16,
            },
            selection: PerHead::default(),
            training: serde_json::Value::Null,
        }
    }

    #[test]
    fn saved_models_load_whole_or_not_at_all() {
        let _rng = crate::torch_rng_lock();
        let dir = tempfile::tempdir().unwrap();
        let config = FastConfig::new(12, 8, 5, 16, 3600.0, vec![1, 2]);
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let _model = FastModel::new(vs.root(), config.clone());
        AnswersModel::save(&vs, &card(config.clone()), dir.path()).unwrap();
        let loaded = AnswersModel::load(dir.path(), Device::Cpu, None).unwrap();
        assert_eq!(loaded.card, card(config.clone()));
        for (name, t) in vs.variables() {
            assert!(t.equal(&loaded.vs.variables()[&name]), "{name} round-trips");
        }
        assert!(!dir.path().join(".tmp-model.safetensors").exists());

        // Weights of another shape (a model trained on other embeddings) are refused.
        let other = dir.path().join("other");
        let vs2 = nn::VarStore::new(Device::Cpu);
        let _m2 = FastModel::new(vs2.root(), FastConfig::new(16, 8, 5, 16, 3600.0, vec![1, 2]));
        AnswersModel::save(&vs2, &card(config.clone()), &other).unwrap();
        let err = AnswersModel::load(&other, Device::Cpu, None).err().unwrap().to_string();
        assert!(err.contains("has shape"), "{err}");

        // Heads missing (the reference's LoRA-only checkpoints) are refused by name.
        let partial = dir.path().join("partial");
        let vs3 = nn::VarStore::new(Device::Cpu);
        let _c = crate::net::compressor::SequenceCompressor::new(vs3.root() / "compressor", config.compressor);
        AnswersModel::save(&vs3, &card(config), &partial).unwrap();
        let err = AnswersModel::load(&partial, Device::Cpu, None).err().unwrap().to_string();
        assert!(err.contains("missing tensor `baseline.interest.bias`"), "the first missing name, sorted: {err}");
    }

    #[test]
    fn a_fusion_model_keeps_its_trained_weights_and_knows_its_encoder() {
        let _rng = crate::torch_rng_lock();
        let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr");
        let hidden = vrd_model::EncoderConfig::from_file(&tiny.join("config.json")).unwrap().hidden_size;
        let network = FusionConfig::new(hidden, 8, 5, 16, vrd_model::fusion::Finetune::Lora);
        tch::manual_seed(2);
        let vs = nn::VarStore::new(Device::Cpu);
        let _model = FusionModel::load(&vs, &tiny, network.clone()).unwrap();
        let mut c = card(FastConfig::new(1, 8, 5, 16, 3600.0, vec![]));
        c.arch = RankerCard::Fusion(FusionCard {
            network,
            encoder: tiny.clone(),
            encoder_fingerprint: fingerprint(&tiny).unwrap(),
            max_length: 32,
            text_template: vrd_core::text::DEFAULT_TEMPLATE.into(),
            description_chars: 300,
        });
        let dir = tempfile::tempdir().unwrap();
        AnswersModel::save(&vs, &c, dir.path()).unwrap();
        let saved = Tensor::read_safetensors(ModelDir::new(dir.path()).answers_weights()).unwrap();
        assert!(saved
            .iter()
            .all(|(n, _)| n.contains(".lora_") || n.starts_with("compressor.") || n.starts_with("heads.")));
        let text = std::fs::read_to_string(ModelDir::new(dir.path()).answers_card()).unwrap();
        assert!(text.contains("\"architecture\": \"fusion\""), "{text}");
        let loaded = AnswersModel::load(dir.path(), Device::Cpu, None).unwrap();
        assert_eq!(loaded.card, c);
        assert!(matches!(loaded.net, RankNet::Fusion { .. }));

        // Another encoder (here: the fingerprint of other weights) is refused.
        let mut other = c.clone();
        if let RankerCard::Fusion(f) = &mut other.arch {
            f.encoder_fingerprint = "0000000000000000".into();
        }
        AnswersModel::save(&vs, &other, dir.path()).unwrap();
        let err = AnswersModel::load(dir.path(), Device::Cpu, None).err().unwrap().to_string();
        assert!(err.contains("is not the one the model was fine-tuned from"), "{err}");

        // An architecture this vrd does not know is named.
        let card_path = ModelDir::new(dir.path()).answers_card();
        std::fs::write(&card_path, text.replace("\"fusion\"", "\"late-fusion\"")).unwrap();
        let err = AnswersModel::load(dir.path(), Device::Cpu, None).err().unwrap().to_string();
        assert!(err.contains("architecture Some(\"late-fusion\") is not one this vrd can run"), "{err}");
    }
}
