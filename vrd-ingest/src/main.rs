//! vrd-ingest: turns a person's exported histories into vrd's JSONL records.

mod takeout;

use anyhow::Result;
use clap::{Parser, Subcommand};
use shared::jsonl::write_record;
use shared::output::Output;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-ingest", about = "Turn exported histories into vrd JSONL records")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Google Takeout `watch-history.json` → watch events (JSONL), oldest first.
    ///
    /// Ads, removed videos, community posts and entries without a title are skipped and
    /// counted on stderr.
    Takeout {
        /// The watch-history.json file (`-` for stdin).
        file: PathBuf,
        /// Write here instead of stdout (the file appears only when complete).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse_args();
    shared::cli::run("vrd-ingest", || match cli.command {
        Command::Takeout { file, output } => ingest_takeout(&file, output.as_deref()),
    })
}

fn ingest_takeout(file: &std::path::Path, output: Option<&std::path::Path>) -> Result<()> {
    let parsed = takeout::parse_watch_history_file(file)?;
    let mut out = Output::open(output)?;
    for event in &parsed.events {
        write_record(&mut out, event)?;
    }
    out.finish()?;
    eprintln!("vrd-ingest: {}: {}", file.display(), parsed.summary());
    Ok(())
}
