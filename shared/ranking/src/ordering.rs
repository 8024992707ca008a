//! From per-video probabilities to the feed: a blend of interest and right-time chosen by
//! mode or explicit weights, freshness decay by age, and a diverse selection (maximal
//! marginal relevance on the media embeddings, at most N videos per channel; a channel's
//! next video waiting for the others' that come close; places kept for new channels).

use crate::candidates::cosine;
use vrd_core::choice::{Choice, Named};
use vrd_core::records::FeedItem;
use vrd_core::time::Timestamp;

/// How close another channel's video must come (a share of the best score left) for a
/// channel's next video to wait for it.
pub const CLOSE_SHARE: f64 = 0.8;

/// A feed in an order where a channel's next video waits for other channels' videos that
/// come close: at each place, of the items left scoring within [`CLOSE_SHARE`] of the best
/// one left, the one whose channel has been shown least so far (then the better ranked).
/// Where nothing else comes close, the channel's video stays where it was. Ranks renumbered.
pub fn spread_channels(feed: Vec<FeedItem>) -> Vec<FeedItem> {
    let mut left: Vec<FeedItem> = feed;
    let mut shown: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let best = left.iter().map(|i| i.score).fold(f64::NEG_INFINITY, f64::max);
        let close = best - (1.0 - CLOSE_SHARE) * best.abs();
        let times = |i: &FeedItem| i.channel.as_ref().map_or(0, |c| shown.get(c).copied().unwrap_or(0));
        let next = (0..left.len())
            .filter(|&k| left[k].score >= close)
            .min_by_key(|&k| (times(&left[k]), k))
            .expect("the best one is close to itself");
        let item = left.remove(next);
        if let Some(c) = &item.channel {
            *shown.entry(c.clone()).or_default() += 1;
        }
        out.push(item);
    }
    renumbered(out)
}

/// Places kept for some items (`keep`: the videos of newly discovered channels, in
/// `--mode explore`): every `every`th place, the best-ranked such item not shown yet
/// moves up to it, where one is left. Ranks renumbered.
pub fn keep_places(feed: Vec<FeedItem>, keep: impl Fn(&FeedItem) -> bool, every: usize) -> Vec<FeedItem> {
    let (mut kept, mut rest): (std::collections::VecDeque<FeedItem>, std::collections::VecDeque<FeedItem>) =
        feed.into_iter().partition(|i| keep(i));
    let mut out = Vec::with_capacity(kept.len() + rest.len());
    while !kept.is_empty() || !rest.is_empty() {
        let place = out.len() + 1;
        let take_kept = (place % every.max(1) == 0 || rest.is_empty()) && !kept.is_empty();
        let next = match take_kept {
            true => kept.pop_front(),
            // A kept item ranked above this place keeps its place anyway.
            false => match (kept.front(), rest.front()) {
                (Some(k), Some(r)) if k.rank < r.rank => kept.pop_front(),
                _ => rest.pop_front(),
            },
        };
        out.extend(next);
    }
    renumbered(out)
}

fn renumbered(mut feed: Vec<FeedItem>) -> Vec<FeedItem> {
    for (i, item) in feed.iter_mut().enumerate() {
        item.rank = i + 1;
    }
    feed
}

/// The feed's mode (`vrd-rank --mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Focus,
    Balanced,
    Explore,
}

impl Named for Mode {
    const ALL: &'static [Choice<Self>] = &[
        Choice {
            value: Mode::Focus,
            name: "focus",
            aliases: &[],
            help: "What fits the moment matters most; little room for variety",
        },
        Choice { value: Mode::Balanced, name: "balanced", aliases: &[], help: "" },
        Choice {
            value: Mode::Explore,
            name: "explore",
            aliases: &[],
            help: "Interest first, the moment second, more variety",
        },
    ];
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the feed is made from the probabilities.
#[derive(Debug, Clone, Copy)]
pub struct Blend {
    pub interest: f64,
    pub right_time: f64,
    /// MMR's trade-off: 1 is pure relevance, 0 pure novelty.
    pub lambda: f64,
}

impl Blend {
    /// The weighted geometric mean of the two probabilities: a video needs both, so one
    /// that does not interest the person stays down however well it fits the moment (a
    /// weighted sum would let "fits now" alone carry it).
    pub fn combine(&self, interest: f64, right_time: f64) -> f64 {
        let total = (self.interest + self.right_time).max(f64::EPSILON);
        let (wi, wr) = (self.interest / total, self.right_time / total);
        (wi * interest.max(1e-9).ln() + wr * right_time.max(1e-9).ln()).exp()
    }
}

/// The next-watch model's share of a score that also has the answers' probabilities (a
/// model folder with both `model.json` and `pick.json`).
pub const NEXT_WATCH_SHARE: f64 = 1.0 / 3.0;

impl Blend {
    /// `score` (the answers' blend) with the next-watch model's probability `next_watch`
    /// among `pool` candidates as a factor: it is made relative to an average candidate's
    /// (`r = next_watch · pool`) and squashed to `2r / (1 + r)` (1 for an average candidate, below
    /// 2 however large), to the power [`NEXT_WATCH_SHARE`]. So the answers' blend keeps its
    /// spread, a candidate the moment favours gains at most 2^share, and one the person
    /// would not pick now loses up to all.
    pub fn with_next_watch(score: f64, next_watch: f64, pool: usize) -> f64 {
        let r = next_watch * pool as f64;
        score * (2.0 * r / (1.0 + r)).powf(NEXT_WATCH_SHARE)
    }
}

impl Mode {
    pub fn blend(self) -> Blend {
        match self {
            Mode::Focus => Blend { interest: 0.35, right_time: 0.65, lambda: 0.85 },
            Mode::Balanced => Blend { interest: 0.5, right_time: 0.5, lambda: 0.7 },
            Mode::Explore => Blend { interest: 0.7, right_time: 0.3, lambda: 0.5 },
        }
    }
}

/// `0.5^(age / half-life)`: a video as old as the half-life counts half. Unknown or
/// future publication times do not decay.
pub fn freshness(published: Option<Timestamp>, now: Timestamp, half_life_days: f64) -> f64 {
    match published {
        Some(p) if p < now => 0.5f64.powf((now - p).num_seconds() as f64 / 86_400.0 / half_life_days),
        _ => 1.0,
    }
}

pub struct Candidate<'a> {
    pub score: f64,
    pub channel: Option<&'a str>,
    /// L2-normalised embedding.
    pub embedding: &'a [f32],
}

/// Greedy MMR: each next pick maximises `λ·score − (1−λ)·max cosine to the picks so far`,
/// skipping channels already at `per_channel`. Returns indices in feed order.
pub fn select(candidates: &[Candidate], top: usize, lambda: f64, per_channel: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::new();
    let mut max_sim = vec![f64::NEG_INFINITY; candidates.len()];
    let mut used = vec![false; candidates.len()];
    let mut per: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    while picked.len() < top {
        let mut best: Option<(f64, usize)> = None;
        for (i, c) in candidates.iter().enumerate() {
            if used[i] || c.channel.is_some_and(|ch| per.get(ch).copied().unwrap_or(0) >= per_channel) {
                continue;
            }
            let redundancy = if picked.is_empty() { 0.0 } else { max_sim[i] };
            let value = lambda * c.score - (1.0 - lambda) * redundancy;
            // Ties go to the earlier candidate, so the feed is reproducible.
            if best.is_none_or(|(v, _)| value > v) {
                best = Some((value, i));
            }
        }
        let Some((_, i)) = best else { break };
        used[i] = true;
        picked.push(i);
        if let Some(ch) = candidates[i].channel {
            *per.entry(ch).or_default() += 1;
        }
        for (j, c) in candidates.iter().enumerate() {
            if !used[j] {
                max_sim[j] = max_sim[j].max(cosine(c.embedding, candidates[i].embedding));
            }
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn items(list: &[(&str, &str, f64)]) -> Vec<FeedItem> {
        list.iter()
            .enumerate()
            .map(|(i, (id, channel, score))| {
                let video = crate::test_support::video(id, Some(channel));
                crate::candidates::feed_item(i + 1, &video, *score, Default::default(), vec![])
            })
            .collect()
    }

    fn order(feed: &[FeedItem]) -> Vec<&str> {
        feed.iter().map(|i| i.video_id.as_str()).collect()
    }

    #[test]
    fn a_channels_second_video_waits_for_the_others_that_come_close() {
        // Four channels, three videos each in a row, all close: one round of channels, then
        // the next. A far better second video keeps its place.
        let feed = items(&[
            ("a1", "A", 0.90),
            ("a2", "A", 0.89),
            ("a3", "A", 0.88),
            ("b1", "B", 0.87),
            ("b2", "B", 0.86),
            ("c1", "C", 0.85),
            ("d1", "D", 0.84),
        ]);
        let spread = spread_channels(feed);
        assert_eq!(order(&spread), ["a1", "b1", "c1", "d1", "a2", "b2", "a3"]);
        assert_eq!(spread.iter().map(|i| i.rank).collect::<Vec<_>>(), (1..=7).collect::<Vec<_>>());
        let far = spread_channels(items(&[("a1", "A", 0.9), ("a2", "A", 0.85), ("b1", "B", 0.3)]));
        assert_eq!(order(&far), ["a1", "a2", "b1"], "nothing else comes close");
    }

    #[test]
    fn places_are_kept_for_new_channels() {
        let feed = items(&[
            ("a", "A", 0.9),
            ("b", "B", 0.8),
            ("c", "C", 0.7),
            ("d", "D", 0.6),
            ("n1", "N", 0.2),
            ("n2", "N", 0.1),
        ]);
        let kept = keep_places(feed, |i| i.channel.as_deref() == Some("N"), 3);
        assert_eq!(order(&kept), ["a", "b", "n1", "c", "d", "n2"]);
    }

    #[test]
    fn both_probabilities_are_needed() {
        let b = Mode::Balanced.blend();
        assert!((b.combine(0.8, 0.8) - 0.8).abs() < 1e-12);
        assert!(b.combine(0.01, 1.0) < 0.11, "uninteresting stays down when it fits the moment");
        assert!(Mode::Focus.blend().combine(0.6, 0.9) > Mode::Explore.blend().combine(0.6, 0.9));
    }

    #[test]
    fn the_pick_lifts_what_the_moment_favours_by_its_share() {
        let average = Blend::with_next_watch(0.5, 0.01, 100);
        assert!((average - 0.5).abs() < 1e-12, "an average pick keeps the score");
        assert!(Blend::with_next_watch(0.5, 0.5, 100) > average && Blend::with_next_watch(0.5, 0.001, 100) < average);
        // A runaway pick is bounded: at most a factor 2^share.
        assert!(Blend::with_next_watch(0.4, 1.0, 10_000) < 0.4 * 2f64.powf(NEXT_WATCH_SHARE));
        assert!(Blend::with_next_watch(0.4, 0.0, 10_000) == 0.0);
    }

    #[test]
    fn freshness_halves_every_half_life() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
        assert_eq!(freshness(Some(now - chrono::Duration::days(14)), now, 14.0), 0.5);
        assert_eq!(freshness(Some(now - chrono::Duration::days(28)), now, 14.0), 0.25);
        assert_eq!(freshness(None, now, 14.0), 1.0);
        assert_eq!(freshness(Some(now + chrono::Duration::days(1)), now, 14.0), 1.0);
    }

    #[test]
    fn mmr_trades_a_little_score_for_variety_and_caps_channels() {
        let x = [1.0f32, 0.0];
        let y = [0.0f32, 1.0];
        let c = |score, channel, embedding| Candidate { score, channel: Some(channel), embedding };
        // Two near-duplicates on top, a different video slightly below.
        let cands = [c(0.9, "a", &x[..]), c(0.89, "b", &x[..]), c(0.8, "c", &y[..])];
        assert_eq!(select(&cands, 3, 1.0, 9), [0, 1, 2], "λ = 1: by score");
        assert_eq!(select(&cands, 3, 0.7, 9), [0, 2, 1], "the different one moves up");
        let same_channel = [c(0.9, "a", &x[..]), c(0.8, "a", &y[..]), c(0.7, "b", &y[..])];
        assert_eq!(select(&same_channel, 3, 1.0, 1), [0, 2], "one per channel");
    }
}
