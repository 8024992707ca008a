//! XLM-RoBERTa (BGE-M3's backbone) as Hugging Face's `XLMRobertaModel`. The layer stack is
//! BERT's (HF's own RoBERTa encoder is a copy of BERT's); what differs is the numbering of
//! positions, which start after the padding index and skip padding. Getting that wrong
//! degrades BGE-M3 silently, so it is tested against HF outputs.

use super::bert::{Embeddings, Encoder, PositionIds};
use super::config::EncoderConfig;
use super::TextEncoder;
use tch::{nn, Tensor};

pub struct XlmRobertaModel {
    pub embeddings: Embeddings,
    pub encoder: Encoder,
    hidden_size: i64,
}

impl XlmRobertaModel {
    pub fn new(p: nn::Path, cfg: &EncoderConfig) -> XlmRobertaModel {
        let positions = PositionIds::AfterPadding { pad_id: cfg.pad_token_id };
        XlmRobertaModel {
            embeddings: Embeddings::new(&p / "embeddings", cfg, positions),
            encoder: Encoder::new(&p / "encoder", cfg),
            hidden_size: cfg.hidden_size,
        }
    }

    /// The longest input the position table allows: positions start at `pad_id + 1`.
    pub fn max_tokens(cfg: &EncoderConfig) -> i64 {
        cfg.max_position_embeddings - cfg.pad_token_id - 1
    }
}

impl TextEncoder for XlmRobertaModel {
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
