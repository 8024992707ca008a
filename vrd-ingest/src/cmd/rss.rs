//! `vrd-ingest rss`: channel feeds (files, URLs, an OPML list) → candidate videos.

use super::write_jsonl;
use crate::channel_feeds;
use anyhow::{Context, Result};
use std::path::PathBuf;
use vrd_core::usage::UsageError;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct RssArgs {
    /// Feed files or http(s) URLs.
    pub feeds: Vec<String>,
    /// Also every feed an OPML subscription list names.
    #[arg(long)]
    pub opml: Option<PathBuf>,
    /// Write here instead of stdout.
    #[arg(short, long, conflicts_with = "db")]
    pub output: Option<PathBuf>,
    /// Upsert into this vrd store instead; with no feeds or --opml given, fetch the
    /// feeds the store's subscriptions name (vrd-ingest subscriptions, takeout).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Where YouTube channel feeds are fetched from (a mirror or proxy serving the same
    /// `/feeds/videos.xml?channel_id=…` paths).
    #[arg(long, env = "VRD_YOUTUBE_BASE", default_value = vrd_core::records::Subscription::YOUTUBE)]
    pub youtube_base: String,
}

pub fn run(args: &RssArgs) -> Result<()> {
    let mut sources = args.feeds.clone();
    if let Some(path) = &args.opml {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        sources.extend(channel_feeds::opml_feeds(&text, &path.display().to_string())?);
    }
    if sources.is_empty() {
        if let Some(db) = &args.db {
            let subscribed = Store::open(db)?.subscriptions()?;
            sources.extend(subscribed.iter().map(|s| s.feed_at(&args.youtube_base)));
            eprintln!("vrd-ingest: {}: {} subscribed feeds", db.display(), sources.len());
            if sources.is_empty() {
                // A cron job's run before any subscription is known: nothing to do yet.
                eprintln!("vrd-ingest: no subscriptions yet (vrd-ingest subscriptions FILE --db, or takeout)");
                return Ok(());
            }
        }
    }
    if sources.is_empty() {
        return Err(UsageError(
            "no feeds: give feed files or URLs, or --opml, or --db with subscriptions in it (vrd-ingest subscriptions)"
                .into(),
        )
        .into());
    }
    let mut videos = Vec::new();
    for source in &sources {
        let found = channel_feeds::parse_feed(&channel_feeds::fetch(source)?, source)?;
        eprintln!("vrd-ingest: {source}: {} entries", found.len());
        videos.extend(found);
    }
    match &args.db {
        Some(db) => {
            let counts = Store::create(db)?.upsert_videos(&videos)?;
            eprintln!("vrd-ingest: {}: videos {counts}", db.display());
            Ok(())
        }
        None => write_jsonl(&videos, args.output.as_deref()),
    }
}
