//! ActivityWatch export files (`aw-buckets-export.json` from either server): `{"buckets":
//! {"<id>": {id, type, hostname, ..., "events": [...]}}}`, events newest first.

use crate::{BucketInfo, Event, WireEvent};
use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct ExportFile {
    buckets: BTreeMap<String, ExportBucket>,
}

#[derive(Deserialize)]
struct ExportBucket {
    #[serde(flatten)]
    info: BucketInfo,
    #[serde(default)]
    events: Vec<WireEvent>,
}

pub struct Export {
    pub buckets: Vec<BucketInfo>,
    events: BTreeMap<String, Vec<Event>>,
}

impl Export {
    pub fn read(path: &Path) -> Result<Export> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        Export::parse(&text, &path.display().to_string())
    }

    /// An export's text; `name` (its file) prefixes errors.
    pub fn parse(text: &str, name: &str) -> Result<Export> {
        let mut de = serde_json::Deserializer::from_str(text);
        let file: ExportFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path_in = e.path().to_string();
            let inner = e.into_inner();
            anyhow!(
                "{name}:{}: not an ActivityWatch export (field `{path_in}`): {}",
                inner.line(),
                vrd_core::jsonl::strip_position(&inner.to_string())
            )
        })?;
        let mut buckets = Vec::new();
        let mut events = BTreeMap::new();
        for (id, b) in file.buckets {
            let mut info = b.info;
            if info.id.is_empty() {
                info.id = id.clone();
            }
            events.insert(id, b.events.into_iter().map(Event::from).collect());
            buckets.push(info);
        }
        Ok(Export { buckets, events })
    }

    pub fn events(&self, bucket: &str) -> &[Event] {
        self.events.get(bucket).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The earliest start and latest end over the given buckets.
    pub fn span(&self, buckets: &[&str]) -> Option<(i64, i64)> {
        let all = buckets.iter().flat_map(|b| self.events(b));
        let start = all.clone().map(|e| e.start_us).min()?;
        let end = all.map(Event::end_us).max()?;
        Some((start, end))
    }
}
