//! The answers' model's early-fusion network, as in the reference: the video's text through
//! the encoder's embedding layer, the compressed activity sequence appended as one more
//! token, the encoder's layers over both, a masked mean pool, and the two heads. Its
//! building blocks (the encoder, fine-tuning, pooling with a token, the tokenizer) are
//! `vrd_model::fusion`'s, shared with the next-watch model.

use super::activity::Activity;
use super::compressor::{CompressorConfig, SequenceCompressor};
use super::heads::{HeadLogits, Heads};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{nn, Tensor};
use vrd_model::checkpoint::{load_safetensors_where, ENCODER_PREFIXES};
use vrd_model::config::EncoderConfig;
use vrd_model::fusion::{build_encoder, load_trained_over, mark_trainable, pool_with_token, Finetune};
use vrd_model::linear::LoraConfig;
use vrd_model::TextEncoder;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusionConfig {
    pub finetune: Finetune,
    pub lora: LoraConfig,
    pub compressor: CompressorConfig,
    pub head_dropout: f64,
}

impl FusionConfig {
    /// The reference's shape for an encoder of width `hidden` and activity events
    /// embedded at `context_dim` with `num_features` numbers.
    pub fn new(hidden: i64, context_dim: i64, num_features: i64, app_buckets: i64, finetune: Finetune) -> FusionConfig {
        FusionConfig {
            finetune,
            lora: LoraConfig::default(),
            compressor: CompressorConfig::new(context_dim, num_features, hidden, app_buckets),
            head_dropout: 0.1,
        }
    }
}

pub struct FusionModel {
    encoder: Box<dyn TextEncoder>,
    compressor: SequenceCompressor,
    heads: Heads,
    pub config: FusionConfig,
}

/// Names of the new layers (everything else in the store is the encoder's).
pub fn is_new_layer(name: &str) -> bool {
    name.starts_with("compressor.") || name.starts_with("heads.")
}

impl FusionModel {
    /// Builds the model in `vs` with the encoder of the HF folder `dir` loaded from its
    /// weights, and marks what trains according to `config.finetune`.
    pub fn load(vs: &nn::VarStore, dir: &Path, config: FusionConfig) -> Result<FusionModel> {
        let enc_cfg = EncoderConfig::from_file(&dir.join("config.json"))?;
        let model = FusionModel::new(vs, enc_cfg, config)?;
        load_safetensors_where(vs, &dir.join("model.safetensors"), ENCODER_PREFIXES, |n| !is_new_layer(n))?;
        Ok(model)
    }

    /// The model with its encoder at its initial (random) weights: for benchmarks of the
    /// training step at a given size (BGE-M3's config) without its 2 GB of weights.
    pub fn new(vs: &nn::VarStore, enc_cfg: EncoderConfig, config: FusionConfig) -> Result<FusionModel> {
        if config.compressor.out_dim != enc_cfg.hidden_size {
            bail!(
                "the compressor's token width {} is not the encoder's {}",
                config.compressor.out_dim,
                enc_cfg.hidden_size
            );
        }
        let encoder = build_encoder(vs, enc_cfg.clone(), config.finetune, config.lora)?;
        let model = FusionModel {
            encoder,
            // Optimiser group 1: the new layers learn at their own (higher) rate.
            compressor: SequenceCompressor::new(vs.root().set_group(1) / "compressor", config.compressor),
            heads: Heads::new(vs.root().set_group(1) / "heads", enc_cfg.hidden_size, config.head_dropout),
            config,
        };
        mark_trainable(vs, model.config.finetune, is_new_layer);
        Ok(model)
    }

    /// `input_ids`/`attention_mask` `(B, T)` the video's text; the activity `(B, L, ·)`;
    /// `duration_z` `(B,)`. With `context_blind` the activity token is zeroed.
    pub fn forward(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        activity: &Activity,
        duration_z: &Tensor,
        train: bool,
        context_blind: bool,
    ) -> HeadLogits {
        let token = self.context_token(activity, duration_z, train);
        let token = if context_blind { token.zeros_like() } else { token };
        self.forward_with_token(input_ids, attention_mask, &token, train)
    }

    /// The compressed activity token `(B, H)`.
    pub fn context_token(&self, activity: &Activity, duration_z: &Tensor, train: bool) -> Tensor {
        self.compressor.forward(activity, duration_z, train)
    }

    /// The heads for given activity tokens `(B, H)`: ranking compresses "now" once per
    /// duration condition and reuses the token for every candidate.
    pub fn forward_with_token(
        &self,
        input_ids: &Tensor,
        attention_mask: &Tensor,
        token: &Tensor,
        train: bool,
    ) -> HeadLogits {
        let pooled = pool_with_token(self.encoder.as_ref(), input_ids, attention_mask, token, train);
        self.heads.forward(&pooled, train)
    }

    /// A saved model: the encoder of `dir` with the trained weights of `trained` over it;
    /// every trained variable must be in that file.
    pub fn load_trained(vs: &nn::VarStore, dir: &Path, config: FusionConfig, trained: &Path) -> Result<FusionModel> {
        let model = FusionModel::load(vs, dir, config)?;
        load_trained_over(vs, trained)?;
        Ok(model)
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

    /// The fusion config for the tiny XLM-R, activity events of 8-d text and 5 numbers.
    fn tiny_config(finetune: Finetune) -> FusionConfig {
        let hidden = EncoderConfig::from_file(&tiny().join("config.json")).unwrap().hidden_size;
        FusionConfig::new(hidden, 8, 5, 16, finetune)
    }

    /// Writes `trained` to `file`, loads it over the tiny encoder, and returns how far the
    /// loaded model's logits (both heads) are from `model`'s.
    fn reload_difference(model: &FusionModel, trained: &[(String, Tensor)], config: FusionConfig, file: &Path) -> f64 {
        Tensor::write_safetensors(trained, file).unwrap();
        let loaded = FusionModel::load_trained(&nn::VarStore::new(Device::Cpu), &tiny(), config, file).unwrap();
        let (ids, mask, act, dz) = inputs(3);
        let a = model.forward(&ids, &mask, &act, &dz, false, false);
        let b = loaded.forward(&ids, &mask, &act, &dz, false, false);
        let diff = |x: Tensor, y: Tensor| (x - y).abs().max().double_value(&[]);
        diff(a.interest, b.interest).max(diff(a.right_time, b.right_time))
    }

    fn inputs(b: i64) -> (Tensor, Tensor, Activity, Tensor) {
        let opts = (Kind::Float, Device::Cpu);
        let activity = Activity {
            text: Tensor::randn([b, 6, 8], opts),
            num: Tensor::randn([b, 6, 5], opts),
            mask: Tensor::ones([b, 6], (Kind::Int64, Device::Cpu)),
            app: Tensor::randint_low(1, 16, [b, 6], (Kind::Int64, Device::Cpu)),
            category: Tensor::randint_low(1, 16, [b, 6], (Kind::Int64, Device::Cpu)),
            seconds: Tensor::full([b, 6], 120.0, opts),
        };
        (
            Tensor::from_slice(&[0i64, 10, 20, 30, 2]).view([1, 5]).repeat([b, 1]),
            Tensor::ones([b, 5], (Kind::Int64, Device::Cpu)),
            activity,
            Tensor::randn([b], opts),
        )
    }

    #[test]
    fn lora_trains_only_adapters_and_new_layers_and_learns() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = FusionModel::load(&vs, &tiny(), tiny_config(Finetune::Lora)).unwrap();
        let vars = vs.variables();
        let trainable: Vec<&String> = vars.iter().filter(|(_, v)| v.requires_grad()).map(|(k, _)| k).collect();
        assert!(trainable.iter().any(|n| n.contains("lora_a")));
        assert!(trainable.iter().all(|n| n.contains(".lora_") || is_new_layer(n)), "{trainable:?}");
        assert!(vars.keys().any(|n| n.starts_with("embeddings.word_embeddings")), "HF names at the root");

        let (ids, mask, act, dz) = inputs(4);
        let targets = Tensor::from_slice(&[0i64, 1, 0, 1]);
        let base_before = vars["encoder.layer.0.attention.self.query.weight"].copy();
        let mut opt = nn::AdamW::default().build(&vs, 1e-2).unwrap();
        let loss = |train| {
            let out = model.forward(&ids, &mask, &act, &dz, train, false);
            out.interest.cross_entropy_for_logits(&targets)
        };
        let first = loss(false).double_value(&[]);
        for _ in 0..30 {
            opt.backward_step(&loss(true));
        }
        assert!(loss(false).double_value(&[]) < first * 0.5, "it learns");
        assert!(vars["encoder.layer.0.attention.self.query.weight"].equal(&base_before), "the base stays frozen");
        let blind = model.forward(&ids, &mask, &act, &dz, false, true).interest;
        assert_eq!(blind.size(), [4, 2]);
    }

    #[test]
    fn a_saved_lora_model_loads_back_exactly_and_whole() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(5);
        let config = tiny_config(Finetune::Lora);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = FusionModel::load(&vs, &tiny(), config.clone()).unwrap();
        // Move the adapters off their zero start so the comparison means something.
        tch::no_grad(|| {
            for (name, mut v) in vs.variables() {
                if name.contains("lora_b") {
                    v.copy_(&(Tensor::randn(v.size(), (Kind::Float, Device::Cpu)) * 0.1));
                }
            }
        });
        let trained = trained_variables(&vs);
        assert!(trained.iter().all(|(n, _)| n.contains(".lora_") || is_new_layer(n)));
        assert!(!trained.iter().any(|(n, _)| n == "encoder.layer.0.attention.self.query.weight"), "no frozen base");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("model.safetensors");
        assert!(reload_difference(&model, &trained, config.clone(), &file) < 1e-6);

        // A file without one adapter is refused by name (the base checkpoint's leniency
        // for missing adapters does not apply to a trained model).
        let partial: Vec<(String, Tensor)> =
            trained.into_iter().filter(|(n, _)| !n.ends_with("layer.0.attention.self.query.lora_a")).collect();
        Tensor::write_safetensors(&partial, &file).unwrap();
        let err = FusionModel::load_trained(&nn::VarStore::new(Device::Cpu), &tiny(), config, &file).err().unwrap();
        assert!(err.to_string().contains("missing tensor `encoder.layer.0.attention.self.query.lora_a"), "{err}");
    }

    #[test]
    fn bf16_runs_forward_and_backward_close_to_f32() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(4);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let model = FusionModel::load(&vs, &tiny(), tiny_config(Finetune::Lora)).unwrap();
        let (ids, mask, act, dz) = inputs(2);
        let f32_logits = model.forward(&ids, &mask, &act, &dz, false, false).right_time;
        vs.bfloat16();
        let bf = |t: &Tensor| t.to_kind(Kind::BFloat16);
        let out = model.forward(&ids, &mask, &act.to(Device::Cpu, Kind::BFloat16), &bf(&dz), true, false);
        assert_eq!(out.right_time.kind(), Kind::BFloat16);
        out.right_time.to_kind(Kind::Float).sum(Kind::Float).backward();
        let vars = vs.variables();
        for name in ["encoder.layer.0.attention.self.query.lora_a", "compressor.block1.conv1.weight"] {
            assert!(vars[name].grad().defined(), "{name} gets a gradient");
        }
        let bf_logits =
            model.forward(&ids, &mask, &act.to(Device::Cpu, Kind::BFloat16), &bf(&dz), false, false).right_time;
        let diff = (bf_logits.to_kind(Kind::Float) - f32_logits).abs().max().double_value(&[]);
        assert!(diff < 0.1, "{diff}");
    }

    #[test]
    fn a_fully_fine_tuned_model_saves_and_loads_its_whole_encoder() {
        let _rng = crate::torch_rng_lock();
        tch::manual_seed(6);
        let config = tiny_config(Finetune::Full);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = FusionModel::load(&vs, &tiny(), config.clone()).unwrap();
        tch::no_grad(|| {
            let mut q = vs.variables()["encoder.layer.0.attention.self.query.weight"].shallow_clone();
            q += 0.05;
        });
        let trained = trained_variables(&vs);
        assert_eq!(trained.len(), vs.variables().len(), "every weight trains");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("model.safetensors");
        let diff = reload_difference(&model, &trained, config, &file);
        assert!(diff < 1e-6, "the fine-tuned encoder, not the base, is loaded: {diff}");
    }
}
