//! The next-watch model: what a person picks next, learned from their watch history itself.
//! This crate is the model without libtorch, one module per part:
//!
//! - [`past`]: what the person had done before a moment, with the apps of the hour before
//!   it ([`activity`]);
//! - [`features`]: a candidate's features at that moment;
//! - [`method`]: the names of the scorers the model chooses between;
//! - [`card`]: the model card (`pick.json`) and its scorer;
//! - [`feed`]: the feed it ranks, with reasons a person understands.
//!
//! Its parts on libtorch are `vrd-next-watch-torch` beside it (`shared/next-watch-torch`):
//! the early-fusion network, the searches embedded, and training. Two crates, not one, so
//! that vrd-label's page reads the card without linking libtorch (a crate feature would not
//! do: a workspace build unifies features, and the page would link it again).

pub mod activity;
pub mod card;
pub mod features;
pub mod feed;
pub mod method;
pub mod past;

use vrd_ranking::lexical::{self, Idf, LexicalVector};

use vrd_core::records::WatchEvent;

/// The history as the model learns from it and ranks with it: in time order, consecutive
/// repeats of one video merged into the first, and watches whose title is unknown left out
/// (they have no text to embed).
pub fn prepare_history(events: &[WatchEvent]) -> Vec<&WatchEvent> {
    let mut sorted: Vec<&WatchEvent> = events.iter().filter(|e| !e.title_unknown).collect();
    sorted.sort_by_key(|e| e.watched_at);
    let mut out: Vec<&WatchEvent> = Vec::with_capacity(sorted.len());
    for e in sorted {
        if out.last().is_none_or(|last| last.video_id != e.video_id) {
            out.push(e);
        }
    }
    out
}

/// A watch as [`past::Past`] takes it, with its embedding row where it has one (and no
/// lexical vector: the caller adds one where the model has a lexical view).
pub fn watch_of<'a>(e: &'a WatchEvent, embedding: Option<&'a [f32]>) -> past::Watch<'a> {
    past::Watch {
        at: e.watched_at,
        title: &e.title,
        embedding,
        channel: features::channel_key(e.channel_id.as_deref(), e.channel.as_deref()),
        activity: None,
        lexical: None,
    }
}

/// A watch's title and channel in the lexical view.
pub fn lexical_of_watch(idf: &Idf, e: &WatchEvent) -> LexicalVector {
    idf.vector(&lexical::text_of(&e.title, e.channel.as_deref()))
}

/// A video's title and channel in the lexical view.
pub fn lexical_of_video(idf: &Idf, v: &vrd_core::records::Video) -> LexicalVector {
    idf.vector(&lexical::text_of(&v.title, v.channel.as_deref()))
}

/// The documents of a lexical view's frequencies: each video once (the first title seen),
/// watched or a candidate.
pub fn lexical_documents<'a>(
    watches: impl IntoIterator<Item = &'a WatchEvent>,
    videos: impl IntoIterator<Item = &'a vrd_core::records::Video>,
) -> Idf {
    let mut seen = std::collections::HashSet::new();
    let mut texts = Vec::new();
    for e in watches {
        if seen.insert(e.video_id.as_str()) {
            texts.push(lexical::text_of(&e.title, e.channel.as_deref()));
        }
    }
    for v in videos {
        if seen.insert(v.video_id.as_str()) {
            texts.push(lexical::text_of(&v.title, v.channel.as_deref()));
        }
    }
    Idf::fit(texts.iter().map(String::as_str))
}

/// What the unit tests build their cases from (shared with vrd-ranking's).
#[cfg(test)]
#[path = "../../test-support/records.rs"]
mod test_support;
