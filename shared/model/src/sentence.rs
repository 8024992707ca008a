//! A sentence encoder: a Hugging Face folder (config.json, tokenizer.json,
//! model.safetensors, optional sentence-transformers pooling files) turned into a function
//! from texts to fixed-size vectors.

use super::bert::BertModel;
use super::checkpoint::{load_safetensors, ENCODER_PREFIXES};
use super::config::{EncoderConfig, EncoderFamily};
use super::pooling::{l2_normalize, Pooling};
use super::xlm_roberta::XlmRobertaModel;
use super::TextEncoder;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

#[derive(Debug, Clone)]
pub struct SentenceEncoderOptions {
    pub device: Device,
    pub kind: Kind,
    /// Token limit per text (special tokens included); default: the folder's
    /// `sentence_bert_config.json`, else what the position table allows.
    pub max_length: Option<usize>,
    /// Default: the folder's `1_Pooling/config.json`, else mean for BERT and CLS for XLM-R.
    pub pooling: Option<Pooling>,
    /// Default: true (sentence-transformers' Normalize module; BGE-M3's dense vectors).
    pub normalize: bool,
    /// The text put before every text (multilingual E5's `query: `); default: the
    /// folder's sentence-transformers prompt ([`folder_prompt`]), else none.
    pub prompt: Option<String>,
}

impl Default for SentenceEncoderOptions {
    fn default() -> Self {
        SentenceEncoderOptions {
            device: Device::Cpu,
            kind: Kind::Float,
            max_length: None,
            pooling: None,
            normalize: true,
            prompt: None,
        }
    }
}

pub struct SentenceEncoder {
    // Owns the weights the model's layers point into.
    _vs: VarStore,
    model: Box<dyn TextEncoder>,
    tokenizer: Tokenizer,
    pooling: Pooling,
    normalize: bool,
    max_length: usize,
    pad_id: i64,
    device: Device,
    /// Put before every text.
    prompt: String,
    model_id: String,
    dim: usize,
}

impl SentenceEncoder {
    pub fn load(dir: &Path, opts: &SentenceEncoderOptions) -> Result<SentenceEncoder> {
        if !dir.is_dir() {
            bail!("model folder {} does not exist", dir.display());
        }
        let config_path = required(dir, "config.json")?;
        let tokenizer_path = required(dir, "tokenizer.json")?;
        let weights_path = dir.join("model.safetensors");
        if !weights_path.is_file() {
            bail!(
                "{}: missing model.safetensors (convert pytorch_model.bin with safetensors' convert script first)",
                dir.display()
            );
        }
        let cfg = EncoderConfig::from_file(&config_path)?;
        let arch = cfg.family()?;

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| anyhow!("{}: invalid tokenizer: {e}", tokenizer_path.display()))?;
        let tokenizer_vocab = tokenizer.get_vocab_size(true) as i64;
        if tokenizer_vocab > cfg.vocab_size {
            bail!(
                "{}: the tokenizer has {tokenizer_vocab} tokens but {} says vocab_size {}: they do not belong together",
                tokenizer_path.display(),
                config_path.display(),
                cfg.vocab_size
            );
        }

        let position_limit = match arch {
            EncoderFamily::Bert => cfg.max_position_embeddings,
            EncoderFamily::XlmRoberta => XlmRobertaModel::max_tokens(&cfg),
        } as usize;
        let max_length = match opts.max_length {
            Some(n) => n,
            None => sentence_transformers_max_length(dir)?.unwrap_or(position_limit),
        };
        if max_length < 2 || max_length > position_limit {
            bail!("max length {max_length} is outside what this model allows (2..={position_limit})");
        }
        tokenizer
            .with_truncation(Some(TruncationParams { max_length, ..Default::default() }))
            .map_err(|e| anyhow!("{}: {e}", tokenizer_path.display()))?;
        tokenizer.with_padding(None);

        let pooling = match opts.pooling {
            Some(p) => p,
            None => {
                let st_pooling = dir.join("1_Pooling").join("config.json");
                if st_pooling.is_file() {
                    Pooling::from_sentence_transformers(&st_pooling)?
                } else if arch == EncoderFamily::XlmRoberta {
                    Pooling::Cls
                } else {
                    Pooling::Mean
                }
            }
        };

        let mut vs = VarStore::new(opts.device);
        let model: Box<dyn TextEncoder> = match arch {
            EncoderFamily::Bert => Box::new(BertModel::new(vs.root(), &cfg)),
            EncoderFamily::XlmRoberta => Box::new(XlmRobertaModel::new(vs.root(), &cfg)),
        };
        load_safetensors(&vs, &weights_path, ENCODER_PREFIXES)?;
        vs.set_kind(opts.kind);
        vs.freeze();

        let prompt = match &opts.prompt {
            Some(p) => p.clone(),
            None => folder_prompt(dir)?.unwrap_or_default(),
        };
        let mut model_id = format!(
            "{}|{}|{}|{}",
            model_name(dir),
            pooling.name(),
            if opts.normalize { "norm" } else { "raw" },
            max_length
        );
        // A prompt changes every vector (and no prompt keeps the ids of before).
        if !prompt.is_empty() {
            model_id.push_str(&format!("|prompt={prompt:?}"));
        }
        Ok(SentenceEncoder {
            _vs: vs,
            model,
            tokenizer,
            pooling,
            normalize: opts.normalize,
            max_length,
            pad_id: cfg.pad_token_id,
            device: opts.device,
            prompt,
            model_id,
            dim: cfg.hidden_size as usize,
        })
    }

    /// Names the model and every setting that changes its vectors; stored with embeddings
    /// so stale ones are recognised.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Tokenizes texts, each after the prompt (truncated to the max length, special tokens
    /// added).
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Encoding>> {
        let texts: Vec<String> = texts.iter().map(|t| format!("{}{t}", self.prompt)).collect();
        self.tokenizer.encode_batch(texts, true).map_err(|e| anyhow!("tokenizer: {e}"))
    }

    /// The text put before every text.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Embeds one batch of tokenized texts: `(B, dim)` f32 values, row-major, in input order.
    pub fn embed_encodings(&self, batch: &[&Encoding]) -> Result<Vec<f32>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let width = batch.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let b = batch.len();
        let mut ids = vec![self.pad_id; b * width];
        let mut types = vec![0i64; b * width];
        let mut mask = vec![0i64; b * width];
        for (r, enc) in batch.iter().enumerate() {
            for (c, (&id, &ty)) in enc.get_ids().iter().zip(enc.get_type_ids()).enumerate() {
                ids[r * width + c] = id as i64;
                types[r * width + c] = ty as i64;
                mask[r * width + c] = 1;
            }
        }
        let shape = [b as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to_device(self.device);
        let types = Tensor::from_slice(&types).view(shape).to_device(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to_device(self.device);
        let pooled = tch::no_grad(|| {
            let hidden = self.model.forward(&ids, &mask, Some(&types), false);
            let pooled = self.pooling.pool(&hidden, &mask);
            if self.normalize {
                l2_normalize(&pooled)
            } else {
                pooled
            }
        });
        let flat = pooled.to_device(Device::Cpu).to_kind(Kind::Float).contiguous().view([-1]);
        Vec::<f32>::try_from(&flat).context("copying embeddings to the host")
    }

    /// Embeds texts in batches of similar length (least padding), returning rows in input
    /// order.
    pub fn embed(&self, texts: &[&str], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        let mut out = vec![Vec::new(); texts.len()];
        self.embed_each(texts, batch_size, |rows, values| {
            for (k, &i) in rows.iter().enumerate() {
                out[i] = values[k * self.dim..(k + 1) * self.dim].to_vec();
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Embeds texts batch by batch, handing each batch to `sink` as (indices into `texts`,
    /// row-major values), so that the caller can stream results out. Tokenizes in slices
    /// of a few thousand texts so memory stays bounded however many there are.
    pub fn embed_each(
        &self,
        texts: &[&str],
        batch_size: usize,
        mut sink: impl FnMut(&[usize], &[f32]) -> Result<()>,
    ) -> Result<()> {
        const SLICE: usize = 4096;
        for (s, slice) in texts.chunks(SLICE).enumerate() {
            let encodings = self.tokenize(slice)?;
            for batch in length_sorted_batches(&encodings, batch_size) {
                let refs: Vec<&Encoding> = batch.iter().map(|&k| &encodings[k]).collect();
                let values = self.embed_encodings(&refs).context("encoder forward pass")?;
                let rows: Vec<usize> = batch.iter().map(|&k| s * SLICE + k).collect();
                sink(&rows, &values)?;
            }
        }
        Ok(())
    }
}

/// Groups indices into batches of texts with similar token counts, longest first (so a
/// memory problem shows at once rather than at the end).
pub fn length_sorted_batches(encodings: &[Encoding], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..encodings.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].len()));
    order.chunks(batch_size.max(1)).map(<[usize]>::to_vec).collect()
}

fn required(dir: &Path, name: &str) -> Result<PathBuf> {
    let p = dir.join(name);
    if p.is_file() {
        Ok(p)
    } else {
        bail!("{}: missing {name}", dir.display())
    }
}

fn sentence_transformers_max_length(dir: &Path) -> Result<Option<usize>> {
    let p = dir.join("sentence_bert_config.json");
    if !p.is_file() {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Cfg {
        max_seq_length: Option<usize>,
    }
    let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    let cfg: Cfg = serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", p.display()))?;
    Ok(cfg.max_seq_length)
}

/// The prompt a folder's `config_sentence_transformers.json` puts before texts: its
/// `default_prompt_name`'s, else its `query` prompt (multilingual E5 wants `query: ` before
/// both sides of a symmetric comparison, title against title).
pub fn folder_prompt(dir: &Path) -> Result<Option<String>> {
    let p = dir.join("config_sentence_transformers.json");
    if !p.is_file() {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Cfg {
        #[serde(default)]
        prompts: std::collections::HashMap<String, String>,
        default_prompt_name: Option<String>,
    }
    let text = std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?;
    let cfg: Cfg = serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", p.display()))?;
    let name = cfg.default_prompt_name.as_deref().unwrap_or("query");
    match (cfg.prompts.get(name), &cfg.default_prompt_name) {
        (Some(prompt), _) => Ok(Some(prompt.clone()).filter(|p| !p.is_empty())),
        (None, Some(name)) => bail!("{}: default_prompt_name {name:?} names no prompt", p.display()),
        (None, None) => Ok(None),
    }
}

/// A readable model name: the folder's name, or its parent's where the folder is just
/// called `model` (as inside a Python package) or `encoder` (as `make install` puts it,
/// `PREFIX/lib/vrd/encoder`: named `vrd` as the installs before it, in
/// `PREFIX/share/vrd/model`, named it, so embeddings and models made with those stay
/// valid).
fn model_name(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match name(&canonical) {
        Some(n) if n == "model" || n == "encoder" => canonical.parent().and_then(name).unwrap_or(n),
        Some(n) => n,
        None => canonical.display().to_string(),
    }
}
