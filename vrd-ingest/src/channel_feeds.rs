//! Channel feeds as candidate videos: YouTube's channel Atom feeds
//! (`/feeds/videos.xml?channel_id=…`, with `yt:videoId`, `yt:channelId` and a `media:group`
//! description), generic Atom and RSS 2.0 feeds for other media, and OPML subscription
//! lists naming feeds. Real feeds can start with a blank line before `<?xml`, and give
//! channel ids without their `UC` prefix.

use anyhow::{anyhow, Context, Result};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use vrd_core::records::Video;
use vrd_core::time::{parse_rfc3339, Timestamp};

/// One entry while it is being read.
#[derive(Default)]
struct Entry {
    video_id: Option<String>,
    channel_id: Option<String>,
    title: String,
    link: Option<String>,
    guid: Option<String>,
    description: String,
    author: Option<String>,
    published: Option<String>,
}

/// Parses a feed; `name` (file or URL) names it in errors, which also give the byte
/// position.
pub fn parse_feed(text: &str, name: &str) -> Result<Vec<Video>> {
    let mut reader = Reader::from_str(text.trim_start());
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut feed_title = String::new();
    let mut feed_channel: Option<String> = None;
    let mut entry: Option<Entry> = None;
    let mut out = Vec::new();
    let mut saw_root = false;
    loop {
        let position = reader.buffer_position();
        let ev = reader.read_event().map_err(|e| anyhow!("{name}: byte {position}: malformed XML: {e}"))?;
        match ev {
            Event::Start(e) => {
                let tag = local_name(&e);
                if path.is_empty() {
                    if !matches!(tag.as_str(), "feed" | "rss" | "rdf:RDF" | "RDF") {
                        return Err(anyhow!("{name}: not an Atom or RSS feed (root element <{tag}>)"));
                    }
                    saw_root = true;
                }
                if matches!(tag.as_str(), "entry" | "item") {
                    entry = Some(Entry::default());
                }
                if tag == "link" {
                    if let Some(en) = entry.as_mut() {
                        take_link(&e, en);
                    }
                }
                path.push(tag);
            }
            Event::Empty(e) if local_name(&e) == "link" => {
                if let Some(en) = entry.as_mut() {
                    take_link(&e, en);
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| anyhow!("{name}: byte {position}: {e}"))?.into_owned();
                assign(&path, text, &mut entry, &mut feed_title, &mut feed_channel);
            }
            Event::CData(t) => {
                let text = String::from_utf8_lossy(&t.into_inner()).into_owned();
                assign(&path, text, &mut entry, &mut feed_title, &mut feed_channel);
            }
            Event::End(_) => {
                let tag = path.pop().unwrap_or_default();
                if matches!(tag.as_str(), "entry" | "item") {
                    if let Some(en) = entry.take() {
                        let index = out.len();
                        out.push(
                            to_video(en, &feed_title, feed_channel.as_deref())
                                .with_context(|| format!("{name}: entry {index}"))?,
                        );
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(anyhow!("{name}: empty, or not an Atom or RSS feed"));
    }
    Ok(out)
}

fn local_name(e: &BytesStart) -> String {
    String::from_utf8_lossy(e.name().as_ref()).into_owned()
}

fn take_link(e: &BytesStart, en: &mut Entry) {
    let mut href = None;
    let mut rel = None;
    for a in e.attributes().flatten() {
        let value = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
        match a.key.as_ref() {
            b"href" => href = Some(value),
            b"rel" => rel = Some(value),
            _ => {}
        }
    }
    if href.is_some() && rel.as_deref().is_none_or(|r| r == "alternate") {
        en.link = href;
    }
}

fn assign(
    path: &[String],
    text: String,
    entry: &mut Option<Entry>,
    feed_title: &mut String,
    feed_channel: &mut Option<String>,
) {
    let leaf = path.last().map(String::as_str).unwrap_or("");
    let parent = path.len().checked_sub(2).map(|i| path[i].as_str()).unwrap_or("");
    match entry {
        Some(en) => match (parent, leaf) {
            (_, "yt:videoId") => en.video_id = Some(text),
            (_, "yt:channelId") => en.channel_id = Some(text),
            ("entry" | "item", "title") => en.title = text,
            ("media:group", "media:description")
            | ("item", "description")
            | ("entry", "summary")
            | ("entry", "content")
                if en.description.is_empty() =>
            {
                en.description = text
            }
            ("author", "name") | ("item", "author") | ("item", "dc:creator") => en.author = Some(text),
            ("entry", "published") | ("item", "pubDate") | ("item", "dc:date") => en.published = Some(text),
            ("entry", "updated") if en.published.is_none() => en.published = Some(text),
            ("item", "link") => en.link = Some(text),
            ("item", "guid") | ("entry", "id") => en.guid = Some(text),
            _ => {}
        },
        None => match (parent, leaf) {
            ("feed" | "channel", "title") => *feed_title = text,
            ("feed", "yt:channelId") => *feed_channel = Some(text),
            _ => {}
        },
    }
}

fn to_video(en: Entry, feed_title: &str, feed_channel: Option<&str>) -> Result<Video> {
    let is_youtube = en.video_id.is_some();
    let video_id = en.video_id.or_else(|| en.link.clone()).or(en.guid).ok_or_else(|| anyhow!("no id, link or guid"))?;
    let published_at = en.published.as_deref().map(parse_feed_time).transpose()?;
    let channel_id = en.channel_id.or_else(|| feed_channel.map(str::to_string)).map(|c| normalize_channel_id(&c));
    let is_short = en.link.as_deref().is_some_and(|l| l.contains("/shorts/"));
    Ok(Video {
        video_id,
        title: en.title,
        description: en.description,
        channel: en.author.or_else(|| (!feed_title.is_empty()).then(|| feed_title.to_string())),
        channel_id,
        published_at,
        duration_s: None,
        tags: vec![],
        category: None,
        live: None,
        // Only YouTube's feeds link Shorts differently; other feeds cannot tell.
        short: is_youtube.then_some(is_short),
        source: if is_youtube { "youtube-rss" } else { "rss" }.into(),
    })
}

/// RFC 3339 (Atom) or RFC 2822 (RSS `pubDate`).
fn parse_feed_time(text: &str) -> Result<Timestamp> {
    parse_rfc3339(text).or_else(|_| {
        chrono::DateTime::parse_from_rfc2822(text.trim())
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| anyhow!("field `published`: unreadable time {text:?}"))
    })
}

/// YouTube channel ids are `UC` + 22 characters; some feeds drop the prefix.
fn normalize_channel_id(id: &str) -> String {
    if id.len() == 22 && !id.starts_with("UC") {
        format!("UC{id}")
    } else {
        id.to_string()
    }
}

/// The feeds of an OPML list (`<outline xmlUrl="…">`) with their titles (`title`, else
/// `text`).
pub fn opml_outlines(text: &str, name: &str) -> Result<Vec<(String, Option<String>)>> {
    let mut reader = Reader::from_str(text.trim_start());
    let mut out = Vec::new();
    let mut saw_opml = false;
    loop {
        let position = reader.buffer_position();
        match reader.read_event().map_err(|e| anyhow!("{name}: byte {position}: malformed XML: {e}"))? {
            Event::Start(e) | Event::Empty(e) => {
                let tag = local_name(&e);
                saw_opml |= tag == "opml";
                if tag == "outline" {
                    let (mut url, mut title, mut text) = (None, None, None);
                    for a in e.attributes().flatten() {
                        let value = a.unescape_value().map(|v| v.into_owned()).unwrap_or_default();
                        match a.key.as_ref() {
                            b"xmlUrl" => url = Some(value),
                            b"title" => title = Some(value),
                            b"text" => text = Some(value),
                            _ => {}
                        }
                    }
                    if let Some(url) = url {
                        out.push((url, title.or(text).filter(|t| !t.trim().is_empty())));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_opml {
        return Err(anyhow!("{name}: not an OPML file"));
    }
    Ok(out)
}

/// Whether a feed source is fetched over the network (else it is a file).
pub fn is_remote(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// How long one channel feed may take: a server that hangs must not hold up a cron job's
/// run, which has a hundred other channels and a feed to make.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A feed's text from a file or an http(s) URL. A failed request says why in words
/// ("answered 404 Not Found: …", "connection refused"); the caller names the feed.
pub fn fetch(source: &str) -> Result<String> {
    if is_remote(source) {
        match fetch_if_changed(&feed_agent()?, source, &Validators::default()) {
            Answer::Feed { text, .. } => Ok(text),
            Answer::NotModified => unreachable!("nothing was asked conditionally"),
            Answer::Failed { words, .. } => Err(anyhow!("{words}")),
        }
    } else {
        std::fs::read_to_string(source).with_context(|| format!("cannot read {source}"))
    }
}

/// The agent channel feeds are fetched with (its timeouts: [`CONNECT_TIMEOUT`],
/// [`FETCH_TIMEOUT`]); one agent serves a run's fetches, keeping connections alive.
pub fn feed_agent() -> Result<ureq::Agent> {
    vrd_aw::http::agent(
        ureq::AgentBuilder::new().timeout_connect(CONNECT_TIMEOUT).timeout(FETCH_TIMEOUT).user_agent(concat!(
            "vrd/",
            env!("CARGO_PKG_VERSION"),
            " (a personal feed reader)"
        )),
    )
}

/// What the last answer of a feed said it was, to ask whether it changed since.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A conditional fetch's answer.
#[derive(Debug)]
pub enum Answer {
    Feed {
        text: String,
        validators: Validators,
    },
    /// 304: the feed is as it was.
    NotModified,
    /// No feed: the status where the server answered (404, 500, 429 with how long to wait,
    /// where it said), and why in words.
    Failed {
        status: Option<u16>,
        retry_after_s: Option<u64>,
        words: String,
    },
}

/// GETs a feed, asking with `If-None-Match` / `If-Modified-Since` whether it changed
/// where `known` has validators.
pub fn fetch_if_changed(agent: &ureq::Agent, url: &str, known: &Validators) -> Answer {
    let mut request = agent.get(url);
    if let Some(etag) = &known.etag {
        request = request.set("If-None-Match", etag);
    }
    if let Some(date) = &known.last_modified {
        request = request.set("If-Modified-Since", date);
    }
    match request.call() {
        Ok(resp) if resp.status() == 304 => Answer::NotModified,
        Ok(resp) => {
            let validators = Validators {
                etag: resp.header("ETag").map(str::to_string),
                last_modified: resp.header("Last-Modified").map(str::to_string),
            };
            match resp.into_string() {
                Ok(text) => Answer::Feed { text, validators },
                Err(e) => Answer::Failed { status: None, retry_after_s: None, words: format!("unreadable body: {e}") },
            }
        }
        Err(e) => {
            let words = vrd_aw::http::failure_words(&e);
            match e {
                // What YouTube answers for a channel that was deleted or never existed.
                ureq::Error::Status(404, _) => Answer::Failed {
                    status: Some(404),
                    retry_after_s: None,
                    words: format!("{words} (no such channel feed: deleted, or a wrong id?)"),
                },
                ureq::Error::Status(code, resp) => Answer::Failed {
                    status: Some(code),
                    retry_after_s: resp.header("Retry-After").and_then(|s| s.trim().parse().ok()),
                    words,
                },
                ureq::Error::Transport(_) => Answer::Failed { status: None, retry_after_s: None, words },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOM: &str = r#"
<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <yt:channelId>2_f3_-kgw2I8kqVY69rerg</yt:channelId>
 <title>Chan &amp; Co</title>
 <entry>
  <yt:videoId>AAAAAAAAAAA</yt:videoId>
  <yt:channelId>2_f3_-kgw2I8kqVY69rerg</yt:channelId>
  <title>A &lt;short&gt; one</title>
  <link rel="alternate" href="https://www.youtube.com/shorts/AAAAAAAAAAA"/>
  <author><name>Chan &amp; Co</name></author>
  <published>2026-01-02T03:04:05+00:00</published>
  <media:group><media:description>Desc</media:description></media:group>
 </entry>
</feed>"#;

    #[test]
    fn youtube_atom_with_a_leading_blank_line_and_a_short_id() {
        let v = parse_feed(ATOM, "t.xml").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].video_id, "AAAAAAAAAAA");
        assert_eq!(v[0].title, "A <short> one");
        assert_eq!(v[0].channel.as_deref(), Some("Chan & Co"));
        assert_eq!(v[0].channel_id.as_deref(), Some("UC2_f3_-kgw2I8kqVY69rerg"));
        assert_eq!(v[0].description, "Desc");
        assert_eq!(v[0].short, Some(true));
        assert_eq!(v[0].published_at, Some(parse_rfc3339("2026-01-02T03:04:05Z").unwrap()));
    }

    #[test]
    fn rss2_items_and_opml() {
        let rss = r#"<rss version="2.0"><channel><title>A podcast</title>
          <item><title>Episode 1</title><link>https://example.org/ep1</link><guid>ep-1</guid>
          <description><![CDATA[<p>Hello</p>]]></description><pubDate>Tue, 10 Jun 2025 04:00:00 +0200</pubDate></item></channel></rss>"#;
        let v = parse_feed(rss, "p.xml").unwrap();
        assert_eq!(v[0].video_id, "https://example.org/ep1");
        assert_eq!(v[0].channel.as_deref(), Some("A podcast"));
        assert_eq!(v[0].description, "<p>Hello</p>");
        assert_eq!(v[0].published_at, Some(parse_rfc3339("2025-06-10T02:00:00Z").unwrap()));
        assert_eq!(v[0].source, "rss");
        let opml = r#"<?xml version="1.0"?><opml version="1.1"><body><outline text="YouTube Subscriptions">
          <outline text="A" xmlUrl="https://www.youtube.com/feeds/videos.xml?channel_id=UCa" />
          <outline text="B" xmlUrl="https://www.youtube.com/feeds/videos.xml?channel_id=UCb&amp;x=1" /></outline></body></opml>"#;
        assert_eq!(
            opml_outlines(opml, "s.opml").unwrap(),
            [
                ("https://www.youtube.com/feeds/videos.xml?channel_id=UCa".to_string(), Some("A".to_string())),
                ("https://www.youtube.com/feeds/videos.xml?channel_id=UCb&x=1".to_string(), Some("B".to_string()))
            ]
        );
    }

    #[test]
    fn bad_feeds_are_named() {
        let err = parse_feed("<html><body>hi</body></html>", "page.html").unwrap_err().to_string();
        assert!(err.contains("page.html") && err.contains("not an Atom or RSS feed"), "{err}");
        let err = parse_feed("<feed><entry><title>x</titl></entry></feed>", "bad.xml").unwrap_err().to_string();
        assert!(err.contains("bad.xml: byte") && err.contains("malformed XML"), "{err}");
        let err = format!(
            "{:#}",
            parse_feed(
                "<feed><entry><title>x</title><published>soon</published><link href=\"u\"/></entry></feed>",
                "t.xml"
            )
            .unwrap_err()
        );
        assert!(err.contains("t.xml: entry 0") && err.contains("soon"), "{err:#}");
        assert!(opml_outlines("<feed/>", "x.opml").unwrap_err().to_string().contains("not an OPML file"));
    }
}
