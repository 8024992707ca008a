//! BERT (Devlin et al.) as Hugging Face's `BertModel`, with HF's exact weight names:
//! `embeddings.{word,position,token_type}_embeddings`, `embeddings.LayerNorm`,
//! `encoder.layer.N.attention.self.{query,key,value}`, `…attention.output.{dense,LayerNorm}`,
//! `…intermediate.dense`, `…output.{dense,LayerNorm}`. The pooler is not used.
//!
//! The embeddings and the encoder stack are public separately because the training model
//! appends its app-sequence token between them. XLM-RoBERTa shares this encoder stack and
//! differs only in how positions are numbered (see `xlm_roberta.rs`).

use super::config::EncoderConfig;
use super::linear::Linear;
use super::TextEncoder;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// How position ids are derived from the input ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionIds {
    /// 0, 1, 2, … for every sequence (BERT).
    Absolute,
    /// RoBERTa: non-padding tokens count up from `pad_id + 1`; padding keeps `pad_id`.
    AfterPadding { pad_id: i64 },
}

pub struct Embeddings {
    word: nn::Embedding,
    position: nn::Embedding,
    token_type: nn::Embedding,
    layer_norm: nn::LayerNorm,
    dropout: f64,
    positions: PositionIds,
}

impl Embeddings {
    pub fn new(p: nn::Path, cfg: &EncoderConfig, positions: PositionIds) -> Embeddings {
        let emb = Default::default();
        Embeddings {
            word: nn::embedding(&p / "word_embeddings", cfg.vocab_size, cfg.hidden_size, emb),
            position: nn::embedding(&p / "position_embeddings", cfg.max_position_embeddings, cfg.hidden_size, emb),
            token_type: nn::embedding(&p / "token_type_embeddings", cfg.type_vocab_size, cfg.hidden_size, emb),
            layer_norm: layer_norm(&p / "LayerNorm", cfg),
            dropout: cfg.hidden_dropout_prob,
            positions,
        }
    }

    pub fn position_ids(&self, input_ids: &Tensor) -> Tensor {
        match self.positions {
            PositionIds::Absolute => {
                let t = input_ids.size()[1];
                Tensor::arange(t, (Kind::Int64, input_ids.device())).unsqueeze(0).expand_as(input_ids)
            }
            PositionIds::AfterPadding { pad_id } => {
                let mask = input_ids.ne(pad_id).to_kind(Kind::Int64);
                mask.cumsum(1, Kind::Int64) * &mask + pad_id
            }
        }
    }

    pub fn forward(&self, input_ids: &Tensor, token_type_ids: Option<&Tensor>, train: bool) -> Tensor {
        let positions = self.position_ids(input_ids);
        let types = match token_type_ids {
            Some(t) => t.shallow_clone(),
            None => input_ids.zeros_like(),
        };
        let x = self.word.forward(input_ids) + self.position.forward(&positions) + self.token_type.forward(&types);
        self.layer_norm.forward(&x).dropout(self.dropout, train)
    }
}

struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    output_norm: nn::LayerNorm,
    heads: i64,
    head_dim: i64,
    attention_dropout: f64,
    hidden_dropout: f64,
}

impl SelfAttention {
    fn new(p: nn::Path, cfg: &EncoderConfig) -> SelfAttention {
        let h = cfg.hidden_size;
        let s = &p / "self";
        let o = &p / "output";
        SelfAttention {
            query: Linear::with_lora(&s / "query", h, h, cfg.lora),
            key: Linear::with_lora(&s / "key", h, h, cfg.lora),
            value: Linear::with_lora(&s / "value", h, h, cfg.lora),
            output: Linear::with_lora(&o / "dense", h, h, cfg.lora),
            output_norm: layer_norm(&o / "LayerNorm", cfg),
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
            attention_dropout: cfg.attention_probs_dropout_prob,
            hidden_dropout: cfg.hidden_dropout_prob,
        }
    }

    fn split_heads(&self, x: &Tensor) -> Tensor {
        let (b, t, _) = x.size3().expect("hidden states are (B, T, H)");
        x.view([b, t, self.heads, self.head_dim]).transpose(1, 2)
    }

    fn forward(&self, x: &Tensor, additive_mask: &Tensor, train: bool) -> Tensor {
        let (b, t, h) = x.size3().expect("hidden states are (B, T, H)");
        let q = self.split_heads(&self.query.forward_t(x, train));
        let k = self.split_heads(&self.key.forward_t(x, train));
        let v = self.split_heads(&self.value.forward_t(x, train));
        let dropout = if train { self.attention_dropout } else { 0.0 };
        let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(additive_mask), dropout, false, None, false);
        let ctx = ctx.transpose(1, 2).contiguous().view([b, t, h]);
        let out = self.output.forward_t(&ctx, train).dropout(self.hidden_dropout, train);
        self.output_norm.forward(&(out + x))
    }
}

struct Layer {
    attention: SelfAttention,
    intermediate: Linear,
    output: Linear,
    output_norm: nn::LayerNorm,
    activation: Activation,
    dropout: f64,
}

#[derive(Clone, Copy)]
enum Activation {
    Gelu,
    GeluTanh,
    Relu,
}

impl Activation {
    fn from_config(name: &str) -> Activation {
        match name {
            "gelu_new" | "gelu_pytorch_tanh" => Activation::GeluTanh,
            "relu" => Activation::Relu,
            _ => Activation::Gelu, // validated in EncoderConfig
        }
    }

    fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Gelu => x.gelu("none"),
            Activation::GeluTanh => x.gelu("tanh"),
            Activation::Relu => x.relu(),
        }
    }
}

impl Layer {
    fn new(p: nn::Path, cfg: &EncoderConfig) -> Layer {
        Layer {
            attention: SelfAttention::new(&p / "attention", cfg),
            intermediate: Linear::with_lora(
                &p / "intermediate" / "dense",
                cfg.hidden_size,
                cfg.intermediate_size,
                cfg.lora,
            ),
            output: Linear::with_lora(&p / "output" / "dense", cfg.intermediate_size, cfg.hidden_size, cfg.lora),
            output_norm: layer_norm(&p / "output" / "LayerNorm", cfg),
            activation: Activation::from_config(&cfg.hidden_act),
            dropout: cfg.hidden_dropout_prob,
        }
    }

    fn forward(&self, x: &Tensor, additive_mask: &Tensor, train: bool) -> Tensor {
        let a = self.attention.forward(x, additive_mask, train);
        let i = self.activation.apply(&self.intermediate.forward_t(&a, train));
        let o = self.output.forward_t(&i, train).dropout(self.dropout, train);
        self.output_norm.forward(&(o + a))
    }
}

/// The stack of transformer layers (`encoder.layer.N`).
pub struct Encoder {
    layers: Vec<Layer>,
}

impl Encoder {
    pub fn new(p: nn::Path, cfg: &EncoderConfig) -> Encoder {
        let l = &p / "layer";
        Encoder { layers: (0..cfg.num_hidden_layers).map(|i| Layer::new(&l / i, cfg)).collect() }
    }

    /// `mask (B, T)` is 1 for real tokens and 0 for padding, in any numeric kind.
    pub fn forward(&self, hidden: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        let additive = additive_attention_mask(mask, hidden.kind());
        let mut x = hidden.shallow_clone();
        for layer in &self.layers {
            x = layer.forward(&x, &additive, train);
        }
        x
    }
}

/// `(B, T)` 0/1 → `(B, 1, 1, T)` with 0 where attention is allowed and the most negative
/// value of the working dtype where it is not, as HF does; computed in that dtype so bf16
/// and f16 runs do not overflow to -inf.
pub fn additive_attention_mask(mask: &Tensor, kind: Kind) -> Tensor {
    let min = match kind {
        Kind::Half => -65504.0,
        Kind::BFloat16 => -3.389_531_389_251_535_5e38,
        Kind::Double => f64::MIN,
        _ => f32::MIN as f64,
    };
    let blocked = mask.to_kind(kind).ones_like() - mask.to_kind(kind);
    (blocked * min).unsqueeze(1).unsqueeze(1)
}

pub(super) fn layer_norm(p: nn::Path, cfg: &EncoderConfig) -> nn::LayerNorm {
    let c = nn::LayerNormConfig { eps: cfg.layer_norm_eps, ..Default::default() };
    nn::layer_norm(p, vec![cfg.hidden_size], c)
}

/// `BertModel` without its pooler.
pub struct BertModel {
    pub embeddings: Embeddings,
    pub encoder: Encoder,
    hidden_size: i64,
}

impl BertModel {
    pub fn new(p: nn::Path, cfg: &EncoderConfig) -> BertModel {
        BertModel {
            embeddings: Embeddings::new(&p / "embeddings", cfg, PositionIds::Absolute),
            encoder: Encoder::new(&p / "encoder", cfg),
            hidden_size: cfg.hidden_size,
        }
    }
}

impl TextEncoder for BertModel {
    fn embeddings(&self, input_ids: &Tensor, token_type_ids: Option<&Tensor>, train: bool) -> Tensor {
        self.embeddings.forward(input_ids, token_type_ids, train)
    }

    fn encoder(&self, hidden: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        self.encoder.forward(hidden, attention_mask, train)
    }

    fn hidden_size(&self) -> i64 {
        self.hidden_size
    }
}
