//! The records that flow between the tools, one JSON object per line.
//!
//! Field names are the wire contract: change them only with a migration of every reader.
//! Times are RFC 3339 UTC strings (see [`crate::time`]). Unknown fields are ignored on read
//! so that newer writers do not break older readers.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One time the person opened a video (Takeout, or the browser via ActivityWatch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent {
    pub video_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub watched_at: Timestamp,
    /// Where the event came from, e.g. `takeout-json`.
    pub source: String,
}

/// A video's metadata: a candidate for the feed, or the details of something watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Video {
    pub video_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub source: String,
}

/// A stretch of time in one application window (ActivityWatch), already cut to the
/// not-AFK periods where it came from the canonical query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppEvent {
    pub start: Timestamp,
    pub duration_s: f64,
    pub app: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// ActivityWatch category path, e.g. `["Work", "Programming"]`.
    #[serde(default)]
    pub category: Vec<String>,
    pub bucket: String,
}

/// What the person said about a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    Interest,
    NotInterested,
    RightTime,
    NotNow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub video_id: String,
    pub kind: LabelKind,
    pub labelled_at: Timestamp,
    pub source: String,
}

/// One line of the ranked feed that `vrd-rank` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    pub rank: usize,
    pub video_id: String,
    /// The score the feed is ordered by.
    pub score: f64,
    /// The named parts the score was made from (e.g. `similarity`, `interest`, `right_time`).
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub url: String,
}

/// The canonical watch URL of a YouTube video.
pub fn youtube_url(video_id: &str) -> String {
    format!("https://www.youtube.com/watch?v={video_id}")
}

/// The text-bearing fields shared by [`WatchEvent`] and [`Video`] lines, so that a tool
/// that only needs the words (the encoder) accepts either.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MediaText {
    pub video_id: String,
    pub title: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    #[test]
    fn watch_event_round_trips_with_utc_z() {
        let ev = WatchEvent {
            video_id: "abc".into(),
            title: "T".into(),
            channel: Some("C".into()),
            channel_id: None,
            watched_at: parse_rfc3339("2024-01-02T03:04:05.678+01:00").unwrap(),
            source: "takeout-json".into(),
        };
        let line = serde_json::to_string(&ev).unwrap();
        assert!(line.contains(r#""watched_at":"2024-01-02T02:04:05.678Z""#), "{line}");
        assert!(!line.contains("channel_id"), "absent options are omitted: {line}");
        assert_eq!(serde_json::from_str::<WatchEvent>(&line).unwrap(), ev);
    }

    #[test]
    fn label_kinds_are_snake_case() {
        assert_eq!(serde_json::to_string(&LabelKind::NotInterested).unwrap(), r#""not_interested""#);
        assert!(serde_json::from_str::<LabelKind>(r#""maybe""#).is_err());
    }

    #[test]
    fn media_text_reads_both_watch_and_video_lines() {
        let w: MediaText =
            serde_json::from_str(r#"{"video_id":"a","title":"t","watched_at":"2024-01-01T00:00:00Z","source":"x"}"#)
                .unwrap();
        assert_eq!(w.description, "");
        let v: MediaText =
            serde_json::from_str(r#"{"video_id":"b","title":"t","description":"d","tags":["x"],"source":"api"}"#)
                .unwrap();
        assert_eq!(v.tags, vec!["x".to_string()]);
    }
}
