//! Early fusion's building blocks, shared by the two models' fusion networks (the answers'
//! model's `vrd_answers::net::fusion`, the next-watch model's
//! `vrd_next_watch_torch::network`): the text through the encoder's embedding layer, one
//! more token appended (mask 1, no position embedding), the encoder's layers over both and
//! a masked mean pool; the encoder fine-tuned with LoRA (the default: rank 8, alpha 16,
//! dropout 0.1 on every linear layer, base frozen), fully, or not at all; what trains, what
//! a saved model holds, and the tokenizer that leaves the appended token a position.

use crate::bert::BertModel;
use crate::checkpoint::load_trained_where;
use crate::config::{EncoderConfig, EncoderFamily};
use crate::linear::LoraConfig;
use crate::xlm_roberta::XlmRobertaModel;
use crate::TextEncoder;
use anyhow::{anyhow, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{nn, Tensor};

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

/// The text encoder of `enc_cfg` in `vs`'s root (with LoRA adapters when `finetune` asks
/// for them), at its initial weights.
pub fn build_encoder(
    vs: &nn::VarStore,
    mut enc_cfg: EncoderConfig,
    finetune: Finetune,
    lora: LoraConfig,
) -> Result<Box<dyn TextEncoder>> {
    if finetune == Finetune::Lora {
        enc_cfg.lora = Some(lora);
    }
    Ok(match enc_cfg.family()? {
        EncoderFamily::Bert => Box::new(BertModel::new(vs.root(), &enc_cfg)),
        EncoderFamily::XlmRoberta => Box::new(XlmRobertaModel::new(vs.root(), &enc_cfg)),
    })
}

/// Marks what trains: every new layer (`is_new`), and of the encoder what `finetune` says.
pub fn mark_trainable(vs: &nn::VarStore, finetune: Finetune, is_new: fn(&str) -> bool) {
    for (name, var) in vs.variables() {
        let trains = is_new(&name)
            || match finetune {
                Finetune::Full => true,
                Finetune::Lora => name.contains(".lora_"),
                Finetune::Frozen => false,
            };
        let _ = var.set_requires_grad(trains);
    }
}

/// The variables a training run changes (adapters or the whole encoder, and the new
/// layers), by name: what a saved model must hold. The frozen base is read from the
/// encoder's own folder instead of being copied into every model.
pub fn trained_variables(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, v)| v.requires_grad()).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Loads `trained` (every variable marked trainable must be in it) over a freshly built
/// model, then freezes everything: the model is for scoring.
pub fn load_trained_over(vs: &nn::VarStore, trained: &Path) -> Result<()> {
    let names: std::collections::HashSet<String> = trained_variables(vs).into_iter().map(|(n, _)| n).collect();
    load_trained_where(vs, trained, |n| names.contains(n))?;
    vs.variables().values().for_each(|v| {
        let _ = v.set_requires_grad(false);
    });
    Ok(())
}

/// Early fusion: the text's token embeddings with one more token appended (`token`,
/// `(B, H)`: mask 1, no position embedding), the encoder's layers over both, and a masked
/// mean pool `(B, H)` in the activations' kind.
pub fn pool_with_token(
    encoder: &dyn TextEncoder,
    input_ids: &Tensor,
    attention_mask: &Tensor,
    token: &Tensor,
    train: bool,
) -> Tensor {
    let text = encoder.embeddings(input_ids, None, train);
    let hidden = Tensor::cat(&[text.shallow_clone(), token.unsqueeze(1).to_kind(text.kind())], 1);
    let mask = Tensor::cat(&[attention_mask.shallow_clone(), attention_mask.ones_like().narrow(1, 0, 1)], 1);
    let out = encoder.encoder(&hidden, &mask, train);
    // Pooling sums in f32; what follows takes the activations' kind (bf16 when training so).
    crate::pooling::Pooling::Mean.pool(&out, &mask).to_kind(out.kind())
}

/// The fusion model's tokenizer: the encoder folder's, truncating the video text so that
/// the activity token still has a position.
pub struct FusionTokenizer {
    tokenizer: tokenizers::Tokenizer,
    pub pad_id: i64,
    pub max_length: usize,
}

impl FusionTokenizer {
    pub fn load(dir: &Path, max_length: usize) -> Result<FusionTokenizer> {
        let path = dir.join("tokenizer.json");
        let mut tokenizer = tokenizers::Tokenizer::from_file(&path)
            .map_err(|e| anyhow!("{}: invalid tokenizer: {e}", path.display()))?;
        let cfg = EncoderConfig::from_file(&dir.join("config.json"))?;
        let limit = match cfg.family()? {
            EncoderFamily::Bert => cfg.max_position_embeddings,
            EncoderFamily::XlmRoberta => XlmRobertaModel::max_tokens(&cfg),
        } as usize;
        // One position is left for the activity token, which the encoder sees last.
        let max_length = max_length.min(limit.saturating_sub(1)).max(2);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams { max_length, ..Default::default() }))
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        tokenizer.with_padding(None);
        Ok(FusionTokenizer { tokenizer, pad_id: cfg.pad_token_id, max_length })
    }

    /// Token ids of each text, special tokens included.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<i64>>> {
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| anyhow!("tokenizer: {e}"))?;
        Ok(encodings.iter().map(|e| e.get_ids().iter().map(|&i| i as i64).collect()).collect())
    }
}

/// Right-padded ids and the attention mask, `(B, T)` with T the longest.
pub fn pad_token_ids(ids: &[&[i64]], pad_id: i64) -> (Tensor, Tensor) {
    let width = ids.iter().map(|t| t.len()).max().unwrap_or(1).max(1);
    let mut flat = vec![pad_id; ids.len() * width];
    let mut mask = vec![0i64; ids.len() * width];
    for (i, t) in ids.iter().enumerate() {
        flat[i * width..i * width + t.len()].copy_from_slice(t);
        mask[i * width..i * width + t.len()].iter_mut().for_each(|m| *m = 1);
    }
    let shape = [ids.len() as i64, width as i64];
    (Tensor::from_slice(&flat).view(shape), Tensor::from_slice(&mask).view(shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::ENCODER_PREFIXES;
    use tch::Device;

    fn tiny() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr")
    }

    #[test]
    fn lora_starts_as_the_base_model() {
        let _rng = crate::torch_rng_lock();
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
