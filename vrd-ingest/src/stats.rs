//! `vrd-ingest stats`: what the watch history says at a glance: watches by channel, by
//! hour of the day and by day of the week (in the person's time zone), each with its
//! share of the total.

use anyhow::Result;
use chrono::{Datelike, Timelike};
use clap::ValueEnum;
use std::collections::HashMap;
use std::io::Write;
use vrd_core::records::WatchEvent;
use vrd_core::time::Tz;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    Channel,
    Hour,
    Weekday,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// Aligned columns with a bar, for a person.
    Table,
    /// Tab-separated with a header, for other tools.
    Tsv,
    /// One JSON object per row.
    Jsonl,
}

/// One summary row.
#[derive(Debug, PartialEq, serde::Serialize)]
pub struct Row {
    pub key: String,
    pub watches: u64,
    pub share: f64,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Watch counts grouped `by`, in the person's zone. Channels come most watched first
/// (ties by name) and at most `top` of them; hours and weekdays come in calendar order,
/// every one listed, even with no watches.
pub fn summarize(events: &[WatchEvent], by: By, tz: &Tz, top: Option<usize>) -> Result<Vec<Row>> {
    let keys: Vec<String> = events
        .iter()
        .map(|e| match by {
            By::Channel => e.channel.clone().unwrap_or_else(|| "(unknown channel)".into()),
            By::Hour => format!("{:02}", e.watched_at.with_timezone(tz).hour()),
            By::Weekday => e.watched_at.with_timezone(tz).weekday().num_days_from_monday().to_string(),
        })
        .collect();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    let total = events.len().max(1) as f64;
    let mut rows: Vec<Row> = counts.into_iter().map(|(key, watches)| Row { key, watches, share: 0.0 }).collect();
    // Most watched first, ties by name; hours and weekdays are put in calendar order below.
    rows.sort_by(|a, b| b.watches.cmp(&a.watches).then_with(|| a.key.cmp(&b.key)));
    rows = match by {
        By::Channel => rows,
        By::Hour => fill(rows, (0..24).map(|h| format!("{h:02}"))),
        By::Weekday => fill(rows, (0..7).map(|d| d.to_string()))
            .into_iter()
            .map(|r| Row { key: WEEKDAYS[r.key.parse::<usize>().unwrap_or(0)].to_string(), ..r })
            .collect(),
    };
    if let (By::Channel, Some(n)) = (by, top) {
        rows.truncate(n);
    }
    for r in &mut rows {
        r.share = r.watches as f64 / total;
    }
    Ok(rows)
}

/// Every key of a calendar dimension, with zero where nothing was watched.
fn fill(rows: Vec<Row>, keys: impl Iterator<Item = String>) -> Vec<Row> {
    keys.map(|k| {
        let watches = rows.iter().find(|r| r.key == k).map_or(0, |r| r.watches);
        Row { key: k, watches, share: 0.0 }
    })
    .collect()
}

pub fn write<W: Write>(out: &mut W, rows: &[Row], by: By, format: StatsFormat) -> Result<()> {
    let header = match by {
        By::Channel => "channel",
        By::Hour => "hour",
        By::Weekday => "weekday",
    };
    match format {
        StatsFormat::Jsonl => {
            for r in rows {
                vrd_core::jsonl::write_record(out, r)?;
            }
        }
        StatsFormat::Tsv => {
            writeln!(out, "{header}\twatches\tshare")?;
            for r in rows {
                writeln!(out, "{}\t{}\t{:.4}", r.key.replace(['\t', '\n'], " "), r.watches, r.share)?;
            }
        }
        StatsFormat::Table => {
            let width = rows.iter().map(|r| r.key.chars().count()).chain([header.len()]).max().unwrap_or(0);
            let most = rows.iter().map(|r| r.watches).max().unwrap_or(0).max(1);
            writeln!(out, "{header:<width$}  watches   share")?;
            for r in rows {
                let bar = "#".repeat(((r.watches as f64 / most as f64) * 30.0).round() as usize);
                let pad = width - r.key.chars().count();
                writeln!(out, "{}{}  {:>7}  {:>5.1}%  {bar}", r.key, " ".repeat(pad), r.watches, r.share * 100.0)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::{parse_rfc3339, resolve_timezone};

    fn ev(channel: Option<&str>, at: &str) -> WatchEvent {
        WatchEvent {
            video_id: "v".into(),
            title: "t".into(),
            title_unknown: false,
            channel: channel.map(str::to_string),
            channel_id: None,
            watched_at: parse_rfc3339(at).unwrap(),
            source: "test".into(),
            watched_s: None,
        }
    }

    #[test]
    fn counts_by_channel_hour_and_weekday_in_the_persons_zone() {
        let events = [
            ev(Some("B"), "2026-11-20T22:30:00Z"), // Friday 23:30 in Berlin
            ev(Some("A"), "2026-11-20T23:10:00Z"), // Saturday 00:10 in Berlin
            ev(Some("B"), "2026-11-21T08:00:00Z"),
            ev(None, "2026-11-21T08:05:00Z"),
        ];
        let tz = resolve_timezone(Some("Europe/Berlin")).unwrap();
        let by_channel = summarize(&events, By::Channel, &tz, None).unwrap();
        let got: Vec<(&str, u64)> = by_channel.iter().map(|r| (r.key.as_str(), r.watches)).collect();
        assert_eq!(got, [("B", 2), ("(unknown channel)", 1), ("A", 1)]);
        assert_eq!(by_channel[0].share, 0.5);
        let by_hour = summarize(&events, By::Hour, &tz, None).unwrap();
        assert_eq!(by_hour.len(), 24);
        assert_eq!((by_hour[0].watches, by_hour[9].watches, by_hour[23].watches), (1, 2, 1));
        let by_day = summarize(&events, By::Weekday, &tz, None).unwrap();
        assert_eq!(by_day.iter().map(|r| r.watches).collect::<Vec<_>>(), [0, 0, 0, 0, 1, 3, 0]);
        assert_eq!(by_day[5].key, "Sat");
        assert_eq!(summarize(&events, By::Channel, &tz, Some(1)).unwrap().len(), 1);
    }
}
