//! Mutation fuzzing of every parser vrd-ingest runs on outside input: Takeout JSON and
//! HTML, ActivityWatch exports (through the whole local timeline computation), RSS/Atom and
//! OPML, and YouTube Data API responses. Seeds are the repo's fixtures and, when present,
//! the real samples in ../shared/data; each case is a seed mutated a few times (byte flips,
//! cuts, duplicated and spliced ranges, syntax tokens). A parser may refuse any input with
//! an error; it must never panic.
//!
//! `VRD_FUZZ_CASES` sets the cases per parser (default 1,500, a few seconds in the test
//! suite); `VRD_FUZZ_SEED` picks another sequence. Crashes found become
//! their own named tests in this module (none so far).

#![cfg(test)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that steer mutations into the parsers' interesting corners.
const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "1e309",
    "0.0",
    "\"\"",
    "[]",
    "{}",
    "<",
    ">",
    "</",
    "/>",
    "&amp;",
    "&#x0;",
    "&bogus;",
    "<![CDATA[",
    "]]>",
    "<entry>",
    "</entry>",
    "<item>",
    "\u{202f}",
    "Sept",
    "AM",
    "PM",
    "GMT+13:45",
    "2024-02-30T25:61:61Z",
    "9999-12-31T23:59:59Z",
    "P",
    "PT",
    "T",
    "\\u003d",
    "\\ud800",
    "watch?v=",
    "https://www.youtube.com/watch?v=",
    "Watched ",
    "\"time\":",
    "\"titleUrl\":",
    "\"duration\":",
    "\"timestamp\":",
    "\"events\":",
    "\u{1F600}",
    "\0",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(7) {
            0 if len > 0 => data[at.min(len - 1)] ^= 1 << rng.below(8),
            1 => data.insert(at, rng.next() as u8),
            2 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                data.drain(at.min(end)..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(256)).min(len);
                let copy = data[start..end].to_vec();
                data.splice(at..at, copy);
            }
            4 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(512)).min(other.len());
                data.splice(at..at, other[start..end].iter().copied());
            }
            5 => data.truncate(at),
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.bytes());
            }
        }
    }
    data
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files of `dirs` (repo-relative, the real samples of ../shared/data among them: a missing
/// folder fails the test) ending in `ext`.
fn seeds(dirs: &[&str], ext: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(repo().join(dir))
            .unwrap_or_else(|e| panic!("seed folder {dir} is missing (../shared/data for the real ones): {e}"));
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == ext)) {
            out.push(std::fs::read(p).unwrap());
        }
    }
    assert!(!out.is_empty(), "no seeds in {dirs:?}");
    out
}

/// Runs `parse` on mutated seeds; on a panic, saves the input and fails naming it.
fn fuzz(name: &str, seeds: &[Vec<u8>], parse: impl Fn(&str)) {
    let cases: usize = std::env::var("VRD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let seed: u64 = std::env::var("VRD_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let mut rng = Rng(seed ^ name.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    // The seeds themselves first: the real samples must not crash either.
    for s in seeds {
        parse(&String::from_utf8_lossy(s));
    }
    // The panic hook stays as it is (it is process-wide, and other tests run beside this
    // one): a crashing case prints its panic once, into this test's captured output.
    let mut crash = None;
    for i in 0..cases {
        let a = &seeds[rng.below(seeds.len())];
        let b = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, a, b);
        let text = String::from_utf8_lossy(&input).into_owned();
        if catch_unwind(AssertUnwindSafe(|| parse(&text))).is_err() {
            crash = Some((i, text));
            break;
        }
    }
    if let Some((i, text)) = crash {
        let path = std::env::temp_dir().join(format!("vrd-fuzz-{name}-{i}.txt"));
        std::fs::write(&path, &text).unwrap();
        panic!("{name}: case {i} panicked; input saved to {} (make it a named test here)", path.display());
    }
}

fn takeout(text: &str) {
    let tz = vrd_core::time::resolve_timezone(Some("Australia/Sydney")).unwrap();
    let _ = crate::takeout::parse_watch_history(text, Some(&tz));
    let _ = crate::takeout::parse_watch_history(text, None);
    let _ = crate::takeout::json::entries(text).map(crate::takeout::classify_searches);
}

fn aw_export(text: &str) {
    use vrd_aw::{hosts::Hosts, timeline::Source};
    let Ok(export) = vrd_aw::export::Export::parse(text, "fuzz") else { return };
    let source = Source::Export(&export);
    let Ok(hosts) = source.hosts(&Hosts::All) else { return };
    let rules = source.rules(None).unwrap();
    for host in hosts {
        let Some((since, until)) = export.span(&[&host.window]) else { continue };
        let (Some(since), Some(until)) =
            (chrono::DateTime::from_timestamp_micros(since), chrono::DateTime::from_timestamp_micros(until))
        else {
            continue;
        };
        for audible in [false, true] {
            let _ = source.app_events(&host, &rules, (since, until), audible);
        }
    }
}

fn feed(text: &str) {
    let _ = crate::feeds::parse_feed(text, "fuzz");
    let _ = crate::feeds::opml_feeds(text, "fuzz");
}

fn api_response(text: &str) {
    let Ok(page) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let categories = std::collections::HashMap::new();
    for item in page.get("items").and_then(|i| i.as_array()).into_iter().flatten() {
        let _ = crate::youtube::parse::video(item, &categories);
        let _ = crate::youtube::parse::video_from_playlist_item(item);
    }
}

#[test]
fn takeout_parsers_never_panic() {
    let mut s = seeds(&["fixtures/takeout", "../shared/data/takeout"], "json");
    s.extend(seeds(&["../shared/data/takeout", "fixtures/takeout"], "html").into_iter().map(|h| {
        // The real HTML export is large; its first entries carry every quirk.
        h.into_iter().take(60_000).collect()
    }));
    fuzz("takeout", &s, takeout);
}

#[test]
fn activitywatch_export_never_panics() {
    let s = seeds(&["fixtures/activitywatch", "../shared/data/activitywatch"], "json");
    fuzz("aw-export", &s, aw_export);
}

#[test]
fn feed_parsers_never_panic() {
    let s = seeds(&["fixtures/rss", "../shared/data/rss"], "xml");
    fuzz("feeds", &s, feed);
}

#[test]
fn youtube_api_parsers_never_panic() {
    let s = seeds(&["fixtures/youtube-api", "../shared/data/youtube-api"], "json");
    fuzz("youtube-api", &s, api_response);
}
