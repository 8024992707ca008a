//! `vrd-ingest aw`: the person's "active window while not AFK" timeline of each chosen
//! host (a desktop, a phone), from a running ActivityWatch server (its query API computes
//! it) or from an export file (computed here with the same steps), categorised with their
//! rules, as app events tagged with their host.

use crate::live_watches;
use anyhow::{Context, Result};
use std::path::PathBuf;
use vrd_aw::categories::Categorizer;
use vrd_aw::export::Export;
use vrd_aw::hosts::HostBuckets;
use vrd_aw::timeline::Source;
use vrd_core::records::AppEvent;
use vrd_core::time::Timestamp;
use vrd_core::usage::UsageError;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct AwArgs {
    #[command(flatten)]
    aw: vrd_cli::AwArgs,
    /// An export file (`aw-buckets-export.json`) instead of a server (--aw-server and
    /// VRD_AW_SERVER are then not asked).
    #[arg(long)]
    export: Option<PathBuf>,
    /// Start of the period (RFC 3339). Default: where the store's timeline of each host
    /// ends (with --db), else the export's first event, else 30 days before --until.
    #[arg(long, value_parser = vrd_cli::time_arg)]
    since: Option<Timestamp>,
    /// End of the period (RFC 3339). Default: the export's last event, or now.
    #[arg(long, value_parser = vrd_cli::time_arg)]
    until: Option<Timestamp>,
    /// Category rules (the `classes` setting's JSON) instead of the server's own.
    #[arg(long)]
    categories: Option<PathBuf>,
    /// Write here instead of stdout.
    #[arg(short, long, conflicts_with = "db")]
    output: Option<PathBuf>,
    /// Upsert into this vrd store, resuming where its timeline of each host ends; the
    /// watches seen live go in too (the web watchers' YouTube tabs, and browser windows
    /// titled as a video the store knows), each web watcher resuming where it was read last.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Write the watches seen live (the web watchers' YouTube tabs, every browser's) as
    /// watch events instead of the app timeline.
    #[arg(long, conflicts_with = "db")]
    watches: bool,
    /// A video open for less than this many seconds was zapped past, not watched.
    #[arg(long, default_value_t = vrd_aw::web::DEFAULT_MIN_WATCH_S, value_name = "SECONDS")]
    min_watch: f64,
}

pub fn run(args: &AwArgs) -> Result<()> {
    let file_rules = args.categories.as_deref().map(Categorizer::from_file).transpose()?;
    let mut store = args.db.as_deref().map(Store::create).transpose()?;
    let export = args.export.as_deref().map(Export::read).transpose()?;
    let aw = args.aw.options();
    let client;
    let (source, name) = match (&export, &args.export) {
        (Some(export), Some(path)) => (Source::Export(export), path.display().to_string()),
        _ => {
            client = aw.client()?;
            (Source::Server(&client), aw.server.clone())
        }
    };
    // The server's errors name its address already; an export's name the file here.
    let hosts = match &args.export {
        Some(path) => source.hosts(&aw.hosts).with_context(|| path.display().to_string())?,
        None => source.hosts(&aw.hosts)?,
    };
    let rules = source.rules(file_rules)?;
    let mut records: Vec<AppEvent> = Vec::new();
    for host in &hosts {
        let period = period(args, &export, store.as_ref(), host)?;
        let events = source.app_events(host, &rules, period, aw.audible_active)?;
        eprintln!("vrd-ingest: {name}: host {:?}: {} app events from {}", host.host, events.len(), host.window);
        records.extend(events);
    }
    records.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.host.cmp(&b.host)));

    // The web watchers' YouTube tabs, every browser's, whatever hosts were chosen.
    let export_span = export.as_ref().and_then(|e| {
        let webs: Vec<String> = vrd_aw::web::web_buckets(&e.buckets);
        let from_micros = |us: i64| chrono::DateTime::from_timestamp_micros(us).expect("a time within chrono's range");
        e.span(&webs.iter().map(String::as_str).collect::<Vec<_>>()).map(|(a, b)| (from_micros(a), from_micros(b)))
    });
    let web_period = live_watches::Period {
        since: args.since,
        until: args.until.or(export_span.map(|s| s.1)).unwrap_or_else(chrono::Utc::now),
        first: export_span.map(|s| s.0),
    };
    // The timeline as JSONL reads no tabs.
    let tabs = match store.is_some() || args.watches {
        true => live_watches::read_tabs(&source, &web_period, store.as_ref())?,
        false => Vec::new(),
    };
    for (bucket, _, read) in &tabs {
        eprintln!("vrd-ingest: {name}: {bucket}: {} YouTube tab stretches", read.len());
    }
    match (&mut store, &args.db) {
        (Some(store), Some(db)) => {
            let counts = store.upsert_app_events(&records)?;
            eprintln!("vrd-ingest: {}: app events {counts}", db.display());
            let (seen, counts) = live_watches::into_store(store, &tabs, &records, args.min_watch)?;
            eprintln!("vrd-ingest: {}", seen.summary(args.min_watch));
            eprintln!("vrd-ingest: {}: watch events {counts}", db.display());
        }
        _ if args.watches => {
            let seen = live_watches::watches(&tabs, &records, args.min_watch);
            eprintln!("vrd-ingest: {}", seen.summary(args.min_watch));
            super::write_jsonl(&seen.all(), args.output.as_deref())?;
        }
        _ => super::write_jsonl(&records, args.output.as_deref())?,
    }
    Ok(())
}

/// The period read for one host: --since (else where the store's timeline of its window
/// bucket ends, else the export's first event, else 30 days back) to --until (else the
/// export's last event, else now).
fn period(
    args: &AwArgs,
    export: &Option<Export>,
    store: Option<&Store>,
    host: &HostBuckets,
) -> Result<(Timestamp, Timestamp)> {
    let from_micros = |us: i64| chrono::DateTime::from_timestamp_micros(us).expect("a time within chrono's range");
    let mut buckets: Vec<&str> = vec![&host.window];
    buckets.extend(host.afk.as_deref());
    let span = export.as_ref().and_then(|e| e.span(&buckets)).map(|(a, b)| (from_micros(a), from_micros(b)));
    let until = args.until.or(span.map(|s| s.1)).unwrap_or_else(chrono::Utc::now);
    let resumed = match (args.since, store) {
        (Some(since), _) => Some(since),
        (None, Some(s)) => s.app_events_end(&host.window)?,
        (None, None) => None,
    };
    let since = resumed.or(span.map(|s| s.0)).unwrap_or(until - chrono::Duration::days(30));
    if since > until {
        return Err(UsageError("--since is after --until".into()).into());
    }
    Ok((since, until))
}
