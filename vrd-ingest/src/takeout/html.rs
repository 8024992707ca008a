//! The HTML form of the Takeout watch history (`watch-history.html`, Takeout's default).
//!
//! Each activity is a `div.outer-cell` with a header cell (`<p class="mdl-typography--title">`,
//! "YouTube" or "YouTube Music"), a body cell ("Watched&nbsp;<a href=…>title</a><br><a
//! href=…>channel</a><br>date") and a caption cell with `Products:` and, for ads,
//! `Details: From Google Ads`. The markup is machine-written and regular, so it is read
//! with a small scanner rather than a full HTML parser.
//!
//! Dates are local and locale-formatted ("29 Nov 2021, 18:06:16 AEDT", "Nov 29, 2021,
//! 6:06:16 PM EST", "Sept" for September, narrow no-break spaces before AM/PM). Since 2020
//! the zone abbreviation is the one in force when the file was *exported*, not when the
//! video was watched, so with `--timezone` the wall time is read in that IANA zone (DST
//! applied per entry) and the abbreviation ignored; without it the abbreviation's fixed
//! offset is used (TRT, AEDT, EST… each name one), and an abbreviation several zones
//! share (IST, CST, BST, AST, AMT) asks for `--timezone`, naming the zones it could be.

use super::entry::{strip_verb, RawEntry};
use anyhow::{anyhow, bail, Result};
use chrono::{FixedOffset, NaiveDateTime, TimeZone, Utc};
use vrd_core::time::{Timestamp, Tz};

const ENTRY_MARK: &str = "<div class=\"outer-cell";

pub fn entries(html: &str, tz: Option<&Tz>) -> Result<Vec<RawEntry<'static>>> {
    let starts: Vec<usize> = html.match_indices(ENTRY_MARK).map(|(i, _)| i).collect();
    if starts.is_empty() {
        if html.contains("My Activity") || html.contains("mdl-typography") {
            return Ok(Vec::new()); // a Takeout page with no activity in it
        }
        bail!("1: not a Takeout watch history page (no activity entries found)");
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(html.len());
        let line = html[..start].bytes().filter(|&b| b == b'\n').count() + 1;
        let entry = parse_entry(&html[start..end], tz).map_err(|e| anyhow!("{line}: entry {k} (byte {start}): {e}"))?;
        out.push(entry);
    }
    Ok(out)
}

fn parse_entry(cell: &str, tz: Option<&Tz>) -> Result<RawEntry<'static>> {
    let header = between(cell, "mdl-typography--title\">", "</p>").map(|h| text_of(h).trim().to_string());
    let body = between(cell, "mdl-typography--body-1\">", "</div>").ok_or_else(|| anyhow!("no content cell"))?;
    let caption = between(cell, "mdl-typography--caption\">", "</div>").unwrap_or("");
    let lines: Vec<&str> = body.split("<br>").collect();
    let date = lines.last().map(|l| text_of(l)).unwrap_or_default();
    let time = parse_date(&date, tz)?;
    // First line: the verb, then usually a link whose text is the title.
    let first = lines[0];
    let (title, title_url) = match link(first) {
        Some((href, text)) => (text, Some(href)),
        None => (strip_verb(&text_of(first)).to_string(), None),
    };
    let channel = if lines.len() > 2 { link(lines[1]) } else { None };
    let (channel_url, channel) = channel.map_or((None, None), |(url, name)| (Some(url.into()), Some(name.into())));
    Ok(RawEntry {
        header: header.map(Into::into),
        title: title.into(),
        title_url: title_url.map(Into::into),
        channel_url,
        channel,
        time,
        is_ad: caption.contains("From Google Ads"),
        source: "takeout-html",
    })
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

/// The first `<a href="…">text</a>` in a fragment.
fn link(fragment: &str) -> Option<(String, String)> {
    let href = between(fragment, "<a href=\"", "\"")?;
    let after = &fragment[fragment.find("<a href=\"")?..];
    let text = between(after, ">", "</a>")?;
    Some((decode_entities(href), text_of(text).trim().to_string()))
}

/// Text content: tags dropped, entities decoded, Takeout's odd spaces made plain.
fn text_of(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len());
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out).replace(['\u{a0}', '\u{202f}', '\u{2003}', '\u{2009}'], " ")
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            "emsp" => Some('\u{2003}'),
            _ => name
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Local date formats Takeout writes, by account locale.
const FORMATS: &[&str] =
    &["%d %b %Y, %H:%M:%S", "%b %d, %Y, %I:%M:%S %p", "%b %d, %Y, %H:%M:%S", "%d %b %Y, %I:%M:%S %p"];

fn parse_date(text: &str, tz: Option<&Tz>) -> Result<Timestamp> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ").replace("Sept ", "Sep ");
    // A trailing zone abbreviation or offset, if any (absent before 2018: UTC).
    let (wall, zone) = match text.rsplit_once(' ') {
        Some((w, z))
            if z.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && !matches!(z, "AM" | "PM" | "am" | "pm") =>
        {
            (w.to_string(), Some(z.to_string()))
        }
        _ => (text.clone(), None),
    };
    let naive = FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&wall, f).ok())
        .ok_or_else(|| anyhow!("unreadable date {text:?}"))?;
    if let Some(tz) = tz {
        // Ambiguous (autumn) times take the earlier instant; skipped (spring) times are
        // read in the offset before the change.
        return tz
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(naive - chrono::Duration::hours(1)))
                    .earliest()
                    .map(|t| t + chrono::Duration::hours(1))
            })
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| anyhow!("date {text:?} does not exist in {}", tz.name()));
    }
    let offset = match zone.as_deref().map(zone_offset) {
        None => FixedOffset::east_opt(0).unwrap(),
        Some(Zone::Fixed(offset)) => offset,
        Some(Zone::Ambiguous(places)) => bail!(
            "ambiguous time zone {:?} in date {text:?} ({places}): pass --timezone with your IANA zone",
            zone.as_deref().unwrap_or_default()
        ),
        Some(Zone::Unknown) => {
            bail!("unknown time zone {:?} in date {text:?}: pass --timezone", zone.as_deref().unwrap_or_default())
        }
    };
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow!("unreadable date {text:?}"))
}

/// What a zone abbreviation in a date says about its offset.
#[derive(Debug, PartialEq)]
enum Zone {
    Fixed(FixedOffset),
    /// Several zones write it (the places and their offsets, to name in the error).
    Ambiguous(&'static str),
    Unknown,
}

/// The zone a date's trailing abbreviation (or `GMT+5`, `UTC-03:30`) names. Most
/// abbreviations stand for one fixed offset; the few that several populous zones share
/// (IST, CST, BST, AST, AMT) cannot be read without the person's zone.
fn zone_offset(zone: &str) -> Zone {
    for prefix in ["GMT", "UTC"] {
        if let Some(rest) = zone.strip_prefix(prefix) {
            return gmt_offset(rest).map_or(Zone::Unknown, Zone::Fixed);
        }
    }
    let ambiguous = match zone {
        "IST" => Some("India +05:30, Israel +02:00 or Ireland +01:00"),
        "CST" => Some("US Central −06:00, China +08:00 or Cuba −05:00"),
        "BST" => Some("British Summer +01:00 or Bangladesh +06:00"),
        "AST" => Some("Atlantic −04:00 or Arabia +03:00"),
        "AMT" => Some("Amazon −04:00 or Armenia +04:00"),
        _ => None,
    };
    if let Some(places) = ambiguous {
        return Zone::Ambiguous(places);
    }
    let hours: f64 = match zone {
        "Z" | "WET" => 0.0,
        "CET" | "MEZ" | "WEST" | "WAT" => 1.0,
        "CEST" | "MESZ" | "EET" | "OEZ" | "SAST" | "CAT" => 2.0,
        "EEST" | "OESZ" | "MSK" | "TRT" | "EAT" => 3.0,
        "IRST" => 3.5,
        "GST" | "AZT" | "GET" => 4.0,
        "AFT" | "IRDT" => 4.5,
        "PKT" | "UZT" => 5.0,
        "NPT" => 5.75,
        "MMT" => 6.5,
        "ICT" | "WIB" => 7.0,
        "HKT" | "SGT" | "AWST" | "PHT" | "WITA" | "MYT" => 8.0,
        "JST" | "KST" | "WIT" => 9.0,
        "ACST" => 9.5,
        "AEST" | "ChST" => 10.0,
        "ACDT" => 10.5,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        "NZDT" => 13.0,
        "NDT" => -2.5,
        "ADT" | "ART" | "BRT" | "UYT" | "CLST" => -3.0,
        "NST" => -3.5,
        "EDT" | "CLT" | "VET" | "BOT" | "PYT" => -4.0,
        "EST" | "CDT" | "COT" | "PET" | "ECT" => -5.0,
        "MDT" => -6.0,
        "MST" | "PDT" => -7.0,
        "PST" | "AKDT" => -8.0,
        "AKST" | "HDT" => -9.0,
        "HST" => -10.0,
        _ => return Zone::Unknown,
    };
    FixedOffset::east_opt((hours * 3600.0) as i32).map_or(Zone::Unknown, Zone::Fixed)
}

/// The offset after `GMT`/`UTC`: empty, or a signed hour with optional `:MM`.
fn gmt_offset(rest: &str) -> Option<FixedOffset> {
    if rest.is_empty() {
        return FixedOffset::east_opt(0);
    }
    let (sign, digits) = rest.split_at(1);
    let sign = match sign {
        "+" => 1,
        "-" => -1,
        _ => return None,
    };
    let (h, m) = digits.split_once(':').unwrap_or((digits, "0"));
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::takeout::classify;
    use vrd_core::time::parse_rfc3339;

    fn cell(header: &str, body: &str, caption: &str) -> String {
        format!(
            "<div class=\"outer-cell mdl-cell mdl-cell--12-col mdl-shadow--2dp\"><div class=\"mdl-grid\">\
             <div class=\"header-cell mdl-cell mdl-cell--12-col\"><p class=\"mdl-typography--title\">{header}<br></p></div>\
             <div class=\"content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1\">{body}</div>\
             <div class=\"content-cell mdl-cell mdl-cell--6-col mdl-typography--body-1 mdl-typography--text-right\"></div>\
             <div class=\"content-cell mdl-cell mdl-cell--12-col mdl-typography--caption\">{caption}</div></div></div>"
        )
    }

    #[test]
    fn entries_with_links_entities_ads_and_removed_videos() {
        let html = format!(
            "<html><body><div class=\"mdl-grid\">{}{}{}{}</div></body></html>",
            cell("YouTube", "Watched\u{a0}<a href=\"https://www.youtube.com/watch?v=OCW3Jz6F8Ek\">Yarn vs NPM - You won&#39;t believe</a><br><a href=\"https://www.youtube.com/channel/UCVTlvUkGslCV_h-nSAId8Sw\">LearnCode.academy</a><br>29 Nov 2021, 18:06:16 AEDT", "<b>Products:</b><br>&emsp;YouTube<br>"),
            cell("YouTube", "Watched\u{a0}<a href=\"https://www.youtube.com/watch?v=AAAAAAAAAAA\">Buy now</a><br>Nov 28, 2021, 6:06:16\u{202f}PM EST", "<b>Details:</b><br>&emsp;From Google Ads<br>"),
            cell("YouTube", "Watched a video that has been removed<br>3 Sept 2021, 09:00:00 AEST", ""),
            cell("YouTube Music", "Watched\u{a0}<a href=\"https://music.youtube.com/watch?v=RzPZvKSdN7g\">Watermelon Man</a><br><a href=\"https://www.youtube.com/channel/UCSi2\">Herbie Hancock - Topic</a><br>Jan 30, 2017, 3:36:09 PM", ""),
        );
        let entries = entries(&html, None).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].title, "Yarn vs NPM - You won't believe");
        assert_eq!(entries[0].channel.as_deref(), Some("LearnCode.academy"));
        assert_eq!(entries[0].time, parse_rfc3339("2021-11-29T07:06:16Z").unwrap());
        assert!(entries[1].is_ad);
        assert_eq!(entries[1].time, parse_rfc3339("2021-11-28T23:06:16Z").unwrap());
        assert_eq!(entries[2].title_url, None);
        assert_eq!(entries[2].time, parse_rfc3339("2021-09-02T23:00:00Z").unwrap(), "Sept, AEST");
        assert_eq!(entries[3].time, parse_rfc3339("2017-01-30T15:36:09Z").unwrap(), "no zone: UTC");
        let p = classify(entries);
        assert_eq!((p.events.len(), p.skipped_ads, p.skipped_removed), (2, 1, 1));
        assert_eq!(p.events[0].source, "takeout-html-music");
        assert_eq!(p.events[1].channel_id.as_deref(), Some("UCVTlvUkGslCV_h-nSAId8Sw"));
    }

    #[test]
    fn a_time_zone_reads_wall_times_with_the_dst_of_each_date() {
        let sydney: Tz = "Australia/Sydney".parse().unwrap();
        // Exported in summer, so every entry says AEDT; June is AEST (UTC+10) in Sydney.
        let june = parse_date("9 Jun 2021, 20:15:00 AEDT", Some(&sydney)).unwrap();
        assert_eq!(june, parse_rfc3339("2021-06-09T10:15:00Z").unwrap());
        let fixed = parse_date("9 Jun 2021, 20:15:00 AEDT", None).unwrap();
        assert_eq!(fixed, parse_rfc3339("2021-06-09T09:15:00Z").unwrap(), "the abbreviation alone is an hour off");
    }

    #[test]
    fn bad_pages_and_dates_are_named() {
        let err = entries("<html><body><p>Hello</p></body></html>", None).unwrap_err().to_string();
        assert!(err.contains("not a Takeout watch history page"), "{err}");
        let html = cell("YouTube", "Watched\u{a0}<a href=\"https://youtu.be/x\">x</a><br>sometime last week", "");
        let err = entries(&format!("\n\n{html}"), None).unwrap_err().to_string();
        assert!(err.starts_with("3: entry 0") && err.contains("unreadable date"), "{err}");
        let html =
            cell("YouTube", "Watched\u{a0}<a href=\"https://youtu.be/x\">x</a><br>9 Jun 2021, 20:15:00 XYZT", "");
        let err = entries(&html, None).unwrap_err().to_string();
        assert!(err.contains("unknown time zone \"XYZT\"") && err.contains("--timezone"), "{err}");
        let err = parse_date("9 Jun 2021, 20:15:00 IST", None).unwrap_err().to_string();
        assert!(err.contains("ambiguous time zone \"IST\"") && err.contains("India +05:30"), "{err}");
        assert!(err.contains("--timezone"), "{err}");
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let read = parse_date("9 Jun 2021, 20:15:00 IST", Some(&kolkata)).unwrap();
        assert_eq!(read, parse_rfc3339("2021-06-09T14:45:00Z").unwrap(), "with the zone given it reads");
    }

    #[test]
    fn unambiguous_abbreviations_need_no_zone() {
        // A Turkish export's time, an Australian, a US Eastern, and GMT offsets.
        let cases = [
            ("Nov 19, 2023, 4:16:16 PM TRT", "2023-11-19T13:16:16Z"),
            ("19 Nov 2023, 16:16:16 AEDT", "2023-11-19T05:16:16Z"),
            ("Nov 19, 2023, 4:16:16 PM EST", "2023-11-19T21:16:16Z"),
            ("19 Nov 2023, 16:16:16 NPT", "2023-11-19T10:31:16Z"),
            ("19 Nov 2023, 16:16:16 GMT+05:30", "2023-11-19T10:46:16Z"),
            ("19 Nov 2023, 16:16:16 GMT-3", "2023-11-19T19:16:16Z"),
            ("19 Nov 2023, 16:16:16 UTC", "2023-11-19T16:16:16Z"),
        ];
        for (text, utc) in cases {
            assert_eq!(parse_date(text, None).unwrap(), parse_rfc3339(utc).unwrap(), "{text}");
        }
    }

    #[test]
    fn entities() {
        assert_eq!(decode_entities("a &amp; b &lt;c&gt; &#39;d&#x27; &bogus; & e"), "a & b <c> 'd' &bogus; & e");
    }
}
