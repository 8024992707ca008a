//! vrd-ingest: turns a person's exported histories into vrd's JSONL records.

mod activitywatch;
mod feeds;
mod fuzz;
mod stats;
mod takeout;
mod takeout_html;
mod youtube;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use shared::cli::UsageError;
use shared::jsonl::write_record;
use shared::output::Output;
use shared::store::Store;
use shared::time::{resolve_timezone, Tz};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-ingest", about = "Turn exported histories into vrd JSONL records")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Google Takeout watch history (`watch-history.json` or `watch-history.html`) → watch
    /// events (JSONL), oldest first.
    ///
    /// Ads, removed videos and community posts are skipped and counted on stderr; a watch
    /// named by its URL only is kept with its title unknown.
    Takeout(TakeoutFile),
    /// Google Takeout search history (`search-history.json` or `.html`) → the person's
    /// YouTube searches (JSONL), oldest first; the cold-start feed weighs them beside the
    /// watches.
    Searches(TakeoutFile),
    /// ActivityWatch → the "active window while not AFK" timeline as app events (JSONL),
    /// from a running server or an export file.
    Aw(activitywatch::AwArgs),
    /// Watch counts by channel, hour of the day or day of the week, from watch events
    /// (JSONL) or the store.
    Stats {
        /// Watch events as JSONL (`-` for stdin), e.g. from `vrd-ingest takeout`.
        #[arg(required_unless_present = "db", conflicts_with = "db")]
        file: Option<PathBuf>,
        /// Read the watch events of this vrd store instead.
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "channel")]
        by: stats::By,
        /// At most this many channels.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// The person's IANA time zone for hours and weekdays (default: the system's).
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: stats::StatsFormat,
    },
    /// YouTube Data API v3: video details, channel uploads, the person's likes/dislikes.
    Youtube(youtube::YoutubeArgs),
    /// Channel feeds (YouTube channel Atom, other Atom/RSS) → candidate videos (JSONL).
    Rss {
        /// Feed files or http(s) URLs.
        feeds: Vec<String>,
        /// Also every feed an OPML subscription list names.
        #[arg(long)]
        opml: Option<PathBuf>,
        /// Write here instead of stdout.
        #[arg(short, long, conflicts_with = "db")]
        output: Option<PathBuf>,
        /// Upsert into this vrd store instead.
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

/// A Takeout activity file and where its records go, for `takeout` and `searches` alike.
#[derive(clap::Args)]
struct TakeoutFile {
    /// The Takeout file, JSON or HTML form (`-` for stdin).
    file: PathBuf,
    /// The account's IANA time zone, to read the HTML form's local dates right (its zone
    /// abbreviations are those of the export date, not of each entry).
    #[arg(long)]
    timezone: Option<String>,
    /// Write here instead of stdout (the file appears only when complete).
    #[arg(short, long, conflicts_with = "db")]
    output: Option<PathBuf>,
    /// Upsert into this vrd store (SQLite) instead of writing JSONL; re-ingesting the
    /// same file changes nothing.
    #[arg(long)]
    db: Option<PathBuf>,
}

impl TakeoutFile {
    fn timezone(&self) -> Result<Option<Tz>> {
        let tz = self.timezone.as_deref().map(|t| resolve_timezone(Some(t))).transpose();
        Ok(tz.map_err(|e| UsageError(e.to_string()))?)
    }
}

fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse_args();
    shared::cli::run("vrd-ingest", || match cli.command {
        Command::Takeout(t) => ingest_takeout(&t.file, t.timezone()?.as_ref(), t.output.as_deref(), t.db.as_deref()),
        Command::Searches(t) => {
            let parsed = takeout::parse_search_history_file(&t.file, t.timezone()?.as_ref())?;
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
        Command::Aw(args) => activitywatch::run(&args),
        Command::Youtube(args) => youtube::run(args),
        Command::Stats { file, db, by, top, timezone, format } => {
            let tz = resolve_timezone(timezone.as_deref()).map_err(|e| UsageError(e.to_string()))?;
            let events = match (&db, &file) {
                (Some(db), _) => Store::open(db)?.watch_events()?,
                (None, Some(file)) => {
                    shared::jsonl::JsonlReader::<shared::records::WatchEvent>::open(Some(file))?.read_all()?
                }
                (None, None) => unreachable!("clap requires a file or --db"),
            };
            let rows = stats::summarize(&events, by, &tz, Some(top))?;
            let mut out = Output::open(None)?;
            stats::write(&mut out, &rows, by, format)?;
            out.finish()
        }
        Command::Rss { feeds, opml, output, db } => {
            ingest_feeds(feeds, opml.as_deref(), output.as_deref(), db.as_deref())
        }
    })
}

fn ingest_takeout(file: &Path, tz: Option<&Tz>, output: Option<&Path>, db: Option<&Path>) -> Result<()> {
    let parsed = takeout::parse_watch_history_file(file, tz)?;
    eprintln!("vrd-ingest: {}: {}", file.display(), parsed.summary());
    match db {
        Some(db) => {
            let counts = Store::open(db)?.upsert_watch_events(&parsed.events)?;
            eprintln!("vrd-ingest: {}: watch events {counts}", db.display());
        }
        None => write_jsonl(&parsed.events, output)?,
    }
    // The process ends here: let the OS take back a history's hundred thousand strings at
    // once rather than freeing them one by one (a tenth of the run's time).
    std::mem::forget(parsed);
    Ok(())
}

fn ingest_feeds(mut sources: Vec<String>, opml: Option<&Path>, output: Option<&Path>, db: Option<&Path>) -> Result<()> {
    if let Some(path) = opml {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        sources.extend(feeds::opml_feeds(&text, &path.display().to_string())?);
    }
    if sources.is_empty() {
        return Err(UsageError("no feeds: give feed files or URLs, or --opml".into()).into());
    }
    let mut videos = Vec::new();
    for source in &sources {
        let found = feeds::parse_feed(&feeds::fetch(source)?, source)?;
        eprintln!("vrd-ingest: {source}: {} entries", found.len());
        videos.extend(found);
    }
    match db {
        Some(db) => {
            let counts = Store::open(db)?.upsert_videos(&videos)?;
            eprintln!("vrd-ingest: {}: videos {counts}", db.display());
            Ok(())
        }
        None => write_jsonl(&videos, output),
    }
}

/// Records as JSONL to stdout or, complete or not at all, to a file.
fn write_jsonl<T: serde::Serialize>(records: &[T], output: Option<&Path>) -> Result<()> {
    let mut out = Output::open(output)?;
    for record in records {
        write_record(&mut out, record)?;
    }
    out.finish()
}
