//! `vrd-train fit --db`: one command from the store gives the same model, bit for bit, as
//! the file path run on the same data (`vrd-label export`, `vrd-encode context --db`, the
//! store's videos, watches and app events as JSONL, `vrd-train fit --labels … --history …
//! --events …`). The store is a real SQLite file holding the simulated person's answers,
//! app timeline, catalogue and watch history.

use std::path::Path;
use vrd_core::records::Video;

use crate::BIN as TRAIN;

use crate::person_tools;
use person_tools::{person, read};

fn run(tool: &str, args: &[&str]) -> String {
    String::from_utf8_lossy(&crate::tools::run(tool, args).stderr).into_owned()
}

fn write_jsonl<T: serde::Serialize>(path: &Path, records: &[T]) {
    let mut out = Vec::new();
    for r in records {
        vrd_core::jsonl::write_record(&mut out, r).unwrap();
    }
    std::fs::write(path, out).unwrap();
}

/// A card's JSON without the moment it was written and how long training took.
fn card(path: &Path) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    if let Some(t) = v.pointer_mut("/training").and_then(|t| t.as_object_mut()) {
        t.remove("trained_at");
        t.remove("seconds");
    }
    v
}

#[test]
fn the_store_alone_trains_the_same_model_as_the_files() {
    let dir = tempfile::tempdir().unwrap();
    // Paths as &str for argument lists (a test's few strings, kept for its run).
    let d = |name: &str| -> &'static str { Box::leak(dir.path().join(name).to_string_lossy().into_owned().into()) };
    let db = dir.path().join("vrd.db");
    person_tools::person_store(&db, usize::MAX);
    run("vrd-encode", &["media", &person("videos.jsonl"), "-o", d("media.safetensors")]);
    std::fs::copy(d("media.safetensors"), d("cache.safetensors")).unwrap();
    let fast = ["--folds", "0", "--epochs", "3"];

    // The file path, over the store's own records.
    let store = vrd_store::Store::open(&db).unwrap();
    write_jsonl(&dir.path().join("videos.jsonl"), &store.videos().unwrap());
    write_jsonl(&dir.path().join("history.jsonl"), &store.watch_events().unwrap());
    write_jsonl(&dir.path().join("app-events.jsonl"), &store.app_events(None, None).unwrap());
    drop(store);
    let db_arg = db.to_str().unwrap();
    run("vrd-label", &["--db", db_arg, "export", "-o", d("labels.jsonl")]);
    let context = ["context", "--db", db_arg, "--labels", d("labels.jsonl"), "--window", "1h", "--timezone", "UTC"];
    run("vrd-encode", &[&context[..], &["-o", d("context.safetensors")]].concat());
    let files = [
        &["fit", "--labels", d("labels.jsonl"), "--videos", d("videos.jsonl")][..],
        &["--media", d("media.safetensors"), "--context", d("context.safetensors")],
        &["--history", d("history.jsonl"), "--candidates", d("videos.jsonl"), "--events", d("app-events.jsonl")],
        &["--out", d("from-files")],
        &fast,
    ]
    .concat();
    run("vrd-train", &files);

    // One command from the store.
    let from_store = [
        &["fit", "--db", db_arg, "--embeddings", d("cache.safetensors")][..],
        &["--window", "1h", "--timezone", "UTC", "--out", d("from-store")],
        &fast,
    ]
    .concat();
    let said = run("vrd-train", &from_store);
    // 900 answers given, 410 in effect (the latest per video and question, as vrd-label export).
    assert!(said.contains("410 answers, 250 videos, 60 watches"), "{said}");
    assert!(!said.contains("videos that"), "the cache held every video: nothing to encode\n{said}");

    let (a, b) = (dir.path().join("from-files"), dir.path().join("from-store"));
    let weights = |dir: &Path| std::fs::read(dir.join("model.safetensors")).unwrap();
    assert!(weights(&a) == weights(&b), "model.safetensors differs");
    assert_eq!(card(&a.join("model.json")), card(&b.join("model.json")));
    assert_eq!(card(&a.join("pick.json")), card(&b.join("pick.json")));
    assert!(std::fs::read(a.join("pick.json")).unwrap().len() > 1000, "a real next-watch card");
    // The next-watch model learned from the store's timeline too (the hour before most of
    // the simulated person's watches).
    let with_activity = card(&b.join("pick.json"))["history"]["with_activity"].as_u64().unwrap();
    assert!(with_activity > 40, "{with_activity} of 60 watches");
}

#[test]
fn a_store_with_nothing_to_learn_from_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    vrd_store::Store::open(&db).unwrap().upsert_videos(&read::<Video>("videos.jsonl")).unwrap();
    let out = std::process::Command::new(TRAIN)
        .args(["fit", "--db", db.to_str().unwrap(), "--out", dir.path().join("m").to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing to learn from"), "{stderr}");
    assert!(!dir.path().join("m").exists(), "no model folder");
    let missing = dir.path().join("nope.db");
    let out = std::process::Command::new(TRAIN).args(["fit", "--db", missing.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!missing.exists(), "no store created by a typo");
}
