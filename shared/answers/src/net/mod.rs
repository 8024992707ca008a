//! The answers' model's networks, and its two architectures behind one interface
//! ([`Net`]), so training, evaluation and baselines treat them alike:
//! - [`fast`]: over cached media embeddings, with the wide features ([`wide`]) beside;
//! - [`fusion`]: the encoder fine-tuned over the video's text with the activity token
//!   appended;
//! - both read the activity before the moment ([`activity`]) through the sequence
//!   compressor ([`compressor`]) and answer with the two heads ([`heads`]).

pub mod activity;
pub mod compressor;
pub mod fast;
pub mod fusion;
pub mod heads;
pub mod wide;

use crate::data::{Batch, Dataset};
use crate::net::fast::{FastConfig, FastInput, FastModel, Scorer};
use crate::net::heads::HeadLogits;
use anyhow::{anyhow, Result};
use fusion::{FusionConfig, FusionModel};
use std::path::PathBuf;
use tch::nn;
use vrd_core::records::PerHead;
use vrd_model::fusion::Finetune;

/// What to build and train: the architecture ([`RankerSpec::kind`]) and, for the fusion
/// network, the encoder it fine-tunes and how.
#[derive(Debug, Clone)]
pub enum RankerSpec {
    Fast,
    /// `max_length`: tokens of video text read.
    Fusion {
        encoder: PathBuf,
        finetune: Finetune,
        max_length: usize,
    },
}

impl RankerSpec {
    pub fn kind(&self) -> vrd_model::RankerArch {
        match self {
            RankerSpec::Fast => vrd_model::RankerArch::Fast,
            RankerSpec::Fusion { .. } => vrd_model::RankerArch::Fusion,
        }
    }
}

pub enum Net {
    Fast(Box<FastModel>),
    Fusion(Box<FusionModel>),
}

impl Net {
    /// Builds a fresh model of `arch` for this data in `vs` (new layers in optimiser
    /// group 1 for the fusion model, whose encoder is group 0); `share_buckets`: the apps
    /// whose time shares are wide features of the fast model.
    pub fn build(arch: &RankerSpec, vs: &nn::VarStore, data: &Dataset, share_buckets: Vec<i64>) -> Result<Net> {
        let buckets = data.spec.app_buckets as i64;
        match arch {
            RankerSpec::Fast => {
                let config = FastConfig {
                    metadata_buckets: data.metadata_buckets as i64,
                    ..FastConfig::new(
                        data.media_dim(),
                        data.context_dim(),
                        data.num_features(),
                        buckets,
                        data.spec.window_s as f64,
                        share_buckets,
                    )
                };
                Ok(Net::Fast(Box::new(FastModel::new(vs.root(), config))))
            }
            RankerSpec::Fusion { encoder, finetune, .. } => {
                let hidden = vrd_model::EncoderConfig::from_file(&encoder.join("config.json"))?.hidden_size;
                let config = FusionConfig::new(hidden, data.context_dim(), data.num_features(), buckets, *finetune);
                Ok(Net::Fusion(Box::new(FusionModel::load(vs, encoder, config)?)))
            }
        }
    }

    /// Whether a variable is one of the layers the fusion model adds to its encoder
    /// (trained at the higher rate); every variable of the fast model is "new".
    pub fn is_new_layer(arch: &RankerSpec, name: &str) -> bool {
        match arch {
            RankerSpec::Fast => false,
            RankerSpec::Fusion { .. } => fusion::is_new_layer(name),
        }
    }

    /// Logits of the model itself (its deep and wide paths; not a chosen baseline).
    pub fn forward(&self, b: &Batch, train: bool, context_blind: bool) -> Result<HeadLogits> {
        match self {
            Net::Fast(m) => {
                let input = FastInput { media: &b.media, activity: &b.activity, duration_z: &b.duration_z };
                Ok(m.forward_as(&input, train, context_blind, &PerHead::new(|_| Scorer::Model)))
            }
            Net::Fusion(m) => {
                let (ids, mask) = b.tokens.as_ref().ok_or_else(|| anyhow!("the fusion model needs tokenized texts"))?;
                Ok(m.forward(ids, mask, &b.activity, &b.duration_z, train, context_blind))
            }
        }
    }
}
