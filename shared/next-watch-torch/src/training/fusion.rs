//! The early-fusion contender of the next-watch model (`vrd-train fit --history --arch
//! fusion`): the same moments, negatives, features and listwise loss as the fast scorers,
//! with the text encoder (LoRA-tuned) reading each candidate's text beside its features at
//! the moment (`crate::network`). Its score is the regression's, fixed, plus that
//! deep part, which starts at zero; so, like the one-layer network, it has to earn its
//! place over the regression on the held-out slice.
//!
//! An encoder pass per (moment, candidate) is costly on a CPU, so each step reads
//! `groups_per_step` moments with `negatives` of their negatives drawn at random (a
//! sampled softmax over the group), and the epoch kept is chosen on the slice.

use super::data::{Dataset, NextWatchInputs};
use super::mrr::rank_of_first;
use crate::network::{is_new_layer, NextWatchFusionConfig, NextWatchFusionModel, NextWatchFusionScorer};
use anyhow::Result;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use tch::{nn, Device, Kind, Tensor};
use vrd_core::records::MediaText;
use vrd_core::rng::Rng;
use vrd_core::tensors::Embeddings;
use vrd_core::text::{TextTemplate, DEFAULT_DESCRIPTION_CHARS, DEFAULT_TEMPLATE};
use vrd_model::fusion::{Finetune, FusionTokenizer};
use vrd_model::optim::AdamW;
use vrd_next_watch::card::{score_standardised, standardised_row, NextWatchFusionPart, NextWatchScorer};
use vrd_next_watch::features::FEATURES;

#[derive(Debug, Clone, Serialize)]
pub struct FusionOptions {
    /// The Hugging Face folder of the encoder fine-tuned.
    pub encoder: PathBuf,
    /// Its fingerprint, recorded in the card (ranking checks it).
    pub encoder_fingerprint: String,
    pub finetune: Finetune,
    /// Text tokens read per candidate.
    pub max_length: usize,
    /// Passes over the training moments (the one kept is chosen on the slice).
    pub epochs: usize,
    /// Negatives drawn per moment and step.
    pub negatives: usize,
    pub groups_per_step: usize,
    /// Learning rates of the encoder's trained part (adapters) and of the new layers.
    pub encoder_lr: f64,
    pub lr: f64,
    /// Refit on every moment even when the fast scorer is chosen (benchmarks report it).
    pub keep_unchosen: bool,
}

impl FusionOptions {
    pub fn new(encoder: PathBuf, encoder_fingerprint: String) -> FusionOptions {
        FusionOptions {
            encoder,
            encoder_fingerprint,
            finetune: Finetune::Lora,
            max_length: 48,
            epochs: 3,
            negatives: 7,
            groups_per_step: 8,
            encoder_lr: 5e-4,
            lr: 1e-3,
            keep_unchosen: false,
        }
    }

    /// The card's record of how to rebuild the deep part.
    pub fn part(&self, features: usize) -> NextWatchFusionPart {
        NextWatchFusionPart {
            encoder: self.encoder.clone(),
            encoder_fingerprint: self.encoder_fingerprint.clone(),
            weights: vrd_core::model_dir::ModelDir::next_watch_fusion_weights_name().into(),
            max_length: self.max_length,
            text_template: DEFAULT_TEMPLATE.into(),
            description_chars: DEFAULT_DESCRIPTION_CHARS,
            network: serde_json::to_value(self.config(features)).expect("a plain struct"),
        }
    }

    fn config(&self, features: usize) -> NextWatchFusionConfig {
        NextWatchFusionConfig::new(features as i64, self.finetune)
    }

    /// Every embedding row's text as this model's token ids.
    pub fn token_ids(&self, inputs: &NextWatchInputs) -> Result<Vec<Vec<i64>>> {
        let template = TextTemplate::parse(DEFAULT_TEMPLATE, DEFAULT_DESCRIPTION_CHARS)?;
        token_ids(inputs, &FusionTokenizer::load(&self.encoder, self.max_length)?, &template)
    }
}

/// Every embedding row's text (by `template`) as token ids: the videos' details where
/// known, else the history's titles and channels (empty for a row neither knows).
pub fn token_ids(
    inputs: &NextWatchInputs,
    tokenizer: &FusionTokenizer,
    template: &TextTemplate,
) -> Result<Vec<Vec<i64>>> {
    let mut text: HashMap<&str, MediaText> = HashMap::new();
    for e in inputs.history {
        text.entry(e.video_id.as_str()).or_insert_with(|| MediaText::from(e));
    }
    for v in inputs.unwatched.iter().chain(inputs.details.values().copied()) {
        text.insert(v.video_id.as_str(), MediaText::from(v));
    }
    let texts: Vec<String> = inputs
        .embeddings
        .meta
        .ids
        .iter()
        .map(|id| text.get(id.as_str()).map_or_else(String::new, |m| template.render(m)))
        .collect();
    tokenizer.encode(&texts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// What the fusion training reads besides the dataset.
pub struct FusionData<'a> {
    pub ds: &'a Dataset,
    /// The features' standardisation (the card's).
    pub standard: (&'a [f32], &'a [f32]),
    pub embeddings: &'a Embeddings,
    /// Token ids by embedding row ([`token_ids`]).
    pub ids: &'a [Vec<i64>],
}

impl FusionData<'_> {
    fn z(&self, g: usize, r: usize) -> Vec<f32> {
        let (mean, std) = self.standard;
        standardised_row(self.ds.row(g, r), mean, std)
    }

    fn embedding_row(&self, g: usize, r: usize) -> usize {
        self.ds.embedding_rows[g * self.ds.width + r] as usize
    }

    fn wide(&self, regression: &NextWatchScorer, g: usize, r: usize) -> f64 {
        score_standardised(regression, &self.z(g, r), self.embeddings.row(self.embedding_row(g, r)))
    }

    /// Each of `groups`' reciprocal rank of its positive, every row scored by `regression`
    /// plus the model's deep part.
    pub fn reciprocal_ranks(
        &self,
        deep: &NextWatchFusionScorer,
        regression: &NextWatchScorer,
        groups: Range<usize>,
    ) -> Vec<f64> {
        let rows: Vec<(usize, usize)> =
            groups.clone().flat_map(|g| (0..self.ds.sizes[g]).map(move |r| (g, r))).collect();
        let ids: Vec<&[i64]> = rows.iter().map(|&(g, r)| self.ids[self.embedding_row(g, r)].as_slice()).collect();
        let z: Vec<Vec<f32>> = rows.iter().map(|&(g, r)| self.z(g, r)).collect();
        let mut scores: Vec<Vec<f64>> = groups.clone().map(|g| Vec::with_capacity(self.ds.sizes[g])).collect();
        for (&(g, r), d) in rows.iter().zip(deep.scores_of_ids(&ids, &z)) {
            scores[g - groups.start].push(self.wide(regression, g, r) + d);
        }
        scores.iter().map(|s| 1.0 / rank_of_first(s)).collect()
    }
}

/// Trains a fresh model on `groups` for `epochs` passes (seeded by `seed`), the regression's score fixed
/// beside it; `after_epoch(epoch, fitted)` after each pass (for the choice of the epoch).
pub fn fit(
    data: &FusionData,
    groups: Range<usize>,
    regression: &NextWatchScorer,
    (seed, fo): (u64, &FusionOptions),
    epochs: usize,
    mut after_epoch: impl FnMut(usize, &NextWatchFusionScorer),
) -> Result<NextWatchFusionScorer> {
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = NextWatchFusionModel::load(&vs, &fo.encoder, fo.config(FEATURES.len()))?;
    let tokenizer = FusionTokenizer::load(&fo.encoder, fo.max_length)?;
    let fitted = NextWatchFusionScorer::new(vs, model, tokenizer);
    let mut opt = AdamW::new(fitted.var_store(), 2, |name| usize::from(is_new_layer(name)), 0.01);
    opt.set_lr(0, fo.encoder_lr);
    opt.set_lr(1, fo.lr);
    let mut rng = Rng::new(seed ^ 0xf05e);
    let k = fo.negatives + 1;
    let pad_id = fitted.tokenizer().pad_id;
    let steps_per_epoch = groups.len().div_ceil(fo.groups_per_step.max(1));
    let progress = vrd_core::progress::bar(epochs * steps_per_epoch, "next-watch fusion model: steps");
    for epoch in 1..=epochs {
        let mut order: Vec<usize> = groups.clone().collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for step in order.chunks(fo.groups_per_step.max(1)) {
            // Row 0 (the positive) and `negatives` others drawn without replacement;
            // a group with fewer fills its slots with masked copies of row 0.
            let mut rows: Vec<(usize, usize)> = Vec::with_capacity(step.len() * k);
            let mut mask = Vec::with_capacity(step.len() * k);
            for &g in step {
                let mut others: Vec<usize> = (1..data.ds.sizes[g]).collect();
                for i in 0..others.len().min(fo.negatives) {
                    let j = i + rng.below(others.len() - i);
                    others.swap(i, j);
                }
                others.truncate(fo.negatives);
                rows.push((g, 0));
                mask.push(true);
                for slot in 0..fo.negatives {
                    rows.push((g, others.get(slot).copied().unwrap_or(0)));
                    mask.push(slot < others.len());
                }
            }
            let ids: Vec<&[i64]> = rows.iter().map(|&(g, r)| data.ids[data.embedding_row(g, r)].as_slice()).collect();
            let (input_ids, attention) = vrd_model::fusion::pad_token_ids(&ids, pad_id);
            let z: Vec<f32> = rows.iter().flat_map(|&(g, r)| data.z(g, r)).collect();
            let z = Tensor::from_slice(&z).view([rows.len() as i64, FEATURES.len() as i64]);
            let wide: Vec<f32> = rows.iter().map(|&(g, r)| data.wide(regression, g, r) as f32).collect();
            let shape = [step.len() as i64, k as i64];
            let wide = Tensor::from_slice(&wide).view(shape);
            let mask = Tensor::from_slice(&mask).view(shape);
            let scores = wide + fitted.model().forward(&input_ids, &attention, &z, true).view(shape);
            let loss = -scores
                .masked_fill(&mask.logical_not(), -1e9)
                .log_softmax(1, Kind::Float)
                .select(1, 0)
                .mean(Kind::Float);
            opt.zero_grad();
            loss.backward();
            opt.clipped_step(1.0);
            progress.inc(1);
        }
        after_epoch(epoch, &fitted);
    }
    progress.finish_and_clear();
    Ok(fitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::sample::{Group, Question};
    use vrd_core::tensors::EmbeddingMeta;

    fn tiny() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-xlmr")
    }

    /// A person whose pick at a moment depends on the words of the title crossed with the
    /// moment (one feature, the same for every row of a moment: "evening" or "morning"),
    /// with every embedding alike and every other feature noise: nothing the fast scorers
    /// read tells the target, and the fusion model learns it from the text beside the
    /// moment's token.
    #[test]
    fn learns_what_the_text_says_at_the_moment() {
        let _rng = crate::torch_rng_lock();
        let (groups, width) = (240, 6);
        let f = FEATURES.len();
        let mut rng = Rng::new(5);
        let mut x = vec![0f32; groups * width * f];
        let mut embedding_rows = vec![0i64; groups * width];
        // Embedding rows 0..20 are cooking videos, 20..40 programming ones.
        for g in 0..groups {
            let evening = g % 2 == 0;
            for r in 0..width {
                let cooking = if r == 0 { evening } else { r % 2 == 0 };
                embedding_rows[g * width + r] = (rng.below(20) + if cooking { 0 } else { 20 }) as i64;
                let row = &mut x[(g * width + r) * f..(g * width + r + 1) * f];
                row.iter_mut().for_each(|v| *v = rng.uniform() as f32);
                row[0] = if evening { 1.0 } else { -1.0 };
            }
        }
        let at = vrd_core::time::parse_rfc3339("2025-01-01T00:00:00Z").unwrap();
        let ds = Dataset {
            groups: (0..groups)
                .map(|g| Group { moment: g, at, question: Question::Timing, negatives: Vec::new() })
                .collect(),
            x,
            embedding_rows,
            sizes: vec![width; groups],
            width,
            watches: groups,
            unwatched: 0,
            lexical: None,
            with_activity: 0,
            span: None,
        };
        let ids: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let meta = EmbeddingMeta { model_id: "m".into(), dim: 2, text_hashes: ids.clone(), ids };
        let embeddings = Embeddings::from_parts(meta, vec![0.6; 80]).unwrap();
        let tokenizer = FusionTokenizer::load(&tiny(), 16).unwrap();
        let texts: Vec<String> = (0..40)
            .map(|i| match i < 20 {
                true => format!("slow cooked bread and soup {i}"),
                false => format!("rust borrow checker lifetimes {i}"),
            })
            .collect();
        let token_ids = tokenizer.encode(&texts.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        let (mean, std) = (vec![0f32; f], vec![1f32; f]);
        let data = FusionData { ds: &ds, standard: (&mean, &std), embeddings: &embeddings, ids: &token_ids };
        let regression = NextWatchScorer::Regression { weights: vec![0.0; f], taste: Vec::new() };
        let seed = crate::training::fit::FitOptions::default().seed;
        let fo = FusionOptions { epochs: 6, lr: 3e-3, encoder_lr: 3e-3, ..FusionOptions::new(tiny(), "x".into()) };
        let mut by_epoch = Vec::new();
        let fitted = fit(&data, 0..200, &regression, (seed, &fo), fo.epochs, |epoch, fitted| {
            let rr = data.reciprocal_ranks(fitted, &regression, 200..groups);
            by_epoch.push((epoch, super::super::mrr::mean(&rr)));
        })
        .unwrap();
        assert_eq!(by_epoch.iter().map(|e| e.0).collect::<Vec<_>>(), (1..=6).collect::<Vec<_>>());
        // The regression alone ties every row: 1 / (1 + 5/2).
        let tied = super::super::mrr::mean(&crate::training::mrr::reciprocal_ranks(
            &ds,
            200..groups,
            (&mean, &std),
            &embeddings,
            &regression,
        ));
        assert!((tied - 1.0 / 3.5).abs() < 1e-9, "{tied}");
        // Knowing the class, the target ties with 2 of its kind: ranks 1–3, MRR 0.61.
        let (_, last) = by_epoch[5];
        assert!(last > 0.5, "held-out MRR by epoch {by_epoch:?}");
        assert!(fitted.trained_variables().iter().any(|(n, _)| n.contains(".lora_")));
    }
}
