//! What every ranker shares: the candidates of one feed, the similarity of two embeddings,
//! and the feed line an item becomes.

use std::collections::{BTreeMap, HashSet};
use vrd_core::records::{youtube_url, FeedItem, Video, WatchEvent};
use vrd_core::tensors::Embeddings;

/// The candidates to rank, each with its row in `embeddings`: every video once (the first
/// line of a repeated id), those in `history` left out unless `keep_watched`. A candidate
/// the embeddings lack is left out with a warning (unless `quiet`): vrd-rank encodes the
/// missing ones before it ranks, so what is still missing had no text to encode.
pub fn pool<'a>(
    candidates: &'a [Video],
    history: &[WatchEvent],
    embeddings: &Embeddings,
    keep_watched: bool,
    quiet: bool,
) -> Vec<(&'a Video, usize)> {
    let index = embeddings.index();
    let watched: HashSet<&str> = history.iter().map(|e| e.video_id.as_str()).collect();
    let mut seen = HashSet::new();
    let mut pool = Vec::new();
    let mut missing = Vec::new();
    for video in candidates {
        let id = video.video_id.as_str();
        if !seen.insert(id) || (!keep_watched && watched.contains(id)) {
            continue;
        }
        match index.get(id) {
            Some(&row) => pool.push((video, row)),
            None => missing.push(id),
        }
    }
    if !missing.is_empty() && !quiet {
        eprintln!(
            "vrd-rank: {} candidates have no embedding and are left out (first: {}; run vrd-encode media over them)",
            missing.len(),
            missing[0]
        );
    }
    pool
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
    use vrd_core::tensors::EmbeddingMeta;

    fn video(id: &str) -> Video {
        serde_json::from_value(serde_json::json!({"video_id": id, "title": id})).unwrap()
    }

    #[test]
    fn each_candidate_once_watched_and_unembedded_left_out() {
        let ids: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let meta = EmbeddingMeta { model_id: "m".into(), dim: 2, text_hashes: ids.clone(), ids };
        let embeddings = Embeddings::from_parts(meta, vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0]).unwrap();
        let candidates = [video("a"), video("b"), video("a"), video("x"), video("c")];
        let history: Vec<WatchEvent> = vec![serde_json::from_value(
            serde_json::json!({"video_id": "b", "title": "b", "watched_at": "2026-01-01T00:00:00Z"}),
        )
        .unwrap()];
        let ids = |p: Vec<(&Video, usize)>| p.into_iter().map(|(v, row)| (v.video_id.clone(), row)).collect::<Vec<_>>();
        assert_eq!(ids(pool(&candidates, &history, &embeddings, false, true)), [("a".into(), 0), ("c".into(), 2)]);
        assert_eq!(
            ids(pool(&candidates, &history, &embeddings, true, true)),
            [("a".into(), 0), ("b".into(), 1), ("c".into(), 2)]
        );
    }

    #[test]
    fn cosine_ignores_length_and_is_zero_for_a_zero_vector() {
        assert!((cosine(&[3.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
