//! vrd-ingest takeout, run as a user would: on the shipped fixture, on real exports from
//! ../shared/data, and on broken input.

use crate::common;

use common::{ingest, repo, BIN};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn fixture_becomes_time_ordered_watch_events() {
    let fixture = repo().join("fixtures/takeout/watch-history.json");
    let out = ingest(&["takeout", fixture.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&out);
    // 32 entries: an ad, a removed video, "Visited YouTube Music" and a community post are
    // not watch events; the entry named by its URL only is one, its title unknown.
    assert_eq!(evs.len(), 28);
    let untitled: Vec<_> = evs.iter().filter(|e| e["title_unknown"] == true).collect();
    assert_eq!(untitled.len(), 1, "{untitled:?}");
    assert_eq!(untitled[0]["title"], "");
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
    assert!(stderr.contains("skipped 1 ads, 2 removed videos, 1 non-video entries"), "{stderr}");
    assert!(stderr.contains("28 watch events (1 with the title unknown"), "{stderr}");
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

/// A real sample in ../shared/data (always beside the checkout in CI): a test that needs
/// one fails, never passes, when it is missing.
fn real_sample(name: &str) -> PathBuf {
    let p = repo().join("../shared/data/takeout").join(name);
    assert!(p.is_file(), "the real sample {} is missing (../shared/data)", p.display());
    p
}

#[test]
fn real_export_with_hundreds_of_entries() {
    let path = real_sample("case104-watch-history.json");
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
    let path = real_sample("yutotakano-edge-cases-watch-history.json");
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
    assert_failed_cleanly(&out, 1, &["bad.json:3: entry [1]: field `time`"]);
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

#[test]
fn writers_at_once_all_succeed_on_a_new_store_and_an_existing_one() {
    // Three ingests into one store at the same moment (a manual import beside the cron
    // job): none may fail with "database is locked", and the watches are stored once.
    let fixture = repo().join("fixtures/takeout/watch-history.json");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.sqlite");
    for round in ["new", "existing"] {
        let children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(BIN)
                    .args(["takeout", fixture.to_str().unwrap(), "--db", db.to_str().unwrap()])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut new_total = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{round} store: {stderr}");
            let new: usize = stderr
                .split("vrd.sqlite: watch events ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{stderr}"));
            new_total += new;
        }
        assert_eq!(new_total, if round == "new" { 28 } else { 0 }, "{round} store: each watch stored once");
    }
    assert_eq!(vrd_store::Store::open(&db).unwrap().watch_events().unwrap().len(), 28);
}

#[test]
fn the_store_takes_each_watch_once() {
    let fixture = repo().join("fixtures/takeout/watch-history.json");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.sqlite");
    let run = || ingest(&["takeout", fixture.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    let first = run();
    assert!(first.status.success() && first.stdout.is_empty(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("watch events 28 new, 0 updated, 0 unchanged"));
    let again = run();
    assert!(String::from_utf8_lossy(&again.stderr).contains("watch events 0 new, 0 updated, 28 unchanged"));
    let stored = vrd_store::Store::open(&db).unwrap().watch_events().unwrap();
    let from_jsonl: Vec<vrd_core::records::WatchEvent> =
        String::from_utf8(ingest(&["takeout", fixture.to_str().unwrap()]).stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert_eq!(stored, from_jsonl, "the store holds exactly what the JSONL says, in time order");
    let out = ingest(&["takeout", fixture.to_str().unwrap(), "--db", db.to_str().unwrap(), "-o", "x.jsonl"]);
    assert_eq!(out.status.code(), Some(2), "--db and -o exclude each other");
}

#[test]
fn real_html_export_with_its_time_zone() {
    let path = real_sample("lemmingscode-watch-history.html");
    let out = ingest(&["takeout", path.to_str().unwrap(), "--timezone", "Australia/Sydney"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&out);
    // 563 entries, every one a watch; 4 carry only a URL as their title.
    assert_eq!(evs.len(), 563);
    assert!(String::from_utf8_lossy(&out.stderr).contains("563 entries: 563 watch events (4 with the title unknown"));
    assert_eq!(evs.iter().filter(|e| e["title_unknown"] == true && e["title"] == "").count(), 4);
    let e = evs.iter().find(|e| e["video_id"] == "iYM2zFP3Zn0").unwrap();
    assert_eq!(e["title"], "HTTP Crash Course & Exploration");
    assert_eq!(e["channel"], "Traversy Media");
    // "20 Apr 2021, 18:44:53 AEDT": April is AEST (UTC+10) in Sydney, whatever the export says.
    assert_eq!(e["watched_at"], "2021-04-20T08:44:53Z");
    let without = events(&ingest(&["takeout", path.to_str().unwrap()]));
    let f = without.iter().find(|e| e["video_id"] == "iYM2zFP3Zn0").unwrap();
    assert_eq!(f["watched_at"], "2021-04-20T07:44:53Z", "without --timezone the abbreviation's offset is used");
    let out = ingest(&["takeout", path.to_str().unwrap(), "--timezone", "Australia/Atlantis"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn real_legacy_playlist_item_export() {
    let path = real_sample("yutotakano-2016-legacy-playlistItem.json");
    let out = ingest(&["takeout", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let evs = events(&out);
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[2]["video_id"], "3mNYrxcZ0X8");
    assert_eq!(evs[2]["watched_at"], "2016-10-06T22:03:44Z");
    assert_eq!(evs[2]["source"], "takeout-json-legacy");
    assert!(evs[2].get("channel").is_none(), "the playlist owner is not the video's channel");
}

#[test]
fn files_that_are_not_watch_histories() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(&page, "<html><body><h1>My holiday photos</h1></body></html>").unwrap();
    let out = ingest(&["takeout", page.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["page.html:1", "not a Takeout watch history page"]);
    let csv = dir.path().join("history.csv");
    std::fs::write(&csv, "video_id,title\nabc,Hello\n").unwrap();
    let out = ingest(&["takeout", csv.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["history.csv:1", "neither its JSON nor its HTML form"]);
}

#[test]
fn stats_from_a_pipe_and_from_the_store_agree() {
    let fixture = repo().join("fixtures/takeout/watch-history.json");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let jsonl = dir.path().join("watch.jsonl");
    assert!(ingest(&["takeout", fixture.to_str().unwrap(), "--db", db.to_str().unwrap()]).status.success());
    assert!(ingest(&["takeout", fixture.to_str().unwrap(), "-o", jsonl.to_str().unwrap()]).status.success());
    let stats = |source: &[&str], by: &str| {
        let args = [&["stats", "--by", by, "--format", "tsv", "--timezone", "Europe/Berlin"][..], source].concat();
        let out = ingest(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let by_channel = stats(&["--db", db.to_str().unwrap()], "channel");
    assert_eq!(by_channel, stats(&[jsonl.to_str().unwrap()], "channel"));
    let lines: Vec<&str> = by_channel.lines().collect();
    assert_eq!(lines[0], "channel\twatches\tshare");
    assert_eq!(lines[1], "Jon Gjengset\t4\t0.1429", "most watched first");
    assert_eq!(lines.len(), 18, "16 channels and the URL-only watch's unknown one");
    assert!(lines.contains(&"(unknown channel)\t1\t0.0357"), "{lines:?}");
    let by_hour = stats(&[jsonl.to_str().unwrap()], "hour");
    let total: u64 = by_hour.lines().skip(1).map(|l| l.split('\t').nth(1).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!((by_hour.lines().count(), total), (25, 28), "every hour listed, every watch counted");

    std::fs::write(&jsonl, "{\"video_id\":\"a\",\"title\":\"t\",\"source\":\"x\"}\n").unwrap();
    let out = ingest(&["stats", jsonl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("watch.jsonl:1: invalid JSON record: missing field `watched_at`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
