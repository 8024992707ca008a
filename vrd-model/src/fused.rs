//! The early-fusion model of the reference: the video's text through the encoder's
//! embedding layer, the compressed activity sequence appended as one more token (mask 1,
//! no position embedding), the encoder's layers over both, a masked mean pool, and the two
//! heads. The encoder is fine-tuned with LoRA (the default: rank 8, alpha 16, dropout 0.1
//! on every linear layer, base frozen), fully, or not at all.

use crate::bert::BertModel;
use crate::checkpoint::{load_safetensors_where, ENCODER_PREFIXES};
use crate::compressor::{CompressorConfig, SequenceCompressor};
use crate::config::{Architecture, EncoderConfig};
use crate::heads::{HeadLogits, Heads};
use crate::linear::LoraConfig;
use crate::xlm_roberta::XlmRobertaModel;
use crate::TextEncoder;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{nn, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finetune {
    /// LoRA adapters on the encoder's linear layers; the base stays frozen.
    Lora,
    /// Every encoder weight is trained.
    Full,
    /// The encoder is not trained; only the compressor and heads are.
    Frozen,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusedConfig {
    pub finetune: Finetune,
    pub lora: LoraConfig,
    pub compressor: CompressorConfig,
    pub head_dropout: f64,
}

impl FusedConfig {
    /// The reference's shape for an encoder of width `hidden` and activity events
    /// embedded at `context_dim` with `num_features` numbers.
    pub fn new(hidden: i64, context_dim: i64, num_features: i64, finetune: Finetune) -> FusedConfig {
        FusedConfig {
            finetune,
            lora: LoraConfig::default(),
            compressor: CompressorConfig::new(context_dim, num_features, hidden),
            head_dropout: 0.1,
        }
    }
}

pub struct FusedModel {
    encoder: Box<dyn TextEncoder>,
    compressor: SequenceCompressor,
    heads: Heads,
    pub config: FusedConfig,
}

/// Names of the new layers (everything else in the store is the encoder's).
fn is_new_layer(name: &str) -> bool {
    name.starts_with("compressor.") || name.starts_with("heads.")
}

impl FusedModel {
    /// Builds the model in `vs` with the encoder of the HF folder `dir` loaded from its
    /// weights, and marks what trains according to `config.finetune`.
    pub fn load(vs: &nn::VarStore, dir: &Path, config: FusedConfig) -> Result<FusedModel> {
        let mut enc_cfg = EncoderConfig::from_file(&dir.join("config.json"))?;
        if config.finetune == Finetune::Lora {
            enc_cfg.lora = Some(config.lora);
        }
        if config.compressor.out_dim != enc_cfg.hidden_size {
            bail!(
                "the compressor's token width {} is not the encoder's {}",
                config.compressor.out_dim,
                enc_cfg.hidden_size
            );
        }
        let encoder: Box<dyn TextEncoder> = match enc_cfg.architecture()? {
            Architecture::Bert => Box::new(BertModel::new(vs.root(), &enc_cfg)),
            Architecture::XlmRoberta => Box::new(XlmRobertaModel::new(vs.root(), &enc_cfg)),
        };
        let model = FusedModel {
            encoder,
            // Optimiser group 1: the new layers learn at their own (higher) rate.
            compressor: SequenceCompressor::new(vs.root().set_group(1) / "compressor", config.compressor),
            heads: Heads::new(vs.root().set_group(1) / "heads", enc_cfg.hidden_size, config.head_dropout),
            config,
        };
        load_safetensors_where(vs, &dir.join("model.safetensors"), ENCODER_PREFIXES, |n| !is_new_layer(n))?;
        for (name, var) in vs.variables() {
            let trains = is_new_layer(&name)
                || match model.config.finetune {
                    Finetune::Full => true,
                    Finetune::Lora => name.contains(".lora_"),
                    Finetune::Frozen => false,
                };
            let _ = var.set_requires_grad(trains);
        }
        Ok(model)
    }

    /// `input_ids`/`attention_mask` `(B, T)` the video's text; the activity `(B, L, ·)`;
    /// `duration_z` `(B,)`. With `context_blind` the activity token is zeroed.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        context_text: &Tensor,
        context_num: &Tensor,
        context_mask: &Tensor,
        duration_z: &Tensor,
        train: bool,
        context_blind: bool,
    ) -> HeadLogits {
        let text = self.encoder.embeddings(input_ids, None, train);
        let token = self.compressor.forward(context_text, context_num, context_mask, duration_z, train);
        let token = if context_blind { token.zeros_like() } else { token };
        let hidden = Tensor::cat(&[text, token.unsqueeze(1).to_kind(Kind::Float)], 1);
        let mask = Tensor::cat(&[attention_mask.shallow_clone(), attention_mask.ones_like().narrow(1, 0, 1)], 1);
        let out = self.encoder.encoder(&hidden, &mask, train);
        let pooled = crate::pooling::Pooling::Mean.pool(&out, &mask);
        self.heads.forward(&pooled, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig;
    use tch::Device;

    fn tiny() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/tiny-xlmr")
    }

    fn inputs(b: i64) -> [Tensor; 6] {
        let opts = (Kind::Float, Device::Cpu);
        [
            Tensor::from_slice(&[0i64, 10, 20, 30, 2]).view([1, 5]).repeat([b, 1]),
            Tensor::ones([b, 5], (Kind::Int64, Device::Cpu)),
            Tensor::randn([b, 6, 8], opts),
            Tensor::randn([b, 6, 5], opts),
            Tensor::ones([b, 6], (Kind::Int64, Device::Cpu)),
            Tensor::randn([b], opts),
        ]
    }

    #[test]
    fn lora_trains_only_adapters_and_new_layers_and_learns() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let hidden = EncoderConfig::from_file(&tiny().join("config.json")).unwrap().hidden_size;
        let model = FusedModel::load(&vs, &tiny(), FusedConfig::new(hidden, 8, 5, Finetune::Lora)).unwrap();
        let vars = vs.variables();
        let trainable: Vec<&String> = vars.iter().filter(|(_, v)| v.requires_grad()).map(|(k, _)| k).collect();
        assert!(trainable.iter().any(|n| n.contains("lora_a")));
        assert!(trainable.iter().all(|n| n.contains(".lora_") || is_new_layer(n)), "{trainable:?}");
        assert!(vars.keys().any(|n| n.starts_with("embeddings.word_embeddings")), "HF names at the root");

        let [ids, mask, ct, cn, cm, dz] = inputs(4);
        let targets = Tensor::from_slice(&[0i64, 1, 0, 1]);
        let base_before = vars["encoder.layer.0.attention.self.query.weight"].copy();
        let mut opt = nn::AdamW::default().build(&vs, 1e-2).unwrap();
        let loss = |train| {
            let out = model.forward(&ids, &mask, &ct, &cn, &cm, &dz, train, false);
            out.interest.cross_entropy_for_logits(&targets)
        };
        let first = loss(false).double_value(&[]);
        for _ in 0..30 {
            opt.backward_step(&loss(true));
        }
        assert!(loss(false).double_value(&[]) < first * 0.5, "it learns");
        assert!(vars["encoder.layer.0.attention.self.query.weight"].equal(&base_before), "the base stays frozen");
        let blind = model.forward(&ids, &mask, &ct, &cn, &cm, &dz, false, true).interest;
        assert_eq!(blind.size(), [4, 2]);
    }

    #[test]
    fn lora_starts_as_the_base_model() {
        tch::manual_seed(0);
        let cfg = EncoderConfig::from_file(&tiny().join("config.json")).unwrap();
        let run = |lora: Option<LoraConfig>| {
            let vs = nn::VarStore::new(Device::Cpu);
            let mut c = cfg.clone();
            c.lora = lora;
            let m = XlmRobertaModel::new(vs.root(), &c);
            crate::checkpoint::load_safetensors(&vs, &tiny().join("model.safetensors"), ENCODER_PREFIXES).unwrap();
            let ids = Tensor::from_slice(&[0i64, 10, 20, 2]).view([1, 4]);
            m.forward(&ids, &ids.ones_like(), None, false)
        };
        let diff = (run(None) - run(Some(LoraConfig::default()))).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "B starts at zero: {diff}");
    }
}
