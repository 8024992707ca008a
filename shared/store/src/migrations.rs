//! Schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
//! records how many have run. Append new steps; never edit a released one.

use anyhow::{bail, Result};
use rusqlite::Connection;

const STEPS: &[&str] = &[
    // 1: the records of the pipelines, keyed by their natural ids.
    "CREATE TABLE watch_events (
        video_id TEXT NOT NULL,
        watched_at TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (video_id, watched_at)
     ) WITHOUT ROWID;
     CREATE INDEX watch_events_time ON watch_events (watched_at);
     CREATE TABLE videos (
        video_id TEXT NOT NULL PRIMARY KEY,
        record TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE app_events (
        bucket TEXT NOT NULL,
        start TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (bucket, start)
     ) WITHOUT ROWID;
     CREATE INDEX app_events_time ON app_events (start);",
    // 2: the person's labels, every one kept (history); `id` is the order they were given
    // in, which undo follows. The same label imported twice is one row.
    "CREATE TABLE labels (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        video_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        labelled_at TEXT NOT NULL,
        source TEXT NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (video_id, kind, labelled_at, source)
     );
     CREATE INDEX labels_video ON labels (video_id);",
    // 3: the feeds vrd-rank printed, each under the moment it was ranked for.
    "CREATE TABLE feeds (
        ranked_at TEXT NOT NULL,
        rank INTEGER NOT NULL,
        video_id TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (ranked_at, rank)
     ) WITHOUT ROWID;",
    // 4: the person's YouTube searches (Takeout's search history).
    "CREATE TABLE searches (
        query TEXT NOT NULL,
        searched_at TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (query, searched_at)
     ) WITHOUT ROWID;",
    // 5: the feeds the person subscribes to (Takeout's subscriptions, OPML lists).
    "CREATE TABLE subscriptions (
        feed TEXT NOT NULL PRIMARY KEY,
        record TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 6: what a stored feed says of itself beside its items, in words (a JSON array of
    // strings), e.g. since when the activity it was ranked with is unknown.
    "CREATE TABLE feed_notes (
        ranked_at TEXT NOT NULL PRIMARY KEY,
        notes TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 7: the stretches of YouTube videos open in the browser's active tab (ActivityWatch's
    // web watcher; never an incognito tab), which live watches are made of; and how far each
    // source was read, so that the next ingest resumes there.
    "CREATE TABLE youtube_tabs (
        bucket TEXT NOT NULL,
        start TEXT NOT NULL,
        record TEXT NOT NULL,
        video_id TEXT GENERATED ALWAYS AS (json_extract(record, '$.video_id')) VIRTUAL,
        PRIMARY KEY (bucket, start)
     ) WITHOUT ROWID;
     CREATE INDEX youtube_tabs_video ON youtube_tabs (video_id, start);
     CREATE TABLE read_marks (
        source TEXT NOT NULL PRIMARY KEY,
        until TEXT NOT NULL
     ) WITHOUT ROWID;",
    // 8: reach: each channel's fetches (validators, failures, back-off, gone), the videos
    // the person saved, the channels discovery found, and every Data API unit spent.
    "CREATE TABLE channel_fetches (
        channel_id TEXT NOT NULL PRIMARY KEY,
        record TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE saved_videos (
        video_id TEXT NOT NULL PRIMARY KEY,
        record TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE discovered_channels (
        channel_id TEXT NOT NULL PRIMARY KEY,
        record TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE api_spend (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        quota TEXT NOT NULL,
        units INTEGER NOT NULL,
        what TEXT NOT NULL
     );
     CREATE INDEX api_spend_time ON api_spend (at);",
];

pub const LATEST: i64 = STEPS.len() as i64;

/// Brings the schema to [`LATEST`]. Each step reads the version inside its own write
/// transaction, so two tools opening a new store at once do not both apply a step: the
/// second waits for the first and finds the step done.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let version =
        |c: &Connection| -> rusqlite::Result<i64> { c.pragma_query_value(None, "user_version", |r| r.get(0)) };
    let current = version(conn)?;
    if current > LATEST {
        bail!("the store has schema version {current}, newer than this vrd understands ({LATEST}); upgrade vrd");
    }
    if current == LATEST {
        return Ok(());
    }
    for (i, sql) in STEPS.iter().enumerate() {
        let tx = crate::write_transaction(conn)?;
        if version(&tx)? > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
