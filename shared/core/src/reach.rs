//! Where the feed's candidates come from: the channels the store follows and why (the plan
//! `vrd-ingest rss --plan` prints, one JSON line per channel, defined here), what the store
//! keeps of each channel's fetches, the videos the person saved, and the channels
//! discovery found.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A discovered channel the person has not watched is followed (and its videos said to be
/// new) this many days after it was found, then let go.
pub const DISCOVERED_DAYS: i64 = 28;

/// Why a channel is followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum Reason {
    /// The person subscribes to it (Takeout's `subscriptions.csv`, an OPML list).
    Subscribed,
    /// The person watches it: how often, the latest when, and how many a week lately.
    Watched { watches: usize, latest: Timestamp, per_week: f64 },
    /// Videos of it are on the person's saved playlists (Watch later and their own).
    Saved { videos: usize },
    /// Discovery found it: `how` is `search` (for `detail`, the query), `featured` (by the
    /// channel `detail` names) or `popular` (in the region's chart).
    Discovered { how: String, detail: Option<String>, found_at: Timestamp },
}

impl Reason {
    /// The reason as the feed says it of a video ("a channel you watch weekly").
    pub fn words(&self) -> String {
        match self {
            Reason::Subscribed => "a channel you subscribe to".into(),
            Reason::Watched { per_week, .. } => {
                let how_often = match per_week {
                    w if *w >= 5.0 => "daily",
                    w if *w >= 0.75 => "weekly",
                    w if *w >= 0.2 => "monthly",
                    _ => "now and then",
                };
                format!("a channel you watch {how_often}")
            }
            Reason::Saved { .. } => "a channel of videos you saved".into(),
            Reason::Discovered { how, detail, .. } => match (how.as_str(), detail) {
                ("search", Some(q)) => format!("new channel: found for your search “{q}”"),
                ("featured", Some(by)) => format!("new channel: featured by {by}"),
                ("popular", _) => "new channel: popular in your region in what you watch".into(),
                _ => "new channel, found for you".into(),
            },
        }
    }
}

/// One line of the plan: a channel the store follows, why, how much it matters now
/// (`score`: its watches decayed with their age, plus what the other reasons add), how
/// often it is fetched, and when next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChannel {
    pub channel_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub reasons: Vec<Reason>,
    pub score: f64,
    /// Hours between two fetches: from its upload cadence and how much the person watches
    /// it, within the daily fetch budget, between an hour and a week.
    pub interval_hours: f64,
    /// Its uploads a day, from the dates of its latest ones in the store, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploads_per_day: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fetched: Option<Timestamp>,
    pub next_due: Timestamp,
}

/// What the store keeps of one channel's fetches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelFetch {
    pub channel_id: String,
    /// The last attempt, whatever came of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tried: Option<Timestamp>,
    /// The last answer with the feed (or "not modified").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ok: Option<Timestamp>,
    /// The validators of the last answer, sent back as `If-None-Match` and
    /// `If-Modified-Since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Failures in a row, and since when.
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// Not tried again before this (a failure backs off, doubling up to a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
    /// The channel is gone (its feed answered "not found" again and again over days): left
    /// out of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A video on one of the person's playlists (Takeout's `playlists/*.csv`: Watch later and
/// their own; the liked list is an answer, not a saving).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedVideo {
    pub video_id: String,
    /// The playlist's name as the export has it ("Watch later", "Später ansehen").
    pub playlist: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<Timestamp>,
}

/// A channel discovery found (`vrd-ingest discover`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveredChannel {
    pub channel_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub found_at: Timestamp,
    /// `search`, `featured` or `popular`.
    pub how: String,
    /// The query searched for, or the channel that features it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl DiscoveredChannel {
    pub fn reason(&self) -> Reason {
        Reason::Discovered { how: self.how.clone(), detail: self.detail.clone(), found_at: self.found_at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_tagged_lines_and_words() {
        let t = crate::time::parse_rfc3339("2026-12-01T10:00:00Z").unwrap();
        let watched = Reason::Watched { watches: 12, latest: t, per_week: 1.5 };
        let line = serde_json::to_string(&watched).unwrap();
        assert_eq!(line, r#"{"why":"watched","watches":12,"latest":"2026-12-01T10:00:00Z","per_week":1.5}"#);
        assert_eq!(serde_json::from_str::<Reason>(&line).unwrap(), watched);
        assert_eq!(watched.words(), "a channel you watch weekly");
        let found = Reason::Discovered { how: "search".into(), detail: Some("sourdough".into()), found_at: t };
        assert_eq!(found.words(), "new channel: found for your search “sourdough”");
        assert_eq!(serde_json::to_string(&Reason::Subscribed).unwrap(), r#"{"why":"subscribed"}"#);
    }
}
