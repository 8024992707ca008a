//! vrd-label: the person's judgments (interest / uninterest, right time / not now, skip)
//! into the vrd store, from the command line, files, or an interactive terminal screen.

mod import;
mod stats;
mod tui;

use anyhow::{anyhow, Result};
use clap::{Parser, Subcommand};
use shared::cli::UsageError;
use shared::records::{Label, LabelKind};
use shared::store::Store;
use shared::time::{parse_rfc3339, Timestamp};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-label", about = "Record your judgments of videos in the vrd store")]
struct Cli {
    /// The vrd store (SQLite), as written by vrd-ingest --db.
    #[arg(long, global = true, env = "VRD_DB", default_value = "vrd.db")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One label: `vrd-label add VIDEO_ID interest|uninterest|right-time|not-now|skip`.
    Add {
        video_id: String,
        kind: String,
        /// When it was given (RFC 3339 with a zone, e.g. 2026-11-20T17:05:00+01:00);
        /// default now. A right-time/not-now label is about this moment's activity.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, default_value = "cli")]
        source: String,
        /// Accept a video id the store does not know.
        #[arg(long)]
        allow_unknown: bool,
    },
    /// Labels from a file (`-` for stdin): JSONL labels, a CSV with `video_id,kind,labelled_at`
    /// columns, or a YouTube liked/disliked list (Takeout's playlist CSV, `--kind` to say
    /// which). All or nothing: any bad line stops the import before anything is written.
    Import {
        file: PathBuf,
        /// The kind for a list without a kind column (a liked list: interest; a disliked
        /// list: uninterest).
        #[arg(long)]
        kind: Option<String>,
        /// The source recorded for rows that do not name one.
        #[arg(long, default_value = "import")]
        source: String,
        #[arg(long)]
        allow_unknown: bool,
    },
    /// Labels as JSONL for vrd-train: per video and question the latest label, oldest
    /// first (skips left out); `--all` for the whole history.
    Export {
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long)]
        all: bool,
    },
    /// Counts by kind and by week.
    Stats {
        #[arg(long, value_enum, default_value = "table")]
        format: stats::Format,
        /// The IANA zone weeks are counted in (default: the system's).
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Removes the most recent label (of `--source`, when given) and prints it.
    Undo {
        #[arg(long)]
        source: Option<String>,
    },
    /// Label candidates one at a time in the terminal.
    Tui(tui::TuiArgs),
}

fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse_args();
    shared::cli::run("vrd-label", || match cli.command {
        Command::Add { video_id, kind, at, source, allow_unknown } => {
            let kind = parse_kind(&kind)?;
            let labelled_at = match at {
                Some(t) => parse_time(&t).map_err(|e| anyhow!("--at: {e}"))?,
                None => chrono::Utc::now(),
            };
            let mut store = Store::open(&cli.db)?;
            let label = Label { video_id, kind, labelled_at, source };
            if !allow_unknown {
                import::check_known(&store, std::slice::from_ref(&label), |_| "argument".into())?;
            }
            let counts = store.add_labels(&[label], false)?;
            eprintln!("vrd-label: {}: {counts}", cli.db.display());
            Ok(())
        }
        Command::Import { file, kind, source, allow_unknown } => {
            let kind = kind.map(|k| parse_kind(&k)).transpose()?;
            let mut store = Store::open(&cli.db)?;
            let parsed = import::read(&file, kind, &source)?;
            if !allow_unknown {
                import::check_known(&store, &parsed.labels, |i| parsed.origins[i].clone())?;
            }
            let counts = store.add_labels(&parsed.labels, false)?;
            eprintln!("vrd-label: {}: {} labels read; {counts}", file.display(), parsed.labels.len());
            Ok(())
        }
        Command::Export { output, all } => {
            let store = Store::open(&cli.db)?;
            let labels = if all { store.label_history()? } else { store.effective_labels()? };
            let mut out = shared::output::Output::open(output.as_deref())?;
            for label in &labels {
                shared::jsonl::write_record(&mut out, label)?;
            }
            out.finish()
        }
        Command::Stats { format, timezone } => {
            let tz = shared::time::resolve_timezone(timezone.as_deref()).map_err(|e| UsageError(e.to_string()))?;
            let store = Store::open(&cli.db)?;
            let mut out = shared::output::Output::open(None)?;
            stats::write(&mut out, &store.label_history()?, &store.effective_labels()?, &tz, format)?;
            out.finish()
        }
        Command::Undo { source } => {
            let mut store = Store::open(&cli.db)?;
            match store.undo_last_label(source.as_deref())? {
                Some(label) => {
                    let mut out = shared::output::Output::open(None)?;
                    shared::jsonl::write_record(&mut out, &label)?;
                    out.finish()
                }
                None => Err(anyhow!("{}: no label to undo", cli.db.display())),
            }
        }
        Command::Tui(args) => tui::run(&cli.db, args),
    })
}

pub fn parse_kind(text: &str) -> Result<LabelKind> {
    LabelKind::parse(text.trim())
        .ok_or_else(|| anyhow!("unknown label kind {text:?} (interest, uninterest, right-time, not-now, skip)"))
}

/// An instant with its zone; a naive local time would shift the activity window by the
/// zone offset (the reference system's bug), so it is refused.
pub fn parse_time(text: &str) -> Result<Timestamp> {
    parse_rfc3339(text.trim())
        .map_err(|_| anyhow!("{text:?} is not an RFC 3339 time with a zone (e.g. 2026-11-20T17:05:00+01:00)"))
}
