//! From per-video probabilities to the feed: a blend of interest and right-time chosen by
//! mode or explicit weights, freshness decay by age, and a diverse selection (maximal
//! marginal relevance on the media embeddings, at most N videos per channel).

use crate::candidates::cosine;
use vrd_core::choice::{Choice, Named};
use vrd_core::time::Timestamp;

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
pub const PICK_SHARE: f64 = 1.0 / 3.0;

impl Blend {
    /// `score` (the answers' blend) with the next-watch model's probability `pick` among
    /// `pool` candidates as a factor: the pick is made relative to an average candidate's
    /// (`r = pick · pool`) and squashed to `2r / (1 + r)` (1 for an average candidate, below
    /// 2 however large), to the power [`PICK_SHARE`]. So the answers' blend keeps its
    /// spread, a candidate the moment favours gains at most 2^share, and one the person
    /// would not pick now loses up to all.
    pub fn with_pick(score: f64, pick: f64, pool: usize) -> f64 {
        let r = pick * pool as f64;
        score * (2.0 * r / (1.0 + r)).powf(PICK_SHARE)
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

    #[test]
    fn both_probabilities_are_needed() {
        let b = Mode::Balanced.blend();
        assert!((b.combine(0.8, 0.8) - 0.8).abs() < 1e-12);
        assert!(b.combine(0.01, 1.0) < 0.11, "uninteresting stays down when it fits the moment");
        assert!(Mode::Focus.blend().combine(0.6, 0.9) > Mode::Explore.blend().combine(0.6, 0.9));
    }

    #[test]
    fn the_pick_lifts_what_the_moment_favours_by_its_share() {
        let average = Blend::with_pick(0.5, 0.01, 100);
        assert!((average - 0.5).abs() < 1e-12, "an average pick keeps the score");
        assert!(Blend::with_pick(0.5, 0.5, 100) > average && Blend::with_pick(0.5, 0.001, 100) < average);
        // A runaway pick is bounded: at most a factor 2^share.
        assert!(Blend::with_pick(0.4, 1.0, 10_000) < 0.4 * 2f64.powf(PICK_SHARE));
        assert!(Blend::with_pick(0.4, 0.0, 10_000) == 0.0);
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
