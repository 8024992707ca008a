//! The media embeddings cache completed: videos it does not cover yet (uploads a feed brought in since the
//! last `vrd-encode media` run, or everything on a first run without a cache) are encoded
//! here with the model that made the cache, so a cron job's ranking never silently drops
//! the newest videos; the caller writes the grown cache back once the feed is made.

use crate::encoders::Encoders;
use anyhow::{bail, Result};
use std::collections::HashSet;
use std::path::Path;
use vrd_core::records::MediaText;
use vrd_core::tensors::{EmbeddingMeta, Embeddings};
use vrd_core::text::{text_hash, TextTemplate, DEFAULT_DESCRIPTION_CHARS, DEFAULT_TEMPLATE};

/// `cache` (None: there is none yet) with a row for every video of `videos` that has text;
/// returns it and how many rows were added. Where an id comes more than once, its first
/// record's text is used. `model`: the media model folder (default: `VRD_MODEL`, then the
/// packaged one), loaded through `encoders`; it must be the model the cache was made with.
pub fn complete(
    cache: Option<Embeddings>,
    videos: &[MediaText],
    model: Option<&Path>,
    encoders: &Encoders,
) -> Result<(Embeddings, usize)> {
    let template = TextTemplate::parse(DEFAULT_TEMPLATE, DEFAULT_DESCRIPTION_CHARS)?;
    let mut todo: Vec<(String, String)> = Vec::new();
    {
        let index = cache.as_ref().map(Embeddings::index).unwrap_or_default();
        let mut seen = HashSet::new();
        for v in videos {
            if index.contains_key(v.video_id.as_str()) || !seen.insert(v.video_id.as_str()) {
                continue;
            }
            let text = template.render(v);
            // A record with no text at all (or a watch whose title is not known yet) has
            // nothing to encode; ranking leaves it out.
            if !text.is_empty() && !v.title_unknown {
                todo.push((v.video_id.clone(), text));
            }
        }
    }
    if todo.is_empty() {
        if let Some(cache) = cache {
            return Ok((cache, 0));
        }
    }
    let encoder = encoders.get(model)?;
    let mut cache = match cache {
        Some(c) => c,
        None => Embeddings::from_parts(
            EmbeddingMeta { model_id: encoder.model_id().into(), dim: encoder.dim(), ids: vec![], text_hashes: vec![] },
            Vec::new(),
        )?,
    };
    if encoder.model_id() != cache.meta.model_id {
        bail!(
            "{} videos have no embedding, and the media model {} is not the one that made the embeddings ({}): \
             pass --media-model with that folder, or run vrd-encode media over them",
            todo.len(),
            encoder.model_id(),
            cache.meta.model_id
        );
    }
    let texts: Vec<&str> = todo.iter().map(|(_, t)| t.as_str()).collect();
    let vectors = encoder.embed(&texts, 32)?;
    let hashes = todo.iter().map(|(_, t)| text_hash(&[t])).collect();
    let n = todo.len();
    cache.push_rows(todo.into_iter().map(|(id, _)| id).collect(), hashes, &vectors.concat())?;
    Ok((cache, n))
}
