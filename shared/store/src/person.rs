//! A person's records as training and ranking read them, one way for every tool: each kind
//! from the file the options name, else from the store when one is open, else none. vrd-rank
//! (`--candidates`/`--history`/… or `--db`), `vrd-train fit --db` and the retrain's judge
//! all read through here.

use crate::Store;
use anyhow::Result;
use std::path::Path;
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{AppEvent, Label, Search, Video, WatchEvent};

/// The files a caller was given (None: that kind from the store).
#[derive(Default, Clone, Copy)]
pub struct PersonFiles<'a> {
    pub videos: Option<&'a Path>,
    pub history: Option<&'a Path>,
    pub searches: Option<&'a Path>,
    pub labels: Option<&'a Path>,
    pub events: Option<&'a Path>,
}

/// Which kinds a caller reads, and which of the answers.
#[derive(Clone, Copy)]
pub struct Wanted {
    pub searches: bool,
    pub events: bool,
    pub answers: Answers,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// Every answer ever given, in order (ranking: a dismissal stays one).
    History,
    /// The latest answer per video and question (training, as `vrd-label export`).
    Effective,
}

/// What was read. A kind not wanted, or with neither a file nor a store, is empty.
#[derive(Default)]
pub struct Person {
    pub videos: Vec<Video>,
    pub history: Vec<WatchEvent>,
    pub searches: Vec<Search>,
    pub labels: Vec<Label>,
    pub events: Vec<AppEvent>,
}

/// Reads what `wanted` asks, each kind from its file, else from `store`.
pub fn read(files: &PersonFiles, store: Option<&Store>, wanted: Wanted) -> Result<Person> {
    fn kind<T: serde::de::DeserializeOwned>(
        file: Option<&Path>,
        store: Option<&Store>,
        from_store: impl FnOnce(&Store) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        match (file, store) {
            (Some(path), _) => JsonlReader::open(Some(path))?.read_all(),
            (None, Some(store)) => from_store(store),
            (None, None) => Ok(Vec::new()),
        }
    }
    let answers = wanted.answers;
    Ok(Person {
        videos: kind(files.videos, store, Store::videos)?,
        history: kind(files.history, store, Store::watch_events)?,
        searches: match wanted.searches {
            true => kind(files.searches, store, Store::searches)?,
            false => Vec::new(),
        },
        labels: kind(files.labels, store, |s| match answers {
            Answers::History => s.label_history(),
            Answers::Effective => s.effective_labels(),
        })?,
        events: match wanted.events {
            true => kind(files.events, store, |s| s.app_events(None, None))?,
            false => Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_wins_over_the_store_and_nothing_is_read_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("vrd.db")).unwrap();
        let history = dir.path().join("history.jsonl");
        std::fs::write(
            &history,
            r#"{"video_id":"aaaaaaaaaaa","title":"t","watched_at":"2026-01-01T00:00:00Z","source":"takeout"}"#,
        )
        .unwrap();
        let files = PersonFiles { history: Some(&history), ..Default::default() };
        let wanted = Wanted { searches: false, events: false, answers: Answers::History };
        let person = read(&files, Some(&store), wanted).unwrap();
        assert_eq!(person.history.len(), 1, "from the file");
        assert!(person.videos.is_empty() && person.labels.is_empty(), "from the empty store");
        let none = read(&PersonFiles::default(), None, wanted).unwrap();
        assert!(none.history.is_empty());
    }
}
