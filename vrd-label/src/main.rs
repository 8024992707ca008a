//! vrd-label: the person's judgments (interest / uninterest, right time / not now, skip)
//! into the vrd store, from the command line, files, or an interactive terminal screen.
//!
//! This file parses the command line and dispatches to `cmd/`, one module per subcommand.

mod cmd;
mod known_videos;
mod serve;
mod stats;
mod tui;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
    Add(cmd::add::AddArgs),
    /// Labels from a file (`-` for stdin): JSONL labels, a CSV with `video_id,kind,labelled_at`
    /// columns, or a YouTube liked/disliked list (Takeout's playlist CSV, `--kind` to say
    /// which). All or nothing: any bad line stops the import before anything is written.
    Import(cmd::import::ImportArgs),
    /// Labels as JSONL for vrd-train: per video and question the latest label, oldest
    /// first (skips left out); `--all` for the whole history.
    Export(cmd::export::ExportArgs),
    /// Counts by kind and by week.
    Stats(cmd::stats::StatsArgs),
    /// Removes the most recent label (of `--source`, when given) and prints it.
    Undo(cmd::undo::UndoArgs),
    /// Label candidates one at a time in the terminal.
    Tui(tui::TuiArgs),
    /// The feed page on this machine: the stored feeds, a video page with the player and
    /// the four answers, "more like this" (loopback only unless --allow-remote).
    Serve(serve::ServeArgs),
}

fn main() -> ! {
    let cli: Cli = vrd_cli::parse_args();
    vrd_cli::run("vrd-label", || match cli.command {
        Command::Add(args) => cmd::add::run(&cli.db, args),
        Command::Import(args) => cmd::import::run(&cli.db, &args),
        Command::Export(args) => cmd::export::run(&cli.db, &args),
        Command::Stats(args) => cmd::stats::run(&cli.db, &args),
        Command::Undo(args) => cmd::undo::run(&cli.db, &args),
        Command::Tui(args) => tui::run(&cli.db, args),
        Command::Serve(args) => serve::run(&cli.db, &args),
    })
}
