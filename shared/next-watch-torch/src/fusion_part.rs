//! A next-watch model folder's fusion scorer, ready to run: the deep part of
//! `vrd_next_watch::card::NextWatchScorer::Fusion` (the encoder over each candidate's text
//! with its features at the moment), rebuilt from the card's [`NextWatchFusionPart`] and the
//! weights beside it, over the same encoder weights it was fine-tuned from.

use crate::network::{NextWatchFusionConfig, NextWatchFusionScorer};
use anyhow::{Context, Result};
use std::path::Path;
use vrd_core::records::{MediaText, Video};
use vrd_core::text::TextTemplate;
use vrd_encoder::encoder_dir::fine_tuned_encoder;
use vrd_next_watch::card::{NextWatchCard, NextWatchFusionPart};

pub struct NextWatchEncoder {
    scorer: NextWatchFusionScorer,
    template: TextTemplate,
}

impl NextWatchEncoder {
    /// The deep part of `card`'s scorer from the model folder `dir`, if it has one.
    /// `encoder` overrides the encoder folder the card names (moved since training); it
    /// must hold the same weights.
    pub fn for_card(dir: &Path, card: &NextWatchCard, encoder: Option<&Path>) -> Result<Option<NextWatchEncoder>> {
        card.fusion().map(|part| NextWatchEncoder::load(dir, part, encoder)).transpose()
    }

    pub fn load(dir: &Path, part: &NextWatchFusionPart, encoder: Option<&Path>) -> Result<NextWatchEncoder> {
        let encoder_dir =
            fine_tuned_encoder(&part.encoder, encoder, &part.encoder_fingerprint, (dir, "next-watch model"))?;
        let config: NextWatchFusionConfig = serde_json::from_value(part.network.clone())
            .with_context(|| format!("{}: the fusion part's network is not one this vrd builds", dir.display()))?;
        let scorer = NextWatchFusionScorer::load(
            encoder_dir,
            config,
            &vrd_core::model_dir::ModelDir::new(dir).file(&part.weights),
            part.max_length,
        )?;
        Ok(NextWatchEncoder { scorer, template: TextTemplate::parse(&part.text_template, part.description_chars)? })
    }

    /// The trained model and its tokenizer.
    pub fn scorer(&self) -> &NextWatchFusionScorer {
        &self.scorer
    }

    /// The deep part of each video's score, given its standardised features at the moment.
    pub fn scores(&self, videos: &[&Video], z: &[Vec<f32>]) -> Result<Vec<f64>> {
        let texts: Vec<String> = videos.iter().map(|v| self.template.render(&MediaText::from(*v))).collect();
        self.scorer.scores(&texts.iter().map(String::as_str).collect::<Vec<_>>(), z)
    }
}
