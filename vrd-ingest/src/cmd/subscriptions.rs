//! `vrd-ingest subscriptions`: Takeout's `subscriptions.csv` or an OPML list → the feeds
//! `vrd-ingest rss --db` (and the cron job) fetch.

use super::write_jsonl;
use crate::subscriptions;
use anyhow::{Context, Result};
use std::path::PathBuf;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct SubscriptionsArgs {
    /// `subscriptions.csv` from Takeout (any language), or an OPML list of feeds.
    pub file: PathBuf,
    /// Write the subscriptions as JSONL here instead of stdout.
    #[arg(short, long, conflicts_with = "db")]
    pub output: Option<PathBuf>,
    /// Keep them in this vrd store: `vrd-ingest rss --db` then fetches their feeds.
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: &SubscriptionsArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {} (is it a UTF-8 text file?)", args.file.display()))?;
    let found = subscriptions::parse(&text, &args.file.display().to_string())?;
    eprintln!("vrd-ingest: {}: {} subscriptions", args.file.display(), found.len());
    match &args.db {
        Some(db) => {
            let counts = Store::create(db)?.upsert_subscriptions(&found)?;
            eprintln!("vrd-ingest: {}: subscriptions {counts}", db.display());
            Ok(())
        }
        None => write_jsonl(&found, args.output.as_deref()),
    }
}
