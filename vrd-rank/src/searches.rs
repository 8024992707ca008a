//! The person's searches as a direction in the media embedding space: the last searches'
//! queries embedded with the model that made the video embeddings
//! (`vrd_next_watch_torch::queries`), weighted by recency as the watches are, for the cold-start
//! profile; and the searches before a moment for the next-watch model.

use anyhow::{bail, Result};
use std::path::Path;
use vrd_core::records::Search;
use vrd_core::time::Timestamp;
use vrd_encoder::encoders::Encoders;
use vrd_next_watch::feed::Query;
use vrd_ranking::cold_start::{recency_weighted_mean, Settings};

/// The recency-weighted mean of the unit query embeddings of the last `recent` searches.
/// `model_id` is the embeddings' model: the queries must land in the same space.
pub fn profile(
    searches: &[Search],
    model_id: &str,
    model: Option<&Path>,
    s: &Settings,
    encoders: &Encoders,
) -> Result<Vec<f32>> {
    let mut recent: Vec<&Search> = searches.iter().collect();
    recent.sort_by_key(|q| std::cmp::Reverse(q.searched_at));
    recent.truncate(s.recent.max(1));
    if recent.is_empty() {
        bail!("no searches");
    }
    let mut embedded = vrd_next_watch_torch::queries::embed(&recent, model_id, model, encoders)?;
    embedded.reverse();
    let dim = embedded[0].embedding.len();
    Ok(recency_weighted_mean(embedded.iter().map(|q| (q.at, q.embedding.as_slice())), dim, s.half_life_days))
}

/// The searches the next-watch model reads at `at`: the latest ones before it, embedded.
pub fn before(
    searches: &[Search],
    at: Timestamp,
    model_id: &str,
    model: Option<&Path>,
    encoders: &Encoders,
) -> Result<Vec<Query>> {
    let mut recent: Vec<&Search> = searches.iter().filter(|q| q.searched_at < at).collect();
    recent.sort_by_key(|q| std::cmp::Reverse(q.searched_at));
    recent.truncate(vrd_next_watch::past::RECENT_SEARCHES);
    vrd_next_watch_torch::queries::embed(&recent, model_id, model, encoders)
}
