//! The local SQLite store: one file holding what every tool ingests, labels and ranks.
//!
//! Opened in WAL mode with a busy timeout, so a cron ingest and a labelling session can
//! work at once; every batch is written in one transaction, so a killed run leaves the
//! last complete batch and never half of one; rows are upserted by their natural keys,
//! so ingesting the same file twice changes nothing. Each row keeps the record as its
//! JSON line (the same contract as the pipelines) beside its key columns. Times in keys
//! are RFC 3339 UTC text with a fixed number of fractional digits, so text order is time
//! order.

mod labels;
mod migrations;
pub mod person;

pub use labels::{count_by_kind, LabelCounts};

use anyhow::{Context, Result};
use chrono::SecondsFormat;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vrd_core::reach::{ChannelFetch, DiscoveredChannel, SavedVideo};
use vrd_core::records::{AppEvent, Search, Subscription, Video, WatchEvent, YoutubeTab};
use vrd_core::time::Timestamp;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl std::fmt::Display for UpsertCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} new, {} updated, {} unchanged", self.inserted, self.updated, self.unchanged)
    }
}

/// What [`Store::prune`] deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub videos: usize,
    pub feed_lines: usize,
}

/// A table of records under natural keys (names are fixed in code, never user input).
struct Table {
    name: &'static str,
    keys: &'static [&'static str],
}

const SEARCHES: Table = Table { name: "searches", keys: &["query", "searched_at"] };
const VIDEOS: Table = Table { name: "videos", keys: &["video_id"] };
const SUBSCRIPTIONS: Table = Table { name: "subscriptions", keys: &["feed"] };
const APP_EVENTS: Table = Table { name: "app_events", keys: &["bucket", "start"] };
const YOUTUBE_TABS: Table = Table { name: "youtube_tabs", keys: &["bucket", "start"] };
const CHANNEL_FETCHES: Table = Table { name: "channel_fetches", keys: &["channel_id"] };
const SAVED_VIDEOS: Table = Table { name: "saved_videos", keys: &["video_id"] };
const DISCOVERED: Table = Table { name: "discovered_channels", keys: &["channel_id"] };

/// How long a writer waits for another (a cron ingest beside a manual import) to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Switches to WAL. On a store another process is creating at the same moment the switch
/// can meet a lock that SQLite does not wait on (no busy handler for it), so it is retried
/// for as long as a writer would wait.
fn journal_mode_wal(conn: &Connection) -> rusqlite::Result<String> {
    let started = std::time::Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// A write transaction that takes the write lock at `BEGIN` (`BEGIN IMMEDIATE`). A deferred
/// one starts as a reader and upgrades at its first write; when another writer committed
/// in between, SQLite cannot wait (the reader's snapshot is stale) and fails at once with
/// "database is locked", whatever the busy timeout. Taken at the start, the lock is waited
/// for like any other.
pub(crate) fn write_transaction(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path).with_context(|| format!("cannot open store {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode = journal_mode_wal(&conn).with_context(|| format!("{}: not an SQLite database?", path.display()))?;
        if !mode.eq_ignore_ascii_case("wal") {
            anyhow::bail!("{}: cannot switch to WAL mode (got {mode})", path.display());
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut store = Store { conn, path: path.to_path_buf() };
        migrations::migrate(&mut store.conn).with_context(|| format!("{}: migrating the schema", path.display()))?;
        Ok(store)
    }

    /// [`Store::open`] for a tool that fills the store: a store in a folder that does not
    /// exist yet (a person's first `vrd-ingest … --db ~/.local/share/vrd/vrd.db`) is made
    /// there, folder and all.
    pub fn create(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Store::open(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Watches, each under its video and moment. One watch seen by two sources, one of them
    /// live (the browser's tab, then Takeout's history of the same minutes), is one row:
    /// the record arriving second is merged into the stored one
    /// ([`WatchEvent::merged_with`]), which keeps its moment. A live watch seen again as it
    /// grows (the same video and moment) is merged the same way, so Takeout's title and
    /// channel stay.
    pub fn upsert_watch_events(&mut self, events: &[WatchEvent]) -> Result<UpsertCounts> {
        let window = chrono::Duration::minutes(WatchEvent::SAME_WATCH_MINUTES);
        let path = self.path.clone();
        let tx = write_transaction(&mut self.conn)?;
        let mut counts = UpsertCounts::default();
        {
            let mut near = tx.prepare_cached(
                "SELECT record FROM watch_events WHERE video_id = ?1 AND watched_at BETWEEN ?2 AND ?3",
            )?;
            let mut write = tx.prepare_cached(
                "INSERT INTO watch_events (video_id, watched_at, record) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (video_id, watched_at) DO UPDATE SET record = excluded.record",
            )?;
            for event in events {
                let (from, to) = (store_time(&(event.watched_at - window)), store_time(&(event.watched_at + window)));
                let stored: Vec<(String, WatchEvent)> = near
                    .query_map((&event.video_id, &from, &to), |r| r.get::<_, String>(0))?
                    .map(|text| {
                        let text = text?;
                        let record = serde_json::from_str(&text)
                            .with_context(|| format!("{}: corrupt watch record {text:?}", path.display()))?;
                        Ok((text, record))
                    })
                    .collect::<Result<_>>()?;
                let same_key = stored.iter().find(|(_, old)| old.watched_at == event.watched_at);
                let same_watch = || {
                    stored
                        .iter()
                        .filter(|(_, old)| old.is_same_watch(event))
                        .min_by_key(|(_, old)| (old.watched_at - event.watched_at).num_milliseconds().abs())
                };
                let (old_text, record) = match same_key.or_else(same_watch) {
                    Some((text, old)) if old.watched_at != event.watched_at || old.is_live() || event.is_live() => {
                        (Some(text), old.merged_with(event))
                    }
                    Some((text, _)) => (Some(text), event.clone()),
                    None => (None, event.clone()),
                };
                let text = serde_json::to_string(&record)?;
                match old_text {
                    Some(old) if *old == text => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                    None => counts.inserted += 1,
                }
                write.execute((&record.video_id, store_time(&record.watched_at), &text))?;
            }
        }
        tx.commit().with_context(|| format!("{}: writing watch_events", self.path.display()))?;
        Ok(counts)
    }

    /// Stretches of YouTube videos in the browser's active tab, under their bucket and
    /// start (a stretch the web watcher kept extending is replaced by its longer self).
    pub fn upsert_youtube_tabs(&mut self, tabs: &[YoutubeTab]) -> Result<UpsertCounts> {
        let rows = tabs.iter().map(|t| (vec![t.bucket.clone(), store_time(&t.start)], t));
        self.upsert(&YOUTUBE_TABS, rows, replace)
    }

    /// Every stored YouTube tab stretch of these videos, in time order (a watch is made of
    /// its own video's stretches alone).
    pub fn youtube_tabs_of(&self, video_ids: &[&str]) -> Result<Vec<YoutubeTab>> {
        let mut tabs = Vec::new();
        for id in video_ids {
            tabs.extend(
                self.records::<YoutubeTab>(
                    "SELECT record FROM youtube_tabs WHERE video_id = ?1 ORDER BY start",
                    &[id],
                )?,
            );
        }
        tabs.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.bucket.cmp(&b.bucket)));
        Ok(tabs)
    }

    /// The latest stored YouTube tab stretch of a web watcher's bucket.
    pub fn last_youtube_tab(&self, bucket: &str) -> Result<Option<YoutubeTab>> {
        let last: Vec<YoutubeTab> =
            self.records("SELECT record FROM youtube_tabs WHERE bucket = ?1 ORDER BY start DESC LIMIT 1", &[&bucket])?;
        Ok(last.into_iter().next())
    }

    /// How far `source` (e.g. a web watcher's bucket) was read by the last ingest.
    pub fn read_mark(&self, source: &str) -> Result<Option<Timestamp>> {
        let until: Option<String> =
            self.conn.query_row("SELECT until FROM read_marks WHERE source = ?1", [source], |r| r.get(0)).optional()?;
        until
            .map(|t| {
                vrd_core::time::parse_rfc3339(&t)
                    .with_context(|| format!("{}: corrupt read mark {t:?} of {source}", self.path.display()))
            })
            .transpose()
    }

    pub fn set_read_mark(&mut self, source: &str, until: &Timestamp) -> Result<()> {
        self.conn.execute(
            "INSERT INTO read_marks (source, until) VALUES (?1, ?2) ON CONFLICT (source) DO UPDATE SET until = excluded.until",
            (source, store_time(until)),
        )?;
        Ok(())
    }

    /// What the store keeps of channels' fetches (replacing what it had of each).
    pub fn upsert_channel_fetches(&mut self, fetches: &[ChannelFetch]) -> Result<UpsertCounts> {
        self.upsert(&CHANNEL_FETCHES, fetches.iter().map(|f| (vec![f.channel_id.clone()], f)), replace)
    }

    /// Every channel's fetch record.
    pub fn channel_fetches(&self) -> Result<Vec<ChannelFetch>> {
        self.records("SELECT record FROM channel_fetches ORDER BY channel_id", &[])
    }

    /// Videos the person saved, once each (the first playlist it was found on stays).
    pub fn upsert_saved_videos(&mut self, saved: &[SavedVideo]) -> Result<UpsertCounts> {
        self.upsert(&SAVED_VIDEOS, saved.iter().map(|v| (vec![v.video_id.clone()], v)), keep_first)
    }

    pub fn saved_videos(&self) -> Result<Vec<SavedVideo>> {
        self.records("SELECT record FROM saved_videos ORDER BY video_id", &[])
    }

    /// Channels discovery found (the first finding of each stays: a channel is not new
    /// again because another search finds it).
    pub fn upsert_discovered(&mut self, found: &[DiscoveredChannel]) -> Result<UpsertCounts> {
        self.upsert(&DISCOVERED, found.iter().map(|c| (vec![c.channel_id.clone()], c)), keep_first)
    }

    pub fn discovered_channels(&self) -> Result<Vec<DiscoveredChannel>> {
        self.records("SELECT record FROM discovered_channels ORDER BY channel_id", &[])
    }

    /// Logs Data API units spent (`quota`: the bucket they come out of, `search` or
    /// `units`).
    pub fn log_api_spend(&mut self, at: &Timestamp, quota: &str, units: u32, what: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO api_spend (at, quota, units, what) VALUES (?1, ?2, ?3, ?4)",
            (store_time(at), quota, units, what),
        )?;
        Ok(())
    }

    /// What the units spent in `[from, to)` were spent on (the log's `what`), each once.
    pub fn api_spend_whats(&self, from: &Timestamp, to: &Timestamp) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT DISTINCT what FROM api_spend WHERE at >= ?1 AND at < ?2")?;
        let whats = stmt.query_map((store_time(from), store_time(to)), |r| r.get::<_, String>(0))?;
        Ok(whats.collect::<rusqlite::Result<_>>()?)
    }

    /// Units of `quota` spent in `[from, to)`.
    pub fn api_spent(&self, quota: &str, from: &Timestamp, to: &Timestamp) -> Result<u32> {
        let spent: Option<i64> = self.conn.query_row(
            "SELECT SUM(units) FROM api_spend WHERE quota = ?1 AND at >= ?2 AND at < ?3",
            (quota, store_time(from), store_time(to)),
            |r| r.get(0),
        )?;
        Ok(spent.unwrap_or(0) as u32)
    }

    /// Keeps the store bounded: the feeds ranked before `before` (and their notes), and the
    /// videos published before it that nothing else holds on to (not watched, saved,
    /// answered, or in a feed kept), are deleted. A video of unknown date stays.
    pub fn prune(&mut self, before: &Timestamp) -> Result<Pruned> {
        let cut = store_time(before);
        // A video's published_at is its record's RFC 3339 text, "2026-11-21T09:00:00Z":
        // compared as text with the cut, it errs by less than a second.
        let tx = write_transaction(&mut self.conn)?;
        let feeds = tx.execute("DELETE FROM feeds WHERE ranked_at < ?1", [&cut])?;
        tx.execute("DELETE FROM feed_notes WHERE ranked_at < ?1", [&cut])?;
        let videos = tx.execute(
            "DELETE FROM videos WHERE json_extract(record, '$.published_at') < ?1 \
             AND video_id NOT IN (SELECT video_id FROM watch_events) \
             AND video_id NOT IN (SELECT video_id FROM saved_videos) \
             AND video_id NOT IN (SELECT video_id FROM labels) \
             AND video_id NOT IN (SELECT video_id FROM feeds)",
            [&cut],
        )?;
        tx.commit().with_context(|| format!("{}: pruning", self.path.display()))?;
        Ok(Pruned { videos, feed_lines: feeds })
    }

    /// The latest watch seen live ([`WatchEvent::is_live`]), if any.
    pub fn latest_live_watch(&self) -> Result<Option<WatchEvent>> {
        let sources = vrd_core::records::LIVE_SOURCES;
        let latest: Vec<WatchEvent> = self.records(
            "SELECT record FROM watch_events WHERE json_extract(record, '$.source') IN (?1, ?2, ?3) \
             ORDER BY watched_at DESC LIMIT 1",
            &[&sources[0], &sources[1], &sources[2]],
        )?;
        Ok(latest.into_iter().next())
    }

    pub fn upsert_searches(&mut self, searches: &[Search]) -> Result<UpsertCounts> {
        let rows = searches.iter().map(|q| (vec![q.query.clone(), store_time(&q.searched_at)], q));
        self.upsert(&SEARCHES, rows, replace)
    }

    /// Every search, oldest first.
    pub fn searches(&self) -> Result<Vec<Search>> {
        self.records("SELECT record FROM searches ORDER BY searched_at, query", &[])
    }

    pub fn upsert_subscriptions(&mut self, subscriptions: &[Subscription]) -> Result<UpsertCounts> {
        self.upsert(&SUBSCRIPTIONS, subscriptions.iter().map(|s| (vec![s.feed.clone()], s)), replace)
    }

    /// Every subscribed feed, by URL.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>> {
        self.records("SELECT record FROM subscriptions ORDER BY feed", &[])
    }

    /// Videos are merged into what the store knows ([`Video::merged_over`]): a feed entry
    /// does not erase the Data API's details.
    pub fn upsert_videos(&mut self, videos: &[Video]) -> Result<UpsertCounts> {
        let path = self.path.clone();
        let merge = |new: &Video, old: Option<&str>| -> Result<String> {
            let Some(old) = old else { return Ok(serde_json::to_string(new)?) };
            let old: Video = serde_json::from_str(old)
                .with_context(|| format!("{}: corrupt video record {old:?}", path.display()))?;
            Ok(serde_json::to_string(&new.clone().merged_over(old))?)
        };
        self.upsert(&VIDEOS, videos.iter().map(|v| (vec![v.video_id.clone()], v)), merge)
    }

    pub fn upsert_app_events(&mut self, events: &[AppEvent]) -> Result<UpsertCounts> {
        let rows = events.iter().map(|e| (vec![e.bucket.clone(), store_time(&e.start)], e));
        self.upsert(&APP_EVENTS, rows, replace)
    }

    /// Stores a feed under the moment it was ranked for, with what it says of itself
    /// (`notes`, in words: e.g. since when its activity is unknown), replacing an earlier
    /// feed for the same moment (one transaction).
    pub fn save_feed(
        &mut self,
        ranked_at: &Timestamp,
        feed: &[vrd_core::records::FeedItem],
        notes: &[String],
    ) -> Result<()> {
        let at = store_time(ranked_at);
        let tx = write_transaction(&mut self.conn)?;
        tx.execute("DELETE FROM feeds WHERE ranked_at = ?1", [&at])?;
        tx.execute("DELETE FROM feed_notes WHERE ranked_at = ?1", [&at])?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO feeds (ranked_at, rank, video_id, record) VALUES (?1, ?2, ?3, ?4)")?;
            for item in feed {
                insert.execute((&at, item.rank as i64, &item.video_id, serde_json::to_string(item)?))?;
            }
        }
        if !notes.is_empty() {
            tx.execute(
                "INSERT INTO feed_notes (ranked_at, notes) VALUES (?1, ?2)",
                (&at, serde_json::to_string(notes)?),
            )?;
        }
        tx.commit().with_context(|| format!("{}: writing the feed", self.path.display()))?;
        Ok(())
    }

    /// The latest stored feed and the moment it was ranked for.
    pub fn latest_feed(&self) -> Result<Option<(String, Vec<vrd_core::records::FeedItem>)>> {
        let at: Option<String> =
            self.conn.query_row("SELECT max(ranked_at) FROM feeds", [], |r| r.get(0)).optional()?.flatten();
        let Some(at) = at else { return Ok(None) };
        let items = self.records("SELECT record FROM feeds WHERE ranked_at = ?1 ORDER BY rank", &[&at])?;
        Ok(Some((at, items)))
    }

    /// The moments stored feeds were ranked for, newest first.
    pub fn feed_moments(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT DISTINCT ranked_at FROM feeds ORDER BY ranked_at DESC")?;
        let moments = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(moments.collect::<rusqlite::Result<_>>()?)
    }

    /// The feed stored for `moment` (one of [`Store::feed_moments`]), in rank order.
    pub fn feed_at(&self, moment: &str) -> Result<Vec<vrd_core::records::FeedItem>> {
        self.records("SELECT record FROM feeds WHERE ranked_at = ?1 ORDER BY rank", &[&moment])
    }

    /// What the feed stored for `moment` says of itself (none for most feeds).
    pub fn feed_notes(&self, moment: &str) -> Result<Vec<String>> {
        let notes: Option<String> = self
            .conn
            .query_row("SELECT notes FROM feed_notes WHERE ranked_at = ?1", [moment], |r| r.get(0))
            .optional()?;
        match notes {
            Some(text) => serde_json::from_str(&text)
                .with_context(|| format!("{}: the notes of the feed of {moment}", self.path.display())),
            None => Ok(Vec::new()),
        }
    }

    /// Every feed stored for a moment from `since` on, oldest first, each in rank order.
    pub fn feeds_since(&self, since: &Timestamp) -> Result<Vec<(Timestamp, Vec<vrd_core::records::FeedItem>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT ranked_at FROM feeds WHERE ranked_at >= ?1 ORDER BY ranked_at")?;
        let moments: Vec<String> =
            stmt.query_map([store_time(since)], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?;
        moments
            .into_iter()
            .map(|m| {
                let at = vrd_core::time::parse_rfc3339(&m)
                    .with_context(|| format!("{}: corrupt feed moment {m:?}", self.path.display()))?;
                Ok((at, self.feed_at(&m)?))
            })
            .collect()
    }

    /// The latest stored YouTube tab stretch of any web watcher, if any.
    pub fn latest_youtube_tab(&self) -> Result<Option<YoutubeTab>> {
        let last: Vec<YoutubeTab> = self.records("SELECT record FROM youtube_tabs ORDER BY start DESC LIMIT 1", &[])?;
        Ok(last.into_iter().next())
    }

    /// The stored video records of these ids (those the store has).
    pub fn videos_by_id(&self, ids: &[String]) -> Result<Vec<Video>> {
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.records::<Video>("SELECT record FROM videos WHERE video_id = ?1", &[id])?);
        }
        Ok(out)
    }

    /// Every watch event, oldest first. A watch the export named by URL only takes its
    /// title and channel from the video's stored details once `vrd-ingest youtube videos
    /// --db` has fetched them (the stored watch itself stays as the export said).
    pub fn watch_events(&self) -> Result<Vec<WatchEvent>> {
        let mut events: Vec<WatchEvent> =
            self.records("SELECT record FROM watch_events ORDER BY watched_at, video_id", &[])?;
        // What a watch does not name (its title, from a URL-only Takeout entry; its channel,
        // from a live source), the video's stored details do.
        let lacking = |e: &WatchEvent| e.title_unknown || e.channel.is_none();
        let unknown: std::collections::BTreeSet<String> =
            events.iter().filter(|e| lacking(e)).map(|e| e.video_id.clone()).collect();
        if unknown.is_empty() {
            return Ok(events);
        }
        let details: std::collections::HashMap<String, Video> = self
            .videos_by_id(&unknown.into_iter().collect::<Vec<_>>())?
            .into_iter()
            .filter(|v| !v.title.is_empty())
            .map(|v| (v.video_id.clone(), v))
            .collect();
        for event in events.iter_mut().filter(|e| lacking(e)) {
            if let Some(video) = details.get(&event.video_id) {
                if event.title_unknown {
                    event.title = video.title.clone();
                    event.title_unknown = false;
                }
                event.channel = event.channel.take().or_else(|| video.channel.clone());
                event.channel_id = event.channel_id.take().or_else(|| video.channel_id.clone());
            }
        }
        Ok(events)
    }

    pub fn videos(&self) -> Result<Vec<Video>> {
        self.records("SELECT record FROM videos ORDER BY video_id", &[])
    }

    /// App events starting in `[from, to)` (unbounded where `None`), in time order.
    pub fn app_events(&self, from: Option<&Timestamp>, to: Option<&Timestamp>) -> Result<Vec<AppEvent>> {
        let from = from.map(store_time).unwrap_or_default();
        let to = to.map(store_time).unwrap_or_else(|| "9999".into());
        self.records(
            "SELECT record FROM app_events WHERE start >= ?1 AND start < ?2 ORDER BY start, bucket",
            &[&from, &to],
        )
    }

    /// Where an incremental ingest of `bucket` resumes: the end of its last stored event.
    pub fn app_events_end(&self, bucket: &str) -> Result<Option<Timestamp>> {
        let last: Vec<AppEvent> =
            self.records("SELECT record FROM app_events WHERE bucket = ?1 ORDER BY start DESC LIMIT 1", &[&bucket])?;
        Ok(last.first().map(event_end))
    }

    /// How far the stored timeline reaches: the latest end of any bucket's last event (an
    /// ingest reads every host up to the same moment).
    pub fn app_events_reach(&self) -> Result<Option<Timestamp>> {
        let lasts: Vec<AppEvent> = self.records(
            "SELECT record FROM app_events WHERE (bucket, start) IN \
             (SELECT bucket, MAX(start) FROM app_events GROUP BY bucket)",
            &[],
        )?;
        Ok(lasts.iter().map(event_end).max())
    }

    fn records<T: DeserializeOwned>(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(args, |r| r.get::<_, String>(0))?;
        rows.map(|r| {
            let text = r?;
            serde_json::from_str(&text).with_context(|| format!("{}: corrupt record {text:?}", self.path.display()))
        })
        .collect()
    }

    /// Writes a batch in one transaction: new keys inserted, changed records replaced (by
    /// what `render` makes of the new record and the stored text), identical ones left alone.
    fn upsert<'a, T: serde::Serialize + 'a>(
        &mut self,
        table: &Table,
        rows: impl Iterator<Item = (Vec<String>, &'a T)>,
        render: impl Fn(&T, Option<&str>) -> Result<String>,
    ) -> Result<UpsertCounts> {
        let key_cols = table.keys.join(", ");
        let key_match =
            table.keys.iter().enumerate().map(|(i, k)| format!("{k} = ?{}", i + 1)).collect::<Vec<_>>().join(" AND ");
        let placeholders = (1..=table.keys.len() + 1).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let select = format!("SELECT record FROM {} WHERE {key_match}", table.name);
        let write = format!(
            "INSERT INTO {} ({key_cols}, record) VALUES ({placeholders}) ON CONFLICT ({key_cols}) DO UPDATE SET record = excluded.record",
            table.name
        );
        let tx = write_transaction(&mut self.conn)?;
        let mut counts = UpsertCounts::default();
        {
            let mut select = tx.prepare_cached(&select)?;
            let mut write = tx.prepare_cached(&write)?;
            for (keys, record) in rows {
                let old: Option<String> = select.query_row(params_from_iter(keys.iter()), |r| r.get(0)).optional()?;
                let record = render(record, old.as_deref())?;
                match old {
                    Some(o) if o == record => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                    None => counts.inserted += 1,
                }
                write.execute(params_from_iter(keys.iter().chain(std::iter::once(&record))))?;
            }
        }
        tx.commit().with_context(|| format!("{}: writing {}", self.path.display(), table.name))?;
        Ok(counts)
    }
}

/// The plain upsert: the new record replaces the stored one.
fn replace<T: serde::Serialize>(new: &T, _old: Option<&str>) -> Result<String> {
    Ok(serde_json::to_string(new)?)
}

/// The upsert that keeps what is stored: the first record of a key stays.
fn keep_first<T: serde::Serialize>(new: &T, old: Option<&str>) -> Result<String> {
    match old {
        Some(old) => Ok(old.to_string()),
        None => Ok(serde_json::to_string(new)?),
    }
}

/// Fixed-width UTC text (microseconds), so that comparing strings compares times.
fn event_end(e: &AppEvent) -> Timestamp {
    e.start + chrono::Duration::microseconds((e.duration_s * 1e6).round() as i64)
}

pub fn store_time(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::time::parse_rfc3339;

    fn watch(id: &str, at: &str, title: &str) -> WatchEvent {
        WatchEvent {
            video_id: id.into(),
            title: title.into(),
            title_unknown: false,
            channel: None,
            channel_id: None,
            watched_at: parse_rfc3339(at).unwrap(),
            source: "t".into(),
            watched_s: None,
        }
    }

    #[test]
    fn watches_named_by_url_only_take_the_title_of_the_stored_video() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("vrd.sqlite")).unwrap();
        let mut untitled = watch("u", "2024-01-03T00:00:00Z", "");
        untitled.title_unknown = true;
        let mut other = watch("w", "2024-01-04T00:00:00Z", "");
        other.title_unknown = true;
        s.upsert_watch_events(&[untitled.clone(), other, watch("a", "2024-01-02T00:00:00Z", "A")]).unwrap();
        // Before the details are fetched the watch is there, its title unknown.
        assert_eq!(s.watch_events().unwrap()[1], untitled);
        let video: Video =
            serde_json::from_str(r#"{"video_id":"u","title":"Found","channel":"Chan","source":"youtube-api"}"#)
                .unwrap();
        s.upsert_videos(&[video]).unwrap();
        let events = s.watch_events().unwrap();
        let filled = &events[1];
        assert_eq!(
            (filled.title.as_str(), filled.channel.as_deref(), filled.title_unknown),
            ("Found", Some("Chan"), false)
        );
        assert_eq!(filled.watched_at, untitled.watched_at);
        assert!(events[2].title_unknown && events[2].title.is_empty(), "no details yet: still unknown");
        assert_eq!(events[0].title, "A");
    }

    #[test]
    fn searches_are_stored_once_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("vrd.sqlite")).unwrap();
        let search =
            |q: &str, at: &str| Search { query: q.into(), searched_at: parse_rfc3339(at).unwrap(), source: "t".into() };
        let batch = [search("b", "2024-01-02T00:00:00Z"), search("a", "2024-01-01T00:00:00Z")];
        assert_eq!(s.upsert_searches(&batch).unwrap(), UpsertCounts { inserted: 2, updated: 0, unchanged: 0 });
        assert_eq!(s.upsert_searches(&batch).unwrap(), UpsertCounts { inserted: 0, updated: 0, unchanged: 2 });
        let stored: Vec<String> = s.searches().unwrap().into_iter().map(|q| q.query).collect();
        assert_eq!(stored, ["a", "b"]);
    }

    #[test]
    fn upserts_are_idempotent_and_count_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("vrd.sqlite")).unwrap();
        assert_eq!(s.schema_version().unwrap(), migrations::LATEST);
        let batch = [watch("a", "2024-01-02T00:00:00Z", "A"), watch("b", "2024-01-01T00:00:00.5Z", "B")];
        assert_eq!(s.upsert_watch_events(&batch).unwrap(), UpsertCounts { inserted: 2, updated: 0, unchanged: 0 });
        assert_eq!(s.upsert_watch_events(&batch).unwrap(), UpsertCounts { inserted: 0, updated: 0, unchanged: 2 });
        let changed = [watch("a", "2024-01-02T00:00:00Z", "A, renamed")];
        assert_eq!(s.upsert_watch_events(&changed).unwrap(), UpsertCounts { inserted: 0, updated: 1, unchanged: 0 });
        let all = s.watch_events().unwrap();
        assert_eq!(all.iter().map(|e| e.video_id.as_str()).collect::<Vec<_>>(), ["b", "a"], "time order");
        assert_eq!(all[1].title, "A, renamed");
    }

    #[test]
    fn reopening_keeps_data_and_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vrd.sqlite");
        Store::open(&path).unwrap().upsert_watch_events(&[watch("a", "2024-01-02T00:00:00Z", "A")]).unwrap();
        let s = Store::open(&path).unwrap();
        assert_eq!(s.watch_events().unwrap().len(), 1);
        assert_eq!(s.schema_version().unwrap(), migrations::LATEST);
    }

    #[test]
    fn app_events_by_time_and_resume_point() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("vrd.sqlite")).unwrap();
        let ev = |start: &str, dur: f64| AppEvent {
            start: parse_rfc3339(start).unwrap(),
            duration_s: dur,
            app: "code".into(),
            title: "main.rs".into(),
            url: None,
            category: vec!["Work".into()],
            bucket: "aw-watcher-window_host".into(),
            host: None,
        };
        s.upsert_app_events(&[ev("2024-01-01T10:00:00Z", 60.0), ev("2024-01-01T09:00:00Z", 30.5)]).unwrap();
        let from = parse_rfc3339("2024-01-01T09:30:00Z").unwrap();
        assert_eq!(s.app_events(Some(&from), None).unwrap().len(), 1);
        assert_eq!(s.app_events(None, None).unwrap()[0].duration_s, 30.5);
        assert_eq!(
            s.app_events_end("aw-watcher-window_host").unwrap(),
            Some(parse_rfc3339("2024-01-01T10:01:00Z").unwrap())
        );
        assert_eq!(s.app_events_end("other").unwrap(), None);
        // The reach is the latest end of any bucket's last event: here the window's, though
        // the phone's last event starts later.
        assert_eq!(Store::open(&dir.path().join("empty.sqlite")).unwrap().app_events_reach().unwrap(), None);
        let phone = AppEvent { bucket: "aw-watcher-android-test".into(), ..ev("2024-01-01T10:00:30Z", 10.0) };
        s.upsert_app_events(&[phone]).unwrap();
        assert_eq!(s.app_events_reach().unwrap(), Some(parse_rfc3339("2024-01-01T10:01:00Z").unwrap()));
        let phone = AppEvent { bucket: "aw-watcher-android-test".into(), ..ev("2024-01-01T10:00:50Z", 20.0) };
        s.upsert_app_events(&[phone]).unwrap();
        assert_eq!(s.app_events_reach().unwrap(), Some(parse_rfc3339("2024-01-01T10:01:10Z").unwrap()));
        assert_eq!(
            s.app_events_end("aw-watcher-window_host").unwrap(),
            Some(parse_rfc3339("2024-01-01T10:01:00Z").unwrap())
        );
    }

    /// One watch seen by two sources: the browser's tab (live, its time watched) and
    /// Takeout's history a minute later (the channel); either order gives one row, at the
    /// first record's moment, with Takeout's title and channel and the live time watched.
    /// Two Takeout entries close together stay two watches; a live watch seen again as it
    /// grows stays one.
    #[test]
    fn one_watch_wherever_it_came_from() {
        let live = |at: &str, s: f64| WatchEvent {
            source: "aw-web".into(),
            watched_s: Some(s),
            ..watch("v", at, "Rust in 100 seconds")
        };
        let takeout = |at: &str| WatchEvent {
            source: "takeout-json".into(),
            channel: Some("Fireship".into()),
            ..watch("v", at, "Rust in 100 Seconds")
        };
        for (first, second) in [
            (live("2026-11-20T10:00:00Z", 120.0), takeout("2026-11-20T10:01:30Z")),
            (takeout("2026-11-20T10:01:30Z"), live("2026-11-20T10:00:00Z", 120.0)),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut s = Store::open(&dir.path().join("vrd.sqlite")).unwrap();
            assert_eq!(s.upsert_watch_events(std::slice::from_ref(&first)).unwrap().inserted, 1);
            let counts = s.upsert_watch_events(std::slice::from_ref(&second)).unwrap();
            assert_eq!((counts.inserted, counts.updated), (0, 1));
            let all = s.watch_events().unwrap();
            assert_eq!(all.len(), 1, "{all:?}");
            let w = &all[0];
            assert_eq!(w.watched_at, first.watched_at, "the stored moment stays");
            assert_eq!((w.title.as_str(), w.channel.as_deref()), ("Rust in 100 Seconds", Some("Fireship")));
            assert_eq!((w.source.as_str(), w.watched_s), ("aw-web", Some(120.0)));
            // The same again changes nothing.
            assert_eq!(s.upsert_watch_events(&[first.clone(), second.clone()]).unwrap().unchanged, 2);
        }
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("vrd.sqlite")).unwrap();
        s.upsert_watch_events(&[takeout("2026-11-20T10:00:00Z"), takeout("2026-11-20T10:02:00Z")]).unwrap();
        assert_eq!(s.watch_events().unwrap().len(), 2, "Takeout's own entries stay as Takeout has them");
        s.upsert_watch_events(&[live("2026-11-21T10:00:00Z", 30.0)]).unwrap();
        s.upsert_watch_events(&[live("2026-11-21T10:00:00Z", 90.0)]).unwrap();
        let grown: Vec<WatchEvent> = s.watch_events().unwrap().into_iter().filter(|w| w.is_live()).collect();
        assert_eq!(grown.len(), 1);
        assert_eq!(grown[0].watched_s, Some(90.0));
        // A window title's watch of the same minutes joins the tab's, named by the tab.
        let window = WatchEvent {
            source: "window-title".into(),
            watched_s: Some(80.0),
            ..watch("v", "2026-11-21T10:00:20Z", "Rust")
        };
        s.upsert_watch_events(&[window]).unwrap();
        let live_now: Vec<WatchEvent> = s.watch_events().unwrap().into_iter().filter(|w| w.is_live()).collect();
        assert_eq!(live_now.len(), 1);
        assert_eq!(
            (live_now[0].source.as_str(), live_now[0].title.as_str(), live_now[0].watched_s),
            ("aw-web", "Rust in 100 seconds", Some(90.0))
        );
        assert_eq!(s.latest_live_watch().unwrap().unwrap().watched_at, live_now[0].watched_at);
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "just some text, certainly not a database").unwrap();
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("notes.txt"), "{err}");
    }
}
