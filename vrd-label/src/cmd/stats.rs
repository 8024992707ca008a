//! `vrd-label stats`: counts by kind and by week.

use crate::stats;
use anyhow::Result;
use std::path::Path;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct StatsArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: stats::Format,
    /// The IANA zone weeks are counted in (default: the system's).
    #[arg(long, value_parser = vrd_cli::timezone_arg)]
    timezone: Option<vrd_core::time::Tz>,
}

pub fn run(db: &Path, args: &StatsArgs) -> Result<()> {
    let tz = vrd_core::time::timezone_or_system(args.timezone)?;
    let store = Store::open(db)?;
    let mut out = vrd_core::output::Output::open(None)?;
    stats::write(&mut out, &store.label_history()?, &store.effective_labels()?, &tz, args.format)?;
    out.finish()
}
