//! The person's searches in the media embedding space: each query embedded by the model
//! that made the video embeddings (so that a query and a video compare), for the
//! cold-start profile and the next-watch model alike.

use anyhow::{bail, Result};
use std::path::Path;
use vrd_core::records::Search;
use vrd_encoder::encoders::Encoders;
use vrd_next_watch::feed::Query;

/// `searches`' queries embedded (unit length), with their times and texts, in time order.
/// `model_id` is the video embeddings' model; `model` the folder to load (default
/// `VRD_MODEL`, then the packaged one; through `encoders`), which must be that model.
pub fn embed(searches: &[&Search], model_id: &str, model: Option<&Path>, encoders: &Encoders) -> Result<Vec<Query>> {
    if searches.is_empty() {
        return Ok(Vec::new());
    }
    let encoder = encoders.get(model)?;
    if encoder.model_id() != model_id {
        bail!(
            "the media model {} is not the one that made the embeddings ({model_id}): pass --media-model with that \
             folder, or leave the searches out",
            encoder.model_id()
        );
    }
    let mut sorted: Vec<&Search> = searches.to_vec();
    sorted.sort_by_key(|q| q.searched_at);
    let queries: Vec<&str> = sorted.iter().map(|q| q.query.as_str()).collect();
    let vectors = encoder.embed(&queries, 32)?;
    Ok(sorted
        .iter()
        .zip(vectors)
        .map(|(q, embedding)| Query { at: q.searched_at, text: q.query.clone(), embedding })
        .collect())
}
