//! The app timeline of a feed ranked from the store (`--db`): the store's, as `vrd-ingest
//! aw --db` left it and as training from the store read it, and past where it reaches, a
//! real aw-server's. A cron feed that ingests before it ranks so asks the server for
//! minutes, not the fortnight; a moment the store reaches needs no server at all.

use crate::aw_server::AwServer;
use crate::person_tools::{self, person};
use crate::BIN as RANK;
use chrono::Duration;
use std::process::{Command, Stdio};
use vrd_core::records::AppEvent;
use vrd_core::time::{parse_rfc3339, Timestamp};

fn feed(out: &std::process::Output) -> Vec<serde_json::Value> {
    crate::tools::json_lines(&out.stdout)
}

fn reasons(line: &serde_json::Value) -> Vec<String> {
    line["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
}

#[test]
fn the_feed_reads_the_stores_timeline_and_only_what_came_after_it_from_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    // Rust after an hour of coding, cooking after an hour of a game; the last evening Rust.
    let (history, timeline, _) = person_tools::coder_and_gamer_model(dir.path());
    let videos = person("videos.jsonl");

    // The evening after the history. The store was brought up to date 55 minutes before:
    // its timeline is the fortnight and five minutes of coding. The game that filled the
    // next 50 minutes only the server knows (it holds nothing older).
    let at = parse_rfc3339("2026-10-25T21:30:00Z").unwrap();
    let reach = at - Duration::minutes(55);
    let aw = AwServer::start();
    let host = aw.hostname();
    let bucket = format!("aw-watcher-window_{host}");
    // The server's window bucket, as vrd-ingest aw --db would have stored its events.
    let on_server = |e: AppEvent| AppEvent { bucket: bucket.clone(), host: Some(host.clone()), ..e };
    let event = |app: &str, title: &str, start: Timestamp, minutes: i64| {
        on_server(person_tools::app_event(app, title, start, minutes))
    };
    let coding = event("Code", "lib.rs - Visual Studio Code", at - Duration::minutes(60), 5);
    let game = event("steam", "ELDEN RING", reach, 50);
    let fortnight: Vec<AppEvent> = crate::tools::json_lines(&std::fs::read(&timeline).unwrap());
    let stored: Vec<AppEvent> = fortnight.iter().cloned().map(on_server).collect();
    let db = dir.path().join("vrd.db");
    let mut store = vrd_store::Store::open(&db).unwrap();
    store.upsert_app_events(&[&stored[..], std::slice::from_ref(&coding)].concat()).unwrap();
    drop(store);
    aw.post_events(
        &bucket,
        "currentwindow",
        serde_json::json!([{"timestamp": game.start.to_rfc3339(), "duration": game.duration_s,
                            "data": {"app": game.app, "title": game.title}}]),
    );
    // The whole timeline in one file, for the feed it must equal.
    let whole = d("whole.jsonl");
    let lines: Vec<String> = [&fortnight[..], &[coding.clone(), game]]
        .concat()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(&whole, lines.concat()).unwrap();

    let rank = |when: Timestamp, source: &[&str]| {
        let (model, media, when) = (d("model"), d("media.safetensors"), when.to_rfc3339());
        let args = [
            &["--model", &model, "--history", &history, "--candidates", &videos][..],
            &["--embeddings", &media, "--at", &when, "-n", "3", "--explain"],
            source,
        ];
        Command::new(RANK).args(args.concat()).stdin(Stdio::null()).output().unwrap()
    };
    let ok = |out: std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        feed(&out)
    };
    let db = db.to_string_lossy().into_owned();

    // The store's fortnight and the server's game: the feed of the whole timeline, cooking
    // first after the game.
    let from_file = ok(rank(at, &["--events", &whole]));
    let from_store = ok(rank(at, &["--db", &db, "--aw-server", &aw.url]));
    assert_eq!(from_store, from_file);
    assert!(reasons(&from_store[0]).contains(&"after steam you often watch things like this".to_string()));
    // The server alone knows the game but not the fortnight: another feed.
    let from_server = ok(rank(at, &["--aw-server", &aw.url]));
    assert_ne!(from_server, from_file);
    assert!(from_server.iter().all(|line| !reasons(line).iter().any(|r| r.starts_with("after "))), "{from_server:#?}");

    // A moment the store reaches is ranked from it alone, with no server to ask.
    let gone = "http://127.0.0.1:9";
    let earlier = ok(rank(reach, &["--db", &db, "--aw-server", gone]));
    assert_eq!(earlier, ok(rank(reach, &["--events", &whole])));
    // One past it, with the server down, is ranked with what the store holds (as a file of
    // the store's timeline alone ranks it), and every item says since when the activity is
    // unknown; so does the stored feed.
    let stored_only = d("stored.jsonl");
    let lines: Vec<String> = [&fortnight[..], std::slice::from_ref(&coding)]
        .concat()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(&stored_only, lines.concat()).unwrap();
    let out = rank(at, &["--db", &db, "--aw-server", gone]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach ActivityWatch at http://127.0.0.1:9: connection refused"), "{stderr}");
    let down = ok(out);
    let without_reason = |feed: &[serde_json::Value], note: &str| -> Vec<serde_json::Value> {
        feed.iter()
            .map(|line| {
                let mut line = line.clone();
                let kept: Vec<String> = reasons(&line).into_iter().filter(|r| r != note).collect();
                line["reasons"] = serde_json::json!(kept);
                line
            })
            .collect()
    };
    let tz = vrd_core::time::timezone_or_system(None).unwrap();
    let note = format!(
        "your activity since {} is unknown (ActivityWatch did not answer)",
        reach.with_timezone(&tz).format("%Y-%m-%d %H:%M")
    );
    assert!(down.iter().all(|line| reasons(line).last() == Some(&note)), "{note:?} on every item: {down:#?}");
    assert_eq!(without_reason(&down, &note), ok(rank(at, &["--events", &stored_only])));
    let store = vrd_store::Store::open(std::path::Path::new(&db)).unwrap();
    let (moment, saved) = store.latest_feed().unwrap().unwrap();
    assert_eq!(store.feed_notes(&moment).unwrap(), std::slice::from_ref(&note));
    assert_eq!(saved.len(), down.len());
}
