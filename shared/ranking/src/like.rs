//! "More like this": the candidates nearest one video by their media embeddings, made
//! varied as every feed is (maximal marginal relevance, a per-channel cap), with the video
//! itself and what was watched left out. Needs no trained model: `vrd-rank --like` and
//! the feed page's video page call the same function.

use crate::candidates::{self, cosine, Answers};
use crate::ordering::{self, Candidate};
use anyhow::{anyhow, Result};
use vrd_core::records::{FeedItem, Score, Video, WatchEvent};
use vrd_core::tensors::Embeddings;

/// How many, how varied, and whether watched videos may come back.
#[derive(Debug, Clone, Copy)]
pub struct LikeSettings {
    pub top: usize,
    pub per_channel: usize,
    /// MMR's trade-off: 1 is nearest first whatever the repetition, 0 pure novelty.
    pub lambda: f64,
    pub keep_watched: bool,
}

impl Default for LikeSettings {
    fn default() -> Self {
        LikeSettings { top: 20, per_channel: 3, lambda: 0.7, keep_watched: false }
    }
}

/// MMR runs over the nearest this many: beyond them nothing would be picked anyway.
const SHORTLIST: usize = 500;

/// The feed of videos most like `video_id`, each scored by its cosine similarity to it
/// (`scores.similarity`); what the person dismissed is left out, what they put off is not
/// (asked for "more like this", they are choosing now).
pub fn like(
    video_id: &str,
    candidates: &[Video],
    history: &[WatchEvent],
    embeddings: &Embeddings,
    answers: &Answers,
    s: &LikeSettings,
) -> Result<Vec<FeedItem>> {
    let row = embeddings.index().get(video_id).copied().ok_or_else(|| {
        anyhow!("{video_id:?} has no embedding; run vrd-encode media over it (or pass it among the candidates)")
    })?;
    let target = embeddings.row(row);
    let pool: Vec<(&Video, usize)> = candidates::pool(candidates, history, embeddings, answers, s.keep_watched)
        .into_iter()
        .filter(|(v, _)| v.video_id != video_id)
        .collect();
    let similarity: Vec<f64> = pool.iter().map(|&(_, r)| cosine(target, embeddings.row(r))).collect();
    let mut shortlist: Vec<usize> = (0..pool.len()).collect();
    // Nearest first; equal similarities in candidate order, so the feed is reproducible.
    shortlist.sort_by(|&a, &b| similarity[b].total_cmp(&similarity[a]).then(a.cmp(&b)));
    shortlist.truncate(SHORTLIST.max(s.top));
    let shortlisted: Vec<Candidate> = shortlist
        .iter()
        .map(|&i| Candidate {
            score: similarity[i],
            channel: pool[i].0.channel.as_deref(),
            embedding: embeddings.row(pool[i].1),
        })
        .collect();
    let order = ordering::select(&shortlisted, s.top, s.lambda, s.per_channel.max(1));
    Ok(order
        .into_iter()
        .enumerate()
        .map(|(rank, k)| {
            let i = shortlist[k];
            let scores = Score::map([(Score::Similarity, similarity[i])]);
            candidates::feed_item(rank + 1, pool[i].0, similarity[i], scores, Vec::new())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(id: &str, channel: &str) -> Video {
        serde_json::from_value(serde_json::json!({"video_id": id, "title": id, "channel": channel})).unwrap()
    }

    /// Rows along two directions: `a*` near the x axis, `b*` near the y axis.
    fn embeddings() -> Embeddings {
        crate::test_support::embeddings(&[
            ("a0", [1.0, 0.0]),
            ("a1", [0.99, 0.14]),
            ("a2", [0.98, 0.2]),
            ("a3", [0.97, 0.24]),
            ("b1", [0.0, 1.0]),
        ])
    }

    fn ids(feed: &[FeedItem]) -> Vec<&str> {
        feed.iter().map(|i| i.video_id.as_str()).collect()
    }

    #[test]
    fn nearest_first_without_the_video_itself_or_what_was_watched() {
        let candidates = [video("a0", "A"), video("b1", "B"), video("a3", "C"), video("a1", "D"), video("a2", "E")];
        let settings = LikeSettings { lambda: 1.0, ..Default::default() };
        let feed = like("a0", &candidates, &[], &embeddings(), &Answers::default(), &settings).unwrap();
        assert_eq!(ids(&feed), ["a1", "a2", "a3", "b1"]);
        assert!(feed[0].score_of(Score::Similarity) > feed[1].score_of(Score::Similarity));
        let watched: Vec<WatchEvent> = vec![serde_json::from_value(
            serde_json::json!({"video_id": "a1", "title": "a1", "watched_at": "2026-01-01T00:00:00Z"}),
        )
        .unwrap()];
        assert_eq!(
            ids(&like("a0", &candidates, &watched, &embeddings(), &Answers::default(), &settings).unwrap()),
            ["a2", "a3", "b1"]
        );
    }

    #[test]
    fn varied_by_channel_cap_and_mmr() {
        // Three near ones from one channel: the cap lets two through, then the far one.
        let candidates = [video("a1", "A"), video("a2", "A"), video("a3", "A"), video("b1", "B")];
        let capped = LikeSettings { per_channel: 2, lambda: 1.0, ..Default::default() };
        assert_eq!(
            ids(&like("a0", &candidates, &[], &embeddings(), &Answers::default(), &capped).unwrap()),
            ["a1", "a2", "b1"]
        );
        // Pure novelty after the first pick: the far video comes second.
        let novel = LikeSettings { lambda: 0.0, ..Default::default() };
        assert_eq!(ids(&like("a0", &candidates, &[], &embeddings(), &Answers::default(), &novel).unwrap())[1], "b1");
    }

    #[test]
    fn a_video_without_embedding_says_what_to_do() {
        let err =
            like("zz", &[], &[], &embeddings(), &Answers::default(), &LikeSettings::default()).unwrap_err().to_string();
        assert!(err.contains("\"zz\"") && err.contains("vrd-encode media"), "{err}");
    }
}
