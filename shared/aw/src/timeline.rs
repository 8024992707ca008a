//! The person's timeline per host: the canonical "active window while not AFK" query (a
//! phone's window bucket alone, flooded; audible browser tabs counted as active where
//! asked), computed by a running server or here from an export with the same steps, then
//! made one timeline (sorted, no duplicates, no overlaps) and tagged with its host.

use crate::categories::{default_rules, Categorizer, CategorySpec};
use crate::client::Client;
use crate::export::Export;
use crate::hosts::{HostBuckets, Hosts};
use crate::transform::{clip_to_period, filter_keyvals, filter_period_intersect, flood, period_union};
use crate::Event;
use anyhow::Result;
use serde_json::{json, Value};
use vrd_core::records::AppEvent;
use vrd_core::time::{format_rfc3339, Timestamp};

/// The query language's `flood` pulse time.
pub const PULSETIME_S: f64 = 5.0;

/// Where the buckets are.
pub enum Source<'a> {
    Server(&'a Client),
    Export(&'a Export),
}

impl Source<'_> {
    /// The buckets of the chosen hosts.
    pub fn hosts(&self, hosts: &Hosts) -> Result<Vec<HostBuckets>> {
        match self {
            Source::Server(client) => crate::hosts::select(&client.buckets()?, hosts, || client.hostname()),
            Source::Export(export) => {
                crate::hosts::select(&export.buckets, hosts, || crate::hosts::only_host(&export.buckets))
            }
        }
    }

    /// Every web watcher's bucket (one per browser; [`crate::web::web_buckets`]).
    pub fn web_buckets(&self) -> Result<Vec<String>> {
        Ok(match self {
            Source::Server(client) => crate::web::web_buckets(&client.buckets()?),
            Source::Export(export) => crate::web::web_buckets(&export.buckets),
        })
    }

    /// A bucket's raw events over `[since, until]`, oldest first, each cut to the period.
    pub fn raw_events(&self, bucket: &str, (since, until): (Timestamp, Timestamp)) -> Result<Vec<Event>> {
        match self {
            Source::Server(client) => client.events(bucket, (&format_rfc3339(&since), &format_rfc3339(&until))),
            Source::Export(export) => {
                let mut events =
                    clip_to_period(export.events(bucket), since.timestamp_micros(), until.timestamp_micros());
                events.sort_by_key(|e| e.start_us);
                Ok(events)
            }
        }
    }

    /// The category rules: `file_rules` where given, else the server's own (an export
    /// carries none), else aw-client's defaults.
    pub fn rules(&self, file_rules: Option<Vec<CategorySpec>>) -> Result<Categorizer> {
        let rules = match (file_rules, self) {
            (Some(rules), _) => rules,
            (None, Source::Server(client)) => client.categories()?.unwrap_or_else(default_rules),
            (None, Source::Export(_)) => default_rules(),
        };
        Categorizer::new(&rules)
    }

    /// The timelines of the chosen hosts over `[since, until]`, merged in time order (two
    /// devices in use at once overlap; each host's own timeline does not).
    pub fn all_app_events(
        &self,
        hosts: &Hosts,
        rules: &Categorizer,
        (since, until): (Timestamp, Timestamp),
        audible_active: bool,
    ) -> Result<Vec<AppEvent>> {
        self.all_app_events_since(hosts, rules, |_| Ok(since), until, audible_active)
    }

    /// The same with each host's timeline from its own start, `since(host)` (where a copy
    /// of it, a store's, ends), to `until`.
    pub fn all_app_events_since(
        &self,
        hosts: &Hosts,
        rules: &Categorizer,
        since: impl Fn(&HostBuckets) -> Result<Timestamp>,
        until: Timestamp,
        audible_active: bool,
    ) -> Result<Vec<AppEvent>> {
        let mut events = Vec::new();
        for host in self.hosts(hosts)? {
            events.extend(self.app_events(&host, rules, (since(&host)?, until), audible_active)?);
        }
        events.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.host.cmp(&b.host)));
        Ok(events)
    }

    /// One host's categorised timeline of `[since, until]` as app events.
    pub fn app_events(
        &self,
        host: &HostBuckets,
        rules: &Categorizer,
        (since, until): (Timestamp, Timestamp),
        audible_active: bool,
    ) -> Result<Vec<AppEvent>> {
        let mut events = match self {
            Source::Server(client) => {
                client.query(&query(host, audible_active), (&format_rfc3339(&since), &format_rfc3339(&until)))?
            }
            Source::Export(export) => {
                let period = (since.timestamp_micros(), until.timestamp_micros());
                let web: Vec<&[Event]> = host.web.iter().map(|b| export.events(b)).collect();
                let afk = host.afk.as_deref().map(|b| export.events(b));
                canonical_timeline(export.events(&host.window), afk, audible_active.then_some(&web[..]), period)
            }
        };
        rules.categorize(&mut events);
        Ok(to_app_events(&one_timeline(events), host))
    }
}

/// The server's query for one host, the same steps as [`canonical_timeline`]. The rules are
/// applied afterwards, here: the query language mangles backslashes in string literals (a
/// rule `docs\.rs` would not match there).
fn query(host: &HostBuckets, audible_active: bool) -> Vec<String> {
    let mut lines = vec![format!("events = flood(query_bucket({}));", json!(host.window))];
    if let Some(afk) = &host.afk {
        lines.push(format!("not_afk = flood(query_bucket({}));", json!(afk)));
        lines.push("not_afk = filter_keyvals(not_afk, \"status\", [\"not-afk\"]);".into());
        if audible_active && !host.web.is_empty() {
            lines.push("browser = [];".into());
            for web in &host.web {
                lines.push(format!("browser = concat(browser, flood(query_bucket({})));", json!(web)));
            }
            lines.push("audible = filter_keyvals(browser, \"audible\", [true]);".into());
            lines.push("not_afk = period_union(not_afk, audible);".into());
        }
        lines.push("events = filter_period_intersect(events, not_afk);".into());
    }
    lines.push("RETURN = events;".into());
    lines
}

/// The canonical timeline computed locally from raw bucket events, as the server's query
/// does: every bucket cut to the period and flooded; with an AFK bucket, the window events
/// cut to its `not-afk` periods (widened by the audible tabs of `audible` where given);
/// without one (a phone), the flooded window events as they are.
pub fn canonical_timeline(
    window: &[Event],
    afk: Option<&[Event]>,
    audible: Option<&[&[Event]]>,
    (since, until): (i64, i64),
) -> Vec<Event> {
    let prepared = |events: &[Event]| flood(&clip_to_period(events, since, until), PULSETIME_S);
    let window = prepared(window);
    let Some(afk) = afk else { return window };
    let mut not_afk = filter_keyvals(&prepared(afk), "status", &[Value::from("not-afk")]);
    if let Some(web) = audible.filter(|w| !w.is_empty()) {
        let browser: Vec<Event> = web.iter().flat_map(|events| prepared(events)).collect();
        not_afk = period_union(&not_afk, &filter_keyvals(&browser, "audible", &[Value::from(true)]));
    }
    filter_period_intersect(&window, &not_afk)
}

/// One timeline out of the query's answer: in time order, each duplicate once, an event
/// starting inside the previous one cut to start where it ends (dropped when it ends
/// there too). AFK periods that overlap each other (real exports have them) make the
/// canonical query return the same window piece twice.
pub fn one_timeline(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|e| e.start_us);
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for mut e in events {
        if let Some(prev) = out.last() {
            let prev_end = prev.end_us();
            if e.end_us() <= prev_end {
                continue;
            }
            if e.start_us < prev_end {
                e.duration_us = e.end_us() - prev_end;
                e.start_us = prev_end;
            }
        }
        if e.duration_us > 0 {
            out.push(e);
        }
    }
    out
}

/// Timeline events (categorised) as vrd app events of `host`. A private browser window's
/// title and URL are left out ([`crate::web::is_private_window`]): its time counts, what it
/// showed is never kept.
pub fn to_app_events(events: &[Event], host: &HostBuckets) -> Vec<AppEvent> {
    events
        .iter()
        .map(|e| {
            let private = e.data.get("title").and_then(Value::as_str).is_some_and(crate::web::is_private_window);
            let text = |k: &str| match private && (k == "title" || k == "url") {
                true => None,
                false => e.data.get(k).and_then(Value::as_str).map(str::to_string),
            };
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
                bucket: host.window.clone(),
                host: Some(host.host.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(start_s: i64, dur_s: i64, data: Value) -> Event {
        Event { start_us: start_s * 1_000_000, duration_us: dur_s * 1_000_000, data: data.as_object().unwrap().clone() }
    }

    fn spans(events: &[Event]) -> Vec<(i64, i64)> {
        events.iter().map(|e| (e.start_us / 1_000_000, e.duration_us / 1_000_000)).collect()
    }

    #[test]
    fn one_timeline_drops_duplicates_and_clips_overlaps() {
        let a = json!({"app": "a"});
        let b = json!({"app": "b"});
        let events = vec![
            ev(10, 5, b.clone()),
            ev(0, 10, a.clone()),
            ev(0, 10, a.clone()),
            ev(2, 3, a.clone()),
            ev(12, 8, b.clone()),
            ev(30, 0, a),
        ];
        assert_eq!(spans(&one_timeline(events)), [(0, 10), (10, 5), (15, 5)]);
    }

    #[test]
    fn a_phone_is_its_flooded_window_bucket_and_audible_tabs_count_as_active() {
        let app = |name: &str| json!({"app": name});
        let window = [ev(0, 10, app("a")), ev(12, 10, app("a")), ev(100, 50, app("video"))];
        let phone = canonical_timeline(&window, None, None, (0, 1_000_000_000));
        assert_eq!(spans(&phone), [(0, 22), (100, 50)], "flooded, no AFK filter");

        let afk = [ev(0, 30, json!({"status": "not-afk"})), ev(30, 200, json!({"status": "afk"}))];
        let tabs = [ev(90, 40, json!({"audible": true, "url": "v"})), ev(130, 100, json!({"audible": false}))];
        let tabs: [&[Event]; 1] = [&tabs];
        let desktop = canonical_timeline(&window, Some(&afk), None, (0, 1_000_000_000));
        assert_eq!(spans(&desktop), [(0, 22)], "the video looks AFK to the keyboard");
        let audible = canonical_timeline(&window, Some(&afk), Some(&tabs), (0, 1_000_000_000));
        assert_eq!(spans(&audible), [(0, 22), (100, 30)], "the audible tab's time is active");
    }
}
