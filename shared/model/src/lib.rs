//! Transformer text encoders in libtorch (through tch), loaded from Hugging Face folders,
//! and the layers both models' networks are built from.
//!
//! One file per part: the config, each architecture with HF's exact weight names, pooling,
//! checkpoint loading, LoRA (`linear`), the sentence encoder that ties a tokenizer to a
//! model, early fusion's building blocks (`fusion`: the encoder with one more token, what
//! trains and what a saved model holds), and AdamW (`optim`). The models' own networks
//! are their crates': the answers' model's in `vrd_answers::net`, the next-watch model's
//! in `vrd_next_watch_torch::network`.
//!
//! A crate of its own so that the tools that run no model (vrd-ingest, vrd-label) neither
//! link nor load libtorch: loading it costs about half a second at every start. It knows
//! no records, files of ours, stores, environment or command line (those are
//! `vrd-encoder`'s and the models' crates).

pub mod bert;
pub mod checkpoint;
pub mod config;
pub mod fusion;
pub mod linear;
pub mod optim;
pub mod pooling;
pub mod sentence;
pub mod xlm_roberta;

pub use config::{EncoderConfig, EncoderFamily};

/// The two ranking architectures, by the names the model cards and `vrd-train fit --arch`
/// use, for both models: `fast` (cached media embeddings; the answers' model's
/// `vrd_answers::net::fast`) and `fusion` (the encoder fine-tuned over the video text with
/// one more token: `vrd_answers::net::fusion`, `vrd_next_watch_torch::network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RankerArch {
    Fast,
    Fusion,
}

impl RankerArch {
    pub const ALL: [RankerArch; 2] = [RankerArch::Fast, RankerArch::Fusion];

    pub fn name(self) -> &'static str {
        match self {
            RankerArch::Fast => "fast",
            RankerArch::Fusion => "fusion",
        }
    }

    pub fn parse(name: &str) -> Option<RankerArch> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// "fast, fusion", for messages.
    pub fn names() -> String {
        Self::ALL.map(RankerArch::name).join(", ")
    }
}
pub use sentence::{SentenceEncoder, SentenceEncoderOptions};

use tch::Tensor;

/// What the training model needs from a text encoder: the embedding layer and the
/// transformer stack callable separately (an extra token is appended between them).
pub trait TextEncoder {
    /// Token ids `(B, T)` to input embeddings `(B, T, H)`.
    fn embeddings(&self, input_ids: &Tensor, token_type_ids: Option<&Tensor>, train: bool) -> Tensor;
    /// Hidden states `(B, T, H)` and a 0/1 attention mask `(B, T)` through all layers.
    fn encoder(&self, hidden: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor;
    fn forward(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        token_type_ids: Option<&Tensor>,
        train: bool,
    ) -> Tensor {
        let h = self.embeddings(input_ids, token_type_ids, train);
        self.encoder(&h, attention_mask, train)
    }
    fn hidden_size(&self) -> i64;
}

/// The unit tests' lock on libtorch's one random generator (shared with the other torch crates).
#[cfg(test)]
#[path = "../../test-support/torch_rng.rs"]
mod torch_rng;
#[cfg(test)]
pub(crate) use torch_rng::torch_rng_lock;
