//! Mutation fuzzing of every parser vrd-ingest runs on outside input: Takeout JSON and
//! HTML, ActivityWatch exports (through the whole local timeline computation), RSS/Atom and
//! OPML, and YouTube Data API responses. Seeds are the repo's fixtures and the real samples
//! in ../shared/data (a missing folder fails the test). Two kinds of case:
//!
//! - *bytes*: a seed mutated a few times (byte flips, cuts, duplicated and spliced ranges,
//!   syntax tokens): mostly broken files, refused early;
//! - *values* (the JSON formats): a seed parsed and mutated as a JSON value (a field
//!   dropped, retyped, set to an edge value or to a node of another seed, an element
//!   duplicated or dropped), so the file stays JSON and reaches the code behind the parser
//!   (the whole ActivityWatch timeline, the watch and search classification).
//!
//! What is asserted: every seed parses; no case panics; every refusal names the file it
//! read (and, for a JSON file that is still JSON, the field or entry at fault); and enough
//! value cases are accepted and carried through the code behind the parser that it is
//! really exercised.
//!
//! `VRD_FUZZ_CASES` sets the cases per parser and kind (default 1,000, a few seconds in the
//! test suite); `VRD_FUZZ_SEED` picks another sequence; `VRD_FUZZ_SHOW=N` prints the first N
//! refusals. Crashes found become their own
//! named tests in this module (none so far).

#![cfg(test)]

use serde_json::Value;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

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

/// A seed: its bytes, and its JSON value where it is JSON.
struct Seed {
    bytes: Vec<u8>,
    value: Option<Value>,
}

/// Files of `dirs` (repo-relative, the real samples of ../shared/data among them: a missing
/// folder fails the test) ending in `ext`.
fn seeds(dirs: &[&str], ext: &str) -> Vec<Seed> {
    let mut out = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(repo().join(dir))
            .unwrap_or_else(|e| panic!("seed folder {dir} is missing (../shared/data for the real ones): {e}"));
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == ext)) {
            let bytes = std::fs::read(p).unwrap();
            // Value cases start from the first entries of each list: they carry every
            // quirk, and a case then costs milliseconds, not a whole history.
            let value = serde_json::from_slice::<Value>(&bytes).ok().map(|v| first_of_each_list(v, 120));
            out.push(Seed { bytes, value });
        }
    }
    assert!(!out.is_empty(), "no seeds in {dirs:?}");
    out
}

fn first_of_each_list(value: Value, keep: usize) -> Value {
    match value {
        Value::Array(items) => {
            Value::Array(items.into_iter().take(keep).map(|v| first_of_each_list(v, keep)).collect())
        }
        Value::Object(fields) => {
            Value::Object(fields.into_iter().map(|(k, v)| (k, first_of_each_list(v, keep))).collect())
        }
        other => other,
    }
}

/// Values a field may meet that its parser must refuse or survive.
const EDGE_VALUES: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "3.5",
    "\"\"",
    "\"x\"",
    "\"2024-02-30T25:61:61Z\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"1970-01-01T00:00:00Z\"",
    "\"2023-11-18T10:00:00+14:00\"",
    "\"2023-11-18T10:00:00.123456789Z\"",
    "\"PT\"",
    "\"P1Y\"",
    "\"PT99999999999H\"",
    "\"https://www.youtube.com/watch?v=\"",
    "\"https://www.youtube.com/watch?v=dQw4w9WgXcQ\"",
    "\"https://www.youtube.com/channel/\"",
    "\"Watched \"",
    "\"\\u202f\"",
    "\"\\ud83d\\ude00\"",
    "[]",
    "{}",
    "[null]",
];

/// Field names of the formats fuzzed here, for fields added where they do not belong.
const FIELD_NAMES: &[&str] = &[
    "time",
    "title",
    "titleUrl",
    "subtitles",
    "details",
    "header",
    "products",
    "timestamp",
    "duration",
    "data",
    "app",
    "url",
    "audible",
    "status",
    "events",
    "buckets",
    "hostname",
    "type",
    "id",
    "snippet",
    "contentDetails",
    "items",
];

fn edge_value(rng: &mut Rng) -> Value {
    serde_json::from_str(EDGE_VALUES[rng.below(EDGE_VALUES.len())]).expect("edge values are JSON")
}

fn node_count(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(node_count).sum(),
        Value::Object(fields) => fields.values().map(node_count).sum(),
        _ => 0,
    }
}

/// The `k`th node in depth-first order (0: the root).
fn nth(v: &Value, k: &mut usize) -> Option<Value> {
    if *k == 0 {
        return Some(v.clone());
    }
    *k -= 1;
    let children: Box<dyn Iterator<Item = &Value>> = match v {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(fields) => Box::new(fields.values()),
        _ => return None,
    };
    children.into_iter().find_map(|c| nth(c, k))
}

fn nth_mut<'a>(v: &'a mut Value, k: &mut usize) -> Option<&'a mut Value> {
    if *k == 0 {
        return Some(v);
    }
    *k -= 1;
    match v {
        Value::Array(items) => items.iter_mut().find_map(|c| nth_mut(c, k)),
        Value::Object(fields) => fields.values_mut().find_map(|c| nth_mut(c, k)),
        _ => None,
    }
}

/// `seed` with one to three nodes edited: set to an edge value or to a node of `donor`,
/// a field or element dropped, an element duplicated, two elements swapped, a field
/// added, a number or text perturbed, a value turned into its text.
fn mutate_value(rng: &mut Rng, seed: &Value, donor: &Value) -> Value {
    let mut value = seed.clone();
    for _ in 0..1 + rng.below(3) {
        let mut k = rng.below(node_count(&value));
        let mut d = rng.below(node_count(donor));
        let from_donor = nth(donor, &mut d).expect("index below the count");
        let node = nth_mut(&mut value, &mut k).expect("index below the count");
        match (rng.below(8), &mut *node) {
            (0, _) => *node = edge_value(rng),
            (1, _) => *node = from_donor,
            (2, Value::Object(fields)) if !fields.is_empty() => {
                let key = fields.keys().nth(rng.below(fields.len())).cloned().expect("an index below the length");
                fields.remove(&key);
            }
            (2, Value::Array(items)) if !items.is_empty() => {
                items.remove(rng.below(items.len()));
            }
            (3, Value::Array(items)) if !items.is_empty() => {
                let copy = items[rng.below(items.len())].clone();
                let at = rng.below(items.len() + 1);
                items.insert(at, copy);
            }
            (4, Value::Array(items)) if items.len() > 1 => {
                let (i, j) = (rng.below(items.len()), rng.below(items.len()));
                items.swap(i, j);
            }
            (5, Value::Object(fields)) => {
                fields.insert(FIELD_NAMES[rng.below(FIELD_NAMES.len())].to_string(), edge_value(rng));
            }
            (6, Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(0.0);
                let changed = [-x, x * 1e6, x + 1e-9, 0.0, x.trunc()][rng.below(5)];
                *node = serde_json::Number::from_f64(changed).map_or(Value::Null, Value::Number);
            }
            (6, Value::String(text)) => {
                let cut = text.char_indices().map(|(i, _)| i).nth(rng.below(text.chars().count() + 1));
                match rng.below(3) {
                    0 => text.truncate(cut.unwrap_or(text.len())),
                    1 => text.push_str(TOKENS[rng.below(TOKENS.len())]),
                    _ => text.insert_str(cut.unwrap_or(text.len()), TOKENS[rng.below(TOKENS.len())]),
                }
            }
            (7, _) => *node = Value::String(node.to_string()),
            _ => *node = edge_value(rng),
        }
    }
    value
}

/// How a parser met one input.
enum Outcome {
    /// Read, and carried through the code behind the parser (`carried`: it gave records).
    Accepted { carried: bool },
    /// Refused with this message.
    Refused(String),
}

/// Which mutations make the cases.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Bytes,
    Values,
}

/// What the cases of one parser and kind came to.
#[derive(Debug, Default)]
struct Tally {
    accepted: usize,
    carried: usize,
    refused: usize,
    /// Refusals that did not name what they had to, with their input's case number.
    unnamed: Vec<(usize, String)>,
}

/// Runs `parse` on the seeds (each must be accepted), then on `cases` mutated seeds of
/// `kind`, each written to `file` in a temporary folder. On a panic, saves the input and
/// fails naming it. A refusal must name `file`; one of a value case (still JSON) must also
/// satisfy `names_field`.
fn fuzz(
    name: &str,
    file: &str,
    seeds: &[Seed],
    kind: Kind,
    parse: impl Fn(&Path) -> Outcome,
    names_field: impl Fn(&str) -> bool,
) -> Tally {
    let cases: usize = std::env::var("VRD_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let seed: u64 = std::env::var("VRD_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let mut rng = Rng(seed ^ name.len() as u64 ^ (kind as u64) << 32 ^ 0x9e37_79b9_7f4a_7c15);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file);
    // The seeds themselves first: the real samples are read whole.
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(&path, &s.bytes).unwrap();
        if let Outcome::Refused(message) = parse(&path) {
            panic!("{name}: seed {i} is refused: {message}");
        }
    }
    let values: Vec<&Value> = seeds.iter().filter_map(|s| s.value.as_ref()).collect();
    assert!(kind == Kind::Bytes || !values.is_empty(), "{name}: no JSON seeds for value cases");
    // The panic hook stays as it is (it is process-wide, and other tests run beside this
    // one): a crashing case prints its panic once, into this test's captured output.
    let mut tally = Tally::default();
    let mut messages = Vec::new();
    for i in 0..cases {
        let input = match kind {
            Kind::Bytes => {
                let (a, b) = (&seeds[rng.below(seeds.len())], &seeds[rng.below(seeds.len())]);
                mutate(&mut rng, &a.bytes, &b.bytes)
            }
            Kind::Values => {
                let (a, b) = (values[rng.below(values.len())], values[rng.below(values.len())]);
                serde_json::to_vec_pretty(&mutate_value(&mut rng, a, b)).unwrap()
            }
        };
        std::fs::write(&path, &input).unwrap();
        match catch_unwind(AssertUnwindSafe(|| parse(&path))) {
            Err(_) => {
                let saved = std::env::temp_dir().join(format!("vrd-fuzz-{name}-{kind:?}-{i}.txt"));
                std::fs::write(&saved, &input).unwrap();
                panic!(
                    "{name}: {kind:?} case {i} panicked; input saved to {} (make it a named test here)",
                    saved.display()
                );
            }
            Ok(Outcome::Accepted { carried }) => {
                tally.accepted += 1;
                tally.carried += usize::from(carried);
            }
            Ok(Outcome::Refused(message)) => {
                tally.refused += 1;
                messages.push(message.clone());
                let named = message.contains(&path.display().to_string())
                    && (kind == Kind::Bytes
                        || serde_json::from_slice::<Value>(&input).is_err()
                        || names_field(&message));
                if !named {
                    tally.unnamed.push((i, message));
                }
            }
        }
    }
    eprintln!("{name} ({kind:?}): {tally:?}");
    // VRD_FUZZ_SHOW=N: the first N refusals, to read what a person would be told.
    let show: usize = std::env::var("VRD_FUZZ_SHOW").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    for message in messages.iter().take(show) {
        eprintln!("{name} ({kind:?}) refused: {message}");
    }
    tally
}

/// Every refusal named the file (and the field), and at least `carried` of the cases went
/// through the code behind the parser.
fn assert_tally(name: &str, kind: Kind, tally: &Tally, carried: f64) {
    let cases = tally.accepted + tally.refused;
    assert!(
        tally.unnamed.is_empty(),
        "{name} ({kind:?}): {} of {} refusals do not name the file{}; the first: {:?}",
        tally.unnamed.len(),
        tally.refused,
        if kind == Kind::Values { " and the field" } else { "" },
        &tally.unnamed[..tally.unnamed.len().min(3)]
    );
    assert!(
        tally.carried as f64 >= carried * cases as f64,
        "{name} ({kind:?}): only {} of {cases} cases carried through (at least {:.0}% expected)",
        tally.carried,
        carried * 100.0
    );
}

/// A JSON refusal names where in the file: a field's path, or an entry's index; or says
/// that the whole file is not what it must be.
fn names_a_json_field(message: &str) -> bool {
    message.contains("field `") || message.contains("entry [") || message.contains(": not a")
}

fn takeout(path: &Path) -> Outcome {
    let tz = vrd_core::time::resolve_timezone(Some("Australia/Sydney")).unwrap();
    let watches = match crate::takeout::parse_watch_history_file(path, Some(&tz)) {
        Ok(parsed) => parsed,
        Err(e) => return Outcome::Refused(format!("{e:#}")),
    };
    match crate::takeout::parse_search_history_file(path, Some(&tz)) {
        Ok(searches) => Outcome::Accepted { carried: !watches.events.is_empty() || !searches.searches.is_empty() },
        Err(e) => Outcome::Refused(format!("{e:#}")),
    }
}

/// The whole `vrd-ingest aw` on an export: the buckets of every host, each one's
/// timeline computed locally, categorised, written as JSONL.
fn aw_export(path: &Path) -> Outcome {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Aw {
        #[command(flatten)]
        args: crate::cmd::aw::AwArgs,
    }
    let out = path.with_extension("jsonl");
    let _ = std::fs::remove_file(&out);
    let mut outcome = Outcome::Accepted { carried: false };
    for audible in [false, true] {
        let mut argv = vec!["aw", "--aw-all-hosts", "--export", path.to_str().unwrap(), "-o", out.to_str().unwrap()];
        if audible {
            argv.push("--aw-audible-active");
        }
        let aw = Aw::try_parse_from(argv).expect("a valid command line");
        match crate::cmd::aw::run(&aw.args) {
            Err(e) => return Outcome::Refused(format!("{e:#}")),
            Ok(()) => {
                let lines = std::fs::read_to_string(&out).unwrap().lines().count();
                if lines > 0 {
                    outcome = Outcome::Accepted { carried: true };
                }
            }
        }
    }
    outcome
}

fn feed(path: &Path) -> Outcome {
    let name = path.display().to_string();
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    if text.contains("<opml") {
        return match crate::channel_feeds::opml_outlines(&text, &name) {
            Ok(feeds) => Outcome::Accepted { carried: !feeds.is_empty() },
            Err(e) => Outcome::Refused(format!("{e:#}")),
        };
    }
    match crate::channel_feeds::parse_feed(&text, &name) {
        Ok(videos) => Outcome::Accepted { carried: !videos.is_empty() },
        Err(e) => Outcome::Refused(format!("{e:#}")),
    }
}

/// A Data API page's items read as `videos.list` and `playlistItems.list` items are; the
/// response is not a file, so a refusal names the item (`video …`) instead.
fn api_response(path: &Path) -> Outcome {
    let Ok(page) = serde_json::from_slice::<Value>(&std::fs::read(path).unwrap()) else {
        return Outcome::Accepted { carried: false };
    };
    let categories = std::collections::HashMap::new();
    let mut carried = false;
    for item in page.get("items").and_then(|i| i.as_array()).into_iter().flatten() {
        let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind == "youtube#video" {
            match crate::youtube::parse::video(item, &categories) {
                Ok(_) => carried = true,
                Err(e) => return Outcome::Refused(format!("{}: {e:#}", path.display())),
            }
        } else if kind == "youtube#playlistItem" {
            match crate::youtube::parse::video_from_playlist_item(item) {
                Ok(video) => carried |= video.is_some(),
                Err(e) => return Outcome::Refused(format!("{}: {e:#}", path.display())),
            }
        }
    }
    Outcome::Accepted { carried }
}

#[test]
fn takeout_parsers_never_panic_and_name_what_they_refuse() {
    let mut s = seeds(&["fixtures/takeout", "../shared/data/takeout"], "json");
    s.extend(seeds(&["../shared/data/takeout", "fixtures/takeout"], "html").into_iter().map(|h| Seed {
        // The real HTML export is large; its first entries carry every quirk.
        bytes: cut_html(h.bytes, 60_000),
        value: None,
    }));
    let bytes = fuzz("takeout", "watch-history.json", &s, Kind::Bytes, takeout, names_a_json_field);
    assert_tally("takeout", Kind::Bytes, &bytes, 0.0);
    let values = fuzz("takeout", "watch-history.json", &s, Kind::Values, takeout, names_a_json_field);
    assert_tally("takeout", Kind::Values, &values, 0.3);
}

/// The first `keep` bytes of an HTML export, ended after its last whole entry.
fn cut_html(bytes: Vec<u8>, keep: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(&bytes[..keep.min(bytes.len())]).into_owned();
    let end = text.rfind("</div></div></div>").map_or(text.len(), |i| i + "</div></div></div>".len());
    text.as_bytes()[..end].to_vec()
}

#[test]
fn activitywatch_export_never_panics_and_names_what_it_refuses() {
    let s = seeds(&["fixtures/activitywatch", "../shared/data/activitywatch"], "json");
    let s: Vec<Seed> = s.into_iter().filter(|s| s.value.as_ref().is_some_and(|v| v.get("buckets").is_some())).collect();
    // Beyond the parser, an export may lack what a timeline needs: the message says which
    // bucket.
    let names = |m: &str| names_a_json_field(m) || m.contains("bucket");
    let bytes = fuzz("aw-export", "aw-buckets-export.json", &s, Kind::Bytes, aw_export, names);
    assert_tally("aw-export", Kind::Bytes, &bytes, 0.0);
    let values = fuzz("aw-export", "aw-buckets-export.json", &s, Kind::Values, aw_export, names);
    assert_tally("aw-export", Kind::Values, &values, 0.2);
}

#[test]
fn feed_parsers_never_panic_and_name_what_they_refuse() {
    let s = seeds(&["fixtures/rss", "../shared/data/rss"], "xml");
    let bytes = fuzz("feeds", "feed.xml", &s, Kind::Bytes, feed, |_| true);
    assert_tally("feeds", Kind::Bytes, &bytes, 0.0);
}

#[test]
fn youtube_api_parsers_never_panic_and_name_what_they_refuse() {
    let s = seeds(&["fixtures/youtube-api", "../shared/data/youtube-api"], "json");
    let names_item_and_field = |m: &str| (m.contains("video") || m.contains("item")) && m.contains("field `");
    let bytes = fuzz("youtube-api", "response.json", &s, Kind::Bytes, api_response, names_item_and_field);
    assert_tally("youtube-api", Kind::Bytes, &bytes, 0.0);
    let values = fuzz("youtube-api", "response.json", &s, Kind::Values, api_response, names_item_and_field);
    assert_tally("youtube-api", Kind::Values, &values, 0.3);
}
