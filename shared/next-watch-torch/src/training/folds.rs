//! Rolling-origin evaluation of the next-watch model: the history is cut at `folds` points
//! in time (its watches split into `folds + 1` equal parts); for each cut the model is
//! trained exactly as `fit` trains it on the watches before it alone, and judged on the
//! moments up to the next cut, beside the regression and the single signals, by mean
//! reciprocal rank. Each test block's negatives come from the history up to the end of
//! that block, as a training run at its end would draw them.

use super::data::{self, NextWatchInputs};
use super::fit::{FitOptions, SIGNALS};
use super::fusion::FusionData;
use super::mrr::{mean, reciprocal_ranks};
use super::sample::Sampling;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use vrd_core::records::WatchEvent;
use vrd_core::time::Timestamp;
use vrd_next_watch::card::NextWatchScorer;
use vrd_next_watch::method::Method;
use vrd_next_watch::prepare_history;

#[derive(Debug, Clone, Serialize)]
pub struct Fold {
    pub fold: usize,
    /// Trained on the watches before this; tested on the moments from it to `test_until`.
    pub train_until: Timestamp,
    pub test_until: Timestamp,
    pub test_moments: usize,
    /// What the fold's training chose.
    pub chosen: String,
    /// Mean reciprocal rank on the fold's test moments: `model` (what was chosen),
    /// `regression`, `signal:NAME`.
    pub mrr: BTreeMap<String, f64>,
}

pub fn evaluate(
    inputs: &NextWatchInputs,
    sampling: &Sampling,
    o: &FitOptions,
    media_model: &str,
    folds: usize,
) -> Result<Vec<Fold>> {
    let prepared = prepare_history(inputs.history);
    let n = prepared.len();
    let cut = |k: usize| prepared[(n * k / (folds + 1)).min(n.saturating_sub(1))].watched_at;
    let before = |t: Option<Timestamp>| -> Vec<WatchEvent> {
        inputs.history.iter().filter(|e| t.is_none_or(|t| e.watched_at < t)).cloned().collect()
    };
    let mut out = Vec::new();
    for k in 1..=folds {
        let (from, until) = (cut(k), (k < folds).then(|| cut(k + 1)));
        let train_history = before(Some(from));
        let part = |history| NextWatchInputs {
            history,
            unwatched: inputs.unwatched,
            details: inputs.details.clone(),
            searches: inputs.searches,
            timeline: inputs.timeline,
            embeddings: inputs.embeddings,
            lexical: inputs.lexical,
        };
        // A fold whose training part has no moment yet is skipped.
        let Ok(trained) = super::train(&part(&train_history), sampling, o, media_model) else { continue };
        let test_history = before(until);
        let ds = data::build(&part(&test_history), sampling)?;
        let first = ds.groups.partition_point(|g| g.at < from);
        if first == ds.groups.len() {
            continue;
        }
        let card = &trained.card;
        let standard = (card.mean.as_slice(), card.std.as_slice());
        let rr = |scorer: &NextWatchScorer| {
            mean(&reciprocal_ranks(&ds, first..ds.groups.len(), standard, inputs.embeddings, scorer))
        };
        let model = match (trained.deep_part(), &o.fusion) {
            (Some(fitted), Some(fo)) => {
                let ids = fo.token_ids(&part(&test_history))?;
                let data = FusionData { ds: &ds, standard, embeddings: inputs.embeddings, ids: &ids };
                mean(&data.reciprocal_ranks(fitted, &card.scorer, first..ds.groups.len()))
            }
            _ => rr(&card.scorer),
        };
        let mut mrr =
            BTreeMap::from([(Method::Model.key(), model), (Method::Regression.key(), rr(&trained.regression))]);
        for s in SIGNALS {
            mrr.insert(Method::Signal(s).key(), rr(&NextWatchScorer::Signal { feature: s.name().to_string() }));
        }
        let mut moments: Vec<usize> = ds.groups[first..].iter().map(|g| g.moment).collect();
        moments.dedup();
        out.push(Fold {
            fold: k,
            train_until: from,
            test_until: until.unwrap_or(prepared[n - 1].watched_at),
            test_moments: moments.len(),
            chosen: card.chosen.clone(),
            mrr,
        });
    }
    Ok(out)
}
