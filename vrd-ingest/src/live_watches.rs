//! The watches `vrd-ingest aw` sees live: every web watcher's YouTube tabs (any browser,
//! several at once; `vrd_aw::web` says what a watch is) and, with a store, browser windows
//! titled as a video the store knows. Into the store, each web bucket resumes where the
//! last run read it, and a watch still going on when one run ends is completed by the next
//! (its stretches are kept, and its visit made again from all of them).

use anyhow::Result;
use std::collections::BTreeSet;
use vrd_aw::timeline::Source;
use vrd_aw::web::{self, KnownTitles};
use vrd_core::records::{AppEvent, WatchEvent, YoutubeTab};
use vrd_core::time::Timestamp;
use vrd_store::Store;

/// The period a run reads of one web bucket, from the run's options (`None` where not
/// given) and, with a store, where the last run stopped.
pub struct Period {
    pub since: Option<Timestamp>,
    pub until: Timestamp,
    /// Where the source's data begins (an export's first event), else 30 days back.
    pub first: Option<Timestamp>,
}

/// How far back a stretch that may still have been growing when the last run read it is
/// read again, whole (the web watcher extends its current event every few seconds).
const STILL_GROWING_MINUTES: i64 = 5;

/// How far before where the last run stopped a run reads again: the extension sends what
/// happened a little late (every 20 s, and after a pause in a batch), so an event can reach
/// the server after a run that its time falls before. Read again, a stretch is the same row.
const LATE_MINUTES: i64 = 10;

/// The read mark of a web bucket in the store.
fn mark_of(bucket: &str) -> String {
    format!("aw-web:{bucket}")
}

/// Every web bucket's YouTube tab stretches over its period, in time order; with a store,
/// from where its last run stopped (a little before: [`LATE_MINUTES`]; the stretch it may
/// have cut short read again whole).
pub fn read_tabs(
    source: &Source,
    period: &Period,
    store: Option<&Store>,
) -> Result<Vec<(String, Timestamp, Vec<YoutubeTab>)>> {
    let mut out = Vec::new();
    for bucket in source.web_buckets()? {
        // --since given reads from there; else a store resumes.
        let resumed = match (period.since, store) {
            (None, Some(store)) => resume_point(store, &bucket)?,
            _ => None,
        };
        let since = match (&resumed, period.since) {
            (Some(r), _) => r.since,
            (None, Some(since)) => since,
            (None, None) => period.first.unwrap_or(period.until - chrono::Duration::days(30)),
        }
        .min(period.until);
        let mut tabs = web::youtube_tabs(&bucket, &source.raw_events(&bucket, (since, period.until))?);
        if let Some(r) = &resumed {
            // The server cuts an event that began before the period to begin with it: such
            // a piece repeats what the store has, unless it is the stretch read again whole.
            let cut = |t: &YoutubeTab| (t.start - since).num_milliseconds().abs() < 1;
            tabs.retain(|t| !cut(t) || Some(t.start) == r.growing);
        }
        out.push((bucket, period.until, tabs));
    }
    Ok(out)
}

/// Where a resumed read of a bucket starts, and the start of the stretch read again whole.
struct Resume {
    since: Timestamp,
    growing: Option<Timestamp>,
}

/// A bucket's resume point: a little before its read mark, or the start of its last stored
/// stretch where that ended near the mark (it may have grown since).
fn resume_point(store: &Store, bucket: &str) -> Result<Option<Resume>> {
    let Some(mark) = store.read_mark(&mark_of(bucket))? else { return Ok(None) };
    let since = mark - chrono::Duration::minutes(LATE_MINUTES);
    let growing = store
        .last_youtube_tab(bucket)?
        .filter(|tab| tab.end() >= mark - chrono::Duration::minutes(STILL_GROWING_MINUTES))
        .map(|tab| tab.start);
    Ok(Some(Resume { since: growing.map_or(since, |g| g.min(since)), growing }))
}

/// What a run made of the live sources.
#[derive(Default)]
pub struct Seen {
    pub from_tabs: Vec<WatchEvent>,
    pub from_windows: Vec<WatchEvent>,
    pub zaps: usize,
}

impl Seen {
    pub fn summary(&self, min_watch_s: f64) -> String {
        format!(
            "live watches: {} from the browser's tabs, {} from window titles ({} under {min_watch_s} s open left out as zaps)",
            self.from_tabs.len(),
            self.from_windows.len(),
            self.zaps
        )
    }

    pub fn all(&self) -> Vec<WatchEvent> {
        let mut all: Vec<WatchEvent> = self.from_tabs.iter().chain(&self.from_windows).cloned().collect();
        all.sort_by(|a, b| a.watched_at.cmp(&b.watched_at).then_with(|| a.video_id.cmp(&b.video_id)));
        all
    }
}

/// The watches of the stretches read (no store): every visit among them, `timeline` (the
/// run's app events) saying when a browser was in front.
pub fn watches(read: &[(String, Timestamp, Vec<YoutubeTab>)], timeline: &[AppEvent], min_watch_s: f64) -> Seen {
    let mut tabs: Vec<YoutubeTab> = read.iter().flat_map(|(_, _, t)| t.iter().cloned()).collect();
    tabs.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.bucket.cmp(&b.bucket)));
    let w = web::watches(&tabs, timeline, min_watch_s);
    Seen { from_tabs: w.watches, zaps: w.zaps, ..Seen::default() }
}

/// Into the store: the stretches read, each bucket's read mark, and the watches of every
/// visit they touch (made again from all of that video's stored stretches, with the stored
/// timeline); then the window-title watches of the timeline this run added (`new_timeline`),
/// their visits made again from the stored timeline around them.
pub fn into_store(
    store: &mut Store,
    read: &[(String, Timestamp, Vec<YoutubeTab>)],
    new_timeline: &[AppEvent],
    min_watch_s: f64,
) -> Result<(Seen, vrd_store::UpsertCounts)> {
    let new: Vec<&YoutubeTab> = read.iter().flat_map(|(_, _, t)| t).collect();
    let tabs: Vec<YoutubeTab> = new.iter().map(|t| (*t).clone()).collect();
    store.upsert_youtube_tabs(&tabs)?;
    for (bucket, until, _) in read {
        store.set_read_mark(&mark_of(bucket), until)?;
    }
    let mut seen = Seen::default();

    let fresh: BTreeSet<(&str, Timestamp)> = new.iter().map(|t| (t.bucket.as_str(), t.start)).collect();
    let videos: BTreeSet<&str> = new.iter().map(|t| t.video_id.as_str()).collect();
    let stored = store.youtube_tabs_of(&videos.into_iter().collect::<Vec<_>>())?;
    let touched: Vec<Vec<&YoutubeTab>> = web::tab_visits(&stored)
        .into_iter()
        .filter(|visit| visit.iter().any(|t| fresh.contains(&(t.bucket.as_str(), t.start))))
        .collect();
    if let Some(from) = touched.iter().map(|v| v[0].start).min() {
        let to = touched.iter().flat_map(|v| v.iter().map(|t| t.end())).max().expect("a visit has stretches");
        let timeline = store.app_events(Some(&(from - chrono::Duration::days(1))), Some(&to))?;
        let w = web::watches_of(&touched, &timeline, min_watch_s);
        seen.from_tabs = w.watches;
        seen.zaps += w.zaps;
    }

    if let Some(first_new) = new_timeline.iter().map(|e| e.start).min() {
        let timeline = store.app_events(Some(&(first_new - chrono::Duration::days(1))), None)?;
        let w = web::window_title_watches(&timeline, &known_titles(store)?, min_watch_s);
        seen.from_windows = w.watches;
        seen.zaps += w.zaps;
    }
    let counts = store.upsert_watch_events(&seen.all())?;
    Ok((seen, counts))
}

/// The titles the store knows, each with its one video (a title several videos share names
/// none).
fn known_titles(store: &Store) -> Result<KnownTitles> {
    let mut known = KnownTitles::default();
    for v in store.videos()? {
        known.add(&v.title, &v.video_id);
    }
    for w in store.watch_events()?.iter().filter(|w| !w.title_unknown) {
        known.add(&w.title, &w.video_id);
    }
    Ok(known)
}
