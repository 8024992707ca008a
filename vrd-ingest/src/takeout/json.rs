//! The JSON form (`watch-history.json`, including the ~2016 playlist-item shape): one
//! array, newest first, read in one streaming pass.

use super::entry::{strip_verb, RawEntry};
use anyhow::{anyhow, Result};
use serde::Deserialize;
use std::borrow::Cow;
use vrd_core::time::parse_rfc3339;

/// The records' `source` for entries of this form.
pub const SOURCE: &str = "takeout-json";

/// One element of the JSON array, in either shape: a modern entry (`header`, `title`,
/// `titleUrl`, `subtitles`, `time`, `details`) or a ~2016 `youtube#playlistItem`
/// (`snippet`). Fields the parser does not use are skipped without being stored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonEntry<'a> {
    #[serde(default, borrow)]
    header: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    title_url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    subtitles: Vec<Subtitle<'a>>,
    #[serde(default, borrow)]
    time: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    details: Vec<Detail<'a>>,
    #[serde(default)]
    snippet: Option<LegacySnippet>,
}

#[derive(Debug, Deserialize)]
struct Subtitle<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default, borrow)]
    url: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Detail<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

/// The legacy shape: an entry of the watch-history playlist. `publishedAt` is when it was
/// added (watched); `channelTitle` is the playlist owner, i.e. the person, not the video's
/// channel, so no channel is known.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacySnippet {
    title: String,
    published_at: String,
    resource_id: LegacyResource,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyResource {
    video_id: String,
}

/// Parses the JSON form in one streaming pass: each array element is decoded and turned
/// into a [`RawEntry`] as it is read, with no intermediate tree. Errors read
/// `LINE: entry [N]: …` (or `LINE: field `[N].name`: …`) for the caller to prefix with the
/// file name.
pub fn entries(text: &str) -> Result<Vec<RawEntry<'_>>> {
    // The fast pass has no path tracking; only a file that fails is read again with it,
    // for the message.
    let mut de = serde_json::Deserializer::from_str(text);
    if let Ok(entries) = Entries::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(entries.0);
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = serde_path_to_error::deserialize::<_, Entries>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let msg = vrd_core::jsonl::strip_position(&inner.to_string());
        if path.is_empty() || path == "." {
            if let Some(i) = msg.strip_prefix("entry [").and_then(|r| r.split(']').next()).and_then(|n| n.parse().ok())
            {
                // The decoder reports where it stood after the entry; name the line the
                // entry starts on instead (found again only now, on the error path).
                anyhow!("{}: {msg}", entry_start_line(text, i).unwrap_or(inner.line()))
            } else {
                anyhow!("{}: not a Takeout watch history (a JSON array of entries): {msg}", inner.line())
            }
        } else {
            anyhow!("{}: field `{path}`: {msg}", inner.line())
        }
    })?;
    de.end().map_err(|e| anyhow!("{}: trailing data after the array", e.line()))?;
    Ok(entries.0)
}

/// The line on which element `index` of the top-level JSON array starts.
fn entry_start_line(text: &str, index: usize) -> Option<usize> {
    let (mut depth, mut line, mut in_string, mut escaped, mut seen) = (0usize, 1usize, false, false, 0usize);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'\n' => line += 1,
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth == 2 {
                    if seen == index {
                        return Some(line);
                    }
                    seen += 1;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

struct Entries<'a>(Vec<RawEntry<'a>>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON array of activity entries")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Entries<'de>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1024));
                while let Some(entry) = seq.next_element::<JsonEntry>()? {
                    let i = out.len();
                    out.push(raw_entry(i, entry).map_err(|e| serde::de::Error::custom(format!("entry [{i}]: {e}")))?);
                }
                Ok(Entries(out))
            }
        }
        deserializer.deserialize_seq(Visit)
    }
}

fn raw_entry(i: usize, e: JsonEntry) -> Result<RawEntry> {
    if let (None, Some(snippet)) = (&e.title, e.snippet) {
        return Ok(RawEntry {
            header: Some("YouTube".into()),
            title: snippet.title.into(),
            title_url: Some(format!("https://www.youtube.com/watch?v={}", snippet.resource_id.video_id).into()),
            channel: None,
            channel_url: None,
            time: parse_rfc3339(&snippet.published_at)
                .map_err(|err| anyhow!("field `[{i}].snippet.publishedAt`: {err}"))?,
            is_ad: false,
            source: "takeout-json-legacy",
        });
    }
    let title = e.title.ok_or_else(|| anyhow!("missing field `title`"))?;
    let time = e.time.ok_or_else(|| anyhow!("missing field `time`"))?;
    let channel = e.subtitles.into_iter().next();
    let title = match title {
        Cow::Borrowed(t) => Cow::Borrowed(strip_verb(t)),
        Cow::Owned(t) => Cow::Owned(strip_verb(&t).to_string()),
    };
    let (channel, channel_url) = match channel {
        Some(c) => (Some(c.name), c.url),
        None => (None, None),
    };
    Ok(RawEntry {
        header: e.header,
        title,
        title_url: e.title_url,
        channel_url,
        channel,
        time: parse_rfc3339(&time).map_err(|err| anyhow!("field `time`: {err}"))?,
        is_ad: e.details.iter().any(|d| d.name.contains("Google Ads")),
        source: SOURCE,
    })
}
