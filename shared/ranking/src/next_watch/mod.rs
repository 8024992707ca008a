//! The next-watch model's side that needs no libtorch: what the person had done before a
//! moment ([`past`], with the apps of the hour before it: [`activity`]), the features of a
//! candidate there ([`features`]), the model card and its scorer ([`card`]), and the feed
//! it ranks with reasons a person understands ([`feed`]). vrd-training fits the scorer;
//! vrd-rank ranks with it.

pub mod activity;
pub mod card;
pub mod features;
pub mod feed;
pub mod method;
pub mod past;

use crate::lexical::{self, Idf, LexicalVector};

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
