//! `vrd-ingest stats`: watch counts by channel, hour or weekday.

use crate::stats;
use anyhow::Result;
use std::path::PathBuf;
use vrd_core::output::Output;
use vrd_core::time::timezone_or_system;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct StatsArgs {
    /// Watch events as JSONL (`-` for stdin), e.g. from `vrd-ingest takeout`.
    #[arg(required_unless_present = "db", conflicts_with = "db")]
    pub file: Option<PathBuf>,
    /// Read the watch events of this vrd store instead.
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "channel")]
    pub by: stats::By,
    /// At most this many channels.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// The person's IANA time zone for hours and weekdays (default: the system's).
    #[arg(long, value_parser = vrd_cli::timezone_arg)]
    pub timezone: Option<vrd_core::time::Tz>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: stats::StatsFormat,
}

pub fn run(args: &StatsArgs) -> Result<()> {
    let tz = timezone_or_system(args.timezone)?;
    let events = match (&args.db, &args.file) {
        (Some(db), _) => Store::open(db)?.watch_events()?,
        (None, Some(file)) => {
            vrd_core::jsonl::JsonlReader::<vrd_core::records::WatchEvent>::open(Some(file))?.read_all()?
        }
        (None, None) => unreachable!("clap requires a file or --db"),
    };
    let rows = stats::summarize(&events, args.by, &tz, Some(args.top))?;
    let mut out = Output::open(None)?;
    stats::write(&mut out, &rows, args.by, args.format)?;
    out.finish()
}
