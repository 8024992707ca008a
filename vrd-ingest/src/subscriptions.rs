//! The person's subscriptions as they have them: Takeout's `subscriptions.csv` (`Channel
//! Id,Channel Url,Channel Title`, its header in the account's language) or an OPML list of
//! feeds. Columns are found by what they hold (a channel id, a URL), not by the header's
//! words, so every language's export reads the same.

use crate::channel_feeds;
use crate::takeout::channel_id_from_url;
use anyhow::{anyhow, bail, Result};
use vrd_core::records::Subscription;

/// Where Takeout's subscriptions came from (the records' `source`).
pub const TAKEOUT: &str = "takeout-subscriptions";
pub const OPML: &str = "opml";

/// The subscriptions of a `subscriptions.csv` or OPML text; `name` starts every error.
pub fn parse(text: &str, name: &str) -> Result<Vec<Subscription>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('<') {
        return Ok(channel_feeds::opml_outlines(text, name)?
            .into_iter()
            .map(|(url, title)| match channel_of_feed(&url) {
                Some(id) => Subscription { feed: url.clone(), ..Subscription::channel(&id, title, OPML) },
                None => Subscription { feed: url, channel_id: None, title, source: OPML.into() },
            })
            .collect());
    }
    csv(text, name)
}

/// Whether `text` is a Takeout subscriptions list: a CSV whose rows name channel ids.
pub fn is_subscriptions_csv(text: &str) -> bool {
    csv(text.strip_prefix('\u{feff}').unwrap_or(text), "").is_ok_and(|s| !s.is_empty())
}

fn csv(text: &str, name: &str) -> Result<Vec<Subscription>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| anyhow!("{name}: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let cells: Vec<&str> = record.iter().map(str::trim).collect();
        let id = cells
            .iter()
            .find(|c| is_channel_id(c))
            .map(|c| c.to_string())
            .or_else(|| cells.iter().find_map(|c| channel_id_from_url(c).filter(|id| is_channel_id(id))))
            .ok_or_else(|| anyhow!("{name}:{line}: no channel id (UC…) in this row: {cells:?}"))?;
        // The title is the cell that is neither the id nor a URL.
        let title = cells
            .iter()
            .find(|c| !c.is_empty() && **c != id && !c.starts_with("http://") && !c.starts_with("https://"))
            .map(|c| c.to_string());
        out.push(Subscription::channel(&id, title, TAKEOUT));
    }
    if out.is_empty() && !name.is_empty() {
        bail!("{name}: no subscriptions (a Takeout subscriptions.csv: Channel Id,Channel Url,Channel Title)");
    }
    Ok(out)
}

/// `UC` and 22 characters of the URL-safe alphabet.
fn is_channel_id(s: &str) -> bool {
    s.len() == 24 && s.starts_with("UC") && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The channel id of a channel feed URL (`…/feeds/videos.xml?channel_id=UC…`).
fn channel_of_feed(url: &str) -> Option<String> {
    let id = url.split("channel_id=").nth(1)?.split('&').next()?;
    is_channel_id(id).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takeout_csv_in_any_language() {
        let en = "Channel Id,Channel Url,Channel Title\n\
                  UCsXVk37bltHxD1rDPwtNM8Q,http://www.youtube.com/channel/UCsXVk37bltHxD1rDPwtNM8Q,Kurzgesagt – In a Nutshell\n\
                  \n\
                  UC2_f3_-kgw2I8kqVY69rerg,http://www.youtube.com/channel/UC2_f3_-kgw2I8kqVY69rerg,\"Chan, & Co\"\n";
        let s = parse(en, "subscriptions.csv").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].channel_id.as_deref(), Some("UCsXVk37bltHxD1rDPwtNM8Q"));
        assert_eq!(s[0].title.as_deref(), Some("Kurzgesagt – In a Nutshell"));
        assert_eq!(s[0].feed, "https://www.youtube.com/feeds/videos.xml?channel_id=UCsXVk37bltHxD1rDPwtNM8Q");
        assert_eq!(s[1].title.as_deref(), Some("Chan, & Co"));
        assert_eq!(
            s[1].feed_at("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/feeds/videos.xml?channel_id=UC2_f3_-kgw2I8kqVY69rerg"
        );
        let de = "\u{feff}Kanal-ID,Kanal-URL,Kanaltitel\nUCsXVk37bltHxD1rDPwtNM8Q,http://www.youtube.com/channel/UCsXVk37bltHxD1rDPwtNM8Q,Kurzgesagt\n";
        assert_eq!(parse(de, "Abos.csv").unwrap()[0].title.as_deref(), Some("Kurzgesagt"));
        assert!(is_subscriptions_csv(de));
        assert!(!is_subscriptions_csv("Video ID,Playlist Video Creation Timestamp\nabc,2023-07-01T12:34:56+00:00\n"));
    }

    #[test]
    fn a_bad_row_is_named() {
        let bad = "Channel Id,Channel Url,Channel Title\nnot-a-channel,http://example.com,X\n";
        let e = parse(bad, "subs.csv").unwrap_err().to_string();
        assert!(e.starts_with("subs.csv:2: no channel id"), "{e}");
        assert!(parse("Channel Id,Channel Url,Channel Title\n", "subs.csv").is_err(), "empty");
    }

    #[test]
    fn opml_channels_and_other_feeds() {
        let opml = r#"<opml version="1.1"><body><outline text="YouTube Subscriptions">
          <outline text="Chan" title="Chan" xmlUrl="https://www.youtube.com/feeds/videos.xml?channel_id=UC2_f3_-kgw2I8kqVY69rerg" />
          <outline text="Blog" xmlUrl="https://blog.example/feed.xml" /></outline></body></opml>"#;
        let s = parse(opml, "subs.opml").unwrap();
        assert_eq!(s[0].channel_id.as_deref(), Some("UC2_f3_-kgw2I8kqVY69rerg"));
        assert_eq!((s[1].channel_id.as_ref(), s[1].title.as_deref()), (None, Some("Blog")));
        assert_eq!(s[1].feed_at("http://127.0.0.1:9"), "https://blog.example/feed.xml");
    }
}
