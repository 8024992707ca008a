//! What the unit tests of vrd-ranking and vrd-next-watch build their cases from: a watch,
//! a candidate, a label and a small embedding file (each crate includes this file as its
//! `test_support` module).

// Not every crate uses every builder.
#![allow(dead_code)]

use vrd_core::records::{Label, LabelKind, Video, WatchEvent};
use vrd_core::tensors::{EmbeddingMeta, Embeddings};
use vrd_core::time::Timestamp;

/// A watch of `id` titled "title of ID".
pub fn watch(id: &str, channel: Option<&str>, at: Timestamp) -> WatchEvent {
    WatchEvent {
        video_id: id.into(),
        title: format!("title of {id}"),
        title_unknown: false,
        channel: channel.map(str::to_string),
        channel_id: None,
        watched_at: at,
        source: "test".into(),
        watched_s: None,
    }
}

/// A candidate `id` titled "title of ID", with nothing else known.
pub fn video(id: &str, channel: Option<&str>) -> Video {
    Video {
        video_id: id.into(),
        title: format!("title of {id}"),
        description: String::new(),
        channel: channel.map(str::to_string),
        channel_id: None,
        published_at: None,
        duration_s: None,
        tags: vec![],
        category: None,
        live: None,
        short: None,
        source: "test".into(),
    }
}

/// An in-memory embedding file of 2-d rows.
pub fn embeddings(rows: &[(&str, [f32; 2])]) -> Embeddings {
    let meta = EmbeddingMeta {
        model_id: "m".into(),
        dim: 2,
        ids: rows.iter().map(|r| r.0.to_string()).collect(),
        text_hashes: rows.iter().map(|_| "h".to_string()).collect(),
    };
    Embeddings::from_parts(meta, rows.iter().flat_map(|r| r.1).collect()).unwrap()
}

pub fn label(id: &str, kind: LabelKind, at: &str) -> Label {
    Label {
        video_id: id.into(),
        kind,
        labelled_at: vrd_core::time::parse_rfc3339(at).unwrap(),
        source: "cli".into(),
        feed_at: None,
    }
}
