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
    let mut sources: Vec<Source> = args.feeds.iter().map(|f| Source { url: f.clone(), name: None }).collect();
    if let Some(path) = &args.opml {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let outlines = channel_feeds::opml_outlines(&text, &path.display().to_string())?;
        sources.extend(outlines.into_iter().map(|(url, name)| Source { url, name }));
    }
    if sources.is_empty() {
        if let Some(db) = &args.db {
            let subscribed = Store::open(db)?.subscriptions()?;
            sources.extend(subscribed.iter().map(|s| Source {
                url: s.feed_at(&args.youtube_base),
                name: s.title.clone().or(s.channel_id.clone()),
            }));
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
    // Each feed on its own: a channel that is gone (404) or a server having a bad minute
    // (500, a timeout) must not cost the others' uploads. A file the person named is
    // their input, though, and one that does not read is an error.
    let mut videos = Vec::new();
    let mut failed = 0usize;
    let mut answered = 0usize;
    for source in &sources {
        match channel_feeds::fetch(&source.url).and_then(|text| channel_feeds::parse_feed(&text, &source.url)) {
            Ok(found) => {
                eprintln!("vrd-ingest: {}: {} entries", source.url, found.len());
                answered += 1;
                videos.extend(found);
            }
            Err(e) if channel_feeds::is_remote(&source.url) => {
                eprintln!("vrd-ingest: {}: {e:#}", source.label());
                failed += 1;
            }
            Err(e) => return Err(e),
        }
    }
    if answered == 0 {
        anyhow::bail!("none of the {failed} channel feeds answered (each said why above)");
    }
    if failed > 0 {
        eprintln!(
            "vrd-ingest: channel feeds: {answered} answered, {failed} failed; what answered is {}",
            if args.db.is_some() { "stored" } else { "written" }
        );
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

/// A feed to read: its URL (or file) and, where known, the channel's name.
struct Source {
    url: String,
    name: Option<String>,
}

impl Source {
    /// How a failure names it: the channel and its URL.
    fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.url),
            None => self.url.clone(),
        }
    }
}
