//! vrd-label's commands on a real store file: add, import (JSONL, CSV, Takeout liked
//! lists), export, stats, undo; bad input refused whole; two writers at once; a kill in
//! the middle of an import.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::Video;
use vrd_store::Store;

pub(crate) use crate::BIN;

use crate::paths;
use paths::repo;

/// A store holding the 26 fixture candidates.
fn store(dir: &Path) -> PathBuf {
    let db = dir.join("vrd.db");
    let videos: Vec<Video> =
        JsonlReader::open(Some(&repo().join("fixtures/candidates.jsonl"))).unwrap().read_all().unwrap();
    Store::open(&db).unwrap().upsert_videos(&videos).unwrap();
    db
}

fn label(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).stdin(Stdio::null()).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

fn usage(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

fn count(db: &Path) -> usize {
    Store::open(db).unwrap().label_history().unwrap().len()
}

#[test]
fn add_export_undo_and_the_latest_label_wins() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    ok(&label(&db, &["add", "lWaRokVH711", "interest", "--at", "2026-11-20T18:05:00+01:00"]));
    ok(&label(&db, &["add", "lWaRokVH711", "right-time", "--at", "2026-11-20T18:05:01+01:00"]));
    ok(&label(&db, &["add", "lWaRokVH711", "uninterest", "--at", "2026-11-21T09:00:00Z"]));
    ok(&label(&db, &["add", "GHOFh524tdX", "not_now", "--at", "2026-11-21T10:00:00Z"]));
    ok(&label(&db, &["add", "GHOFh524tdX", "skip"]));
    let exported = ok(&label(&db, &["export"]));
    let lines: Vec<serde_json::Value> = exported.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["right-time", "uninterest", "not-now"], "latest per video and question, skips left out");
    assert_eq!(lines[0]["labelled_at"], "2026-11-20T17:05:01Z", "the given zone is kept as the UTC instant");
    assert_eq!(ok(&label(&db, &["export", "--all"])).lines().count(), 5);

    let undone: serde_json::Value = serde_json::from_str(&ok(&label(&db, &["undo"]))).unwrap();
    assert_eq!(undone["kind"], "skip");
    let undone: serde_json::Value = serde_json::from_str(&ok(&label(&db, &["undo", "--source", "cli"]))).unwrap();
    assert_eq!(undone["kind"], "not-now");
    assert_eq!(count(&db), 3);

    let stats = ok(&label(&db, &["stats", "--format", "tsv", "--timezone", "Europe/Berlin"]));
    assert!(
        stats.starts_with("kind\tgiven\tin_effect\ninterest\t1\t0\nuninterest\t1\t1\nright-time\t1\t1\n"),
        "{stats}"
    );
    assert!(stats.contains("2026-W47\t3"), "{stats}");
}

#[test]
fn bad_input_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    // A bad kind or time on the command line is a bad command line (exit 2); an unknown
    // video is bad data (exit 1).
    usage(&label(&db, &["add", "lWaRokVH711", "meh"]), "unknown label kind \"meh\"");
    failed(&label(&db, &["add", "NoSuchVideo", "interest"]), "unknown video id \"NoSuchVideo\"");
    usage(&label(&db, &["add", "lWaRokVH711", "not-now", "--at", "2026-11-20T18:05:00"]), "with a zone");
    usage(&label(&db, &["import", "x.csv", "--kind", "later"]), "unknown label kind \"later\"");
    assert_eq!(count(&db), 0);

    let file = dir.path().join("labels.jsonl");
    let good = r#"{"video_id":"lWaRokVH711","kind":"interest","labelled_at":"2026-11-20T10:00:00Z"}"#;
    for (bad, needle) in [
        (r#"{"video_id":"GHOFh524tdX","kind":"later","labelled_at":"2026-11-20T10:00:00Z"}"#, ":3: field `kind`"),
        (r#"{"video_id":"GHOFh524tdX","kind":"not-now","labelled_at":"2026-11-20 10:00"}"#, ":3: field `labelled_at`"),
        (
            r#"{"video_id":"Unknown0000","kind":"interest","labelled_at":"2026-11-20T10:00:00Z"}"#,
            ":3: unknown video id",
        ),
        (r#"{"video_id":"GHOFh524tdX","kind":"#, ":3: invalid JSON"),
    ] {
        std::fs::write(&file, format!("{good}\n{good}\n{bad}\n{good}\n")).unwrap();
        failed(&label(&db, &["import", file.to_str().unwrap()]), needle);
        assert_eq!(count(&db), 0, "nothing half-imported ({needle})");
    }
    // The unknown one goes in when asked for.
    std::fs::write(&file, r#"{"video_id":"Unknown0000","kind":"interest","labelled_at":"2026-11-20T10:00:00Z"}"#)
        .unwrap();
    ok(&label(&db, &["import", file.to_str().unwrap(), "--allow-unknown"]));
    assert_eq!(count(&db), 1);
}

#[test]
fn imports_csv_jsonl_and_takeout_liked_lists_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let csv = dir.path().join("labels.csv");
    std::fs::write(
        &csv,
        "video_id,kind,labelled_at,source\n\
         lWaRokVH711,right-time,2026-11-20T17:05:00Z,phone\n\
         GHOFh524tdX,\"not_now\",2026-11-20T09:30:00+01:00,\n",
    )
    .unwrap();
    let out = label(&db, &["import", csv.to_str().unwrap()]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 labels read; 2 added, 0 already present"));
    let again = label(&db, &["import", csv.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("0 added, 2 already present"),
        "re-importing changes nothing"
    );

    let liked = dir.path().join("Liked videos.csv");
    std::fs::write(
        &liked,
        "Playlist Id,Channel Id,Time Created,Time Updated,Title,Description,Visibility\n\
         LLabc,UCabc,2019-01-01 00:00:00 UTC,2026-11-01 00:00:00 UTC,Liked videos,,Private\n\
         \n\
         Video Id,Time Added\n\
         t6yTCBuRPr2,2026-10-01 12:00:00 UTC\n\
         zSLQ8vS1GU0,2026-10-02 12:00:00 UTC\n",
    )
    .unwrap();
    ok(&label(&db, &["import", liked.to_str().unwrap(), "--kind", "interest", "--source", "youtube-like"]));
    // vrd-ingest youtube ratings' JSONL goes in as it is.
    let ratings = dir.path().join("ratings.jsonl");
    std::fs::write(
        &ratings,
        r#"{"video_id":"FhDlZDfSQeV","kind":"uninterest","labelled_at":"2026-11-22T08:00:00Z","source":"youtube-dislike"}"#,
    )
    .unwrap();
    ok(&label(&db, &["import", ratings.to_str().unwrap()]));
    let all = Store::open(&db).unwrap().label_history().unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[1].source, "import", "a row without a source takes --source");
    assert_eq!(all[1].labelled_at.to_rfc3339(), "2026-11-20T08:30:00+00:00");
    assert_eq!(
        (all[2].source.as_str(), all[2].labelled_at.to_rfc3339()),
        ("youtube-like", "2026-10-01T12:00:00+00:00".into())
    );
    assert_eq!(all[4].source, "youtube-dislike");
}

#[test]
fn two_labelling_processes_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let ids: Vec<String> = JsonlReader::<Video>::open(Some(&repo().join("fixtures/candidates.jsonl")))
        .unwrap()
        .read_all()
        .unwrap()
        .into_iter()
        .map(|v| v.video_id)
        .collect();
    // Two writers, each adding 40 labels one process at a time, interleaved.
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|who| {
            let db = db.clone();
            let ids = ids.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let id = &ids[i % ids.len()];
                    let at = format!("2026-11-20T10:{:02}:{:02}Z", i / 60, i % 60);
                    ok(&label(&db, &["add", id, "interest", "--at", &at, "--source", who]));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(count(&db), 80);
}

#[test]
fn a_killed_import_leaves_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let file = dir.path().join("many.jsonl");
    let lines: Vec<String> = (0..200_000)
        .map(|i| {
            format!(
                r#"{{"video_id":"lWaRokVH711","kind":"interest","labelled_at":"2026-01-01T00:00:00.{:06}Z","source":"bulk{}"}}"#,
                i % 1_000_000,
                i
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    // The import takes about 1.3 s here: parsing, then one transaction; kills land in both.
    for delay_ms in [100, 500, 800, 1100] {
        let mut child = Command::new(BIN)
            .arg("--db")
            .arg(&db)
            .args(["import", file.to_str().unwrap()])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let n = count(&db);
        assert!(n == 0 || n == 200_000, "a kill after {delay_ms} ms left {n} labels");
    }
    // And the import that is not killed commits every label, exactly once (a kill that
    // landed after an earlier commit left them all; importing them again adds none).
    let out = Command::new(BIN).arg("--db").arg(&db).args(["import", file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(count(&db), 200_000, "the committed count");
}

#[test]
fn the_activitywatch_key_file_must_be_private_here_too() {
    // The same --aw-api-key-file as vrd-ingest aw and vrd-rank, refused the same way,
    // before a terminal is asked for; the key never printed.
    let dir = tempfile::tempdir().unwrap();
    let db = store(dir.path());
    let key = dir.path().join("aw-key");
    std::fs::write(&key, "secret-key-123").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = label(&db, &["tui", "--aw-api-key-file", key.to_str().unwrap()]);
    failed(&out, "chmod 600");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret-key-123"));
}
