//! `vrd-ingest takeout` and `vrd-ingest searches`: a Takeout activity file → watch events or
//! searches, as JSONL or into the store.

use super::write_jsonl;
use crate::takeout::{self, folder as takeout_folder};
use anyhow::Result;
use std::path::PathBuf;
use vrd_core::time::Tz;
use vrd_store::Store;

/// A Takeout activity file and where its records go, for `takeout` and `searches` alike.
#[derive(clap::Args)]
pub struct TakeoutFile {
    /// The Takeout file, JSON or HTML form (`-` for stdin); for `takeout`, also a whole
    /// Takeout: the folder or the .zip Google sends (with --db).
    pub file: PathBuf,
    /// The account's IANA time zone, to read the HTML form's local dates right (its zone
    /// abbreviations are those of the export date, not of each entry).
    #[arg(long, value_parser = vrd_cli::timezone_arg)]
    pub timezone: Option<Tz>,
    /// Write here instead of stdout (the file appears only when complete).
    #[arg(short, long, conflicts_with = "db")]
    pub output: Option<PathBuf>,
    /// Upsert into this vrd store (SQLite) instead of writing JSONL; re-ingesting the
    /// same file changes nothing.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// The watch history; or, given a whole Takeout (folder or .zip), everything of it.
pub fn run_watches(t: &TakeoutFile) -> Result<()> {
    if takeout_folder::is_takeout(&t.file) {
        return run_folder(t);
    }
    let parsed = takeout::parse_watch_history_file(&t.file, t.timezone.as_ref())?;
    eprintln!("vrd-ingest: {}: {}", t.file.display(), parsed.summary());
    match &t.db {
        Some(db) => {
            let counts = Store::create(db)?.upsert_watch_events(&parsed.events)?;
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
            let counts = Store::create(db)?.upsert_searches(&parsed.searches)?;
            eprintln!("vrd-ingest: {}: searches {counts}", db.display());
            Ok(())
        }
        None => write_jsonl(&parsed.searches, t.output.as_deref()),
    }
}

/// A whole Takeout into the store: watches, searches, subscriptions, the liked and
/// disliked lists as answers, and the other playlists as saved videos. Everything is read and checked before anything is written.
fn run_folder(t: &TakeoutFile) -> Result<()> {
    let Some(db) = &t.db else {
        return Err(vrd_core::usage::UsageError(format!(
            "{}: a whole Takeout goes into the store: pass --db (or give one of its files for JSONL)",
            t.file.display()
        ))
        .into());
    };
    let found = takeout_folder::read(&t.file, t.timezone.as_ref())?;
    for line in found.report() {
        eprintln!("vrd-ingest: {}: {line}", t.file.display());
    }
    if found.is_empty() {
        anyhow::bail!(
            "{}: no watch history, search history, subscriptions or liked list found in it",
            t.file.display()
        );
    }
    let mut store = Store::create(db)?;
    let name = db.display();
    eprintln!("vrd-ingest: {name}: watch events {}", store.upsert_watch_events(&found.watches)?);
    eprintln!("vrd-ingest: {name}: searches {}", store.upsert_searches(&found.searches)?);
    eprintln!("vrd-ingest: {name}: subscriptions {}", store.upsert_subscriptions(&found.subscriptions)?);
    // A liked list read again (or undated, labelled now) is not a new judgment.
    eprintln!("vrd-ingest: {name}: liked and disliked videos {}", store.add_labels(&found.labels, true)?);
    eprintln!("vrd-ingest: {name}: saved videos {}", store.upsert_saved_videos(&found.saved)?);
    // Saved videos are candidates: named as the watch history names them where watched,
    // else by their id alone until `vrd-ingest youtube videos --db` fetches their details
    // (a record without a title is in no feed; a stored one keeps what it has).
    let watched: std::collections::HashMap<&str, &vrd_core::records::WatchEvent> =
        found.watches.iter().filter(|w| !w.title_unknown).map(|w| (w.video_id.as_str(), w)).collect();
    let candidates: Vec<vrd_core::records::Video> = found
        .saved
        .iter()
        .map(|s| match watched.get(s.video_id.as_str()) {
            Some(w) => vrd_core::records::Video { source: SAVED_SOURCE.into(), ..vrd_core::records::Video::from(*w) },
            None => {
                serde_json::from_value(serde_json::json!({"video_id": s.video_id, "title": "", "source": SAVED_SOURCE}))
                    .expect("a video record")
            }
        })
        .collect();
    store.upsert_videos(&candidates)?;
    Ok(())
}

/// The source of a saved video's record made from Takeout's playlist.
const SAVED_SOURCE: &str = "takeout-playlist";
