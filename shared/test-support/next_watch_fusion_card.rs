//! A next-watch fusion card made from a fast one, for the tests that rank or judge with
//! one without training it (whether training ships one is the rule's call): the fast
//! card's regression, and a fusion network over the tiny XLM-R whose output layer is
//! random (`scale`; 0: zero, so the deep part adds nothing). Its weights are written beside
//! the card in `dir`.

use std::path::{Path, PathBuf};
use tch::{nn, Device, Tensor};
use vrd_core::model_dir::ModelDir;
use vrd_model::fusion::{trained_variables, Finetune};
use vrd_next_watch::card::{NextWatchCard, NextWatchFusionPart, NextWatchScorer};
use vrd_next_watch_torch::network::{NextWatchFusionConfig, NextWatchFusionModel};

pub fn tiny_xlmr() -> PathBuf {
    crate::paths::repo().join("fixtures/tiny-xlmr")
}

pub fn fusion_card(fast: &NextWatchCard, dir: &Path, scale: f64) -> NextWatchCard {
    let (weights, taste) = match &fast.scorer {
        NextWatchScorer::Regression { weights, taste } | NextWatchScorer::Network { weights, taste, .. } => {
            (weights.clone(), taste.clone())
        }
        _ => (vec![0.0; fast.features.len()], Vec::new()),
    };
    let config = NextWatchFusionConfig::new(fast.features.len() as i64, Finetune::Lora);
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    let _model = NextWatchFusionModel::load(&vs, &tiny_xlmr(), config.clone()).unwrap();
    tch::no_grad(|| {
        for (name, mut var) in vs.variables() {
            if name.starts_with("pick.output") {
                var.copy_(&(Tensor::randn(var.size(), (tch::Kind::Float, Device::Cpu)) * scale));
            }
        }
    });
    std::fs::create_dir_all(dir).unwrap();
    Tensor::write_safetensors(&trained_variables(&vs), ModelDir::new(dir).next_watch_fusion_weights()).unwrap();
    let part = NextWatchFusionPart {
        encoder: tiny_xlmr(),
        encoder_fingerprint: vrd_encoder::encoder_dir::fingerprint(&tiny_xlmr()).unwrap(),
        weights: ModelDir::next_watch_fusion_weights_name().into(),
        max_length: 32,
        text_template: vrd_core::text::DEFAULT_TEMPLATE.into(),
        description_chars: vrd_core::text::DEFAULT_DESCRIPTION_CHARS,
        network: serde_json::to_value(&config).unwrap(),
    };
    NextWatchCard {
        scorer: NextWatchScorer::Fusion { weights, taste, fusion: part },
        chosen: "fusion".into(),
        ..fast.clone()
    }
}
