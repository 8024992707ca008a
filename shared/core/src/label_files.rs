//! The label files a person brings: vrd's JSONL labels, a CSV with `video_id,kind,labelled_at`
//! (and optional `source`) columns, and YouTube's liked/disliked lists as Google Takeout
//! exports them (`Video ID,Playlist Video Creation Timestamp`, or the older form with a
//! playlist block before `Video Id,Time Added`). Every line is checked before anything is
//! written, and errors name the file, line and field.

use crate::records::{Label, LabelKind};
use crate::time::parse_rfc3339;
use crate::time::Timestamp;
use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::Path;

pub struct Parsed {
    pub labels: Vec<Label>,
    /// `file:line` of each label, for later errors (unknown ids).
    pub origins: Vec<String>,
}

/// A label kind as a person writes it (`not-now`, `not_now`, `right-time`…).
pub fn parse_kind(text: &str) -> Result<LabelKind> {
    LabelKind::parse(text.trim())
        .ok_or_else(|| anyhow!("unknown label kind {text:?} (interest, uninterest, right-time, not-now, skip)"))
}

/// Labels from a file (`-`: stdin), told apart by content: JSONL, or CSV (vrd's columns or
/// a Takeout list). `kind`: for rows without a kind; `source`: for rows without a source.
pub fn read(path: &Path, kind: Option<LabelKind>, source: &str) -> Result<Parsed> {
    let name = path.display().to_string();
    let mut text = String::new();
    if name == "-" {
        std::io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
    } else {
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("cannot read {name} (is it a UTF-8 text file?)"))?;
    }
    let name = if name == "-" { "<stdin>".to_string() } else { name };
    parse(&text, &name, kind, source)
}

/// Labels from a label file's text; `name` (the file's, or a path inside an archive)
/// starts every error.
pub fn parse(text: &str, name: &str, kind: Option<LabelKind>, source: &str) -> Result<Parsed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.trim_start().chars().next() {
        Some('{') => jsonl(text, name, kind, source),
        Some(_) => csv_rows(text, name, kind, source),
        None => bail!("{name}: empty"),
    }
}

/// A label line as a person may write it: [`Label`]'s fields, the kind and the time
/// optional (`--kind` gives the one, an interest answer needs no moment), the time as text
/// so that a time without a zone is refused by the one rule of `parse_rfc3339`.
#[derive(serde::Deserialize)]
struct LabelLine {
    video_id: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    labelled_at: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

fn jsonl(text: &str, name: &str, kind: Option<LabelKind>, source: &str) -> Result<Parsed> {
    let mut parsed = Parsed { labels: Vec::new(), origins: Vec::new() };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{name}:{}", i + 1);
        let line: LabelLine = crate::jsonl::parse_line(line).map_err(|e| anyhow!("{at}: {e}"))?;
        let kind = match (line.kind.as_deref(), kind) {
            (Some(k), _) => parse_kind(k).map_err(|e| anyhow!("{at}: field `kind`: {e}"))?,
            (None, Some(k)) => k,
            (None, None) => bail!("{at}: field `kind`: missing (or pass --kind)"),
        };
        let labelled_at = match line.labelled_at.as_deref() {
            Some(t) => parse_rfc3339(t).map_err(|e| anyhow!("{at}: field `labelled_at`: {e}"))?,
            None => undated(kind, &at)?,
        };
        parsed.labels.push(Label {
            video_id: checked_id(&line.video_id, &at)?,
            kind,
            labelled_at,
            source: line.source.unwrap_or_else(|| source.to_string()),
            feed_at: None,
        });
        parsed.origins.push(at);
    }
    Ok(parsed)
}

/// The header names each column may go by (compared lower-case, `_` as space).
const VIDEO_COLUMNS: &[&str] = &["video id", "video_id", "videoid"];
const KIND_COLUMNS: &[&str] = &["kind", "label"];
const TIME_COLUMNS: &[&str] = &["labelled at", "time", "time added", "playlist video creation timestamp", "rated at"];
const SOURCE_COLUMNS: &[&str] = &["source"];

/// The rows of a CSV list of videos after its header (the first row naming a video id
/// column: Takeout's older lists open with a playlist block), each with `file:line` and the
/// columns of the video id, kind, time and source where the header names them.
/// A list's row: its `file:line`, its cells, and the columns of the video id, kind, time and
/// source where the header names them.
type ListRow = (String, csv::StringRecord, [Option<usize>; 4]);

fn list_rows(text: &str, name: &str) -> Result<Vec<ListRow>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut columns: Option<[Option<usize>; 4]> = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| anyhow!("{name}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match columns {
            Some(c) => rows.push((format!("{name}:{line}"), record, c)),
            None => {
                let names: Vec<String> =
                    record.iter().map(|f| f.trim().to_lowercase().replace(['_', '-'], " ")).collect();
                let find = |options: &[&str]| {
                    names.iter().position(|n| options.iter().any(|o| o.replace(['_', '-'], " ") == *n))
                };
                if let Some(v) = find(VIDEO_COLUMNS) {
                    columns = Some([Some(v), find(KIND_COLUMNS), find(TIME_COLUMNS), find(SOURCE_COLUMNS)]);
                }
            }
        }
    }
    if columns.is_none() {
        bail!("{name}: no header with a video id column (video_id, Video ID)");
    }
    Ok(rows)
}

/// The videos of a CSV list (a Takeout playlist: Watch later, the person's own), each with
/// when it was added where the list says.
pub fn listed_videos(text: &str, name: &str) -> Result<Vec<(String, Option<Timestamp>)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    list_rows(text, name)?
        .into_iter()
        .map(|(at, record, [video, _, time, _])| {
            let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty());
            let id = cell(video).ok_or_else(|| anyhow!("{at}: field `video_id`: empty"))?;
            let added = cell(time).map(takeout_time).transpose().map_err(|e| anyhow!("{at}: field `added`: {e}"))?;
            Ok((checked_id(id, &at)?, added))
        })
        .collect()
}

fn csv_rows(text: &str, name: &str, kind: Option<LabelKind>, source: &str) -> Result<Parsed> {
    let mut parsed = Parsed { labels: Vec::new(), origins: Vec::new() };
    for (at, record, [video, kind_col, time, source_col]) in list_rows(text, name)? {
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).map(str::trim).filter(|s| !s.is_empty());
        let video_id = cell(video).ok_or_else(|| anyhow!("{at}: field `video_id`: empty"))?;
        let kind = match (cell(kind_col), kind) {
            (Some(k), _) => parse_kind(k).map_err(|e| anyhow!("{at}: field `kind`: {e}"))?,
            (None, Some(k)) => k,
            (None, None) => bail!("{at}: field `kind`: no kind column or value (pass --kind)"),
        };
        let labelled_at = match cell(time) {
            Some(t) => takeout_time(t).map_err(|e| anyhow!("{at}: field `labelled_at`: {e}"))?,
            None => undated(kind, &at)?,
        };
        parsed.labels.push(Label {
            video_id: checked_id(video_id, &at)?,
            kind,
            labelled_at,
            source: cell(source_col).unwrap_or(source).to_string(),
            feed_at: None,
        });
        parsed.origins.push(at);
    }
    Ok(parsed)
}

/// RFC 3339, or Takeout's `2021-03-05 14:03:12 UTC`.
fn takeout_time(text: &str) -> Result<Timestamp> {
    if let Some(utc) = text.strip_suffix(" UTC") {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(utc, "%Y-%m-%d %H:%M:%S") {
            return Ok(t.and_utc());
        }
    }
    parse_rfc3339(text)
}

/// Interest needs no moment (a liked list rarely says when); right-time does.
fn undated(kind: LabelKind, at: &str) -> Result<Timestamp> {
    match kind.head() {
        Some(crate::records::Head::RightTime) => {
            bail!("{at}: field `labelled_at`: missing; a {kind} label is about a moment")
        }
        _ => Ok(chrono::Utc::now()),
    }
}

fn checked_id(id: &str, at: &str) -> Result<String> {
    if !crate::records::is_video_id(id) {
        bail!("{at}: field `video_id`: {id:?} is not a video id");
    }
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takeout_liked_lists_old_and_new() {
        let old = "Playlist Id,Channel Id,Time Created,Time Updated,Title,Description,Visibility\n\
                   LLxyz,UCabc,2020-01-01 00:00:00 UTC,2021-01-01 00:00:00 UTC,Liked videos,,Private\n\
                   \n\
                   Video Id,Time Added\n\
                   dQw4w9WgXcQ,2021-03-05 14:03:12 UTC\n";
        let p = csv_rows(old, "likes.csv", Some(LabelKind::Interest), "youtube-like").unwrap();
        assert_eq!(p.labels.len(), 1);
        assert_eq!(p.labels[0].labelled_at.to_rfc3339(), "2021-03-05T14:03:12+00:00");
        assert_eq!(p.origins[0], "likes.csv:5");
        let new = "Video ID,Playlist Video Creation Timestamp\nabc,2023-07-01T12:34:56+00:00\n";
        let p = csv_rows(new, "n.csv", Some(LabelKind::Uninterest), "x").unwrap();
        assert_eq!((p.labels[0].kind, p.labels[0].source.as_str()), (LabelKind::Uninterest, "x"));
    }

    #[test]
    fn errors_name_line_and_field() {
        let err = |text: &str| match text.starts_with('{') {
            true => jsonl(text, "l.jsonl", None, "s").err().unwrap().to_string(),
            false => csv_rows(text, "l.csv", None, "s").err().unwrap().to_string(),
        };
        let good = r#"{"video_id":"a","kind":"interest","labelled_at":"2026-01-01T00:00:00Z"}"#;
        assert!(err(&format!("{good}\n{{\"video_id\":\"b\",\"kind\":\"meh\"}}")).starts_with("l.jsonl:2: field `kind`"));
        let naive =
            format!("{good}\n\n{{\"video_id\":\"b\",\"kind\":\"not-now\",\"labelled_at\":\"2026-01-01T10:00:00\"}}");
        assert!(err(&naive).starts_with("l.jsonl:3: field `labelled_at`"), "{}", err(&naive));
        assert!(err("video_id,kind,labelled_at\na,right-time,\n").starts_with("l.csv:2: field `labelled_at`: missing"));
        assert!(err("video_id,kind\na b,interest\n").contains("l.csv:2: field `video_id`"));
        let no_id = err(r#"{"kind":"interest"}"#);
        assert!(no_id.starts_with("l.jsonl:1:") && no_id.contains("`video_id`"), "{no_id}");
        let bad_type = err(r#"{"video_id":"a","kind":"not-now","labelled_at":5}"#);
        assert!(bad_type.starts_with("l.jsonl:1: field `labelled_at`"), "{bad_type}");
        assert!(err("title,channel\nx,y\n").contains("no header with a video id column"));
    }
}
