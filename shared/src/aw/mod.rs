//! ActivityWatch: its events and buckets, the "active window while not AFK" timeline, the
//! person's category rules, and the two ways to get data (the REST API of a running
//! server, or an export file). ingest, rank and label use it.

pub mod categories;
pub mod client;
pub mod export;
pub mod now;
pub mod transform;

use crate::records::AppEvent;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An event as ActivityWatch stores it: a start, a duration in seconds and free-form data.
/// Times are kept in whole microseconds, as the Python server's timedelta arithmetic is,
/// so that the local timeline computation matches the server's exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub start_us: i64,
    pub duration_us: i64,
    pub data: Map<String, Value>,
}

impl Event {
    pub fn end_us(&self) -> i64 {
        self.start_us + self.duration_us
    }
}

/// The wire form (`timestamp`, `duration`, `data`; `id` ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEvent {
    pub timestamp: Timestamp,
    #[serde(default)]
    pub duration: f64,
    #[serde(default)]
    pub data: Map<String, Value>,
}

impl From<WireEvent> for Event {
    fn from(w: WireEvent) -> Event {
        Event { start_us: w.timestamp.timestamp_micros(), duration_us: (w.duration * 1e6).round() as i64, data: w.data }
    }
}

/// Bucket metadata (the events come separately, or inside an export).
#[derive(Debug, Clone, Deserialize)]
pub struct BucketInfo {
    #[serde(default)]
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub hostname: String,
}

pub const WINDOW_TYPE: &str = "currentwindow";
pub const AFK_TYPE: &str = "afkstatus";

/// The window and AFK buckets of one host: by type and hostname, the way the web UI picks
/// them (other synced devices have buckets too).
pub fn find_host_buckets<'a>(
    buckets: impl IntoIterator<Item = &'a BucketInfo> + Clone,
    hostname: &str,
) -> anyhow::Result<(String, String)> {
    let pick = |kind: &str| {
        let mut ids: Vec<&str> = buckets
            .clone()
            .into_iter()
            .filter(|b| b.kind == kind && b.hostname == hostname && !b.id.starts_with("aw-watcher-android"))
            .map(|b| b.id.as_str())
            .collect();
        ids.sort();
        ids.first().map(|s| s.to_string())
    };
    match (pick(WINDOW_TYPE), pick(AFK_TYPE)) {
        (Some(w), Some(a)) => Ok((w, a)),
        (w, a) => {
            let hosts: std::collections::BTreeSet<&str> =
                buckets.into_iter().filter(|b| b.kind == WINDOW_TYPE).map(|b| b.hostname.as_str()).collect();
            anyhow::bail!(
                "no {} bucket for host {hostname:?} (window watcher hosts present: {hosts:?}); pass --hostname",
                if w.is_none() {
                    "window"
                } else if a.is_none() {
                    "AFK"
                } else {
                    ""
                }
            )
        }
    }
}

/// The one host with a window bucket, when there is exactly one.
pub fn only_host<'a>(buckets: impl IntoIterator<Item = &'a BucketInfo>) -> anyhow::Result<String> {
    let hosts: std::collections::BTreeSet<&str> =
        buckets.into_iter().filter(|b| b.kind == WINDOW_TYPE).map(|b| b.hostname.as_str()).collect();
    match hosts.len() {
        1 => Ok(hosts.into_iter().next().unwrap().to_string()),
        0 => anyhow::bail!("no window-watcher bucket found"),
        _ => anyhow::bail!("window buckets of several hosts {hosts:?}: pass --hostname"),
    }
}

/// Timeline events (categorised) as vrd app events.
pub fn to_app_events(events: &[Event], bucket: &str) -> Vec<AppEvent> {
    events
        .iter()
        .map(|e| {
            let text = |k: &str| e.data.get(k).and_then(Value::as_str).map(str::to_string);
            let category = match e.data.get("$category") {
                Some(Value::Array(parts)) => parts.iter().filter_map(|p| p.as_str().map(str::to_string)).collect(),
                _ => vec!["Uncategorized".to_string()],
            };
            AppEvent {
                start: chrono::DateTime::from_timestamp_micros(e.start_us).expect("a time within chrono's range"),
                duration_s: e.duration_us as f64 / 1e6,
                app: text("app").unwrap_or_default(),
                title: text("title").unwrap_or_default(),
                url: text("url"),
                category,
                bucket: bucket.to_string(),
            }
        })
        .collect()
}

/// The canonical timeline computed locally from raw bucket events, the same steps as the
/// server's query: both buckets cut to the period, flooded (5 s), AFK filtered to
/// `not-afk`, window events cut to those periods, then categorised.
pub fn canonical_timeline(
    window: &[Event],
    afk: &[Event],
    rules: &categories::Categorizer,
    period_us: (i64, i64),
) -> Vec<Event> {
    use transform::{clip_to_period, filter_keyvals, filter_period_intersect, flood};
    let window = flood(&clip_to_period(window, period_us.0, period_us.1), PULSETIME_S);
    let afk = flood(&clip_to_period(afk, period_us.0, period_us.1), PULSETIME_S);
    let not_afk = filter_keyvals(&afk, "status", &[Value::from("not-afk")]);
    let mut events = filter_period_intersect(&window, &not_afk);
    rules.categorize(&mut events);
    events
}

/// The query language's `flood` pulse time.
pub const PULSETIME_S: f64 = 5.0;
