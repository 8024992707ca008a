//! Activity windows: what the person was doing before a moment, as a short sequence of
//! app events with numeric features.
//!
//! For an anchor time `t` the window holds the events in `[t - length, t)`: an event that
//! started before `t` is cut at `t` (its later part has not happened yet at `t`), one that
//! began before the window is cut at the window start, nothing that starts at or after `t`
//! is ever included. Consecutive events with the same app and title are merged, and only
//! the most recent `max_events` are kept. (The reference system read naive local times as
//! UTC and so took its training windows from the hours *after* each label.)

use crate::records::AppEvent;
use crate::time::Timestamp;
pub use crate::time::{resolve_timezone, Tz};
use anyhow::{anyhow, bail, Result};
use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::f64::consts::TAU;

/// The context file format (`vrd-encode context`): tensors `emb` [anchors, L, D], `num`
/// [anchors, L, 5], `mask` [anchors, L], `app` and `category` [anchors, L] (hashed ids,
/// 0 = padding), `seconds` [anchors, L]; metadata `format`, `spec` (a [`ContextSpec`] as
/// JSON), `anchor_ids`, `anchor_times`.
pub const FORMAT: &str = "vrd-context/2";

/// The format's tensors, by name: written in this order (`vrd_encoder::context_file`) and
/// read by name (training); see the module's description for their shapes and types.
pub mod tensors {
    /// `[anchors, L, D]` event text embeddings (f32 or f16).
    pub const EMB: &str = "emb";
    /// `[anchors, L, FEATURES.len()]` numeric features (f32).
    pub const NUM: &str = "num";
    /// `[anchors, L]` 1 where an event is (u8).
    pub const MASK: &str = "mask";
    /// `[anchors, L]` hashed app identities (i64).
    pub const APP: &str = "app";
    /// `[anchors, L]` hashed categories (i64).
    pub const CATEGORY: &str = "category";
    /// `[anchors, L]` event durations in seconds (f32).
    pub const SECONDS: &str = "seconds";
}

/// Hash buckets for app and category identities. Unseen apps land in some bucket and share
/// it; the names are hashed as bytes, so any script and package ids (`com.tencent.mm`) work.
pub const APP_BUCKETS: usize = 256;

/// What a context file holds ([`tensors`]), in memory: `training` reads these when it cuts
/// the windows itself (`vrd-train fit --db`) instead of reading a file.
pub struct ContextArrays {
    pub spec: ContextSpec,
    /// One per anchor, in order (the file's `anchor_ids`).
    pub anchor_ids: Vec<String>,
    /// `[anchors, L, D]`.
    pub shape: [usize; 3],
    pub emb: Vec<f32>,
    pub num: Vec<f32>,
    pub mask: Vec<u8>,
    pub app: Vec<i64>,
    pub category: Vec<i64>,
    pub seconds: Vec<f32>,
}

/// How the activity before a moment was cut and described: written by `vrd-encode
/// context`, copied into the model card by `vrd-train`, and what `vrd-rank` cuts "now" by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextSpec {
    /// The sentence encoder of the event texts.
    pub model_id: String,
    /// Put before every event text (e.g. "passage: " for e5 models).
    pub text_prefix: String,
    pub window_s: i64,
    pub max_events: usize,
    /// The person's IANA time zone of the time-of-day features.
    pub timezone: String,
    /// Names of the numeric features, in tensor order ([`FEATURES`]).
    pub features: Vec<String>,
    /// log1p(event seconds) statistics of the duration feature.
    pub duration: DurationStats,
    /// Buckets of the hashed app and category ids ([`app_bucket`]).
    pub app_buckets: usize,
}

impl ContextSpec {
    pub fn window(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.window_s)
    }

    pub fn window_spec(&self) -> WindowSpec {
        WindowSpec { length: self.window(), max_events: self.max_events }
    }

    pub fn tz(&self) -> Result<Tz> {
        self.timezone.parse().map_err(|_| anyhow!("unknown time zone {:?} in the context spec", self.timezone))
    }

    /// The safetensors metadata of a context file with these anchors.
    pub fn to_metadata(&self, anchors: &[Anchor]) -> Result<BTreeMap<String, String>> {
        let mut meta = BTreeMap::new();
        meta.insert("format".to_string(), FORMAT.to_string());
        meta.insert("spec".to_string(), serde_json::to_string(self)?);
        meta.insert("anchor_ids".into(), serde_json::to_string(&anchors.iter().map(|a| &a.id).collect::<Vec<_>>())?);
        meta.insert(
            "anchor_times".into(),
            serde_json::to_string(&anchors.iter().map(|a| crate::time::format_rfc3339(&a.at)).collect::<Vec<_>>())?,
        );
        Ok(meta)
    }

    /// Reads the spec and anchor ids of a context file's metadata; files of another
    /// format version are refused by name (`name`: the file, for messages).
    pub fn from_metadata(meta: &HashMap<String, String>, name: &str) -> Result<(ContextSpec, Vec<String>)> {
        match meta.get("format").map(String::as_str) {
            Some(FORMAT) => {}
            Some(other) => {
                bail!("{name}: context format {other:?}; this vrd reads {FORMAT:?} (run vrd-encode context again)")
            }
            None => bail!("{name}: not a vrd-encode context file (no `format` in its metadata)"),
        }
        let field = |k: &str| meta.get(k).ok_or_else(|| anyhow!("{name}: metadata `{k}` missing"));
        let spec: ContextSpec =
            serde_json::from_str(field("spec")?).map_err(|e| anyhow!("{name}: metadata `spec`: {e}"))?;
        let ids: Vec<String> =
            serde_json::from_str(field("anchor_ids")?).map_err(|e| anyhow!("{name}: metadata `anchor_ids`: {e}"))?;
        Ok((spec, ids))
    }
}

/// The anchor id of a label's moment: how training finds each label's window.
pub fn label_anchor_id(video_id: &str, at: &Timestamp) -> String {
    format!("{video_id}@{}", crate::time::format_rfc3339(at))
}

/// FNV-1a, stable across runs and platforms (the std hasher is seeded per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub(crate) fn bucket_of(key: &str, buckets: usize) -> i64 {
    1 + (fnv1a(key.as_bytes()) % (buckets.max(2) as u64 - 1)) as i64
}

/// The bucket of an app name in `1..buckets` (0 is padding): case and surrounding space
/// do not matter; `.exe` is dropped so that `Code.exe` and `code` are one app.
pub fn app_bucket(app: &str, buckets: usize) -> i64 {
    let name = app.trim().to_lowercase();
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    bucket_of(&format!("app:{name}"), buckets)
}

/// The bucket of an event's top-level category (its own bucket when uncategorised).
pub fn category_bucket(category: &[String], buckets: usize) -> i64 {
    let top = category.first().map(|c| c.trim().to_lowercase()).unwrap_or_default();
    bucket_of(&format!("category:{top}"), buckets)
}

/// One window as fixed-size arrays (padded to `max_events`): numeric features, app and
/// category ids, seconds, mask. The event texts' embeddings are the caller's.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowArrays {
    pub num: Vec<f32>,
    pub app: Vec<i64>,
    pub category: Vec<i64>,
    pub seconds: Vec<f32>,
    pub mask: Vec<u8>,
}

impl WindowArrays {
    pub fn new(window: &[WindowEvent], spec: &ContextSpec, tz: &Tz) -> WindowArrays {
        let (l, f) = (spec.max_events, FEATURES.len());
        let mut out = WindowArrays {
            num: vec![0.0; l * f],
            app: vec![0; l],
            category: vec![0; l],
            seconds: vec![0.0; l],
            mask: vec![0; l],
        };
        for (i, e) in window.iter().take(l).enumerate() {
            out.num[i * f..(i + 1) * f].copy_from_slice(&event_features(e, tz, &spec.duration));
            out.app[i] = app_bucket(&e.app, spec.app_buckets);
            out.category[i] = category_bucket(&e.category, spec.app_buckets);
            out.seconds[i] = e.duration_s as f32;
            out.mask[i] = 1;
        }
        out
    }
}

/// A moment to describe, e.g. when a label was given, or now.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub id: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy)]
pub struct WindowSpec {
    pub length: chrono::Duration,
    pub max_events: usize,
}

/// One event of a window, cut to the window and merged with equal neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowEvent {
    pub start: Timestamp,
    pub duration_s: f64,
    pub app: String,
    pub title: String,
    pub category: Vec<String>,
}

/// Overlaps up to this long are rounding between watchers and are trimmed; longer ones
/// mean the input is not one timeline.
pub const OVERLAP_TOLERANCE_S: f64 = 1.0;

fn end_of(e: &AppEvent) -> Timestamp {
    e.start + micros_duration(e.duration_s)
}

fn micros_duration(seconds: f64) -> chrono::Duration {
    chrono::Duration::microseconds((seconds * 1e6).round() as i64)
}

/// The person's activity: one timeline per device (the events' `host`; events without one
/// are one device), each in time order without overlaps. Two devices in use at once
/// overlap each other, and that is kept: the windows take events from every device.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    hosts: Vec<Vec<AppEvent>>,
}

impl Timeline {
    /// Every device's timeline.
    pub fn hosts(&self) -> &[Vec<AppEvent>] {
        &self.hosts
    }

    /// Events over all devices.
    pub fn len(&self) -> usize {
        self.hosts.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Validates the timeline of each device: sorted by start, non-negative durations, no
/// overlaps beyond [`OVERLAP_TOLERANCE_S`] (smaller ones are trimmed off the earlier
/// event). `location` names event `i` of the input in messages (file and line).
pub fn prepare_timeline(events: Vec<AppEvent>, location: impl Fn(usize) -> String) -> Result<Timeline> {
    let mut by_host: BTreeMap<Option<String>, Vec<(usize, AppEvent)>> = BTreeMap::new();
    for (i, e) in events.into_iter().enumerate() {
        by_host.entry(e.host.clone()).or_default().push((i, e));
    }
    let hosts = by_host
        .into_values()
        .map(|events| {
            let (index, events): (Vec<usize>, Vec<AppEvent>) = events.into_iter().unzip();
            prepare_host_timeline(events, |i| location(index[i]))
        })
        .collect::<Result<_>>()?;
    Ok(Timeline { hosts })
}

fn prepare_host_timeline(mut events: Vec<AppEvent>, location: impl Fn(usize) -> String) -> Result<Vec<AppEvent>> {
    for i in 0..events.len() {
        if !events[i].duration_s.is_finite() || events[i].duration_s < 0.0 {
            bail!("{}: field `duration_s`: must be a finite number of seconds ≥ 0", location(i));
        }
        if i == 0 {
            continue;
        }
        let (prev, next) = (&events[i - 1], &events[i]);
        if next.start < prev.start {
            bail!("{}: field `start`: events are not in time order (sort them by start first)", location(i));
        }
        let overlap = (end_of(prev) - next.start).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        if overlap > OVERLAP_TOLERANCE_S {
            let host = next.host.as_deref().map(|h| format!(" of host {h:?}")).unwrap_or_default();
            bail!(
                "{}: field `start`: overlaps the previous event{host} by {overlap:.1} s; one activity timeline per \
                 device is expected (the canonical not-AFK window timeline; several devices' events carry `host`)",
                location(i)
            );
        }
        if overlap > 0.0 {
            events[i - 1].duration_s = (events[i - 1].duration_s - overlap).max(0.0);
        }
    }
    Ok(events)
}

/// The window of every anchor (same order as `anchors`): each device's events in it,
/// merged in time order, the most recent `max_events` kept.
pub fn windows(timeline: &Timeline, anchors: &[Anchor], spec: &WindowSpec) -> Result<Vec<Vec<WindowEvent>>> {
    let mut out: Vec<Vec<WindowEvent>> = vec![Vec::new(); anchors.len()];
    for events in &timeline.hosts {
        let ranges = event_ranges(events, anchors, spec)?;
        for ((window, anchor), range) in out.iter_mut().zip(anchors).zip(ranges) {
            if let Some((first, last)) = range {
                window.extend(cut_window(&events[first..=last], anchor.at, spec.length));
            }
        }
    }
    for window in &mut out {
        if timeline.hosts.len() > 1 {
            window.sort_by_key(|e| e.start);
        }
        if window.len() > spec.max_events {
            window.drain(..window.len() - spec.max_events);
        }
    }
    Ok(out)
}

/// For each anchor `t`, the indices of the first event ending after `t - length` and of
/// the last event starting before `t` (strict comparisons: an event starting exactly at
/// `t` is not before `t`). Two binary searches: a host's timeline is sorted by start and
/// its overlaps clipped (`prepare_host_timeline`), so its ends are in order too.
fn event_ranges(events: &[AppEvent], anchors: &[Anchor], spec: &WindowSpec) -> Result<Vec<Option<(usize, usize)>>> {
    anchors
        .iter()
        .map(|anchor| {
            let window_start = anchor.at.checked_sub_signed(spec.length).ok_or_else(|| anyhow!("window too long"))?;
            let starting_before = events.partition_point(|e| e.start < anchor.at);
            let first = events.partition_point(|e| end_of(e) <= window_start);
            Ok((first < starting_before).then(|| (first, starting_before - 1)))
        })
        .collect()
}

/// One device's events cut to the window before `at`, equal neighbours merged.
fn cut_window(events: &[AppEvent], at: Timestamp, length: chrono::Duration) -> Vec<WindowEvent> {
    let window_start = at - length;
    let mut out: Vec<WindowEvent> = Vec::new();
    for e in events {
        let start = e.start.max(window_start);
        let end = end_of(e).min(at);
        if e.start >= at || end <= start {
            continue;
        }
        let duration_s = (end - start).num_microseconds().unwrap_or(0) as f64 / 1e6;
        match out.last_mut() {
            Some(prev) if prev.app == e.app && prev.title == e.title => prev.duration_s += duration_s,
            _ => out.push(WindowEvent {
                start,
                duration_s,
                app: e.app.clone(),
                title: e.title.clone(),
                category: e.category.clone(),
            }),
        }
    }
    out
}

/// The words an event is embedded from: `category | app | title`, empty parts left out
/// (ActivityWatch's "Uncategorized" says nothing and is left out too).
pub fn event_text(e: &WindowEvent) -> String {
    let category = if e.category.iter().all(|c| c == "Uncategorized") { String::new() } else { e.category.join("/") };
    [category.as_str(), e.app.trim(), e.title.trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Names of the numeric features, in tensor order.
pub const FEATURES: [&str; 5] =
    ["time_of_day_sin", "time_of_day_cos", "day_of_week_sin", "day_of_week_cos", "duration_z"];

/// Where the person's day is: local time of day and day of week of `t`, as points on
/// circles, in the person's time zone (DST included: the offset at that very instant).
pub fn time_features(t: &Timestamp, tz: &Tz) -> [f64; 4] {
    let local = t.with_timezone(tz);
    let seconds = local.num_seconds_from_midnight() as f64 + local.nanosecond() as f64 / 1e9;
    let day = seconds / 86_400.0;
    let week = (local.weekday().num_days_from_monday() as f64 + day) / 7.0;
    [(TAU * day).sin(), (TAU * day).cos(), (TAU * week).sin(), (TAU * week).cos()]
}

/// Mean and standard deviation of log1p(duration seconds), fitted once on the training
/// anchors' windows and reused as they are at ranking time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    pub mean: f64,
    pub std: f64,
}

impl DurationStats {
    /// Fits on the given durations; with fewer than two values, or no spread, the scale is
    /// 1 so that every z-score is finite.
    pub fn fit(durations: impl Iterator<Item = f64>) -> DurationStats {
        let logs: Vec<f64> = durations.map(f64::ln_1p).collect();
        if logs.is_empty() {
            return DurationStats { mean: 0.0, std: 1.0 };
        }
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        let var = logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / logs.len() as f64;
        let std = var.sqrt();
        DurationStats { mean, std: if std > 1e-6 { std } else { 1.0 } }
    }

    pub fn z(&self, duration_s: f64) -> f64 {
        (duration_s.ln_1p() - self.mean) / self.std
    }
}

/// The numeric features of one window event, in [`FEATURES`] order.
pub fn event_features(e: &WindowEvent, tz: &Tz, stats: &DurationStats) -> [f32; 5] {
    let [a, b, c, d] = time_features(&e.start, tz);
    [a as f32, b as f32, c as f32, d as f32, stats.z(e.duration_s) as f32]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    fn ev(start: &str, dur: f64, app: &str, title: &str) -> AppEvent {
        AppEvent {
            start: parse_rfc3339(start).unwrap(),
            duration_s: dur,
            app: app.into(),
            title: title.into(),
            url: None,
            category: vec!["Work".into(), "Programming".into()],
            bucket: "b".into(),
            host: None,
        }
    }

    /// One device's events as they are (some tests cut windows from overlapping ones).
    fn one(events: &[AppEvent]) -> Timeline {
        Timeline { hosts: vec![events.to_vec()] }
    }

    fn anchor(at: &str) -> Anchor {
        Anchor { id: at.into(), at: parse_rfc3339(at).unwrap() }
    }

    fn spec(hours: i64, max: usize) -> WindowSpec {
        WindowSpec { length: chrono::Duration::hours(hours), max_events: max }
    }

    #[test]
    fn windows_cut_at_both_ends_and_never_reach_the_anchor() {
        let events = vec![
            ev("2024-05-01T03:00:00Z", 7200.0, "code", "a.rs"), // 03:00-05:00, cut at the window start 04:00
            ev("2024-05-01T06:00:00Z", 600.0, "firefox", "docs"),
            ev("2024-05-01T09:50:00Z", 1200.0, "code", "b.rs"), // runs past the anchor at 10:00
            ev("2024-05-01T10:00:00Z", 60.0, "slack", "chat"),  // starts at the anchor: excluded
        ];
        let w = windows(&one(&events), &[anchor("2024-05-01T10:00:00Z")], &spec(6, 10)).unwrap();
        let w = &w[0];
        assert_eq!(w.iter().map(|e| e.app.as_str()).collect::<Vec<_>>(), ["code", "firefox", "code"]);
        assert_eq!(w[0].start, parse_rfc3339("2024-05-01T04:00:00Z").unwrap());
        assert_eq!(w[0].duration_s, 3600.0);
        assert_eq!(w[2].duration_s, 600.0, "cut at the anchor");
    }

    #[test]
    fn equal_neighbours_merge_and_only_the_latest_events_stay() {
        let events = vec![
            ev("2024-05-01T09:00:00Z", 60.0, "code", "a.rs"),
            ev("2024-05-01T09:01:00Z", 60.0, "code", "a.rs"),
            ev("2024-05-01T09:02:00Z", 60.0, "term", "cargo"),
            ev("2024-05-01T09:03:00Z", 60.0, "code", "a.rs"),
        ];
        let w = windows(&one(&events), &[anchor("2024-05-01T10:00:00Z")], &spec(6, 2)).unwrap();
        assert_eq!(w[0].len(), 2);
        assert_eq!((w[0][0].app.as_str(), w[0][1].app.as_str()), ("term", "code"));
        let all = windows(&one(&events), &[anchor("2024-05-01T10:00:00Z")], &spec(6, 10)).unwrap();
        assert_eq!(all[0][0].duration_s, 120.0);
    }

    #[test]
    fn anchors_in_any_order_and_without_activity() {
        let events = vec![ev("2024-05-01T09:00:00Z", 60.0, "code", "a.rs")];
        let anchors = [anchor("2024-05-02T09:00:00Z"), anchor("2024-05-01T09:30:00Z"), anchor("2024-05-01T08:00:00Z")];
        let w = windows(&one(&events), &anchors, &spec(6, 10)).unwrap();
        assert_eq!(w.iter().map(Vec::len).collect::<Vec<_>>(), [0, 1, 0]);
        assert!(windows(&Timeline::default(), &anchors, &spec(6, 10)).unwrap().iter().all(Vec::is_empty));
    }

    #[test]
    fn timeline_problems_are_named() {
        let loc = |i: usize| format!("events.jsonl:{}", i + 1);
        let unsorted = vec![ev("2024-05-01T09:00:00Z", 10.0, "a", "x"), ev("2024-05-01T08:00:00Z", 10.0, "b", "y")];
        let err = prepare_timeline(unsorted, loc).unwrap_err().to_string();
        assert!(err.contains("events.jsonl:2: field `start`") && err.contains("time order"), "{err}");
        let overlapping = vec![ev("2024-05-01T09:00:00Z", 600.0, "a", "x"), ev("2024-05-01T09:05:00Z", 10.0, "b", "y")];
        let err = prepare_timeline(overlapping, loc).unwrap_err().to_string();
        assert!(err.contains("overlaps the previous event by 300.0 s"), "{err}");
        let rounding = vec![ev("2024-05-01T09:00:00Z", 60.4, "a", "x"), ev("2024-05-01T09:01:00Z", 10.0, "b", "y")];
        let fixed = prepare_timeline(rounding, loc).unwrap();
        assert!((fixed.hosts()[0][0].duration_s - 60.0).abs() < 1e-9, "small overlaps are trimmed");
        let negative = vec![ev("2024-05-01T09:00:00Z", -1.0, "a", "x")];
        assert!(prepare_timeline(negative, loc).unwrap_err().to_string().contains("duration_s"));
    }

    #[test]
    fn two_devices_in_use_at_once_are_two_timelines_in_one_window() {
        let on = |host: &str, mut e: AppEvent| {
            e.host = Some(host.into());
            e
        };
        // The phone's feed runs while the laptop's editor is open: they overlap, each
        // device's own events do not.
        let events = vec![
            on("laptop", ev("2024-05-01T09:00:00Z", 1800.0, "code", "a.rs")),
            on("phone", ev("2024-05-01T09:10:00Z", 600.0, "抖音", "")),
            on("laptop", ev("2024-05-01T09:30:00Z", 600.0, "firefox", "docs")),
            on("phone", ev("2024-05-01T09:25:00Z", 300.0, "微信", "")),
        ];
        let timeline = prepare_timeline(events.clone(), |i| format!("events.jsonl:{}", i + 1)).unwrap();
        assert_eq!((timeline.hosts().len(), timeline.len()), (2, 4));
        let w = windows(&timeline, &[anchor("2024-05-01T10:00:00Z")], &spec(1, 10)).unwrap();
        let apps: Vec<&str> = w[0].iter().map(|e| e.app.as_str()).collect();
        assert_eq!(apps, ["code", "抖音", "微信", "firefox"], "merged in time order");
        let latest = windows(&timeline, &[anchor("2024-05-01T10:00:00Z")], &spec(1, 2)).unwrap();
        assert_eq!(latest[0].iter().map(|e| e.app.as_str()).collect::<Vec<_>>(), ["微信", "firefox"]);
        // The same events on one device are not one timeline, and the line is named.
        let mut same = events;
        same[1].host = Some("laptop".into());
        same.truncate(2);
        let err = prepare_timeline(same, |i| format!("events.jsonl:{}", i + 1)).unwrap_err().to_string();
        assert!(err.contains("events.jsonl:2") && err.contains("of host \"laptop\""), "{err}");
    }

    #[test]
    fn time_of_day_follows_the_zone_and_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 06:00 UTC is 07:00 in Berlin in winter (UTC+1) and 08:00 in summer (UTC+2).
        let winter = time_features(&parse_rfc3339("2024-01-15T06:00:00Z").unwrap(), &berlin);
        let summer = time_features(&parse_rfc3339("2024-07-15T06:00:00Z").unwrap(), &berlin);
        let angle = |f: [f64; 4]| f[0].atan2(f[1]).rem_euclid(TAU) / TAU * 24.0;
        assert!((angle(winter) - 7.0).abs() < 1e-9, "{}", angle(winter));
        assert!((angle(summer) - 8.0).abs() < 1e-9, "{}", angle(summer));
        // The night of the spring change: 00:30 UTC is 01:30 CET, 01:30 UTC is 03:30 CEST.
        let before = time_features(&parse_rfc3339("2024-03-31T00:30:00Z").unwrap(), &berlin);
        let after = time_features(&parse_rfc3339("2024-03-31T01:30:00Z").unwrap(), &berlin);
        assert!((angle(before) - 1.5).abs() < 1e-9 && (angle(after) - 3.5).abs() < 1e-9);
        // Same instant, other zone: other local time; and the day of week moves with it.
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let t = parse_rfc3339("2024-01-14T20:00:00Z").unwrap(); // Sunday in Berlin, Monday 05:00 in Tokyo
        let (b, k) = (time_features(&t, &berlin), time_features(&t, &tokyo));
        let weekday = |f: [f64; 4]| f[2].atan2(f[3]).rem_euclid(TAU) / TAU * 7.0;
        assert!(weekday(b) > 6.0 && weekday(k) < 1.0, "{} {}", weekday(b), weekday(k));
    }

    #[test]
    fn duration_stats_are_finite_for_tiny_windows() {
        for d in [vec![], vec![42.0], vec![5.0, 5.0]] {
            let s = DurationStats::fit(d.into_iter());
            assert!(s.z(10.0).is_finite() && s.std > 0.0);
        }
        let s = DurationStats::fit([1.0, 10.0, 100.0].into_iter());
        assert!(s.z(100.0) > 0.0 && s.z(1.0) < 0.0);
    }

    #[test]
    fn event_text_leaves_out_empty_parts() {
        let mut e = WindowEvent {
            start: parse_rfc3339("2024-05-01T09:00:00Z").unwrap(),
            duration_s: 1.0,
            app: "Code".into(),
            title: "main.rs - vrd".into(),
            category: vec!["Work".into(), "Programming".into()],
        };
        assert_eq!(event_text(&e), "Work/Programming | Code | main.rs - vrd");
        e.category = vec!["Uncategorized".into()];
        e.title = String::new();
        assert_eq!(event_text(&e), "Code");
    }

    /// No event at or after the anchor ever appears in its window, on random timelines.
    #[test]
    fn property_nothing_from_the_future_leaks_in() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = parse_rfc3339("2024-05-01T00:00:00Z").unwrap();
        for _ in 0..200 {
            let mut t = base;
            let mut events = Vec::new();
            for i in 0..(next() % 60) {
                t += chrono::Duration::seconds((next() % 900) as i64);
                let dur = (next() % 1800) as f64 + (next() % 1000) as f64 / 1000.0;
                events.push(AppEvent {
                    start: t,
                    duration_s: dur,
                    app: format!("app{}", next() % 3),
                    title: format!("t{i}"),
                    url: None,
                    category: vec![],
                    bucket: "b".into(),
                    host: None,
                });
                t += micros_duration(dur);
            }
            let anchors: Vec<Anchor> = (0..20)
                .map(|i| Anchor { id: i.to_string(), at: base + chrono::Duration::seconds((next() % 90_000) as i64) })
                .collect();
            let hours = 1 + (next() % 6) as i64;
            let got = windows(&one(&events), &anchors, &spec(hours, 1000)).unwrap();
            for (a, w) in anchors.iter().zip(&got) {
                let mut total = 0.0;
                for e in w {
                    assert!(e.start < a.at && e.start >= a.at - chrono::Duration::hours(hours));
                    assert!(e.start + micros_duration(e.duration_s) <= a.at + chrono::Duration::microseconds(1));
                    total += e.duration_s;
                }
                // Against a brute-force scan: the same covered time.
                let expect: f64 = events
                    .iter()
                    .map(|e| {
                        let s = e.start.max(a.at - chrono::Duration::hours(hours));
                        let en = end_of(e).min(a.at);
                        ((en - s).num_microseconds().unwrap_or(0) as f64 / 1e6).max(0.0)
                    })
                    .sum();
                assert!((total - expect).abs() < 1e-3, "{total} vs {expect}");
            }
        }
    }
}
