//! The cold-start ranker: before any label exists, the best guess at what a person wants
//! is more of what they watched lately. The taste profile is the recency-weighted mean of
//! the embeddings of the last N watch events (rewatches count each time); candidates are
//! ranked by cosine similarity to it plus a share for the familiarity of their channel (how
//! often the history watched it, on a log scale: on the real histories a person's next
//! watches are often from channels they keep watching, see BENCHMARKS.md "Next watch"),
//! and what was already watched is left out. The person's searches, where known, are a
//! second direction blended into the profile with their own weight.

use crate::candidates::{self, cosine, Answers};
use crate::words;
use anyhow::{bail, Result};
use std::collections::HashMap;
use vrd_core::records::{FeedItem, Score, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::time::Timestamp;

pub const DEFAULT_RECENT: usize = 50;
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 30.0;
/// The searches' share of the profile when there are any (see BENCHMARKS.md: no real
/// search history was at hand to tune it on).
pub const DEFAULT_SEARCH_WEIGHT: f64 = 0.25;
/// The weight of channel familiarity beside the similarity (chosen on the two real
/// histories of BENCHMARKS.md: better than either signal alone on both).
pub const DEFAULT_CHANNEL_WEIGHT: f64 = 0.2;

pub struct Settings {
    pub recent: usize,
    pub half_life_days: f64,
    pub keep_watched: bool,
    pub top: usize,
    /// Weight of the candidate's channel familiarity (0 to 1) added to its similarity.
    pub channel_weight: f64,
    /// Give each item its reasons, as of this moment (`vrd-rank --explain`).
    pub explain: Option<Timestamp>,
}

impl Settings {
    /// `vrd-rank --cold-start`'s defaults, ranking `top` videos, without reasons: the cold
    /// start as the benchmarks and the served feeds' figures compare against it.
    pub fn defaults(top: usize) -> Settings {
        Settings {
            recent: DEFAULT_RECENT,
            half_life_days: DEFAULT_HALF_LIFE_DAYS,
            keep_watched: false,
            top,
            channel_weight: DEFAULT_CHANNEL_WEIGHT,
            explain: None,
        }
    }
}

/// How close (cosine) a candidate must be to one recent watch, or to the searches'
/// direction, for the reasons to name it: on all-MiniLM-L6-v2, titles of one topic or
/// series are about 0.5 apart and unrelated ones under 0.3.
const NAMED_SIMILARITY: f64 = 0.5;

/// `searches`: the searches' direction and its share of the profile.
pub fn rank(
    history: &[WatchEvent],
    searches: Option<&(Vec<f32>, f64)>,
    candidates: &[Video],
    embeddings: &Embeddings,
    answers: &Answers,
    s: &Settings,
) -> Result<Vec<FeedItem>> {
    let profile = match (taste_profile(history, embeddings, s), searches) {
        (Ok(watches), Some((queries, weight))) => blend(&watches, queries, *weight),
        // Searches alone are a profile too (a history whose titles are all unknown yet).
        (Err(_), Some((queries, _))) => queries.clone(),
        (watches, None) => watches?,
    };
    let familiarity = channel_familiarity(history);
    let mut scored: Vec<(f64, f64, f64, &Video, usize)> =
        candidates::pool(candidates, history, embeddings, answers, s.keep_watched)
            .into_iter()
            // Without a model of the moment nothing says when a deferred video fits: it
            // waits for a feed that can tell (`vrd-rank --model`).
            .filter(|(video, _)| !answers.deferred.contains_key(&video.video_id))
            .map(|(video, row)| {
                let similarity = cosine(&profile, embeddings.row(row));
                let channel = video.channel.as_deref().and_then(|c| familiarity.get(c)).copied().unwrap_or(0.0);
                (similarity + s.channel_weight * channel, similarity, channel, video, row)
            })
            .collect();
    // Highest score first; equal scores in id order so the feed is reproducible.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.3.video_id.cmp(&b.3.video_id)));
    let explainer = s.explain.map(|at| Explainer::new(history, searches.map(|q| q.0.as_slice()), embeddings, s, at));
    Ok(scored
        .into_iter()
        .take(s.top)
        .enumerate()
        .map(|(i, (score, similarity, channel, v, row))| {
            let scores = Score::map([(Score::Similarity, similarity), (Score::Channel, channel)]);
            let reasons = explainer.as_ref().map(|e| e.reasons(v, embeddings.row(row))).unwrap_or_default();
            candidates::feed_item(i + 1, v, score, scores, reasons)
        })
        .collect())
}

/// The cold start's reasons for an item, in words: the recent watch it is most like, its
/// channel as the person knows it, the searches it answers.
struct Explainer<'a> {
    at: Timestamp,
    /// The watches the profile is made of, newest first, with their embeddings.
    recent: Vec<(&'a WatchEvent, &'a [f32])>,
    /// Per channel: how often it was watched, and when last.
    channels: HashMap<&'a str, (usize, Timestamp)>,
    searches: Option<&'a [f32]>,
}

impl<'a> Explainer<'a> {
    fn new(
        history: &'a [WatchEvent],
        searches: Option<&'a [f32]>,
        embeddings: &'a Embeddings,
        s: &Settings,
        at: Timestamp,
    ) -> Explainer<'a> {
        let index = embeddings.index();
        let mut recent: Vec<(&WatchEvent, &[f32])> = history
            .iter()
            .filter(|e| !e.title_unknown)
            .filter_map(|e| Some((e, embeddings.row(*index.get(e.video_id.as_str())?))))
            .collect();
        recent.sort_by_key(|(e, _)| std::cmp::Reverse(e.watched_at));
        recent.truncate(s.recent.max(1));
        let mut channels: HashMap<&str, (usize, Timestamp)> = HashMap::new();
        for e in history {
            if let Some(c) = e.channel.as_deref() {
                let seen = channels.entry(c).or_insert((0, e.watched_at));
                seen.0 += 1;
                seen.1 = seen.1.max(e.watched_at);
            }
        }
        Explainer { at, recent, channels, searches }
    }

    fn reasons(&self, video: &Video, embedding: &[f32]) -> Vec<String> {
        let days = |t: Timestamp| (self.at - t).num_seconds().max(0) as f64 / 86_400.0;
        let mut out = Vec::new();
        let nearest = self.recent.iter().map(|(e, row)| (cosine(embedding, row), e)).max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, watch)) = nearest.filter(|(similarity, _)| *similarity >= NAMED_SIMILARITY) {
            out.push(format!(
                "like “{}”, watched {}",
                words::shorten(&watch.title, 60),
                words::ago(days(watch.watched_at))
            ));
        }
        let channel = video.channel.as_deref();
        let seen = channel.and_then(|c| self.channels.get(c)).map(|&(n, last)| (n, days(last)));
        out.extend(words::channel_reason(channel, seen));
        if self.searches.is_some_and(|q| cosine(embedding, q) >= NAMED_SIMILARITY) {
            out.push("close to what you searched for lately".into());
        }
        if out.is_empty() {
            out.push("like what you watched lately".into());
        }
        out
    }
}

/// The recency-weighted mean direction of the last `recent` watch events' embeddings.
fn taste_profile(history: &[WatchEvent], embeddings: &Embeddings, s: &Settings) -> Result<Vec<f32>> {
    let index = embeddings.index();
    let mut events: Vec<&WatchEvent> = history.iter().filter(|e| index.contains_key(e.video_id.as_str())).collect();
    if events.is_empty() {
        bail!("no watch event in the history has an embedding; run vrd-encode media over the history");
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.watched_at));
    events.truncate(s.recent.max(1));
    let rows = events.iter().map(|e| (e.watched_at, embeddings.row(index[e.video_id.as_str()])));
    Ok(recency_weighted_mean(rows, embeddings.meta.dim, s.half_life_days))
}

/// The mean of unit-length `rows`, each weighted by its age before the first (newest)
/// one: weights halve every `half_life_days`. The watches' and the searches' profiles.
pub fn recency_weighted_mean<'v>(
    rows: impl IntoIterator<Item = (Timestamp, &'v [f32])>,
    dim: usize,
    half_life_days: f64,
) -> Vec<f32> {
    let mut profile = vec![0f64; dim];
    let mut newest = None;
    for (at, row) in rows {
        let newest = *newest.get_or_insert(at);
        let age_days = (newest - at).num_milliseconds() as f64 / 86_400_000.0;
        let weight = 0.5f64.powf(age_days / half_life_days);
        // Unit length first, so each row weighs by its recency alone.
        let norm = row.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        for (p, &x) in profile.iter_mut().zip(row) {
            *p += weight * f64::from(x) / norm;
        }
    }
    profile.into_iter().map(|x| x as f32).collect()
}

/// Per channel, ln(1 + its watches) / ln(1 + the most watched channel's watches): 1 for
/// the person's most watched channel, 0 for one never watched.
fn channel_familiarity(history: &[WatchEvent]) -> HashMap<&str, f64> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in history {
        if let Some(c) = e.channel.as_deref() {
            *counts.entry(c).or_default() += 1;
        }
    }
    let most = counts.values().copied().max().unwrap_or(0) as f64;
    counts.into_iter().map(|(c, n)| (c, familiarity(n as f64, most))).collect()
}

/// A channel watched `n` times, against the most watched channel's `most`: ln(1 + n) /
/// ln(1 + most), 1 for the most watched, 0 for one never watched.
pub fn familiarity(n: f64, most: f64) -> f64 {
    n.ln_1p() / most.ln_1p()
}

/// `(1 − w)·a + w·b`, both at unit length first, so `w` is the share whatever the counts.
fn blend(a: &[f32], b: &[f32], w: f64) -> Vec<f32> {
    fn unit(v: &[f32]) -> Vec<f64> {
        let n = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
        v.iter().map(|&x| if n > 0.0 { f64::from(x) / n } else { 0.0 }).collect()
    }
    unit(a).into_iter().zip(unit(b)).map(|(x, y)| ((1.0 - w) * x + w * y) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::parse_rfc3339;

    fn watch(id: &str, at: &str) -> WatchEvent {
        crate::test_support::watch(id, None, parse_rfc3339(at).unwrap())
    }

    fn video(id: &str) -> Video {
        crate::test_support::video(id, Some("c"))
    }

    /// 2-d embeddings: "x*" videos point along x, "y*" along y, "d" diagonally.
    fn embeddings() -> Embeddings {
        crate::test_support::embeddings(&[
            ("x1", [1.0, 0.0]),
            ("x2", [0.9, 0.1]),
            ("y1", [0.0, 1.0]),
            ("y2", [0.1, 0.9]),
            ("d", [1.0, 1.0]),
        ])
    }

    fn settings() -> Settings {
        Settings { recent: 50, half_life_days: 30.0, keep_watched: false, top: 10, channel_weight: 0.0, explain: None }
    }

    #[test]
    fn recent_taste_wins_and_watched_videos_are_left_out() {
        // Watched along y long ago, along x lately: x-like candidates come first.
        let history = [watch("y1", "2023-01-01T00:00:00Z"), watch("x1", "2024-06-01T00:00:00Z")];
        let feed = rank(
            &history,
            None,
            &[video("y2"), video("x1"), video("d"), video("x2")],
            &embeddings(),
            &Answers::default(),
            &settings(),
        )
        .unwrap();
        let ids: Vec<_> = feed.iter().map(|f| f.video_id.as_str()).collect();
        assert_eq!(ids, ["x2", "d", "y2"]);
        assert_eq!(feed[0].rank, 1);
        assert!(feed[0].score > feed[1].score && feed[1].score > feed[2].score);
        assert_eq!(feed[0].url, "https://www.youtube.com/watch?v=x2");
    }

    #[test]
    fn only_the_last_n_events_count() {
        let history = [watch("x1", "2024-06-01T00:00:00Z"), watch("y1", "2024-06-02T00:00:00Z")];
        let s = Settings { recent: 1, ..settings() };
        let feed = rank(&history, None, &[video("x2"), video("y2")], &embeddings(), &Answers::default(), &s).unwrap();
        assert_eq!(feed[0].video_id, "y2");
    }

    #[test]
    fn keep_watched_and_top_n() {
        let history = [watch("x1", "2024-06-01T00:00:00Z")];
        let s = Settings { keep_watched: true, top: 1, ..settings() };
        let feed =
            rank(&history, None, &[video("y1"), video("x1"), video("x1")], &embeddings(), &Answers::default(), &s)
                .unwrap();
        assert_eq!(feed.len(), 1);
        assert_eq!(feed[0].video_id, "x1");
        assert!((feed[0].score - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_familiar_channel_lifts_a_video_by_its_weight() {
        // Along x lately, but "y2" is from the channel watched most: a small weight keeps
        // the similar video first, a large one lifts the familiar channel's.
        let mut history = vec![watch("x1", "2024-06-01T00:00:00Z")];
        for at in ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"] {
            let mut w = watch("y1", at);
            w.channel = Some("fav".into());
            history.push(w);
        }
        let mut familiar = video("y2");
        familiar.channel = Some("fav".into());
        let candidates = [video("x2"), familiar];
        let first = |w: f64| {
            let s = Settings { channel_weight: w, ..settings() };
            let feed = rank(&history, None, &candidates, &embeddings(), &Answers::default(), &s).unwrap();
            (feed[0].video_id.clone(), feed[0].score_of(Score::Channel).unwrap())
        };
        assert_eq!(first(0.0), ("x2".to_string(), 0.0));
        let (id, channel) = first(1.0);
        assert_eq!((id.as_str(), channel), ("y2", 1.0), "the most watched channel is fully familiar");
    }

    #[test]
    fn searches_pull_the_profile_by_their_share() {
        // Watched along x; searched along y. A small share keeps x first, a large one turns
        // the feed to y, and searches alone are enough without any embedded watch.
        let history = [watch("x1", "2024-06-01T00:00:00Z")];
        let along_y = (vec![0.0f32, 3.0], 0.2);
        let candidates = [video("x2"), video("y2")];
        let first = |w: f64| {
            let searches = (along_y.0.clone(), w);
            rank(&history, Some(&searches), &candidates, &embeddings(), &Answers::default(), &settings()).unwrap()[0]
                .video_id
                .clone()
        };
        assert_eq!((first(0.2), first(0.8)), ("x2".to_string(), "y2".to_string()));
        let unknown = [watch("nope", "2024-06-01T00:00:00Z")];
        let feed =
            rank(&unknown, Some(&along_y), &candidates, &embeddings(), &Answers::default(), &settings()).unwrap();
        assert_eq!(feed[0].video_id, "y2");
    }

    #[test]
    fn a_candidate_without_embedding_is_left_out_and_a_history_without_any_is_an_error() {
        let history = [watch("x1", "2024-06-01T00:00:00Z")];
        // As in the model's feed: vrd-rank encodes the missing candidates first, so one still
        // missing had no text; the rest of the feed goes on.
        let feed =
            rank(&history, None, &[video("zz"), video("y2")], &embeddings(), &Answers::default(), &settings()).unwrap();
        assert_eq!(feed.iter().map(|i| i.video_id.as_str()).collect::<Vec<_>>(), ["y2"]);
        let err = rank(
            &[watch("nope", "2024-06-01T00:00:00Z")],
            None,
            &[video("x1")],
            &embeddings(),
            &Answers::default(),
            &settings(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no watch event"), "{err}");
    }
}
