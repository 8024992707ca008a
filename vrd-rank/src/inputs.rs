//! What a run ranks from: the candidates, the watch history, the searches and the answers,
//! from the files given, else from the store; and, from the store, where each candidate
//! came from.

use crate::cli::Cli;
use anyhow::Result;
use std::collections::{HashMap, HashSet};
use vrd_core::records::{Label, Search, Video, WatchEvent};
use vrd_core::usage::UsageError;
use vrd_store::person::{self, Answers, Person, PersonFiles, Wanted};

/// How old an upload of the store's may be to stay in the feed, by default.
const STORE_MAX_AGE_DAYS: f64 = 30.0;

/// What a run ranks from.
pub struct Inputs {
    /// Without the uploads too old for the feed (`--max-age-days`), saved ones kept.
    pub candidates: Vec<Video>,
    /// Where the candidates came from (from the store), for the reasons and the places kept.
    pub origins: Origins,
    /// Every video the store holds or the history names: the embeddings cache keeps rows for
    /// these alone (None without a store: a file's cache is not pruned).
    pub stored_ids: Option<HashSet<String>>,
    pub history: Vec<WatchEvent>,
    /// Only for the cold start and the next-watch model (`with_searches`).
    pub searches: Vec<Search>,
    /// The person's answers (uninterest, not now; liked videos for --explain).
    pub labels: Vec<Label>,
}

/// Candidates, watch history, labels and (`with_searches`: for the cold start and the
/// next-watch model) searches
/// from the files given, else from the store (`--db`, opened once for all of them).
pub fn read(cli: &Cli, with_searches: bool) -> Result<Inputs> {
    let wants_store = cli.candidates.is_none()
        || cli.history.is_none()
        || cli.labels.is_none()
        || (with_searches && cli.searches.is_none());
    let store = match &cli.db {
        Some(db) if wants_store => Some(vrd_store::Store::open(db)?),
        _ => None,
    };
    let all_stored: Vec<String> = match &store {
        Some(store) => store.videos()?.into_iter().map(|v| v.video_id).collect(),
        None => Vec::new(),
    };
    let max_age_days = match (&cli.candidates, &store) {
        (Some(_), _) => cli.max_age_days,
        (None, Some(_)) => Some(cli.max_age_days.unwrap_or(STORE_MAX_AGE_DAYS)),
        (None, None) => return Err(UsageError("no candidates: pass --candidates FILE or --db STORE".into()).into()),
    };
    let files = PersonFiles {
        videos: cli.candidates.as_deref(),
        history: cli.history.as_deref(),
        searches: cli.searches.as_deref(),
        labels: cli.labels.as_deref(),
        events: None,
    };
    let wanted = Wanted { searches: with_searches, events: false, answers: Answers::History };
    let Person { videos: candidates, history, searches, labels, .. } = person::read(&files, store.as_ref(), wanted)?;
    let saved: HashSet<String> = match &store {
        Some(store) => store.saved_videos()?.into_iter().map(|s| s.video_id).collect(),
        None => Default::default(),
    };
    let candidates = match max_age_days {
        Some(days) => {
            let oldest = cli.at.unwrap_or_else(chrono::Utc::now) - chrono::Duration::seconds((days * 86_400.0) as i64);
            candidates
                .into_iter()
                .filter(|v| saved.contains(&v.video_id) || v.published_at.is_none_or(|p| p >= oldest))
                .collect()
        }
        None => candidates,
    };
    let stored_ids = store.as_ref().map(|_| {
        let mut ids: HashSet<String> = all_stored.iter().cloned().collect();
        ids.extend(history.iter().map(|e| e.video_id.clone()));
        ids
    });
    let origins = match &store {
        Some(store) => Origins::read(store, &candidates, &history, &saved, cli.at.unwrap_or_else(chrono::Utc::now))?,
        None => Origins::default(),
    };
    Ok(Inputs { candidates, origins, stored_ids, history, searches, labels })
}

/// Where each candidate came from, said first among its reasons: a video the person saved,
/// one of a channel they watch (and how often lately), one of a channel discovery found
/// (which `--mode explore` keeps places for), one of a channel they subscribe to.
#[derive(Default)]
pub struct Origins {
    /// Video id → the words.
    pub words: HashMap<String, String>,
    /// The videos of newly discovered channels.
    pub discovered: HashSet<String>,
}

impl Origins {
    fn read(
        store: &vrd_store::Store,
        candidates: &[Video],
        history: &[WatchEvent],
        saved: &HashSet<String>,
        now: vrd_core::time::Timestamp,
    ) -> Result<Origins> {
        // Each watched channel's watches, and those of the last eight weeks.
        let mut watched: HashMap<&str, (usize, usize, vrd_core::time::Timestamp)> = HashMap::new();
        for e in history {
            if let Some(c) = e.channel_id.as_deref() {
                let w = watched.entry(c).or_insert((0, 0, e.watched_at));
                w.0 += 1;
                w.1 += usize::from(now - e.watched_at <= chrono::Duration::weeks(8));
                w.2 = w.2.max(e.watched_at);
            }
        }
        let found: HashMap<String, vrd_core::reach::Reason> = store
            .discovered_channels()?
            .into_iter()
            .filter(|d| !watched.contains_key(d.channel_id.as_str()))
            .filter(|d| now - d.found_at <= chrono::Duration::days(vrd_core::reach::DISCOVERED_DAYS))
            .map(|d| (d.channel_id.clone(), d.reason()))
            .collect();
        let subscribed: HashSet<String> = store
            .subscriptions()?
            .into_iter()
            .filter_map(|s| s.channel_id)
            .filter(|c| !watched.contains_key(c.as_str()))
            .collect();
        let mut origins = Origins::default();
        for v in candidates {
            let channel = v.channel_id.as_deref().unwrap_or("");
            let words = if saved.contains(&v.video_id) {
                Some("saved for later".to_string())
            } else if let Some(reason) = found.get(channel) {
                origins.discovered.insert(v.video_id.clone());
                Some(reason.words())
            } else if let Some(&(watches, recent, latest)) = watched.get(channel) {
                let per_week = recent as f64 / 8.0;
                Some(vrd_core::reach::Reason::Watched { watches, latest, per_week }.words())
            } else if subscribed.contains(channel) {
                Some(vrd_core::reach::Reason::Subscribed.words())
            } else {
                None
            };
            if let Some(words) = words {
                origins.words.insert(v.video_id.clone(), words);
            }
        }
        Ok(origins)
    }
}
