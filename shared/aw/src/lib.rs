//! ActivityWatch: its events and buckets, the "active window while not AFK" timeline, the
//! person's category rules, and the two ways to get data (the REST API of a running
//! server, or an export file). ingest, rank and label use it.

pub mod categories;
pub mod client;
pub mod export;
pub mod hosts;
pub mod http;
pub mod now;
pub mod options;
pub mod timeline;
pub mod transform;
pub mod web;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vrd_core::time::Timestamp;

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

pub use hosts::{AFK_TYPE, WEB_TYPE, WINDOW_TYPE};
