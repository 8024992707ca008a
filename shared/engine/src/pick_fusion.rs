//! A next-watch model folder's fusion scorer, ready to run: the deep part of
//! `vrd_ranking::pick::card::PickScorer::Fusion` (the encoder over each candidate's text
//! with its features at the moment), rebuilt from the card's [`PickFusionPart`] and the
//! weights beside it, over the same encoder weights it was fine-tuned from.

use crate::encoder_dir::fine_tuned_encoder;
use anyhow::{Context, Result};
use std::path::Path;
use vrd_core::records::{MediaText, Video};
use vrd_core::text::TextTemplate;
use vrd_model::pick_fusion::{PickFusionConfig, PickFusionScorer};
use vrd_ranking::pick::card::{PickCard, PickFusionPart};

pub struct PickEncoder {
    scorer: PickFusionScorer,
    template: TextTemplate,
}

impl PickEncoder {
    /// The deep part of `card`'s scorer from the model folder `dir`, if it has one.
    /// `encoder` overrides the encoder folder the card names (moved since training); it
    /// must hold the same weights.
    pub fn for_card(dir: &Path, card: &PickCard, encoder: Option<&Path>) -> Result<Option<PickEncoder>> {
        card.fusion().map(|part| PickEncoder::load(dir, part, encoder)).transpose()
    }

    pub fn load(dir: &Path, part: &PickFusionPart, encoder: Option<&Path>) -> Result<PickEncoder> {
        let encoder_dir =
            fine_tuned_encoder(&part.encoder, encoder, &part.encoder_fingerprint, (dir, "next-watch model"))?;
        let config: PickFusionConfig = serde_json::from_value(part.network.clone())
            .with_context(|| format!("{}: the fusion part's network is not one this vrd builds", dir.display()))?;
        let scorer = PickFusionScorer::load(
            encoder_dir,
            config,
            &vrd_core::model_dir::ModelDir::new(dir).file(&part.weights),
            part.max_length,
        )?;
        Ok(PickEncoder { scorer, template: TextTemplate::parse(&part.text_template, part.description_chars)? })
    }

    /// The trained model and its tokenizer.
    pub fn scorer(&self) -> &PickFusionScorer {
        &self.scorer
    }

    /// The deep part of each video's score, given its standardised features at the moment.
    pub fn scores(&self, videos: &[&Video], z: &[Vec<f32>]) -> Result<Vec<f64>> {
        let texts: Vec<String> = videos.iter().map(|v| self.template.render(&MediaText::from(*v))).collect();
        self.scorer.scores(&texts.iter().map(String::as_str).collect::<Vec<_>>(), z)
    }
}
