//! Fetching the plan's channels politely: only those due, in a shuffled order, at most a
//! few at once with random pauses between a worker's requests, up to a cap of fetches and a
//! time budget that fit in the cron job's half hour; conditionally, where the server gave
//! validators; each feed on its own. A channel that fails backs off (doubling, up to a day);
//! one whose feed answers "not found" again and again over days is gone; many failing in
//! one run is an outage, not dead channels, and marks nothing gone. A 429 ends the run.

use crate::channel_feeds::{self, Answer, Validators};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vrd_core::reach::{ChannelFetch, PlannedChannel};
use vrd_core::records::{Subscription, Video};
use vrd_core::time::Timestamp;

pub struct Settings {
    /// Where channel feeds are fetched from (YouTube, or a mirror serving its paths).
    pub youtube_base: String,
    /// At most this many fetches a run.
    pub max_fetches: usize,
    /// No fetch starts after this long.
    pub time_budget: Duration,
    /// Fetches at once.
    pub workers: usize,
    /// The random pause after each of a worker's fetches, between these.
    pub pause: (Duration, Duration),
    pub now: Timestamp,
}

/// A "not found" this many times in a row, over at least [`GONE_AFTER_DAYS`], is a
/// channel gone.
const GONE_AFTER_FAILURES: u32 = 3;
const GONE_AFTER_DAYS: i64 = 2;
/// The longest back-off of a failing channel.
const MAX_BACKOFF_HOURS: i64 = 24;
/// With at least this many fetches in a run, failing at least half of them is an outage.
const OUTAGE_MIN_FETCHES: usize = 4;

/// What one channel's fetch came to.
struct Fetched {
    channel: usize,
    answer: Answer,
}

/// What a run did.
#[derive(Default)]
pub struct Report {
    /// Channels due, and how many of them were not fetched because of the cap or the time
    /// budget (or a 429).
    pub due: usize,
    pub left_for_later: usize,
    pub fetched: usize,
    pub not_modified: usize,
    /// Each failed channel's label and why, in words.
    pub failed: Vec<String>,
    /// Of them, those that failed otherwise than "not found" (the server or the network).
    pub failed_not_gone: usize,
    /// Channels found gone in this run.
    pub gone: Vec<String>,
    pub outage: bool,
    pub rate_limited: bool,
    /// The videos of every feed that answered.
    pub videos: Vec<Video>,
    /// What the store keeps of every channel tried.
    pub updates: Vec<ChannelFetch>,
}

impl Report {
    pub fn summary(&self, followed: usize) -> String {
        let mut s = format!(
            "channel feeds: {} followed, {} due; {} fetched ({} not modified), {} failed",
            followed,
            self.due,
            self.fetched,
            self.not_modified,
            self.failed.len()
        );
        if self.left_for_later > 0 {
            s += &format!("; {} left for the next run", self.left_for_later);
        }
        if !self.gone.is_empty() {
            s += &format!("; gone: {}", self.gone.join(", "));
        }
        if self.outage {
            s += "; most failed at once: an outage, not dead channels (nothing marked gone; the last good copies stay)";
        }
        if self.rate_limited {
            s += "; YouTube asked to slow down (429): the run stopped there";
        }
        s
    }

    /// Whether nothing at all answered though something was tried, and not only because
    /// the channels tried are gone ("not found"): a run that fetched nothing.
    pub fn nothing_answered(&self) -> bool {
        self.fetched == 0 && self.failed_not_gone > 0
    }
}

fn label(c: &PlannedChannel) -> String {
    match &c.title {
        Some(title) => format!("{title} ({})", c.channel_id),
        None => c.channel_id.clone(),
    }
}

/// Fetches the channels of `plan` that are due at `settings.now`.
pub fn run(
    plan: &[PlannedChannel],
    known: &[ChannelFetch],
    settings: &Settings,
    progress: bool,
) -> anyhow::Result<Report> {
    let known: HashMap<&str, &ChannelFetch> = known.iter().map(|f| (f.channel_id.as_str(), f)).collect();
    // The plan is in score order: of what is due, the channels that matter most come in
    // under the cap; their requests go out shuffled.
    let due: Vec<usize> = (0..plan.len()).filter(|&i| plan[i].next_due <= settings.now).collect();
    let mut report = Report { due: due.len(), ..Report::default() };
    let mut now_fetched: Vec<usize> = due.iter().copied().take(settings.max_fetches).collect();
    fastrand::shuffle(&mut now_fetched);
    let queue: Mutex<VecDeque<usize>> = Mutex::new(now_fetched.into_iter().collect());
    let results: Mutex<Vec<Fetched>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let agent = channel_feeds::feed_agent()?;
    let bar = progress.then(|| vrd_core::progress::bar(due.len().min(settings.max_fetches), "channel feeds"));
    std::thread::scope(|scope| {
        for _ in 0..settings.workers.max(1) {
            scope.spawn(|| loop {
                if stop.load(Ordering::SeqCst) || started.elapsed() >= settings.time_budget {
                    return;
                }
                let Some(i) = queue.lock().expect("the queue").pop_front() else { return };
                let c = &plan[i];
                let validators = known
                    .get(c.channel_id.as_str())
                    .map(|f| Validators { etag: f.etag.clone(), last_modified: f.last_modified.clone() })
                    .unwrap_or_default();
                let url = Subscription::channel_feed(&settings.youtube_base, &c.channel_id);
                let answer = channel_feeds::fetch_if_changed(&agent, &url, &validators);
                if matches!(answer, Answer::Failed { status: Some(429), .. }) {
                    stop.store(true, Ordering::SeqCst);
                }
                results.lock().expect("the results").push(Fetched { channel: i, answer });
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
                let (lo, hi) = settings.pause;
                let pause = lo + (hi.saturating_sub(lo)).mul_f64(fastrand::f64());
                std::thread::sleep(pause);
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let results = results.into_inner().expect("the results");
    report.left_for_later = report.due - results.len();
    report.rate_limited = stop.load(Ordering::SeqCst);
    let failed_now =
        results.iter().filter(|r| matches!(&r.answer, Answer::Failed { status, .. } if *status != Some(404))).count();
    report.outage = results.len() >= OUTAGE_MIN_FETCHES && 2 * failed_now >= results.len();
    let now = settings.now;
    for Fetched { channel, answer } in results {
        let c = &plan[channel];
        let mut state = known
            .get(c.channel_id.as_str())
            .map(|f| (*f).clone())
            .unwrap_or_else(|| ChannelFetch { channel_id: c.channel_id.clone(), ..ChannelFetch::default() });
        state.last_tried = Some(now);
        match answer {
            Answer::Feed { text, validators } => match channel_feeds::parse_feed(&text, &c.channel_id) {
                Ok(videos) => {
                    report.fetched += 1;
                    report.videos.extend(videos);
                    succeeded(&mut state, now, Some(validators));
                }
                Err(e) => {
                    report.failed.push(format!("{}: {e:#}", label(c)));
                    report.failed_not_gone += 1;
                    failed(&mut state, now, None, None, format!("{e:#}"), report.outage);
                }
            },
            Answer::NotModified => {
                report.fetched += 1;
                report.not_modified += 1;
                succeeded(&mut state, now, None);
            }
            Answer::Failed { status, retry_after_s, words } => {
                report.failed.push(format!("{}: {words}", label(c)));
                report.failed_not_gone += usize::from(status != Some(404));
                let was_gone = state.gone_since.is_some();
                failed(&mut state, now, status, retry_after_s, words, report.outage);
                if state.gone_since.is_some() && !was_gone {
                    report.gone.push(label(c));
                }
            }
        }
        report.updates.push(state);
    }
    Ok(report)
}

fn succeeded(state: &mut ChannelFetch, now: Timestamp, validators: Option<Validators>) {
    state.last_ok = Some(now);
    if let Some(v) = validators {
        state.etag = v.etag;
        state.last_modified = v.last_modified;
    }
    state.failures = 0;
    state.failing_since = None;
    state.retry_at = None;
    state.gone_since = None;
    state.last_error = None;
}

/// A failure: backs off (doubling from an hour up to a day, or as long as a 429 asked);
/// a "not found" again and again over days marks the channel gone, unless the run is an
/// outage (then nothing counts against the channel: it is tried again next run).
fn failed(
    state: &mut ChannelFetch,
    now: Timestamp,
    status: Option<u16>,
    retry_after_s: Option<u64>,
    words: String,
    outage: bool,
) {
    state.last_error = Some(words);
    if outage {
        state.retry_at = None;
        return;
    }
    state.failures += 1;
    let since = *state.failing_since.get_or_insert(now);
    let backoff_hours = (1i64 << (state.failures - 1).min(5)).min(MAX_BACKOFF_HOURS);
    let mut retry = now + chrono::Duration::hours(backoff_hours);
    if let Some(s) = retry_after_s {
        retry = retry.max(now + chrono::Duration::seconds(s as i64));
    }
    state.retry_at = Some(retry);
    if status == Some(404)
        && state.failures >= GONE_AFTER_FAILURES
        && now - since >= chrono::Duration::days(GONE_AFTER_DAYS)
    {
        state.gone_since = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_and_a_channel_long_not_found_is_gone() {
        let t0 = vrd_core::time::parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
        let mut state = ChannelFetch { channel_id: "UCx".into(), ..Default::default() };
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..10 {
            failed(&mut state, now, Some(404), None, "answered 404".into(), false);
            waits.push((state.retry_at.unwrap() - now).num_hours());
            if state.gone_since.is_some() {
                break;
            }
            now = state.retry_at.unwrap();
        }
        // 1, 2, 4, 8, 16, 24 hours: the seventh 404 comes 55 h after the first, past two days.
        assert_eq!(waits, [1, 2, 4, 8, 16, 24, 24]);
        assert!(state.gone_since.is_some(), "gone after days of 404: {state:?}");
        succeeded(&mut state, now, None);
        assert_eq!((state.failures, state.gone_since, state.retry_at), (0, None, None));

        // In an outage nothing counts against a channel.
        let mut state = ChannelFetch { channel_id: "UCy".into(), ..Default::default() };
        for _ in 0..10 {
            failed(&mut state, t0 + chrono::Duration::days(5), Some(500), None, "answered 500".into(), true);
        }
        assert_eq!((state.failures, state.gone_since, state.retry_at), (0, None, None));
        // A 429's Retry-After is kept to.
        let mut state = ChannelFetch { channel_id: "UCz".into(), ..Default::default() };
        failed(&mut state, t0, Some(429), Some(7200), "answered 429".into(), false);
        assert_eq!(state.retry_at, Some(t0 + chrono::Duration::hours(2)));
    }
}
