//! `vrd-ingest rss`: channel feeds (files, URLs, an OPML list) → candidate videos; with a
//! store and no feeds named, the channels the store follows, fetched as its plan says
//! (`crate::reach`); `--plan` prints that plan.

use super::write_jsonl;
use crate::channel_feeds;
use crate::reach::{fetch, plan, StoreInputs};
use anyhow::{Context, Result};
use std::path::PathBuf;
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::WatchEvent;
use vrd_core::time::Timestamp;
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
    /// channels the store follows that are due (its plan: the subscriptions, the channels
    /// watched, those of saved videos and the discovered ones).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Print the plan of the channels followed (JSONL: channel_id, title, reasons, score,
    /// interval_hours, uploads_per_day, last_fetched, next_due) and fetch nothing; from
    /// --db, or --history alone.
    #[arg(long)]
    pub plan: bool,
    /// With --plan and no store: plan from this watch history (JSONL) alone.
    #[arg(long, requires = "plan", conflicts_with = "db")]
    pub history: Option<PathBuf>,
    /// The moment of the run (default now): the plan's (what was watched after it is not
    /// known yet), what is due, and what is old enough to leave the store.
    #[arg(long, value_parser = vrd_cli::time_arg)]
    pub at: Option<Timestamp>,
    /// The fetches a day the plan shares out among the channels.
    #[arg(long, default_value_t = plan::DEFAULT_FETCHES_PER_DAY)]
    pub fetches_per_day: f64,
    /// At most this many channel fetches a run.
    #[arg(long, default_value_t = 60)]
    pub max_fetches: usize,
    /// No fetch starts after this long (the cron job runs every half hour).
    #[arg(long, default_value = "10m", value_parser = vrd_cli::duration_arg)]
    pub time_budget: chrono::Duration,
    /// The random pause after each fetch, in milliseconds, between MIN,MAX.
    #[arg(long, env = "VRD_FETCH_PAUSE_MS", default_value = "300,1500", value_parser = pause_arg)]
    pub pause_ms: (u64, u64),
    /// With --db and the followed channels fetched: uploads published more than this many
    /// days before --at (and the feeds stored that long ago) leave the store, unless they are
    /// watched, saved, answered or in a feed kept; the store stays bounded.
    #[arg(long, env = "VRD_KEEP_DAYS", default_value_t = 60)]
    pub keep_days: u32,
    /// Where YouTube channel feeds are fetched from (a mirror or proxy serving the same
    /// `/feeds/videos.xml?channel_id=…` paths).
    #[arg(long, env = "VRD_YOUTUBE_BASE", default_value = vrd_core::records::Subscription::YOUTUBE)]
    pub youtube_base: String,
}

fn pause_arg(s: &str) -> Result<(u64, u64), String> {
    let parse = |t: &str| t.trim().parse::<u64>().map_err(|_| format!("{s:?}: expected MIN,MAX in milliseconds"));
    let (lo, hi) = s.split_once(',').ok_or_else(|| format!("{s:?}: expected MIN,MAX in milliseconds"))?;
    let (lo, hi) = (parse(lo)?, parse(hi)?);
    if lo > hi {
        return Err(format!("{s:?}: MIN is above MAX"));
    }
    Ok((lo, hi))
}

/// At most this many fetches at once: a person's feed reader, not a crawler.
const AT_ONCE: usize = 3;

pub fn run(args: &RssArgs) -> Result<()> {
    if args.plan {
        return print_plan(args);
    }
    if args.feeds.is_empty() && args.opml.is_none() {
        if let Some(db) = &args.db {
            return fetch_followed(args, db);
        }
    }
    let mut sources: Vec<Source> = args.feeds.iter().map(|f| Source { url: f.clone(), name: None }).collect();
    if let Some(path) = &args.opml {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let outlines = channel_feeds::opml_outlines(&text, &path.display().to_string())?;
        sources.extend(outlines.into_iter().map(|(url, name)| Source { url, name }));
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

/// What is older than `--keep-days` leaves the store (`Store::prune`).
fn prune(args: &RssArgs, store: &mut Store) -> Result<()> {
    let before = args.at.unwrap_or_else(chrono::Utc::now) - chrono::Duration::days(i64::from(args.keep_days));
    let pruned = store.prune(&before)?;
    if pruned.videos + pruned.feed_lines > 0 {
        eprintln!(
            "vrd-ingest: {}: {} uploads and {} feed lines older than {} days left the store",
            store.path().display(),
            pruned.videos,
            pruned.feed_lines,
            args.keep_days
        );
    }
    Ok(())
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

/// `--plan`: the plan as JSONL, from the store or a watch history file.
fn print_plan(args: &RssArgs) -> Result<()> {
    let settings =
        plan::Settings { at: args.at.unwrap_or_else(chrono::Utc::now), fetches_per_day: args.fetches_per_day };
    let planned = match (&args.db, &args.history) {
        (Some(db), _) => {
            if !db.is_file() {
                anyhow::bail!("{}: no such store (vrd-ingest takeout --db makes it)", db.display());
            }
            StoreInputs::read(&Store::open(db)?)?.plan(&settings)
        }
        (None, Some(path)) => {
            let watches: Vec<WatchEvent> = JsonlReader::open(Some(path))?.read_all()?;
            let inputs = plan::Inputs {
                watches: &watches,
                subscriptions: &[],
                saved: &[],
                discovered: &[],
                videos: &[],
                fetches: &[],
            };
            plan::plan(&inputs, &settings)
        }
        (None, None) => return Err(UsageError("--plan needs --db STORE or --history FILE".into()).into()),
    };
    eprintln!(
        "vrd-ingest: plan: {} channels followed, {:.0} fetches a day",
        planned.len(),
        plan::fetches_per_day(&planned)
    );
    write_jsonl(&planned, args.output.as_deref())
}

/// With a store and no feeds named: the channels it follows that are due, fetched politely;
/// what answered stored, each channel's fetch kept. Fails only when something was due and
/// nothing at all answered.
fn fetch_followed(args: &RssArgs, db: &std::path::Path) -> Result<()> {
    let mut store = Store::create(db)?;
    let inputs = StoreInputs::read(&store)?;
    let now = args.at.unwrap_or_else(chrono::Utc::now);
    let planned = inputs.plan(&plan::Settings { at: now, fetches_per_day: args.fetches_per_day });
    if planned.is_empty() {
        // A cron job's run before any channel is known: nothing to do yet.
        eprintln!(
            "vrd-ingest: no channels to follow yet (vrd-ingest takeout --db brings the history and subscriptions)"
        );
        return Ok(());
    }
    let settings = fetch::Settings {
        youtube_base: args.youtube_base.clone(),
        max_fetches: args.max_fetches,
        time_budget: args.time_budget.to_std().unwrap_or_default(),
        workers: AT_ONCE,
        pause: (std::time::Duration::from_millis(args.pause_ms.0), std::time::Duration::from_millis(args.pause_ms.1)),
        now,
    };
    let mut report = fetch::run(&planned, &inputs.fetches, &settings, true)?;
    // Subscriptions that are no YouTube channel (an OPML list's podcasts, blogs): few, and
    // fetched every run.
    for other in inputs.subscriptions.iter().filter(|s| s.channel_id.is_none()) {
        let source = Source { url: other.feed.clone(), name: other.title.clone() };
        match channel_feeds::fetch(&source.url).and_then(|text| channel_feeds::parse_feed(&text, &source.url)) {
            Ok(found) => {
                report.fetched += 1;
                report.videos.extend(found);
            }
            Err(e) => {
                report.failed.push(format!("{}: {e:#}", source.label()));
                report.failed_not_gone += 1;
            }
        }
    }
    for failure in &report.failed {
        eprintln!("vrd-ingest: {failure}");
    }
    let counts = store.upsert_videos(&report.videos)?;
    store.upsert_channel_fetches(&report.updates)?;
    eprintln!("vrd-ingest: {}", report.summary(planned.len()));
    eprintln!("vrd-ingest: {}: videos {counts}", db.display());
    prune(args, &mut store)?;
    if report.nothing_answered() {
        anyhow::bail!("none of the {} channel feeds tried answered (each said why above)", report.failed.len());
    }
    Ok(())
}
