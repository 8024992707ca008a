//! How well the feeds a person was served did for them, from their own live watches: of
//! the videos they went on to watch, how many a feed had shown them before, at what rank,
//! and at what rank the cold start would have put the same videos at the same moments. The
//! one measure that is about this person rather than about other people's histories; the
//! progress page and the nightly retrain's log say it.

use crate::candidates::Answers;
use crate::cold_start;
use std::collections::{HashMap, HashSet};
use vrd_core::records::{FeedItem, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::time::Timestamp;

/// A feed as it was served: its moment and its items in rank order.
pub struct ServedFeed {
    pub at: Timestamp,
    pub items: Vec<FeedItem>,
}

/// How long before a watch a feed's showing of the video still counts as having led to it.
pub const SHOWN_WITHIN_DAYS: i64 = 7;

/// The figures, over the live watches since a moment.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FeedHits {
    /// Distinct videos first watched live in the period.
    pub watched: usize,
    /// Of them, those a feed had shown within [`SHOWN_WITHIN_DAYS`] before the watch, each
    /// with its rank in the latest such feed and (with the embeddings) the cold start's rank
    /// of it at that feed's moment, among the same stored videos.
    pub shown: Vec<Shown>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Shown {
    pub video_id: String,
    pub feed_rank: usize,
    pub cold_start_rank: Option<usize>,
}

impl FeedHits {
    /// Mean reciprocal rank of the watched videos the feeds had shown.
    pub fn feed_mrr(&self) -> Option<f64> {
        mean(self.shown.iter().map(|s| 1.0 / s.feed_rank as f64))
    }

    /// The cold start's mean reciprocal rank of the same videos at the same moments (a
    /// video it would not have ranked at all counts 0).
    pub fn cold_start_mrr(&self) -> Option<f64> {
        if self.shown.iter().all(|s| s.cold_start_rank.is_none()) && !self.shown.is_empty() {
            return None;
        }
        mean(self.shown.iter().map(|s| s.cold_start_rank.map_or(0.0, |r| 1.0 / r as f64)))
    }

    /// The figures in words, e.g. "of the 23 videos you watched (seen live) in the last 28
    /// days, 9 had been in a feed before you watched them, at a median rank of 4 (the cold
    /// start: 11); mean reciprocal rank 0.31 against the cold start's 0.12".
    pub fn words(&self, days: i64) -> String {
        let head = format!(
            "of the {} videos you watched (seen live) in the last {days} days, {} had been in a feed before you watched them",
            self.watched,
            self.shown.len()
        );
        let Some(feed_mrr) = self.feed_mrr() else { return head };
        let median_feed = median(self.shown.iter().map(|s| s.feed_rank).collect());
        match (self.cold_start_mrr(), median_opt(self.shown.iter().filter_map(|s| s.cold_start_rank).collect())) {
            (Some(cold_mrr), Some(median_cold)) => format!(
                "{head}, at a median rank of {median_feed} (the cold start: {median_cold}); mean reciprocal rank \
                 {feed_mrr:.2} against the cold start's {cold_mrr:.2}"
            ),
            _ => format!("{head}, at a median rank of {median_feed}; mean reciprocal rank {feed_mrr:.2}"),
        }
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn median(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v[v.len() / 2]
}

fn median_opt(v: Vec<usize>) -> Option<usize> {
    (!v.is_empty()).then(|| median(v))
}

/// The figures over the live watches from `since` on. `history`: every watch (live or
/// not: what was watched before a feed's moment is its cold start's history and is left
/// out of its pool); `videos`: the stored videos (a feed's pool, those published by its
/// moment); `embeddings`: for the cold start's ranks (None: not computed).
pub fn feed_hits(
    feeds: &[ServedFeed],
    history: &[WatchEvent],
    videos: &[Video],
    embeddings: Option<&Embeddings>,
    since: Timestamp,
) -> FeedHits {
    let mut sorted: Vec<&WatchEvent> = history.iter().collect();
    sorted.sort_by_key(|w| w.watched_at);
    let mut first_watch: HashMap<&str, &WatchEvent> = HashMap::new();
    for w in &sorted {
        first_watch.entry(w.video_id.as_str()).or_insert(w);
    }
    let watched: Vec<&WatchEvent> =
        first_watch.values().filter(|w| w.is_live() && w.watched_at >= since).copied().collect();
    let mut by_time: Vec<&ServedFeed> = feeds.iter().collect();
    by_time.sort_by_key(|f| f.at);
    let mut cold_ranks: HashMap<Timestamp, HashMap<String, usize>> = HashMap::new();
    let mut shown = Vec::new();
    for watch in &watched {
        let window = watch.watched_at - chrono::Duration::days(SHOWN_WITHIN_DAYS);
        let latest = by_time
            .iter()
            .rev()
            .filter(|f| f.at < watch.watched_at && f.at >= window)
            .find_map(|f| f.items.iter().find(|i| i.video_id == watch.video_id).map(|item| (f.at, item.rank)));
        let Some((at, feed_rank)) = latest else { continue };
        let cold_start_rank = embeddings.and_then(|e| {
            cold_ranks
                .entry(at)
                .or_insert_with(|| cold_start_places(&sorted, videos, e, at))
                .get(&watch.video_id)
                .copied()
        });
        shown.push(Shown { video_id: watch.video_id.clone(), feed_rank, cold_start_rank });
    }
    shown.sort_by(|a, b| a.video_id.cmp(&b.video_id));
    FeedHits { watched: watched.len(), shown }
}

/// Where the cold start, with its default settings, puts each stored video at `at`: the
/// history before it, the videos published by then (or of unknown date) and not watched.
fn cold_start_places(
    history: &[&WatchEvent],
    videos: &[Video],
    embeddings: &Embeddings,
    at: Timestamp,
) -> HashMap<String, usize> {
    let before: Vec<WatchEvent> = history.iter().filter(|w| w.watched_at < at).map(|w| (*w).clone()).collect();
    let seen: HashSet<&str> = before.iter().map(|w| w.video_id.as_str()).collect();
    let pool: Vec<Video> = videos
        .iter()
        .filter(|v| v.published_at.is_none_or(|p| p <= at) && !seen.contains(v.video_id.as_str()))
        .cloned()
        .collect();
    let settings = cold_start::Settings::defaults(pool.len());
    match cold_start::rank(&before, None, &pool, embeddings, &Answers::default(), &settings) {
        Ok(feed) => feed.into_iter().map(|item| (item.video_id, item.rank)).collect(),
        // No history with an embedding before that moment: the cold start had nothing to go on.
        Err(_) => HashMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::parse_rfc3339;

    fn t(s: &str) -> Timestamp {
        parse_rfc3339(s).unwrap()
    }

    fn live(id: &str, at: &str) -> WatchEvent {
        WatchEvent { source: "aw-web".into(), ..crate::test_support::watch(id, Some("c"), t(at)) }
    }

    fn feed(at: &str, ids: &[&str]) -> ServedFeed {
        let items = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                crate::candidates::feed_item(
                    i + 1,
                    &crate::test_support::video(id, Some("c")),
                    0.0,
                    Default::default(),
                    vec![],
                )
            })
            .collect();
        ServedFeed { at: t(at), items }
    }

    #[test]
    fn what_the_feeds_showed_before_each_live_watch_and_the_cold_starts_place() {
        // x1 watched long ago points the cold start along x; y-videos lie the other way.
        let e = crate::test_support::embeddings(&[
            ("x1", [1.0, 0.0]),
            ("x2", [0.9, 0.1]),
            ("y1", [0.0, 1.0]),
            ("y2", [0.1, 0.9]),
            ("y3", [0.2, 0.8]),
        ]);
        let videos: Vec<Video> =
            ["x2", "y1", "y2", "y3"].iter().map(|id| crate::test_support::video(id, Some("c"))).collect();
        let history = [
            crate::test_support::watch("x1", Some("c"), t("2026-11-01T10:00:00Z")),
            live("y1", "2026-11-20T12:00:00Z"),
            live("y2", "2026-11-21T12:00:00Z"),
            live("x2", "2026-11-22T12:00:00Z"),
            // Watched again: only the first watch counts.
            live("y1", "2026-11-23T12:00:00Z"),
        ];
        let feeds = [
            feed("2026-11-20T11:00:00Z", &["y1", "y2", "x2"]),
            feed("2026-11-21T11:00:00Z", &["y3", "y2", "x2"]),
            // After the watch of x2: does not count for it.
            feed("2026-11-22T13:00:00Z", &["x2"]),
        ];
        let hits = feed_hits(&feeds, &history, &videos, Some(&e), t("2026-11-15T00:00:00Z"));
        assert_eq!(hits.watched, 3);
        let got: Vec<(&str, usize, Option<usize>)> =
            hits.shown.iter().map(|s| (s.video_id.as_str(), s.feed_rank, s.cold_start_rank)).collect();
        // y1 at 11-20: rank 1 in the feed; the cold start (history x1) puts x2 first, y1 last.
        // y2 at 11-21 (latest feed before it): rank 2; the cold start then has x1 and y1
        // behind it. x2 at 11-22: rank 3 in the 11-21 feed.
        assert_eq!(got[0].0, "x2");
        assert_eq!((got[0].1, got[1].1, got[2].1), (3, 1, 2));
        assert_eq!(got[1].2, Some(4), "y1: the cold start's last of x2, y3, y2, y1");
        assert!(hits.feed_mrr().unwrap() > hits.cold_start_mrr().unwrap());
        let words = hits.words(28);
        assert!(
            words.starts_with("of the 3 videos you watched (seen live) in the last 28 days, 3 had been in a feed"),
            "{words}"
        );
        let without = feed_hits(&feeds, &history, &videos, None, t("2026-11-15T00:00:00Z"));
        assert!(without.shown.iter().all(|s| s.cold_start_rank.is_none()) && without.cold_start_mrr().is_none());
    }
}
