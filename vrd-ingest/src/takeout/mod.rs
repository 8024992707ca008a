//! Google Takeout watch history (`Takeout/YouTube and YouTube Music/history/`), in its JSON
//! form (`watch-history.json`, including the ~2016 playlist-item shape) and its HTML form
//! (`watch-history.html`): `json` and `html` read each into [`RawEntry`]s (`entry`), and
//! both end in [`classify`]; `folder` finds them in a whole Takeout.
//!
//! The JSON file is one array, newest first. Each entry has `header`, `title` (prefixed
//! with a locale-dependent verb, "Watched …"), `titleUrl`, `subtitles` (the channel),
//! `time` (RFC 3339 UTC, with or without milliseconds) and sometimes `details`
//! (`From Google Ads`). Entries that are not video views are skipped and counted; a view
//! whose title is the URL itself (Takeout had lost the video's details) is kept, its
//! title flagged unknown and counted.

pub mod entry;
pub mod folder;
pub mod html;
pub mod json;

use anyhow::{anyhow, Result};
pub use entry::RawEntry;
use std::borrow::Cow;
use std::io::{self, Read};
use std::path::Path;
use vrd_core::records::{Search, WatchEvent};
use vrd_core::time::Tz;
use vrd_core::youtube::{url_parts, video_id_from_url};

#[derive(Debug, Default, PartialEq)]
pub struct TakeoutParse {
    pub events: Vec<WatchEvent>,
    pub entries: usize,
    pub skipped_ads: usize,
    pub skipped_removed: usize,
    pub skipped_not_video: usize,
    /// Watch events kept with an unknown title (the entry named the video by URL only).
    pub untitled: usize,
}

impl TakeoutParse {
    pub fn summary(&self) -> String {
        let untitled = match self.untitled {
            0 => String::new(),
            n => format!(" ({n} with the title unknown: fill with `vrd-ingest youtube videos --db`)"),
        };
        format!(
            "{} entries: {} watch events{untitled}; skipped {} ads, {} removed videos, {} non-video entries",
            self.entries,
            self.events.len(),
            self.skipped_ads,
            self.skipped_removed,
            self.skipped_not_video,
        )
    }
}

/// Reads a watch history in either format, told apart by content. `tz` is the account's
/// time zone, needed to read HTML dates right (see `takeout_html`).
pub fn parse_watch_history_file(path: &Path, tz: Option<&Tz>) -> Result<TakeoutParse> {
    let (name, text) = read_text(path)?;
    entries_of(&text, tz).map(classify).map_err(|e| anyhow!("{name}:{e}"))
}

/// A watch history's text, JSON or HTML form; errors start with the line number (for the
/// caller to prefix with the file's name).
pub fn parse_watch_history(text: &str, tz: Option<&Tz>) -> Result<TakeoutParse> {
    entries_of(text, tz).map(classify)
}

/// Reads a search history (`search-history.json` or `.html`), the same activity format.
pub fn parse_search_history_file(path: &Path, tz: Option<&Tz>) -> Result<SearchParse> {
    let (name, text) = read_text(path)?;
    entries_of(&text, tz).map(classify_searches).map_err(|e| anyhow!("{name}:{e}"))
}

/// A search history's text, as [`parse_watch_history`].
pub fn parse_search_history(text: &str, tz: Option<&Tz>) -> Result<SearchParse> {
    entries_of(text, tz).map(classify_searches)
}

/// A Takeout file's name (for messages) and text (`-`: stdin).
fn read_text(path: &Path) -> Result<(String, String)> {
    let name = if path.as_os_str() == "-" { "<stdin>".to_string() } else { path.display().to_string() };
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        // Read whole, sized from the file's length up front (no regrowing copies).
        std::fs::read_to_string(path)
    };
    let text = text.map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => anyhow!("cannot read {name} (is it a UTF-8 text file?)"),
        _ => anyhow!("cannot open {name}: {e}"),
    })?;
    Ok((name, text))
}

fn entries_of<'a>(text: &'a str, tz: Option<&Tz>) -> Result<Vec<RawEntry<'a>>> {
    match text.trim_start().chars().next() {
        Some('[') => json::entries(text),
        Some('<') => html::entries(text, tz),
        _ => Err(anyhow!("1: not a Takeout activity file (neither its JSON nor its HTML form)")),
    }
}

/// Keeps the entries that are views of a known video, counting what is skipped and why,
/// and returns the events oldest first.
pub fn classify(entries: Vec<RawEntry>) -> TakeoutParse {
    let mut out = TakeoutParse { entries: entries.len(), ..Default::default() };
    for entry in entries {
        if entry.is_ad {
            out.skipped_ads += 1;
            continue;
        }
        let Some(url) = entry.title_url.as_deref() else {
            // "Watched a video that has been removed", "Visited YouTube Music".
            out.skipped_removed += 1;
            continue;
        };
        let Some(video_id) = video_id_from_url(url) else {
            out.skipped_not_video += 1;
            continue;
        };
        let title = entry.title.trim();
        // Without subtitles the title is the URL itself: no metadata was exported, but the
        // watch and its time are real.
        let title_unknown = title.is_empty() || title == url || title.starts_with("https://");
        out.untitled += usize::from(title_unknown);
        let music = entry.header.as_deref() == Some("YouTube Music");
        out.events.push(WatchEvent {
            video_id,
            title: if title_unknown { String::new() } else { title.to_string() },
            title_unknown,
            channel: entry.channel.map(Cow::into_owned),
            channel_id: entry.channel_url.as_deref().and_then(channel_id_from_url),
            watched_at: entry.time,
            source: if music { format!("{}-music", entry.source) } else { entry.source.to_string() },
            watched_s: None,
        });
    }
    // Takeout lists newest first; the tools downstream read history in time order.
    out.events.sort_by_key(|e| e.watched_at);
    out
}

/// The searches of a search history, oldest first, and what was not one.
#[derive(Debug, Default, PartialEq)]
pub struct SearchParse {
    pub searches: Vec<Search>,
    pub entries: usize,
    pub skipped: usize,
}

impl SearchParse {
    pub fn summary(&self) -> String {
        format!("{} entries: {} searches; skipped {} other entries", self.entries, self.searches.len(), self.skipped)
    }
}

/// Keeps the entries that are YouTube searches. The query is read from the results URL's
/// `search_query` (the same in every account language), else from the title.
pub fn classify_searches(entries: Vec<RawEntry>) -> SearchParse {
    let mut out = SearchParse { entries: entries.len(), ..Default::default() };
    for entry in entries {
        let from_url = entry.title_url.as_deref().and_then(search_query_from_url);
        let query = match from_url {
            Some(q) => q,
            None if entry.title_url.is_none() && entry.title.starts_with(SEARCH_VERB) => {
                entry.title[SEARCH_VERB.len()..].split_whitespace().collect::<Vec<_>>().join(" ")
            }
            None => String::new(),
        };
        if query.is_empty() || entry.is_ad {
            out.skipped += 1;
            continue;
        }
        out.searches.push(Search { query, searched_at: entry.time, source: entry.source.to_string() });
    }
    out.searches.sort_by_key(|q| q.searched_at);
    out
}

const SEARCH_VERB: &str = "Searched for ";

/// `https://www.youtube.com/results?search_query=lofi+hip+hop` → `lofi hip hop`.
fn search_query_from_url(url: &str) -> Option<String> {
    let (host, path, query) = url_parts(url);
    if host != "youtube.com" || (path != "results" && path != "search") {
        return None;
    }
    let wanted = if path == "results" { "search_query" } else { "q" };
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == wanted)
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|q| !q.is_empty())
}

pub fn channel_id_from_url(url: &str) -> Option<String> {
    let id = url.split("/channel/").nth(1)?.split(['/', '?']).next()?;
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::entry::strip_verb;
    use super::*;
    use vrd_core::time::parse_rfc3339;

    #[test]
    fn searches_are_read_from_the_results_url_in_any_language() {
        let text = r#"[
 {"header":"YouTube","title":"Searched for rust async","titleUrl":"https://www.youtube.com/results?search_query\u003drust+async","time":"2024-02-01T10:00:00Z"},
 {"header":"YouTube","title":"Has buscado pan %26 queso","titleUrl":"https://www.youtube.com/results?search_query\u003dpan+%26+queso","time":"2024-01-01T10:00:00Z"},
 {"header":"YouTube","title":"Watched a video","titleUrl":"https://www.youtube.com/watch?v\u003dAAAAAAAAAAA","time":"2024-01-02T10:00:00Z"},
 {"header":"YouTube","title":"Searched for  東京  散歩 ","time":"2024-01-03T10:00:00Z"}
]"#;
        let p = classify_searches(json::entries(text).unwrap());
        let queries: Vec<&str> = p.searches.iter().map(|s| s.query.as_str()).collect();
        assert_eq!(queries, ["pan & queso", "東京 散歩", "rust async"], "oldest first");
        assert_eq!((p.entries, p.skipped), (4, 1));
        assert_eq!(search_query_from_url("https://www.youtube.com/watch?v=x"), None);
    }

    #[test]
    fn verbs_are_stripped_only_at_the_start() {
        assert_eq!(strip_verb("Watched Watched It All"), "Watched It All");
        assert_eq!(strip_verb("Has visto Cómo hacer pan"), "Cómo hacer pan");
        assert_eq!(strip_verb("Something else"), "Something else");
    }

    #[test]
    fn entries_are_filtered_and_sorted_oldest_first() {
        let text = r#"[
 {"header":"YouTube","title":"Watched Newer","titleUrl":"https://www.youtube.com/watch?v\u003dBBBBBBBBBBB",
  "subtitles":[{"name":"Chan","url":"https://www.youtube.com/channel/UCxyz"}],"time":"2024-02-01T10:00:00Z","products":["YouTube"]},
 {"header":"YouTube","title":"Watched an ad","titleUrl":"https://www.youtube.com/watch?v\u003dCCCCCCCCCCC","time":"2024-01-20T00:00:00.000Z","details":[{"name":"From Google Ads"}]},
 {"header":"YouTube","title":"Watched a video that has been removed","time":"2024-01-15T00:00:00.000Z"},
 {"header":"YouTube","title":"Viewed a post","titleUrl":"https://www.youtube.com/post/Ugkx","time":"2024-01-14T00:00:00.000Z"},
 {"header":"YouTube","title":"Watched https://www.youtube.com/watch?v\u003dDDDDDDDDDDD","titleUrl":"https://www.youtube.com/watch?v\u003dDDDDDDDDDDD","time":"2024-01-13T00:00:00.000Z"},
 {"header":"YouTube Music","title":"Watched Older","titleUrl":"https://music.youtube.com/watch?v\u003dAAAAAAAAAAA","time":"2024-01-10T09:08:07.123Z"}
]"#;
        let p = classify(json::entries(text).unwrap());
        assert_eq!((p.entries, p.skipped_ads, p.skipped_removed, p.skipped_not_video, p.untitled), (6, 1, 1, 1, 1));
        let ids: Vec<_> = p.events.iter().map(|e| e.video_id.as_str()).collect();
        assert_eq!(ids, ["AAAAAAAAAAA", "DDDDDDDDDDD", "BBBBBBBBBBB"]);
        assert_eq!(p.events[0].source, "takeout-json-music");
        assert!(!p.events[0].title_unknown);
        // The URL-only entry is a watch with its time, the title left to be filled.
        assert!(p.events[1].title_unknown && p.events[1].title.is_empty(), "{:?}", p.events[1]);
        assert_eq!(p.events[1].watched_at, parse_rfc3339("2024-01-13T00:00:00Z").unwrap());
        assert_eq!(p.events[2].channel.as_deref(), Some("Chan"));
        assert_eq!(p.events[2].channel_id.as_deref(), Some("UCxyz"));
        assert_eq!(p.events[2].title, "Newer");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let text = "[\n{\"title\":\"Watched x\",\"titleUrl\":\"https://youtu.be/abc\",\"time\":\"2024-01-01T00:00:00Z\"},\n{\"title\":\"Watched y\",\"time\":12}\n]";
        let err = json::entries(text).unwrap_err().to_string();
        assert!(err.starts_with("3: field `[1].time`"), "{err}");
        let text = "[\n{\"title\":\"Watched x\",\"titleUrl\":\"https://youtu.be/abc\"}\n]";
        let err = json::entries(text).unwrap_err().to_string();
        assert_eq!(err, "2: entry [0]: missing field `time`");
        let err = json::entries("{\"not\":\"an array\"}").unwrap_err().to_string();
        assert!(err.contains("not a Takeout watch history"), "{err}");
        let text = "[{\"title\":\"Watched y\",\"titleUrl\":\"https://youtu.be/abc\",\"time\":\"01/02/2024\"}]";
        let err = json::entries(text).unwrap_err().to_string();
        assert!(err.contains("entry [0]: field `time`") && err.contains("RFC 3339"), "{err}");
    }
}
