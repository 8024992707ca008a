//! The channels the store follows, and how often each is fetched.
//!
//! Followed: every channel the person watched (as Takeout and the live sources name it),
//! every subscription, the channels of saved videos, and the channels discovery found in
//! the last four weeks. On the real histories, the channels a person had watched before a
//! moment hold a median 0.58 of the next fortnight's first watches, their subscriptions
//! 0.11 (BENCHMARKS.md "Reach"): following the whole history is what reaches them.
//!
//! What it costs is set by the intervals, within a daily budget of fetches. A channel
//! matters now as much as its watches, each decayed by half every 30 days (plus what a
//! subscription, a saving or a discovery adds): `r`, its share of the person's attention.
//! Its uploads a day `u` come from the dates of its latest uploads in the store (one a day
//! until known). The expected wait of the person's next pick is least when each channel is
//! fetched in proportion to √(r·u) (the square-root rule of polling), so the budget is
//! shared that way, each interval between an hour and a week. A channel the person watches
//! daily is fetched hourly; one watched once, years ago, weekly.

use std::collections::HashMap;
use vrd_core::reach::{ChannelFetch, DiscoveredChannel, PlannedChannel, Reason, SavedVideo, DISCOVERED_DAYS};
use vrd_core::records::{Subscription, Video, WatchEvent};
use vrd_core::time::Timestamp;

/// Fetches a day the plan shares out by default: about one every 86 s, under the 2,000 a
/// day of the goal with room for the saved videos' and the discovered channels' share.
pub const DEFAULT_FETCHES_PER_DAY: f64 = 1000.0;
/// The decay of a watch's weight.
const HALF_LIFE_DAYS: f64 = 30.0;
/// What other reasons add to a channel's weight (a watch today is 1).
const SUBSCRIBED_WEIGHT: f64 = 0.5;
const SAVED_WEIGHT: f64 = 0.25;
const DISCOVERED_WEIGHT: f64 = 0.5;
/// The shortest and longest interval.
const MIN_HOURS: f64 = 1.0;
const MAX_HOURS: f64 = 168.0;
/// A channel's uploads a day where its uploads are not known, and the bounds of a known one.
const PRIOR_UPLOADS_PER_DAY: f64 = 1.0;
const UPLOADS_PER_DAY: (f64, f64) = (1.0 / 30.0, 24.0);
/// The latest uploads a cadence is read from (a channel feed holds 15).
const CADENCE_UPLOADS: usize = 15;

/// What a plan is made from.
pub struct Inputs<'a> {
    pub watches: &'a [WatchEvent],
    pub subscriptions: &'a [Subscription],
    /// Saved videos with what the store knows of each (its channel, once known).
    pub saved: &'a [(SavedVideo, Option<Video>)],
    pub discovered: &'a [DiscoveredChannel],
    /// The stored videos, whose upload dates give each channel's cadence.
    pub videos: &'a [Video],
    pub fetches: &'a [ChannelFetch],
}

pub struct Settings {
    /// The moment planned for (watches after it are not known yet).
    pub at: Timestamp,
    pub fetches_per_day: f64,
}

/// One channel while the plan is made.
#[derive(Default)]
struct Followed {
    title: Option<String>,
    reasons: Vec<Reason>,
    score: f64,
}

/// The plan: every followed channel that is not gone, by score, highest first.
pub fn plan(inputs: &Inputs, settings: &Settings) -> Vec<PlannedChannel> {
    let at = settings.at;
    let days_before = |t: Timestamp| (at - t).num_seconds() as f64 / 86_400.0;
    let mut followed: HashMap<String, Followed> = HashMap::new();

    let mut watches: HashMap<&str, (usize, Timestamp, usize, f64)> = HashMap::new();
    for w in inputs.watches.iter().filter(|w| w.watched_at <= at) {
        let Some(id) = w.channel_id.as_deref().filter(|id| id.starts_with("UC")) else { continue };
        let age = days_before(w.watched_at);
        let entry = watches.entry(id).or_insert((0, w.watched_at, 0, 0.0));
        entry.0 += 1;
        entry.1 = entry.1.max(w.watched_at);
        entry.2 += usize::from(age <= 56.0);
        entry.3 += 0.5f64.powf(age / HALF_LIFE_DAYS);
        let f = followed.entry(id.to_string()).or_default();
        if w.channel.is_some() {
            f.title = w.channel.clone();
        }
    }
    for (id, (count, latest, recent, weight)) in watches {
        let f = followed.get_mut(id).expect("followed above");
        f.score += weight;
        f.reasons.push(Reason::Watched { watches: count, latest, per_week: recent as f64 / 8.0 });
    }
    for s in inputs.subscriptions {
        let Some(id) = s.channel_id.as_deref() else { continue };
        let f = followed.entry(id.to_string()).or_default();
        f.title = f.title.take().or_else(|| s.title.clone());
        f.score += SUBSCRIBED_WEIGHT;
        f.reasons.insert(0, Reason::Subscribed);
    }
    let mut saved: HashMap<&str, (usize, Option<&str>)> = HashMap::new();
    for (_, video) in inputs.saved {
        let Some(v) = video else { continue };
        let Some(id) = v.channel_id.as_deref() else { continue };
        let entry = saved.entry(id).or_insert((0, v.channel.as_deref()));
        entry.0 += 1;
    }
    for (id, (count, title)) in saved {
        let f = followed.entry(id.to_string()).or_default();
        f.title = f.title.take().or_else(|| title.map(str::to_string));
        f.score += SAVED_WEIGHT * (count.min(4) as f64);
        f.reasons.push(Reason::Saved { videos: count });
    }
    for d in inputs.discovered {
        let age = days_before(d.found_at);
        let watched =
            followed.get(&d.channel_id).is_some_and(|f| f.reasons.iter().any(|r| matches!(r, Reason::Watched { .. })));
        if age < 0.0 || (age > DISCOVERED_DAYS as f64 && !watched) {
            continue;
        }
        let f = followed.entry(d.channel_id.clone()).or_default();
        f.title = f.title.take().or_else(|| d.title.clone());
        f.score += DISCOVERED_WEIGHT * 0.5f64.powf(age.max(0.0) / 14.0);
        f.reasons.push(d.reason());
    }

    let fetches: HashMap<&str, &ChannelFetch> = inputs.fetches.iter().map(|f| (f.channel_id.as_str(), f)).collect();
    followed.retain(|id, _| fetches.get(id.as_str()).is_none_or(|f| f.gone_since.is_none()));
    let cadence = uploads_per_day(inputs.videos, at);
    let mut channels: Vec<(String, Followed, Option<f64>)> = followed
        .into_iter()
        .map(|(id, f)| {
            let u = cadence.get(id.as_str()).copied();
            (id, f, u)
        })
        .collect();
    channels.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then_with(|| a.0.cmp(&b.0)));
    // Weekly, every channel costs 24/168 of a fetch a day: the long tail of a history of
    // decades may take at most half the budget, the channels that matter least left out.
    channels.truncate((settings.fetches_per_day * MAX_HOURS / 24.0 / 2.0).floor() as usize);
    let weights: Vec<f64> =
        channels.iter().map(|(_, f, u)| (f.score * u.unwrap_or(PRIOR_UPLOADS_PER_DAY)).max(1e-12).sqrt()).collect();
    let hours = share_budget(&weights, settings.fetches_per_day);
    channels
        .into_iter()
        .zip(hours)
        .map(|((id, f, uploads), interval_hours)| {
            let fetch = fetches.get(id.as_str());
            let last_fetched = fetch.and_then(|f| f.last_tried);
            let due = last_fetched.map_or(at, |t| t + chrono::Duration::seconds((interval_hours * 3600.0) as i64));
            let next_due = match fetch.and_then(|f| f.retry_at) {
                Some(retry) => retry.max(due),
                None => due,
            };
            PlannedChannel {
                channel_id: id,
                title: f.title,
                reasons: f.reasons,
                score: (f.score * 1000.0).round() / 1000.0,
                interval_hours: (interval_hours * 100.0).round() / 100.0,
                uploads_per_day: uploads.map(|u| (u * 1000.0).round() / 1000.0),
                last_fetched,
                next_due,
            }
        })
        .collect()
}

/// Each channel's uploads a day, from the median gap between its latest uploads the store
/// knows (at least three), within bounds.
fn uploads_per_day(videos: &[Video], at: Timestamp) -> HashMap<&str, f64> {
    let mut dates: HashMap<&str, Vec<Timestamp>> = HashMap::new();
    for v in videos {
        if let (Some(id), Some(p)) = (v.channel_id.as_deref(), v.published_at) {
            if p <= at {
                dates.entry(id).or_default().push(p);
            }
        }
    }
    dates
        .into_iter()
        .filter_map(|(id, mut d)| {
            d.sort_unstable_by(|a, b| b.cmp(a));
            d.dedup();
            d.truncate(CADENCE_UPLOADS);
            if d.len() < 3 {
                return None;
            }
            let mut gaps: Vec<f64> = d.windows(2).map(|w| (w[0] - w[1]).num_seconds() as f64 / 86_400.0).collect();
            gaps.sort_by(f64::total_cmp);
            let median = gaps[gaps.len() / 2].max(1.0 / 24.0);
            Some((id, (1.0 / median).clamp(UPLOADS_PER_DAY.0, UPLOADS_PER_DAY.1)))
        })
        .collect()
}

/// The intervals (hours) that share `per_day` fetches in proportion to `weights`, each
/// between [`MIN_HOURS`] and [`MAX_HOURS`]: the channels that hit a bound are fixed there
/// and the rest of the budget shared again among the others. With more budget than every
/// channel hourly needs, all are hourly; with less than every channel weekly needs, all are
/// weekly.
fn share_budget(weights: &[f64], per_day: f64) -> Vec<f64> {
    let mut hours: Vec<Option<f64>> = vec![None; weights.len()];
    loop {
        let fixed: f64 = hours.iter().flatten().map(|h| 24.0 / h).sum();
        let free: f64 = weights.iter().zip(&hours).filter(|(_, h)| h.is_none()).map(|(w, _)| w).sum();
        let left = (per_day - fixed).max(0.0);
        let mut changed = false;
        for (w, h) in weights.iter().zip(hours.iter_mut()) {
            if h.is_some() {
                continue;
            }
            let per_day_here = if free > 0.0 { left * w / free } else { 0.0 };
            let interval = if per_day_here > 0.0 { 24.0 / per_day_here } else { MAX_HOURS };
            if interval < MIN_HOURS {
                *h = Some(MIN_HOURS);
                changed = true;
            } else if interval > MAX_HOURS {
                *h = Some(MAX_HOURS);
                changed = true;
            }
        }
        if !changed {
            return weights
                .iter()
                .zip(&hours)
                .map(|(w, h)| {
                    h.unwrap_or_else(|| {
                        let per_day_here = left * w / free;
                        (24.0 / per_day_here).clamp(MIN_HOURS, MAX_HOURS)
                    })
                })
                .collect();
        }
    }
}

/// The fetches a day a plan makes: Σ 24 / interval.
pub fn fetches_per_day(plan: &[PlannedChannel]) -> f64 {
    plan.iter().map(|c| 24.0 / c.interval_hours).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::parse_rfc3339;

    fn t(s: &str) -> Timestamp {
        parse_rfc3339(s).unwrap()
    }

    fn watch(channel: &str, at: &str) -> WatchEvent {
        WatchEvent {
            video_id: format!("v{at}"),
            title: "a video".into(),
            title_unknown: false,
            channel: Some(format!("{channel} name")),
            channel_id: Some(channel.into()),
            watched_at: t(at),
            source: "takeout-json".into(),
            watched_s: None,
        }
    }

    fn upload(channel: &str, id: &str, at: Timestamp) -> Video {
        serde_json::from_value(serde_json::json!({"video_id": id, "title": "up", "channel_id": channel,
            "published_at": at.to_rfc3339(), "source": "rss"}))
        .unwrap()
    }

    #[test]
    fn the_budget_goes_to_what_is_watched_now_and_uploads_often() {
        let at = t("2026-12-01T00:00:00Z");
        let mut watches = Vec::new();
        // Watched daily this month, the same as another channel that uploads weekly only;
        // one watched once, a year ago.
        for day in 1..=30 {
            watches.push(watch("UCdaily", &format!("2026-11-{day:02}T20:00:00Z")));
            watches.push(watch("UCweekly", &format!("2026-11-{day:02}T21:00:00Z")));
        }
        watches.push(watch("UCold", "2025-11-01T20:00:00Z"));
        let mut videos = Vec::new();
        for i in 0..15 {
            videos.push(upload("UCdaily", &format!("d{i}"), at - chrono::Duration::hours(24 * i)));
            videos.push(upload("UCweekly", &format!("w{i}"), at - chrono::Duration::days(7 * i)));
        }
        let subs = [Subscription::channel("UCsub", Some("Sub".into()), "takeout-subscriptions")];
        let fetches = [ChannelFetch { channel_id: "UCgone".into(), gone_since: Some(at), ..Default::default() }];
        let gone_watches = [watch("UCgone", "2026-11-30T20:00:00Z")];
        let all_watches: Vec<WatchEvent> = watches.iter().chain(&gone_watches).cloned().collect();
        let inputs = Inputs {
            watches: &all_watches,
            subscriptions: &subs,
            saved: &[],
            discovered: &[],
            videos: &videos,
            fetches: &fetches,
        };
        let plan = plan(&inputs, &Settings { at, fetches_per_day: 30.0 });
        let by_id: HashMap<&str, &PlannedChannel> = plan.iter().map(|c| (c.channel_id.as_str(), c)).collect();
        assert!(!by_id.contains_key("UCgone"), "a gone channel is left out");
        assert_eq!(plan.len(), 4);
        assert!((fetches_per_day(&plan) - 30.0).abs() < 0.1, "the budget is spent: {}", fetches_per_day(&plan));
        let (daily, weekly, old, sub) = (by_id["UCdaily"], by_id["UCweekly"], by_id["UCold"], by_id["UCsub"]);
        assert_eq!(daily.uploads_per_day, Some(1.0));
        assert!((weekly.uploads_per_day.unwrap() - 1.0 / 7.0).abs() < 1e-3);
        // The same attention; the one uploading daily fetched √7 times as often.
        assert!((weekly.interval_hours / daily.interval_hours - 7f64.sqrt()).abs() < 0.05, "{daily:?} {weekly:?}");
        assert!(old.interval_hours > weekly.interval_hours && sub.interval_hours > daily.interval_hours);
        assert!(
            matches!(daily.reasons[0], Reason::Watched { watches: 30, per_week, .. } if (per_week - 30.0 / 8.0).abs() < 1e-9)
        );
        assert_eq!(sub.reasons, [Reason::Subscribed]);
        assert_eq!(daily.next_due, at, "never fetched: due now");
        // Watched an hour later each evening: a little more recent attention.
        assert_eq!(plan[0].channel_id, "UCweekly", "highest score first");
        assert!(plan.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn shares_stay_within_an_hour_and_a_week() {
        let hours = share_budget(&[100.0, 1.0, 1.0, 0.0001], 60.0);
        assert_eq!(hours[0], MIN_HOURS);
        assert_eq!(hours[3], MAX_HOURS);
        assert!((hours.iter().map(|h| 24.0 / h).sum::<f64>() - 60.0).abs() < 1e-6);
        assert!(share_budget(&[1.0, 1.0], 1e6).iter().all(|h| *h == MIN_HOURS));
        assert!(share_budget(&[1.0, 1.0], 0.01).iter().all(|h| *h == MAX_HOURS));
    }
}
