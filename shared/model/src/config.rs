//! The subset of a Hugging Face `config.json` that BERT-family encoders need.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::Path;

/// Which transformer a text encoder's folder holds (its `model_type`), not to be confused
/// with the ranking network's architecture ([`crate::RankerArch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderFamily {
    Bert,
    XlmRoberta,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EncoderConfig {
    pub model_type: String,
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: i64,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: i64,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: i64,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "default_dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    /// LoRA on every linear layer of the encoder (training only; not in HF configs).
    #[serde(skip)]
    pub lora: Option<crate::linear::LoraConfig>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> i64 {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}
fn default_position_type() -> String {
    "absolute".into()
}

impl EncoderConfig {
    pub fn from_file(path: &Path) -> Result<EncoderConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let cfg: EncoderConfig =
            serde_json::from_str(&text).with_context(|| format!("{}: invalid config", path.display()))?;
        cfg.validate().with_context(|| format!("{}", path.display()))?;
        Ok(cfg)
    }

    pub fn family(&self) -> Result<EncoderFamily> {
        match self.model_type.as_str() {
            "bert" => Ok(EncoderFamily::Bert),
            "xlm-roberta" | "roberta" => Ok(EncoderFamily::XlmRoberta),
            other => bail!("unsupported model_type {other:?} (supported: bert, xlm-roberta)"),
        }
    }

    fn validate(&self) -> Result<()> {
        self.family()?;
        if self.hidden_size % self.num_attention_heads != 0 {
            bail!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size,
                self.num_attention_heads
            );
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "relu") {
            bail!("unsupported hidden_act {:?}", self.hidden_act);
        }
        if self.position_embedding_type != "absolute" {
            bail!("unsupported position_embedding_type {:?} (only absolute)", self.position_embedding_type);
        }
        Ok(())
    }
}
