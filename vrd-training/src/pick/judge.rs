//! Two models judged on the same held-out slice of the history: the latest moments, as
//! the training's choice holds them out (same sampling, same share). A nightly retrain
//! ships only if it is not worse there than the model it would replace.

use super::data::{self, Dataset, PickInputs};
use super::fit::{mean, paired_standard_error, rank_of_first, reciprocal_ranks};
use super::sample::{Question, Sampling};
use anyhow::Result;
use vrd_feed::pick::card::{PickCard, PickScorer};
use vrd_feed::pick::features::FEATURES;

/// The held-out moments of a history, each group's rows as features and embedding rows.
pub struct Slice<'a> {
    ds: Dataset,
    /// The first held-out group.
    split: usize,
    inputs: &'a PickInputs<'a>,
}

impl<'a> Slice<'a> {
    /// The latest `share` of the groups `sampling` draws from `inputs` (the slice the
    /// training's choice is made on); None when too few moments to hold any out.
    pub fn latest(inputs: &'a PickInputs<'a>, sampling: &Sampling, share: f64) -> Result<Option<Slice<'a>>> {
        let ds = data::build(inputs, sampling)?;
        let n = ds.groups.len();
        let held_out = ((n as f64) * share).round() as usize;
        if held_out < 10 || n - held_out < 10 {
            return Ok(None);
        }
        Ok(Some(Slice { split: n - held_out, ds, inputs }))
    }

    /// How many questions the slice asks.
    pub fn len(&self) -> usize {
        self.ds.groups.len() - self.split
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each held-out question's reciprocal rank under a next-watch card; None when the
    /// card was made with other features (a model from an older vrd: it cannot score these
    /// rows, and a retrain replaces it).
    pub fn pick(&self, card: &PickCard) -> Option<Vec<f64>> {
        if card.features != FEATURES || card.check().is_err() {
            return None;
        }
        Some(reciprocal_ranks(
            &self.ds,
            self.split..self.ds.groups.len(),
            (&card.mean, &card.std),
            self.inputs.embeddings,
            &card.scorer,
        ))
    }

    /// The reciprocal ranks of one feature alone (e.g. `sim_profile`, the taste profile,
    /// which a folder without a next-watch model stands for).
    pub fn signal(&self, feature: &str) -> Vec<f64> {
        let f = FEATURES.len();
        let (zero, one) = (vec![0f32; f], vec![1f32; f]);
        let scorer = PickScorer::Signal { feature: feature.to_string() };
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

    /// "Not worse": the new model's mean is at least the current one's.
    pub fn not_worse(&self) -> bool {
        self.new >= self.current
    }
}
