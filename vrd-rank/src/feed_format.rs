//! How the feed is printed: JSONL for pipelines (default), TSV for spreadsheets and
//! `cut`/`awk`, an aligned table for people.

use anyhow::Result;
use std::io::Write;
use vrd_core::jsonl::write_record;
use vrd_core::records::FeedItem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FeedFormat {
    Jsonl,
    Tsv,
    Table,
    /// One URL per line, for a player (`mpv --playlist=-`).
    Urls,
    /// A standalone page with thumbnails and links that a browser opens with no server.
    Html,
}

pub fn write_feed<W: Write>(out: &mut W, feed: &[FeedItem], format: FeedFormat) -> Result<()> {
    match format {
        FeedFormat::Jsonl => {
            for item in feed {
                write_record(out, item)?;
            }
        }
        FeedFormat::Tsv => {
            writeln!(out, "rank\tscore\tvideo_id\ttitle\tchannel\turl")?;
            for i in feed {
                writeln!(
                    out,
                    "{}\t{:.6}\t{}\t{}\t{}\t{}",
                    i.rank,
                    i.score,
                    i.video_id,
                    tsv_field(&i.title),
                    tsv_field(i.channel.as_deref().unwrap_or("")),
                    i.url
                )?;
            }
        }
        FeedFormat::Table => {
            const TITLE: usize = 60;
            const CHANNEL: usize = 24;
            writeln!(out, "{:>4}  {:>6}  {:<TITLE$}  {:<CHANNEL$}  url", "rank", "score", "title", "channel")?;
            for i in feed {
                writeln!(
                    out,
                    "{:>4}  {:>6.3}  {}  {}  {}",
                    i.rank,
                    i.score,
                    pad(&clip(&i.title, TITLE), TITLE),
                    pad(&clip(i.channel.as_deref().unwrap_or(""), CHANNEL), CHANNEL),
                    i.url
                )?;
            }
        }
        FeedFormat::Urls => {
            for i in feed {
                writeln!(out, "{}", i.url)?;
            }
        }
        FeedFormat::Html => write_html(out, feed)?,
    }
    Ok(())
}

fn write_html<W: Write>(out: &mut W, feed: &[FeedItem]) -> Result<()> {
    writeln!(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vrd feed</title>")?;
    writeln!(
        out,
        "<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto;background:#fafafa}}\
         li{{display:flex;gap:1em;margin:0 0 1em;list-style:none;background:white;padding:.5em;border-radius:6px}}\
         img{{width:240px;height:135px;object-fit:cover;border-radius:4px}}a{{color:#1a0dab;font-weight:bold;text-decoration:none}}\
         .meta{{color:#555;font-size:.9em}}</style></head><body><h1>Your feed</h1><ol>"
    )?;
    for i in feed {
        let id = escape(&i.video_id);
        writeln!(
            out,
            "<li><a href=\"{url}\"><img src=\"https://i.ytimg.com/vi/{id}/mqdefault.jpg\" alt=\"\" loading=\"lazy\"></a>\
             <div><a href=\"{url}\">{rank}. {title}</a><div class=\"meta\">{channel} · score {score:.3}</div>\
             <div class=\"meta\">{reasons}</div></div></li>",
            url = escape(&i.url),
            rank = i.rank,
            title = escape(&i.title),
            channel = escape(i.channel.as_deref().unwrap_or("")),
            score = i.score,
            reasons = escape(&i.reasons.join(" · ")),
        )?;
    }
    writeln!(out, "</ol></body></html>")?;
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Tabs and line breaks inside a value would break the columns.
fn tsv_field(s: &str) -> String {
    s.chars().map(|c| if matches!(c, '\t' | '\n' | '\r') { ' ' } else { c }).collect()
}

fn clip(s: &str, width: usize) -> String {
    let s = tsv_field(s);
    if s.chars().count() <= width {
        s
    } else {
        let mut out: String = s.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn item() -> FeedItem {
        FeedItem {
            rank: 1,
            video_id: "abc".into(),
            score: 0.5,
            scores: BTreeMap::from([("similarity".into(), 0.5)]),
            title: "A\ttitle\nwith breaks".into(),
            channel: Some("Chan".into()),
            url: "https://www.youtube.com/watch?v=abc".into(),
            reasons: vec!["fits now <b>".into()],
        }
    }

    #[test]
    fn urls_and_a_standalone_html_page() {
        let mut out = Vec::new();
        write_feed(&mut out, &[item(), item()], FeedFormat::Urls).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "https://www.youtube.com/watch?v=abc\n".repeat(2));
        let mut out = Vec::new();
        write_feed(&mut out, &[item()], FeedFormat::Html).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
        assert!(html.contains(r#"<img src="https://i.ytimg.com/vi/abc/mqdefault.jpg""#));
        assert!(html.contains("A\ttitle\nwith breaks") && html.contains("fits now &lt;b&gt;"), "escaped: {html}");
    }

    #[test]
    fn tsv_has_header_and_clean_fields() {
        let mut out = Vec::new();
        write_feed(&mut out, &[item()], FeedFormat::Tsv).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "rank\tscore\tvideo_id\ttitle\tchannel\turl");
        assert_eq!(
            lines[1].split('\t').collect::<Vec<_>>(),
            ["1", "0.500000", "abc", "A title with breaks", "Chan", "https://www.youtube.com/watch?v=abc"]
        );
    }

    #[test]
    fn jsonl_round_trips() {
        let mut out = Vec::new();
        write_feed(&mut out, &[item()], FeedFormat::Jsonl).unwrap();
        let back: FeedItem = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, item());
    }

    #[test]
    fn table_clips_long_titles() {
        let mut long = item();
        long.title = "x".repeat(100);
        let mut out = Vec::new();
        write_feed(&mut out, &[long], FeedFormat::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().nth(1).unwrap().contains(&format!("{}…", "x".repeat(59))));
    }
}
