//! `vrd-ingest aw`: the person's "active window while not AFK" timeline, from a running
//! ActivityWatch server (its query API computes it) or from an export file (computed here
//! with the same steps), categorised with their rules, as app events.

use anyhow::{Context, Result};
use shared::aw::categories::{default_rules, Categorizer, CategorySpec};
use shared::aw::client::{Client, DEFAULT_SERVER};
use shared::aw::export::Export;
use shared::aw::to_app_events;
use shared::cli::UsageError;
use shared::store::Store;
use shared::time::{format_rfc3339, Timestamp};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct AwArgs {
    /// A running ActivityWatch server.
    #[arg(long, default_value = DEFAULT_SERVER, conflicts_with = "export")]
    server: String,
    /// An export file (`aw-buckets-export.json`) instead of a server.
    #[arg(long)]
    export: Option<PathBuf>,
    /// Whose buckets (default: the server's own host, or the export's only host).
    #[arg(long, env = "VRD_AW_HOSTNAME")]
    hostname: Option<String>,
    /// Start of the period (RFC 3339). Default: where the store's timeline ends (with
    /// --db), else the export's first event, else 30 days before --until.
    #[arg(long, value_parser = parse_time)]
    since: Option<Timestamp>,
    /// End of the period (RFC 3339). Default: the export's last event, or now.
    #[arg(long, value_parser = parse_time)]
    until: Option<Timestamp>,
    /// Category rules (the `classes` setting's JSON) instead of the server's own.
    #[arg(long)]
    categories: Option<PathBuf>,
    /// A file holding the server's API key (must not be readable by others); the key can
    /// also come from VRD_AW_API_KEY.
    #[arg(long)]
    api_key_file: Option<PathBuf>,
    /// Write here instead of stdout.
    #[arg(short, long, conflicts_with = "db")]
    output: Option<PathBuf>,
    /// Upsert into this vrd store, resuming where its timeline ends.
    #[arg(long)]
    db: Option<PathBuf>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    shared::time::parse_rfc3339(s).map_err(|e| e.to_string())
}

pub fn run(args: &AwArgs) -> Result<()> {
    let file_rules = args.categories.as_deref().map(Categorizer::from_file).transpose()?;
    let mut store = args.db.as_deref().map(Store::open).transpose()?;
    let (events, bucket, source) = match &args.export {
        Some(path) => from_export(path, args, file_rules, store.as_ref())?,
        None => from_server(args, file_rules, store.as_ref())?,
    };
    let records = to_app_events(&events, &bucket);
    eprintln!("vrd-ingest: {source}: {} app events from {bucket}", records.len());
    match (&mut store, &args.db) {
        (Some(store), Some(db)) => {
            let counts = store.upsert_app_events(&records)?;
            eprintln!("vrd-ingest: {}: app events {counts}", db.display());
        }
        _ => super::write_jsonl(&records, args.output.as_deref())?,
    }
    Ok(())
}

fn from_export(
    path: &Path,
    args: &AwArgs,
    file_rules: Option<Vec<CategorySpec>>,
    store: Option<&Store>,
) -> Result<(Vec<shared::aw::Event>, String, String)> {
    let export = Export::read(path)?;
    let (window, afk) = export.host_buckets(args.hostname.as_deref()).with_context(|| path.display().to_string())?;
    let span = export.span(&[&window, &afk]);
    let until = args.until.map(|t| t.timestamp_micros()).or(span.map(|s| s.1)).unwrap_or(0);
    let since = resolve_since(args, store, &window)?.map(|t| t.timestamp_micros()).or(span.map(|s| s.0)).unwrap_or(0);
    check_period(since, until)?;
    let rules = Categorizer::new(&file_rules.unwrap_or_else(default_rules))?;
    let events = export.timeline((&window, &afk), &rules, (since, until));
    Ok((events, window, path.display().to_string()))
}

fn from_server(
    args: &AwArgs,
    file_rules: Option<Vec<CategorySpec>>,
    store: Option<&Store>,
) -> Result<(Vec<shared::aw::Event>, String, String)> {
    let client = Client::new(&args.server, api_key(args.api_key_file.as_deref())?);
    let (window, afk) = client.host_buckets(args.hostname.as_deref())?;
    let until = args.until.unwrap_or_else(chrono::Utc::now);
    let since = resolve_since(args, store, &window)?.unwrap_or(until - chrono::Duration::days(30));
    check_period(since.timestamp_micros(), until.timestamp_micros())?;
    let rules = match file_rules {
        Some(r) => r,
        None => client.categories()?.unwrap_or_else(default_rules),
    };
    let categorizer = Categorizer::new(&rules)?;
    let mut events = client.canonical_timeline(&window, &afk, (&format_rfc3339(&since), &format_rfc3339(&until)))?;
    categorizer.categorize(&mut events);
    Ok((events, window, args.server.clone()))
}

/// An explicit --since, else (with a store) where the stored timeline of this bucket ends.
fn resolve_since(args: &AwArgs, store: Option<&Store>, window_bucket: &str) -> Result<Option<Timestamp>> {
    if args.since.is_some() {
        return Ok(args.since);
    }
    match store {
        Some(s) => s.app_events_end(window_bucket),
        None => Ok(None),
    }
}

fn check_period(since_us: i64, until_us: i64) -> Result<()> {
    if since_us > until_us {
        return Err(UsageError("--since is after --until".into()).into());
    }
    Ok(())
}

/// The API key from a file only its owner can read, or VRD_AW_API_KEY.
fn api_key(file: Option<&Path>) -> Result<Option<String>> {
    crate::secrets::secret(file, "VRD_AW_API_KEY")
}
