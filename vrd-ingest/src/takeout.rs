//! Google Takeout watch history, JSON variant
//! (`Takeout/YouTube and YouTube Music/history/watch-history.json`).
//!
//! The file is one JSON array, newest first. Each entry has `header`, `title` (prefixed
//! with a locale-dependent verb, "Watched …"), `titleUrl`, `subtitles` (the channel),
//! `time` (RFC 3339 UTC, with or without milliseconds) and sometimes `details`
//! (`From Google Ads`). Entries that are not video views, or that carry no usable title,
//! are skipped and counted.

use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use shared::records::WatchEvent;
use shared::time::parse_rfc3339;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

pub const SOURCE: &str = "takeout-json";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    header: Option<String>,
    title: String,
    #[serde(default)]
    title_url: Option<String>,
    #[serde(default)]
    subtitles: Vec<Subtitle>,
    time: String,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Debug, Deserialize)]
struct Subtitle {
    name: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Detail {
    name: String,
}

#[derive(Debug, Default, PartialEq)]
pub struct TakeoutParse {
    pub events: Vec<WatchEvent>,
    pub entries: usize,
    pub skipped_ads: usize,
    pub skipped_removed: usize,
    pub skipped_not_video: usize,
    pub skipped_no_title: usize,
}

impl TakeoutParse {
    pub fn summary(&self) -> String {
        format!(
            "{} entries: {} watch events; skipped {} ads, {} removed videos, {} non-video entries, {} without title",
            self.entries,
            self.events.len(),
            self.skipped_ads,
            self.skipped_removed,
            self.skipped_not_video,
            self.skipped_no_title
        )
    }
}

pub fn parse_watch_history_file(path: &Path) -> Result<TakeoutParse> {
    let (name, mut reader): (String, Box<dyn Read>) = if path.as_os_str() == "-" {
        ("<stdin>".into(), Box::new(io::stdin()))
    } else {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        (path.display().to_string(), Box::new(BufReader::with_capacity(1 << 16, f)))
    };
    let mut text = String::new();
    reader.read_to_string(&mut text).with_context(|| format!("cannot read {name} (is it UTF-8 JSON?)"))?;
    parse_watch_history(&text).map_err(|e| anyhow!("{name}:{e}"))
}

/// Parses the whole file. Errors read `LINE: field `[N].name`: what` so the caller can
/// prefix the file name.
pub fn parse_watch_history(text: &str) -> Result<TakeoutParse> {
    let mut de = serde_json::Deserializer::from_str(text);
    let entries: Vec<Entry> = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let msg = inner.to_string();
        let msg = msg.rfind(" at line ").map_or(msg.as_str(), |i| &msg[..i]).to_string();
        if path.is_empty() || path == "." {
            anyhow!("{}: not a Takeout watch history (a JSON array of entries): {msg}", inner.line())
        } else {
            anyhow!("{}: field `{path}`: {msg}", inner.line())
        }
    })?;

    let mut out = TakeoutParse { entries: entries.len(), ..Default::default() };
    for (i, entry) in entries.into_iter().enumerate() {
        if entry.details.iter().any(|d| d.name.contains("Google Ads")) {
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
        let title = strip_verb(&entry.title);
        // Without subtitles the title is the URL itself: no metadata was exported.
        if title.is_empty() || title == url || title.starts_with("https://") {
            out.skipped_no_title += 1;
            continue;
        }
        let watched_at = parse_rfc3339(&entry.time).map_err(|e| anyhow!("field `[{i}].time`: {e}"))?;
        let channel = entry.subtitles.first();
        out.events.push(WatchEvent {
            video_id,
            title: title.to_string(),
            channel: channel.map(|s| s.name.clone()),
            channel_id: channel.and_then(|s| s.url.as_deref()).and_then(channel_id_from_url),
            watched_at,
            source: if entry.header.as_deref() == Some("YouTube Music") { "takeout-json-music" } else { SOURCE }
                .to_string(),
        });
    }
    // Takeout lists newest first; the tools downstream read history in time order.
    out.events.sort_by_key(|e| e.watched_at);
    Ok(out)
}

/// Title verbs by account language ("Watched X" in English).
const VERBS: &[&str] = &["Watched ", "Has visto ", "Vous avez regardé ", "Angesehen: ", "Hai guardato ", "Assistiu a "];

fn strip_verb(title: &str) -> &str {
    let t = title.trim();
    VERBS.iter().find_map(|v| t.strip_prefix(v)).unwrap_or(t).trim()
}

/// The video id of a watch, short-link or Shorts URL; `None` for posts, channels and
/// other pages.
pub fn video_id_from_url(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (host, path_query) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.trim_start_matches("www.").trim_start_matches("m.").trim_start_matches("music.");
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let id = match host {
        "youtube.com" if path == "watch" => {
            query.split('&').find_map(|kv| kv.strip_prefix("v=")).map(|v| v.split('#').next().unwrap_or(v))
        }
        "youtube.com" => path.strip_prefix("shorts/"),
        "youtu.be" => Some(path),
        _ => None,
    }?;
    let valid =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then(|| id.to_string())
}

fn channel_id_from_url(url: &str) -> Option<String> {
    let id = url.split("/channel/").nth(1)?.split(['/', '?']).next()?;
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_ids_from_every_url_shape() {
        assert_eq!(video_id_from_url("https://www.youtube.com/watch?v=YIcNZERTDOY").as_deref(), Some("YIcNZERTDOY"));
        assert_eq!(
            video_id_from_url("https://www.youtube.com/watch?feature=x&v=abc_-123XYZ&t=3").as_deref(),
            Some("abc_-123XYZ")
        );
        assert_eq!(video_id_from_url("https://youtu.be/sy1_WX-nvoM").as_deref(), Some("sy1_WX-nvoM"));
        assert_eq!(video_id_from_url("https://music.youtube.com/watch?v=RzPZvKSdN7g").as_deref(), Some("RzPZvKSdN7g"));
        assert_eq!(video_id_from_url("https://www.youtube.com/shorts/Q1w2E3r4T5y").as_deref(), Some("Q1w2E3r4T5y"));
        assert_eq!(video_id_from_url("https://www.youtube.com/post/UgkxsmO11W1xcb7O7JNTqEDg7PUhGm1GZ6SA"), None);
        assert_eq!(video_id_from_url("https://www.google.com/url?q=https://clickserve.dartsearch.net/link"), None);
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
        let p = parse_watch_history(text).unwrap();
        assert_eq!(
            (p.entries, p.skipped_ads, p.skipped_removed, p.skipped_not_video, p.skipped_no_title),
            (6, 1, 1, 1, 1)
        );
        let ids: Vec<_> = p.events.iter().map(|e| e.video_id.as_str()).collect();
        assert_eq!(ids, ["AAAAAAAAAAA", "BBBBBBBBBBB"]);
        assert_eq!(p.events[0].source, "takeout-json-music");
        assert_eq!(p.events[1].channel.as_deref(), Some("Chan"));
        assert_eq!(p.events[1].channel_id.as_deref(), Some("UCxyz"));
        assert_eq!(p.events[1].title, "Newer");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let text = "[\n{\"title\":\"Watched x\",\"titleUrl\":\"https://youtu.be/abc\",\"time\":\"2024-01-01T00:00:00Z\"},\n{\"title\":\"Watched y\",\"time\":12}\n]";
        let err = parse_watch_history(text).unwrap_err().to_string();
        assert!(err.starts_with("3: field `[1].time`"), "{err}");
        let err = parse_watch_history("{\"not\":\"an array\"}").unwrap_err().to_string();
        assert!(err.contains("not a Takeout watch history"), "{err}");
        let text = "[{\"title\":\"Watched y\",\"titleUrl\":\"https://youtu.be/abc\",\"time\":\"01/02/2024\"}]";
        let err = parse_watch_history(text).unwrap_err().to_string();
        assert!(err.contains("field `[0].time`") && err.contains("RFC 3339"), "{err}");
    }
}
