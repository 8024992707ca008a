//! `vrd-ingest takeout` and `vrd-ingest searches`: a Takeout activity file → watch events or
//! searches, as JSONL or into the store.

use super::write_jsonl;
use crate::takeout;
use anyhow::Result;
use std::path::PathBuf;
use vrd_core::time::Tz;
use vrd_store::Store;

/// A Takeout activity file and where its records go, for `takeout` and `searches` alike.
#[derive(clap::Args)]
pub struct TakeoutFile {
    /// The Takeout file, JSON or HTML form (`-` for stdin).
    pub file: PathBuf,
    /// The account's IANA time zone, to read the HTML form's local dates right (its zone
    /// abbreviations are those of the export date, not of each entry).
    #[arg(long, value_parser = vrd_core::cli::timezone_arg)]
    pub timezone: Option<Tz>,
    /// Write here instead of stdout (the file appears only when complete).
    #[arg(short, long, conflicts_with = "db")]
    pub output: Option<PathBuf>,
    /// Upsert into this vrd store (SQLite) instead of writing JSONL; re-ingesting the
    /// same file changes nothing.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// The watch history.
pub fn run_watches(t: &TakeoutFile) -> Result<()> {
    let parsed = takeout::parse_watch_history_file(&t.file, t.timezone.as_ref())?;
    eprintln!("vrd-ingest: {}: {}", t.file.display(), parsed.summary());
    match &t.db {
        Some(db) => {
            let counts = Store::open(db)?.upsert_watch_events(&parsed.events)?;
            eprintln!("vrd-ingest: {}: watch events {counts}", db.display());
        }
        None => write_jsonl(&parsed.events, t.output.as_deref())?,
    }
    // The process ends here: let the OS take back a history's hundred thousand strings at
    // once rather than freeing them one by one (a tenth of the run's time).
    std::mem::forget(parsed);
    Ok(())
}

/// The search history.
pub fn run_searches(t: &TakeoutFile) -> Result<()> {
    let parsed = takeout::parse_search_history_file(&t.file, t.timezone.as_ref())?;
    eprintln!("vrd-ingest: {}: {}", t.file.display(), parsed.summary());
    match &t.db {
        Some(db) => {
            let counts = Store::open(db)?.upsert_searches(&parsed.searches)?;
            eprintln!("vrd-ingest: {}: searches {counts}", db.display());
            Ok(())
        }
        None => write_jsonl(&parsed.searches, t.output.as_deref()),
    }
}
