//! vrd-ingest: turns a person's exported histories into vrd's JSONL records.
//!
//! This file parses the command line and dispatches to `cmd/`, one module per subcommand;
//! the parsers of each format are the other modules.

mod channel_feeds;
mod cmd;
mod fuzz;
mod live_watches;
mod reach;
mod stats;
mod subscriptions;
mod takeout;
mod youtube;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "vrd-ingest", about = "Turn exported histories into vrd JSONL records")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Google Takeout watch history (`watch-history.json` or `watch-history.html`) → watch
    /// events (JSONL), oldest first. Given the whole Takeout (its folder or .zip) and
    /// --db: the watch and search histories, subscriptions and liked/disliked lists, in
    /// any account language, into the store.
    ///
    /// Ads, removed videos and community posts are skipped and counted on stderr; a watch
    /// named by its URL only is kept with its title unknown.
    Takeout(cmd::takeout::TakeoutFile),
    /// Google Takeout search history (`search-history.json` or `.html`) → the person's
    /// YouTube searches (JSONL), oldest first; the cold-start feed weighs them beside the
    /// watches.
    Searches(cmd::takeout::TakeoutFile),
    /// ActivityWatch → the "active window while not AFK" timeline as app events (JSONL),
    /// from a running server or an export file; with --db also the watches seen live (the
    /// browser extension's YouTube tabs; --watches writes those as JSONL instead).
    Aw(cmd::aw::AwArgs),
    /// Watch counts by channel, hour of the day or day of the week, from watch events
    /// (JSONL) or the store.
    Stats(cmd::stats::StatsArgs),
    /// YouTube Data API v3: video details, channel uploads, the person's likes/dislikes.
    Youtube(youtube::YoutubeArgs),
    /// Channel feeds (YouTube channel Atom, other Atom/RSS) → candidate videos (JSONL).
    Rss(cmd::rss::RssArgs),
    /// Takeout's subscriptions.csv (or an OPML list) → the subscribed feeds (JSONL, or
    /// into the store for `rss --db`).
    Subscriptions(cmd::subscriptions::SubscriptionsArgs),
}

fn main() -> ! {
    let cli: Cli = vrd_cli::parse_args();
    vrd_cli::run("vrd-ingest", || match cli.command {
        Command::Takeout(t) => cmd::takeout::run_watches(&t),
        Command::Searches(t) => cmd::takeout::run_searches(&t),
        Command::Aw(args) => cmd::aw::run(&args),
        Command::Youtube(args) => youtube::run(args),
        Command::Stats(args) => cmd::stats::run(&args),
        Command::Rss(args) => cmd::rss::run(&args),
        Command::Subscriptions(args) => cmd::subscriptions::run(&args),
    })
}
