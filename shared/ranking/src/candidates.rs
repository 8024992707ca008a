//! What every ranker shares: the candidates of one feed, what the person already answered
//! about them, the similarity of two embeddings, and the feed line an item becomes.

use std::collections::{BTreeMap, HashMap, HashSet};
use vrd_core::records::{latest_per_question, youtube_url, FeedItem, Label, LabelKind, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::time::Timestamp;

/// The person's standing answers about videos (each question's latest label): "uninterest"
/// removes a video from every feed for good; "not now" puts it off, not away — a ranker
/// that can tell the moment brings it back when the moment fits it, one that cannot leaves
/// it out. A later "interest" or "right time" answer undoes either.
#[derive(Debug, Default, Clone)]
pub struct Answers {
    pub dismissed: HashSet<String>,
    /// When each deferred video was put off.
    pub deferred: HashMap<String, Timestamp>,
}

impl Answers {
    pub fn from_labels(labels: &[Label]) -> Answers {
        let mut answers = Answers::default();
        for label in latest_per_question(labels.to_vec()) {
            match label.kind {
                LabelKind::Uninterest => {
                    answers.dismissed.insert(label.video_id);
                }
                LabelKind::NotNow => {
                    answers.deferred.insert(label.video_id, label.labelled_at);
                }
                LabelKind::Interest | LabelKind::RightTime | LabelKind::Skip => {}
            }
        }
        answers
    }
}

/// The candidates to rank, each with its row in `embeddings`: every video once (the first
/// line of a repeated id), those in `history` left out unless `keep_watched`, those the
/// person dismissed (`answers`) always; deferred ones stay, for the ranker. A candidate
/// the embeddings lack is left out ([`without_embedding`] says which, for the tool to
/// report): vrd-rank encodes the missing ones before it ranks, so what is still missing
/// had no text to encode.
pub fn pool<'a>(
    candidates: &'a [Video],
    history: &[WatchEvent],
    embeddings: &Embeddings,
    answers: &Answers,
    keep_watched: bool,
) -> Vec<(&'a Video, usize)> {
    let index = embeddings.index();
    let watched: HashSet<&str> = history.iter().map(|e| e.video_id.as_str()).collect();
    let mut seen = HashSet::new();
    let mut pool = Vec::new();
    for video in candidates {
        let id = video.video_id.as_str();
        if !seen.insert(id) || (!keep_watched && watched.contains(id)) || answers.dismissed.contains(id) {
            continue;
        }
        if let Some(&row) = index.get(id) {
            pool.push((video, row));
        }
    }
    pool
}

/// The distinct candidates the embeddings lack (left out of every pool), in order.
pub fn without_embedding<'a>(candidates: &'a [Video], embeddings: &Embeddings) -> Vec<&'a str> {
    let index = embeddings.index();
    let mut seen = HashSet::new();
    candidates.iter().map(|v| v.video_id.as_str()).filter(|id| !index.contains_key(id) && seen.insert(*id)).collect()
}

/// The cosine similarity of two embeddings, summed in f64; 0 when either is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        dot += f64::from(x) * f64::from(y);
        na += f64::from(x) * f64::from(x);
        nb += f64::from(y) * f64::from(y);
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// The feed line of `video` at `rank` (from 1).
pub fn feed_item(
    rank: usize,
    video: &Video,
    score: f64,
    scores: BTreeMap<String, f64>,
    reasons: Vec<String>,
) -> FeedItem {
    FeedItem {
        rank,
        video_id: video.video_id.clone(),
        score,
        scores,
        title: video.title.clone(),
        channel: video.channel.clone(),
        url: youtube_url(&video.video_id),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{embeddings, label};

    fn video(id: &str) -> Video {
        serde_json::from_value(serde_json::json!({"video_id": id, "title": id})).unwrap()
    }

    #[test]
    fn each_candidate_once_watched_and_unembedded_left_out() {
        let embeddings = embeddings(&[("a", [1.0, 0.0]), ("b", [0.0, 1.0]), ("c", [1.0, 1.0])]);
        let candidates = [video("a"), video("b"), video("a"), video("x"), video("c")];
        let history: Vec<WatchEvent> = vec![serde_json::from_value(
            serde_json::json!({"video_id": "b", "title": "b", "watched_at": "2026-01-01T00:00:00Z"}),
        )
        .unwrap()];
        let ids = |p: Vec<(&Video, usize)>| p.into_iter().map(|(v, row)| (v.video_id.clone(), row)).collect::<Vec<_>>();
        let none = Answers::default();
        assert_eq!(ids(pool(&candidates, &history, &embeddings, &none, false)), [("a".into(), 0), ("c".into(), 2)]);
        assert_eq!(
            ids(pool(&candidates, &history, &embeddings, &none, true)),
            [("a".into(), 0), ("b".into(), 1), ("c".into(), 2)]
        );
        let answers = Answers::from_labels(&[
            label("a", LabelKind::Uninterest, "2026-01-01T10:00:00Z"),
            label("c", LabelKind::NotNow, "2026-01-01T11:00:00Z"),
        ]);
        assert_eq!(ids(pool(&candidates, &history, &embeddings, &answers, false)), [("c".into(), 2)]);
        assert!(answers.deferred.contains_key("c"));
    }

    #[test]
    fn the_latest_answer_to_each_question_stands() {
        let answers = Answers::from_labels(&[
            label("a", LabelKind::NotNow, "2026-01-01T10:00:00Z"),
            label("a", LabelKind::RightTime, "2026-01-02T10:00:00Z"),
            label("b", LabelKind::Interest, "2026-01-03T10:00:00Z"),
            label("b", LabelKind::Uninterest, "2026-01-01T10:00:00Z"),
            label("c", LabelKind::Uninterest, "2026-01-01T10:00:00Z"),
            label("c", LabelKind::NotNow, "2026-01-01T12:00:00Z"),
        ]);
        assert!(!answers.deferred.contains_key("a"), "a later right-time answer undoes the deferral");
        assert!(!answers.dismissed.contains("b"), "a later interest answer undoes the dismissal");
        assert!(answers.dismissed.contains("c") && answers.deferred.contains_key("c"));
    }

    #[test]
    fn cosine_ignores_length_and_is_zero_for_a_zero_vector() {
        assert!((cosine(&[3.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
