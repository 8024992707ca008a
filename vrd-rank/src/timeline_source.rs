//! Where a feed's app timeline comes from: `--events` (a file), else `--aw` (an export),
//! else, with `--db`, the store's (what `vrd-ingest aw --db` put there, and what training
//! from the store read) completed by the server past where it reaches; else the server.
//! With `--db` and the server down, the store's timeline is all there is: the feed is
//! ranked on it, and says since when the activity is unknown.

use crate::cli::Cli;
use anyhow::{Context, Result};
use vrd_aw::hosts::{HostBuckets, Hosts};
use vrd_aw::options::AwOptions;
use vrd_aw::timeline::Source;
use vrd_core::context::Timeline;
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::AppEvent;
use vrd_core::time::Timestamp;
use vrd_store::Store;

/// What a feed asks when the server cannot give the current activity.
const NO_ACTIVITY: &str = "cannot get the current activity; pass --events FILE --at TIME, or rank with --cold-start";

/// The timeline a feed is ranked with, and where it stops short of the moment.
pub struct Activity {
    pub timeline: Timeline,
    /// Where the server did not answer: since when the activity is unknown, in words for
    /// the feed's reasons and the page ("your activity since Tue 14:05 is unknown: …").
    pub unknown: Option<String>,
}

pub struct ActivitySource<'a> {
    cli: &'a Cli,
    aw: AwOptions,
}

impl<'a> ActivitySource<'a> {
    /// The server's options are checked here, first (a key file others can read is
    /// refused); its client is made only when the timeline is asked of it.
    pub fn new(cli: &'a Cli) -> Result<ActivitySource<'a>> {
        let aw = cli.aw_options.options();
        if cli.events.is_none() && cli.aw.is_none() {
            aw.check()?;
        }
        Ok(ActivitySource { cli, aw })
    }

    /// The timeline of `period` (the moment ranked for is its end).
    pub fn timeline(&self, period: (Timestamp, Timestamp)) -> Result<Activity> {
        let (cli, aw) = (self.cli, &self.aw);
        let mut unknown = None;
        let (events, name) = match (&cli.events, &cli.aw, &cli.db) {
            (Some(path), _, _) => {
                let events: Vec<AppEvent> = JsonlReader::open(Some(path))?.read_all()?;
                (events, path.display().to_string())
            }
            (None, Some(path), _) => {
                let export = vrd_aw::export::Export::read(path)?;
                let source = Source::Export(&export);
                let events = source
                    .all_app_events(&aw.hosts, &source.rules(None)?, period, aw.audible_active)
                    .with_context(|| format!("{}: pass --aw-hostname or --aw-all-hosts", path.display()))?;
                (events, path.display().to_string())
            }
            (None, None, Some(db)) => {
                let (events, name, gap) = self.stored_and_after(db, period)?;
                unknown = gap;
                (events, name)
            }
            (None, None, None) => (self.server_events(None, period).context(NO_ACTIVITY)?, aw.server.clone()),
        };
        Ok(Activity { timeline: vrd_encoder::context_file::timeline(events, &name)?, unknown })
    }

    /// The store's timeline of `period`; where it does not reach the period's end, the
    /// server's after it, each host from where its stored timeline ends. A cron feed that
    /// ingests just before it ranks so asks the server for seconds, not a fortnight; a
    /// past moment the store reaches needs no server. Where the server does not answer,
    /// the store's timeline alone, with since when the activity is unknown (third).
    fn stored_and_after(
        &self,
        db: &std::path::Path,
        (since, at): (Timestamp, Timestamp),
    ) -> Result<(Vec<AppEvent>, String, Option<String>)> {
        let store = Store::open(db)?;
        // Events that start up to a day before the period may reach into it (as training
        // from the store reads them).
        let mut events = store.app_events(Some(&(since - chrono::Duration::days(1))), Some(&at))?;
        if let Hosts::Named(names) = &self.aw.hosts {
            events.retain(|e| e.host.as_ref().is_none_or(|h| names.contains(h)));
        }
        let name = db.display().to_string();
        let reach = store.app_events_reach()?;
        if reach.is_some_and(|reach| reach >= at) {
            return Ok((events, name, None));
        }
        match self.server_events(Some(&store), (since, at)) {
            Ok(tail) => {
                events.extend(tail);
                events.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.host.cmp(&b.host)));
                Ok((events, format!("{name} and {}", self.aw.server), None))
            }
            Err(e) => {
                let unknown = unknown_since(reach)?;
                if !self.cli.quiet {
                    eprintln!(
                        "vrd-rank: {e:#}: {unknown}, so the feed is ranked with the timeline {name} holds (vrd-ingest \
                         aw --db brings it up to date)"
                    );
                }
                Ok((events, name, Some(unknown)))
            }
        }
    }

    /// The chosen hosts' timelines of `period` from the server, categorised with its rules;
    /// with a store, each host's from where the store's timeline of it ends.
    fn server_events(&self, store: Option<&Store>, (since, at): (Timestamp, Timestamp)) -> Result<Vec<AppEvent>> {
        let client = self.aw.client()?;
        let source = Source::Server(&client);
        let from = |host: &HostBuckets| -> Result<Timestamp> {
            let stored_end = store.map(|s| s.app_events_end(&host.window)).transpose()?.flatten();
            Ok(stored_end.map_or(since, |end| end.clamp(since, at)))
        };
        source.all_app_events_since(&self.aw.hosts, &source.rules(None)?, from, at, self.aw.audible_active)
    }
}

/// "your activity since Tue 14:05 is unknown (ActivityWatch did not answer)": when the
/// stored timeline ends, in the person's own time zone.
fn unknown_since(reach: Option<Timestamp>) -> Result<String> {
    let since = match reach {
        Some(reach) => {
            let tz = vrd_core::time::timezone_or_system(None)?;
            let format = match chrono::Utc::now() - reach < chrono::Duration::days(6) {
                true => "%a %H:%M",
                false => "%Y-%m-%d %H:%M",
            };
            format!(" since {}", reach.with_timezone(&tz).format(format))
        }
        None => String::new(),
    };
    Ok(format!("your activity{since} is unknown (ActivityWatch did not answer)"))
}
