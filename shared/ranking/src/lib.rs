//! Ranking that needs no model, shared by the tools that make or show a feed (vrd-rank,
//! and vrd-label's page): which candidates a feed is made of and how an item becomes a
//! feed line (`candidates`), the cold-start feed (`cold_start`), the videos most like one
//! (`like`), and how scores become a varied feed (`ordering`: the blend of the two
//! probabilities, freshness, maximal marginal relevance with a per-channel cap), and the
//! next-watch model learned from the watch history (`next_watch`: its features, card, scorer
//! and feed; vrd-training fits it), with the lexical view of titles beside the embeddings
//! (`lexical`: the grams two titles share, in any script). No libtorch: the embeddings are read from vrd-encode's
//! files, and the next-watch scorer is small enough to run without it.

pub mod candidates;
pub mod cold_start;
pub mod lexical;
pub mod like;
pub mod next_watch;
pub mod ordering;
pub mod served;
pub mod words;

/// What the unit tests of every module build their cases from.
#[cfg(test)]
mod test_support {
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
}
