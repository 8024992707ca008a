//! The training moments of a history and their negatives. Each first watch of a video at
//! moment t (with enough history before it) is a positive for "what this person picks at
//! t"; its negatives are videos the person had not watched at t:
//! - *timing*: their own videos first watched in the days after t, which teach the moment
//!   (the same videos, another time);
//! - *taste*: videos they never watched (stored candidates, subscriptions' uploads), which
//!   teach what they pick at all; without any, their own videos first watched months
//!   after t.
//!
//! Nothing at or after t enters the features (they are cut at t); the negatives are only
//! *which* videos are compared, and never the target or anything watched before t.

use std::collections::HashMap;
use vrd_core::records::WatchEvent;
use vrd_core::rng::Rng;
use vrd_core::time::Timestamp;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Sampling {
    /// Timing negatives come from the videos first watched within this many days after t.
    pub timing_days: f64,
    pub timing_negatives: usize,
    /// Own videos count as taste negatives when first watched at least this many days
    /// after t.
    pub far_days: f64,
    pub taste_negatives: usize,
    /// A moment needs at least this many watches before it.
    pub min_history: usize,
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Sampling {
        Sampling {
            timing_days: 15.0,
            timing_negatives: 20,
            far_days: 60.0,
            taste_negatives: 20,
            min_history: 10,
            seed: 17,
        }
    }
}

/// A video a group compares: one of the history's (by the index of its first watch) or a
/// never-watched candidate (by its index among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    Watched(usize),
    Unwatched(usize),
}

/// What a group's negatives ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// The person's own videos of the surrounding weeks: why this one now.
    Timing,
    /// Videos far off or never watched: why this one at all.
    Taste,
}

/// One training moment: the watch at `moment` (an index into the prepared history) is the
/// positive, compared with `negatives`.
#[derive(Debug, Clone)]
pub struct Group {
    pub moment: usize,
    pub at: Timestamp,
    pub question: Question,
    pub negatives: Vec<Item>,
}

/// The groups of a prepared history (time order, see `vrd_next_watch::prepare_history`).
/// `usable(i)` says whether the history's watch `i` can be scored (it has an embedding);
/// `unwatched` is how many never-watched candidates there are (each usable).
pub fn groups(history: &[&WatchEvent], usable: &dyn Fn(usize) -> bool, unwatched: usize, s: &Sampling) -> Vec<Group> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, e) in history.iter().enumerate() {
        first.entry(e.video_id.as_str()).or_insert(i);
    }
    // Each video once, at its first watch, in time order.
    let firsts: Vec<usize> =
        (0..history.len()).filter(|&i| first[history[i].video_id.as_str()] == i && usable(i)).collect();
    let mut rng = Rng::new(s.seed);
    let mut out = Vec::new();
    for (k, &i) in firsts.iter().enumerate() {
        if i < s.min_history {
            continue;
        }
        let t = history[i].watched_at;
        let after = |days: f64| t + chrono::Duration::seconds((days * 86_400.0) as i64);
        // `firsts` is in time order: the ones after t start past k (and past any other
        // first watch at the same instant, which is not "after").
        let later = &firsts[k + 1..];
        let later = &later[later.partition_point(|&j| history[j].watched_at <= t)..];
        let timing_end = later.partition_point(|&j| history[j].watched_at <= after(s.timing_days));
        let far_start = later.partition_point(|&j| history[j].watched_at < after(s.far_days));
        let timing: Vec<Item> =
            sample(&later[..timing_end], s.timing_negatives, &mut rng).into_iter().map(Item::Watched).collect();
        // Never-watched videos where there are any; the person's own far-off ones only
        // without them (those teach the drift of a taste more than the taste).
        let taste: Vec<Item> = match unwatched {
            0 => sample(&later[far_start..], s.taste_negatives, &mut rng).into_iter().map(Item::Watched).collect(),
            n => sample_indices(n, s.taste_negatives, &mut rng).into_iter().map(Item::Unwatched).collect(),
        };
        // Each question its own softmax: "which of my own videos now" and "which at all".
        for (kind, negatives) in [(Question::Timing, timing), (Question::Taste, taste)] {
            if !negatives.is_empty() {
                out.push(Group { moment: i, at: t, question: kind, negatives });
            }
        }
    }
    out
}

fn sample(items: &[usize], n: usize, rng: &mut Rng) -> Vec<usize> {
    sample_indices(items.len(), n, rng).into_iter().map(|k| items[k]).collect()
}

/// `n` distinct indices below `len` (all of them when `len ≤ n`), by a partial shuffle.
fn sample_indices(len: usize, n: usize, rng: &mut Rng) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    if len > 8 * n {
        // Rejection is cheaper than a shuffle of a long pool.
        let mut picked = std::collections::HashSet::new();
        while picked.len() < n {
            picked.insert(rng.below(len));
        }
        let mut v: Vec<usize> = picked.into_iter().collect();
        v.sort_unstable();
        return v;
    }
    let mut all: Vec<usize> = (0..len).collect();
    for k in 0..n {
        let j = k + rng.below(len - k);
        all.swap(k, j);
    }
    all.truncate(n);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::parse_rfc3339;

    fn watch(id: &str, day: u32, hour: u32) -> WatchEvent {
        WatchEvent {
            video_id: id.into(),
            title: id.into(),
            title_unknown: false,
            channel: None,
            channel_id: None,
            watched_at: parse_rfc3339(&format!("2025-{:02}-{:02}T{hour:02}:00:00Z", 1 + day / 28, 1 + day % 28))
                .unwrap(),
            source: "test".into(),
            watched_s: None,
        }
    }

    #[test]
    fn negatives_are_never_the_target_nor_anything_watched_by_then() {
        // A history with rewatches, two watches at the same instant, and long gaps.
        let mut events = Vec::new();
        for d in 0..200u32 {
            events.push(watch(&format!("v{}", d % 150), d, 10));
            if d % 7 == 0 {
                events.push(watch(&format!("w{d}"), d, 10));
            }
        }
        let history: Vec<&WatchEvent> = events.iter().collect();
        let s = Sampling { min_history: 3, ..Sampling::default() };
        let own = groups(&history, &|_| true, 0, &s);
        let with_candidates = groups(&history, &|_| true, 40, &s);
        assert!(own.len() > 100);
        assert!(with_candidates.iter().any(|g| g.negatives.contains(&Item::Unwatched(0))));
        assert!(own.iter().all(|g| g.negatives.iter().all(|n| matches!(n, Item::Watched(_)))));
        for gs in [own, with_candidates] {
            check(&history, &gs);
        }
    }

    fn check(history: &[&WatchEvent], gs: &[Group]) {
        let mut timing = 0;
        for g in gs {
            let target = &history[g.moment];
            assert_eq!(g.at, target.watched_at);
            let watched_by_then: std::collections::HashSet<&str> =
                history.iter().filter(|e| e.watched_at <= g.at).map(|e| e.video_id.as_str()).collect();
            for n in &g.negatives {
                if let Item::Watched(j) = *n {
                    let v = &history[j];
                    assert_ne!(v.video_id, target.video_id, "the target is never its own negative");
                    assert!(!watched_by_then.contains(v.video_id.as_str()), "{} was watched by {}", v.video_id, g.at);
                    assert!(v.watched_at > g.at);
                    if v.watched_at <= g.at + chrono::Duration::days(15) {
                        timing += 1;
                    } else {
                        assert!(v.watched_at >= g.at + chrono::Duration::days(60), "a taste negative is far off");
                    }
                }
            }
            let distinct: std::collections::HashSet<_> = g.negatives.iter().collect();
            assert_eq!(distinct.len(), g.negatives.len(), "each negative once");
        }
        assert!(timing > 0);
        // Rewatches are not moments: each moment's target is a first watch, asked once per
        // question.
        let moments: std::collections::HashSet<(&str, bool)> =
            gs.iter().map(|g| (history[g.moment].video_id.as_str(), g.question == Question::Timing)).collect();
        assert_eq!(moments.len(), gs.len());
    }
}
