//! The person's searches as a direction in the media embedding space: the last searches'
//! queries embedded with the model that made the video embeddings, weighted by recency as
//! the watches are, for the cold-start profile.

use anyhow::{bail, Result};
use std::path::Path;
use vrd_core::records::Search;
use vrd_feed::cold_start::{recency_weighted_mean, Settings};
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};

/// The recency-weighted mean of the unit query embeddings of the last `recent` searches.
/// `model_id` is the embeddings' model: the queries must land in the same space.
pub fn profile(searches: &[Search], model_id: &str, model: Option<&Path>, s: &Settings) -> Result<Vec<f32>> {
    let mut recent: Vec<&Search> = searches.iter().collect();
    recent.sort_by_key(|q| std::cmp::Reverse(q.searched_at));
    recent.truncate(s.recent.max(1));
    if recent.is_empty() {
        bail!("no searches");
    }
    let dir = vrd_engine::model_dir::resolve_model_dir(model)?;
    let encoder = SentenceEncoder::load(&dir, &SentenceEncoderOptions::default())?;
    if encoder.model_id() != model_id {
        bail!(
            "the media model {} is not the one that made the embeddings ({model_id}): pass --media-model with that \
             folder, or rank without searches (--search-weight 0)",
            encoder.model_id()
        );
    }
    let queries: Vec<&str> = recent.iter().map(|q| q.query.as_str()).collect();
    let vectors = encoder.embed(&queries, 32)?;
    let rows = recent.iter().zip(&vectors).map(|(q, v)| (q.searched_at, v.as_slice()));
    Ok(recency_weighted_mean(rows, encoder.dim(), s.half_life_days))
}
