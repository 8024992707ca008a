//! vrd-ingest takeout, run as a user would: on the shipped fixture, on real exports from
//! ../shared/data (when present), and on broken input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_vrd-ingest");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ingest(args: &[&str]) -> Output {
    Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap()
}

fn events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn fixture_becomes_time_ordered_watch_events() {
    let fixture = repo().join("fixtures/takeout/watch-history.json");
    let out = ingest(&["takeout", fixture.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&out);
    // 32 entries: an ad, a removed video, "Visited YouTube Music", a community post and a
    // title-less entry are not watch events.
    assert_eq!(evs.len(), 27);
    let times: Vec<&str> = evs.iter().map(|e| e["watched_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    assert_eq!(evs[0]["title"], "Photographing the Andromeda galaxy from my backyard");
    assert_eq!(evs[0]["channel"], "AstroBackyard");
    let last = evs.last().unwrap();
    assert_eq!(last["title"], "Rust ownership and borrowing explained");
    assert_eq!(last["watched_at"], "2026-11-20T21:14:03.518Z");
    assert!(evs.iter().all(|e| e["video_id"].as_str().unwrap().len() == 11 && e["source"] == "takeout-json"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SPRING_SALE"), "ads are dropped");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped 1 ads, 2 removed videos, 1 non-video entries, 1 without title"), "{stderr}");
}

#[test]
fn output_file_matches_stdout_and_stdin_works() {
    let fixture = repo().join("fixtures/takeout/watch-history.json");
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("watch.jsonl");
    let out = ingest(&["takeout", fixture.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "data goes to the file, not stdout");
    let from_stdout = ingest(&["takeout", fixture.to_str().unwrap()]).stdout;
    assert_eq!(std::fs::read(&dest).unwrap(), from_stdout);

    let piped =
        Command::new(BIN).args(["takeout", "-"]).stdin(std::fs::File::open(&fixture).unwrap()).output().unwrap();
    assert!(piped.status.success());
    assert_eq!(piped.stdout, from_stdout);
}

fn real_sample(name: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/data/takeout").join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: {} is not present", p.display());
        None
    }
}

#[test]
fn real_export_with_hundreds_of_entries() {
    let Some(path) = real_sample("case104-watch-history.json") else { return };
    let out = ingest(&["takeout", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&out);
    assert!(evs.len() > 300 && evs.len() <= 364, "{} events", evs.len());
    let first = evs.iter().find(|e| e["video_id"] == "YIcNZERTDOY").expect("a known entry");
    assert_eq!(first["title"], "Traveler Con | Critical Role | Campaign 2, Episode 108");
    assert_eq!(first["channel_id"], "UCpXBGqwsBkpvcYjsJBQ7LEQ");
    assert_eq!(first["watched_at"], "2020-09-08T02:41:27.398Z");
}

#[test]
fn real_edge_cases_ads_posts_and_japanese_titles() {
    let Some(path) = real_sample("yutotakano-edge-cases-watch-history.json") else { return };
    let out = ingest(&["takeout", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&out);
    let titles: Vec<&str> = evs.iter().map(|e| e["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        ["Herbie Hancock - Watermelon Man", "お前はまだ平仮名を知らない", "アイヌ語の勉強法をご紹介します！"]
    );
}

fn assert_failed_cleanly(out: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}: {stderr}");
    }
    assert!(out.stdout.is_empty(), "no data on failure");
}

fn only_entry(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn malformed_input_names_file_line_and_field_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "[\n {\"title\": \"Watched A\", \"titleUrl\": \"https://youtu.be/AAAAAAAAAAA\", \"time\": \"2024-01-01T00:00:00Z\"},\n {\"title\": \"Watched B\", \"time\": \"2024-13-45T99:00:00Z\", \"titleUrl\": \"https://youtu.be/BBBBBBBBBBB\"}\n]",
    )
    .unwrap();
    let dest = dir.path().join("out.jsonl");
    let out = ingest(&["takeout", bad.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["bad.json:", "field `[1].time`"]);
    assert_eq!(only_entry(dir.path()), ["bad.json"], "no output and no temporary left behind");

    std::fs::write(&bad, "[{\"title\": \"Watched A\", ").unwrap();
    let out = ingest(&["takeout", bad.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["bad.json:1"]);
    assert!(!dest.exists());
}

#[test]
fn missing_file_and_unknown_flag() {
    let out = ingest(&["takeout", "/nonexistent/watch-history.json"]);
    assert_failed_cleanly(&out, 1, &["cannot open /nonexistent/watch-history.json"]);
    let out = ingest(&["takeout", "--frobnicate", "x.json"]);
    assert_failed_cleanly(&out, 2, &["--frobnicate"]);
    let out = ingest(&[]);
    assert_eq!(out.status.code(), Some(2));
}
