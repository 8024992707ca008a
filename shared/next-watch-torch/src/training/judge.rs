//! Two models judged on the same held-out slice of the history: the latest moments, as
//! the training's choice holds them out (same sampling, same share). A nightly retrain
//! ships only if it is not worse there than the model it would replace. The new model is
//! judged as trained without the slice (what `train` chose, refitted on the moments before
//! it: out of sample); the current one as it is (it may have seen part of the slice, which
//! only makes the rule stricter on the new one).

use super::data::{self, Dataset, NextWatchInputs};
use super::fit::FitOptions;
use super::fusion;
use super::mrr::{mean, paired_standard_error, rank_of_first, reciprocal_ranks};
use super::sample::{Question, Sampling};
use crate::network::NextWatchFusionScorer;
use anyhow::Result;
use vrd_core::text::TextTemplate;
use vrd_next_watch::card::{NextWatchCard, NextWatchScorer};
use vrd_next_watch::features::FEATURES;

/// The held-out moments of a history, each group's rows as features and embedding rows.
pub struct Slice<'a> {
    ds: Dataset,
    /// The first held-out group.
    split: usize,
    inputs: &'a NextWatchInputs<'a>,
}

impl<'a> Slice<'a> {
    /// The groups `sampling` draws from `inputs` and their latest slice as `options` holds
    /// it out (the slice the training's choice is made on); None when too few moments to
    /// hold any out.
    pub fn latest(
        inputs: &'a NextWatchInputs<'a>,
        sampling: &Sampling,
        options: &FitOptions,
    ) -> Result<Option<Slice<'a>>> {
        let ds = data::build(inputs, sampling)?;
        Ok(super::slice_start(ds.groups.len(), options).map(|split| Slice { split, ds, inputs }))
    }

    /// The reciprocal ranks, on each held-out question, of the model `train` makes of
    /// these inputs, trained on the moments before the slice (`train`'s choice, rerun).
    pub fn trained_before(&self, options: &FitOptions) -> Result<Vec<f64>> {
        Ok(super::held_out(&self.ds, options, self.inputs)?.expect("the slice exists").ranks)
    }

    /// How many questions the slice asks.
    pub fn len(&self) -> usize {
        self.ds.groups.len() - self.split
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each held-out question's reciprocal rank under a next-watch card (`deep`: a fusion
    /// card's deep part, loaded); None when the card was made with other features (a model
    /// from an older vrd: it cannot score these rows, and a retrain replaces it).
    pub fn ranks_under(&self, card: &NextWatchCard, deep: Option<&NextWatchFusionScorer>) -> Result<Option<Vec<f64>>> {
        if card.features != FEATURES || card.check().is_err() {
            return Ok(None);
        }
        let held_out = self.split..self.ds.groups.len();
        let standard = (card.mean.as_slice(), card.std.as_slice());
        Ok(Some(match (card.fusion(), deep) {
            (None, _) => reciprocal_ranks(&self.ds, held_out, standard, self.inputs.embeddings, &card.scorer),
            (Some(part), Some(deep)) => {
                let template = TextTemplate::parse(&part.text_template, part.description_chars)?;
                let ids = fusion::token_ids(self.inputs, deep.tokenizer(), &template)?;
                let data = fusion::FusionData { ds: &self.ds, standard, embeddings: self.inputs.embeddings, ids: &ids };
                data.reciprocal_ranks(deep, &card.scorer, held_out)
            }
            (Some(_), None) => anyhow::bail!("internal: a fusion card is judged with its encoder part"),
        }))
    }

    /// The reciprocal ranks of one feature alone (e.g. `sim_profile`, the taste profile,
    /// which a folder without a next-watch model stands for).
    pub fn signal(&self, feature: &str) -> Vec<f64> {
        let f = FEATURES.len();
        let (zero, one) = (vec![0f32; f], vec![1f32; f]);
        let scorer = NextWatchScorer::Signal { feature: feature.to_string() };
        reciprocal_ranks(&self.ds, self.split..self.ds.groups.len(), (&zero, &one), self.inputs.embeddings, &scorer)
    }

    /// The embedding rows the held-out taste questions rank (target first in each).
    pub fn taste_rows(&self) -> Vec<Vec<usize>> {
        (self.split..self.ds.groups.len())
            .filter(|&g| self.ds.groups[g].question == Question::Taste)
            .map(|g| (0..self.ds.sizes[g]).map(|r| self.ds.embedding_rows[g * self.ds.width + r] as usize).collect())
            .collect()
    }
}

/// Each question's reciprocal rank of its first row, given a score per embedding row.
pub fn reciprocal_ranks_of(questions: &[Vec<usize>], score: impl Fn(usize) -> f64) -> Vec<f64> {
    questions.iter().map(|rows| 1.0 / rank_of_first(&rows.iter().map(|&r| score(r)).collect::<Vec<_>>())).collect()
}

/// One comparison: the mean reciprocal rank of the current model and of the new one on
/// the same questions, and the standard error of their paired difference.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub current: f64,
    pub new: f64,
    pub standard_error: f64,
    pub questions: usize,
}

impl Comparison {
    pub fn of(current: &[f64], new: &[f64]) -> Comparison {
        Comparison {
            current: mean(current),
            new: mean(new),
            standard_error: paired_standard_error(new, current),
            questions: new.len(),
        }
    }

    /// "Not worse": the new model's mean is not below the current one's by more than one
    /// standard error of their paired difference (the margin `fit` asks of the network).
    /// On a few dozen questions two equal models differ by chance; a strict comparison
    /// would refuse every other retrain and leave the person with a model that never learns
    /// their new weeks, while a model that is really worse (answers flipped, a broken
    /// export) falls by far more.
    pub fn not_worse(&self) -> bool {
        self.new >= self.current - self.standard_error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worse_means_worse_by_more_than_chance() {
        // Equal in the mean: not worse.
        assert!(Comparison::of(&[0.5, 1.0, 0.25, 1.0], &[1.0, 0.5, 1.0, 0.25]).not_worse());
        // Lower on every question by the same step: the standard error is 0, so worse.
        let c = Comparison::of(&[0.5; 20], &[0.45; 20]);
        assert!(c.standard_error < 1e-12);
        assert!(!c.not_worse());
        // A small drop within the noise of 20 questions: not shown worse.
        let current: Vec<f64> = (0..20).map(|i| if i % 2 == 0 { 1.0 } else { 0.2 }).collect();
        let new: Vec<f64> = (0..20)
            .map(|i| {
                if i % 4 == 0 {
                    0.85
                } else if i % 2 == 0 {
                    1.0
                } else {
                    0.25
                }
            })
            .collect();
        let c = Comparison::of(&current, &new);
        assert!(c.new < c.current && c.not_worse(), "{c:?}");
        // The same drop on every other question of many: worse.
        let current = vec![0.6; 400];
        let new: Vec<f64> = (0..400).map(|i| if i % 2 == 0 { 0.6 } else { 0.45 }).collect();
        assert!(!Comparison::of(&current, &new).not_worse());
    }
}
