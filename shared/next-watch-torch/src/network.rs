//! The early-fusion next-watch model: the deep part of a next-watch score learned through
//! the text encoder. The candidate's text goes through the encoder's embedding layer, the
//! moment (the candidate's standardised next-watch features at it: session, channel
//! repeat, time of day, similarity to the recent watches…) is projected to one more token
//! appended to it, exactly as the answers' fusion model appends the activity token, and the
//! encoder's layers (LoRA-tuned by default) read both. The masked mean pool goes through one
//! linear layer to a single number, added to the regression's score (`w · z + u · e`,
//! fixed). That layer starts at zero, so the model starts as the regression and learns
//! only what the wording of titles adds for the moment.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::nn::{self, Module};
use tch::Tensor;
use vrd_model::checkpoint::{load_safetensors_where, ENCODER_PREFIXES};
use vrd_model::config::EncoderConfig;
use vrd_model::fusion::{
    build_encoder, load_trained_over, mark_trainable, pad_token_ids, pool_with_token, Finetune, FusionTokenizer,
};
use vrd_model::linear::zero_init;
use vrd_model::linear::LoraConfig;
use vrd_model::TextEncoder;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextWatchFusionConfig {
    pub finetune: Finetune,
    pub lora: LoraConfig,
    /// How many features describe a candidate at a moment.
    pub features: i64,
}

impl NextWatchFusionConfig {
    pub fn new(features: i64, finetune: Finetune) -> NextWatchFusionConfig {
        NextWatchFusionConfig { finetune, lora: LoraConfig::default(), features }
    }
}

/// The prefix of the layers this model adds to its encoder: "pick", the model's first
/// name, kept because it is in the weight names of every saved fusion card.
const NEW_LAYERS: &str = "pick";

/// Names of the layers this model adds to its encoder.
pub fn is_new_layer(name: &str) -> bool {
    name.strip_prefix(NEW_LAYERS).is_some_and(|rest| rest.starts_with('.'))
}

pub struct NextWatchFusionModel {
    encoder: Box<dyn TextEncoder>,
    /// The moment's features to the appended token.
    moment: nn::Linear,
    /// The pooled text-and-moment to the score's deep part (zero at the start).
    output: nn::Linear,
    pub config: NextWatchFusionConfig,
}

impl NextWatchFusionModel {
    /// The model over the encoder of the HF folder `dir`, loaded from its weights; the new
    /// layers fresh.
    pub fn load(vs: &nn::VarStore, dir: &Path, config: NextWatchFusionConfig) -> Result<NextWatchFusionModel> {
        let model = NextWatchFusionModel::new(vs, EncoderConfig::from_file(&dir.join("config.json"))?, config)?;
        load_safetensors_where(vs, &dir.join("model.safetensors"), ENCODER_PREFIXES, |n| !is_new_layer(n))?;
        Ok(model)
    }

    pub fn new(
        vs: &nn::VarStore,
        enc_cfg: EncoderConfig,
        config: NextWatchFusionConfig,
    ) -> Result<NextWatchFusionModel> {
        let hidden = enc_cfg.hidden_size;
        let encoder = build_encoder(vs, enc_cfg, config.finetune, config.lora)?;
        // Optimiser group 1: the new layers learn at their own (higher) rate.
        let new = vs.root().set_group(1) / NEW_LAYERS;
        let model = NextWatchFusionModel {
            encoder,
            moment: nn::linear(&new / "moment", config.features, hidden, Default::default()),
            output: nn::linear(&new / "output", hidden, 1, zero_init()),
            config,
        };
        mark_trainable(vs, model.config.finetune, is_new_layer);
        Ok(model)
    }

    /// A saved model: the encoder of `dir` with the trained weights of `trained` over it.
    pub fn load_trained(
        vs: &nn::VarStore,
        dir: &Path,
        config: NextWatchFusionConfig,
        trained: &Path,
    ) -> Result<NextWatchFusionModel> {
        let model = NextWatchFusionModel::load(vs, dir, config)?;
        load_trained_over(vs, trained)?;
        Ok(model)
    }

    /// The deep part of each candidate's score `(B,)`: its text `(B, T)` with its
    /// standardised features at the moment `z` `(B, F)`.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, z: &Tensor, train: bool) -> Tensor {
        let token = self.moment.forward(z);
        let pooled = pool_with_token(self.encoder.as_ref(), input_ids, attention_mask, &token, train);
        self.output.forward(&pooled.to_kind(tch::Kind::Float)).squeeze_dim(1)
    }
}

/// A model with its tokenizer and variables: what training fits, and what ranking and
/// evaluation score candidates with.
pub struct NextWatchFusionScorer {
    vs: nn::VarStore,
    model: NextWatchFusionModel,
    tokenizer: FusionTokenizer,
}

/// Candidates per encoder pass.
const BATCH: usize = 64;

impl NextWatchFusionScorer {
    pub fn new(vs: nn::VarStore, model: NextWatchFusionModel, tokenizer: FusionTokenizer) -> NextWatchFusionScorer {
        NextWatchFusionScorer { vs, model, tokenizer }
    }

    /// The weights a saved model holds (adapters and new layers).
    pub fn trained_variables(&self) -> Vec<(String, Tensor)> {
        vrd_model::fusion::trained_variables(&self.vs)
    }

    /// The variables, for an optimiser.
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// A saved model: `trained` over the encoder of `dir`, read `max_length` tokens at most.
    pub fn load(
        dir: &Path,
        config: NextWatchFusionConfig,
        trained: &Path,
        max_length: usize,
    ) -> Result<NextWatchFusionScorer> {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let model = NextWatchFusionModel::load_trained(&vs, dir, config, trained)?;
        Ok(NextWatchFusionScorer::new(vs, model, FusionTokenizer::load(dir, max_length)?))
    }

    pub fn model(&self) -> &NextWatchFusionModel {
        &self.model
    }

    pub fn tokenizer(&self) -> &FusionTokenizer {
        &self.tokenizer
    }

    /// The deep part for each candidate: its text, and its standardised features at the
    /// moment (`z`, one row per text).
    pub fn scores(&self, texts: &[&str], z: &[Vec<f32>]) -> Result<Vec<f64>> {
        let ids = self.tokenizer.encode(texts)?;
        Ok(self.scores_of_ids(&ids.iter().map(Vec::as_slice).collect::<Vec<_>>(), z))
    }

    /// The same from token ids already made by [`NextWatchFusionScorer::tokenizer`]. Texts of
    /// similar length go through together, so little of each pass is padding.
    pub fn scores_of_ids(&self, ids: &[&[i64]], z: &[Vec<f32>]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![0.0; ids.len()];
        tch::no_grad(|| {
            for batch in order.chunks(BATCH) {
                let rows: Vec<&[i64]> = batch.iter().map(|&i| ids[i]).collect();
                let (input_ids, mask) = pad_token_ids(&rows, self.tokenizer.pad_id);
                let flat: Vec<f32> = batch.iter().flat_map(|&i| z[i].iter().copied()).collect();
                let z = Tensor::from_slice(&flat).view([batch.len() as i64, self.model.config.features]);
                let scores =
                    Vec::<f32>::try_from(&self.model.forward(&input_ids, &mask, &z, false)).expect("a float vector");
                for (&i, s) in batch.iter().zip(scores) {
                    out[i] = f64::from(s);
                }
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig;
    use tch::{Device, Kind};
    use vrd_model::fusion::trained_variables;

    fn tiny() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr")
    }

    fn inputs(b: i64) -> (Tensor, Tensor, Tensor) {
        (
            Tensor::from_slice(&[0i64, 10, 20, 30, 2]).view([1, 5]).repeat([b, 1]),
            Tensor::ones([b, 5], (Kind::Int64, Device::Cpu)),
            Tensor::randn([b, 4], (Kind::Float, Device::Cpu)),
        )
    }

    /// It starts as the regression (a deep part of zero), only the adapters and the new
    /// layers train, the moment reaches the score once trained, and a saved model scores
    /// as the trained one did.
    #[test]
    fn starts_at_zero_trains_its_adapters_and_reloads() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(3);
        let config = NextWatchFusionConfig::new(4, Finetune::Lora);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = NextWatchFusionModel::load(&vs, &tiny(), config.clone()).unwrap();
        let (ids, mask, z) = inputs(6);
        assert_eq!(model.forward(&ids, &mask, &z, false).abs().max().double_value(&[]), 0.0);
        let trained: Vec<String> = trained_variables(&vs).into_iter().map(|(n, _)| n).collect();
        assert!(trained.iter().all(|n| n.contains(".lora_") || is_new_layer(n)), "{trained:?}");
        assert!(trained.iter().any(|n| n.contains(".lora_")) && trained.iter().any(|n| is_new_layer(n)));

        // Same text, the moment alone says which row is picked: the first feature.
        let target = z.select(1, 0);
        let mut opt = nn::Adam::default().build(&vs, 1e-2).unwrap();
        for _ in 0..60 {
            let loss = model.forward(&ids, &mask, &z, true).mse_loss(&target, tch::Reduction::Mean);
            opt.backward_step(&loss);
        }
        let scores = model.forward(&ids, &mask, &z, false);
        let fit = scores.mse_loss(&target, tch::Reduction::Mean).double_value(&[]);
        assert!(fit < 0.2, "the moment token reaches the score: mse {fit}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pick-fusion.safetensors");
        Tensor::write_safetensors(&trained_variables(&vs), &file).unwrap();
        let loaded =
            NextWatchFusionModel::load_trained(&nn::VarStore::new(Device::Cpu), &tiny(), config, &file).unwrap();
        let again = loaded.forward(&ids, &mask, &z, false);
        assert!((scores - again).abs().max().double_value(&[]) < 1e-5);
    }
}
