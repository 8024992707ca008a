//! vrd-rank: scores candidate videos for the person and prints the ranked feed.

mod cold_start;
mod feed_format;

use anyhow::Result;
use clap::Parser;
use feed_format::FeedFormat;
use shared::cli::UsageError;
use shared::jsonl::JsonlReader;
use shared::output::Output;
use shared::records::{Video, WatchEvent};
use shared::tensors::Embeddings;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-rank", about = "Rank candidate videos for the person and print the feed")]
struct Cli {
    /// Rank by similarity to what the person watched recently (needs no labels and no
    /// trained model).
    #[arg(long)]
    cold_start: bool,
    /// Watch-event JSONL (vrd-ingest output).
    #[arg(long)]
    history: PathBuf,
    /// Candidate video JSONL (`-` for stdin).
    #[arg(long)]
    candidates: PathBuf,
    /// Embeddings covering history and candidates (vrd-encode media output).
    #[arg(long)]
    embeddings: PathBuf,
    /// How many items to print.
    #[arg(short = 'n', long, default_value_t = 20)]
    top: usize,
    /// How many of the most recent watch events form the taste profile.
    #[arg(long, default_value_t = cold_start::DEFAULT_RECENT)]
    recent: usize,
    /// Half-life, in days, of a watch event's weight (counted back from the newest event).
    #[arg(long, default_value_t = cold_start::DEFAULT_HALF_LIFE_DAYS)]
    half_life_days: f64,
    /// Also show videos the person has already watched.
    #[arg(long)]
    keep_watched: bool,
    /// jsonl, tsv or table.
    #[arg(long, value_enum, default_value_t = FeedFormat::Jsonl)]
    format: FeedFormat,
    /// Write the feed here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli: Cli = vrd_model::version::parse_args_with_torch();
    shared::cli::run("vrd-rank", || rank(&cli))
}

fn rank(cli: &Cli) -> Result<()> {
    if !cli.cold_start {
        return Err(UsageError(
            "no trained model is given: pass --cold-start to rank by similarity to the watch history".into(),
        )
        .into());
    }
    if cli.half_life_days.is_nan() || cli.half_life_days <= 0.0 {
        return Err(UsageError("--half-life-days must be positive".into()).into());
    }
    let history: Vec<WatchEvent> = JsonlReader::open(Some(&cli.history))?.read_all()?;
    let candidates: Vec<Video> = JsonlReader::open(Some(&cli.candidates))?.read_all()?;
    let embeddings = Embeddings::read(&cli.embeddings)?;
    let settings = cold_start::Settings {
        recent: cli.recent,
        half_life_days: cli.half_life_days,
        keep_watched: cli.keep_watched,
        top: cli.top,
    };
    let feed = cold_start::rank(&history, &candidates, &embeddings, &settings)?;
    let mut out = Output::open(cli.output.as_deref())?;
    feed_format::write_feed(&mut out, &feed, cli.format)?;
    out.finish()
}
