//! The next-watch model through the tools, from a watch history alone: the simulated
//! person (fixtures/person) watches Rust videos before lunch on weekdays and cooking at
//! night. vrd-encode media → vrd-train fit --history → vrd-rank --model must put cooking
//! first at 22:00 and Rust first at 10:00, each line carrying `scores.pick` and, with
//! --explain, reasons a person reads; the card records the history it was trained on.
//! With answers too, the model folder holds both and the feed blends them.

use std::collections::HashMap;
use std::process::{Command, Stdio};

use crate::BIN as RANK;

use crate::person_tools;
use person_tools::person;

use crate::tools::run;

fn lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    crate::tools::json_lines(bytes)
}

/// Each video's topic (its first tag), by id.
fn topics() -> HashMap<String, String> {
    lines(&std::fs::read(person("videos.jsonl")).unwrap())
        .into_iter()
        .map(|v| (v["video_id"].as_str().unwrap().to_string(), v["tags"][0].as_str().unwrap().to_string()))
        .collect()
}

fn rank(model: &str, media: &str, at: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let (history, videos) = (person("watch-history.jsonl"), person("videos.jsonl"));
    let args = [
        &["--model", model, "--history", &history][..],
        &["--candidates", &videos, "--embeddings", media, "--at", at, "-n", "5", "--explain"],
        extra,
    ]
    .concat();
    lines(&run("vrd-rank", &args).stdout)
}

#[test]
fn a_history_alone_trains_a_model_that_ranks_for_the_hour() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    run("vrd-encode", &["media", &person("videos.jsonl"), "-o", &d("media.safetensors")]);
    // A few searches, as vrd-ingest searches writes them: they reach the model's features
    // (queries embedded by the packaged model, which made the embeddings).
    let searches = d("searches.jsonl");
    std::fs::write(
        &searches,
        "{\"query\":\"sourdough starter\",\"searched_at\":\"2026-09-20T21:00:00Z\",\"source\":\"takeout-json\"}\n\
         {\"query\":\"rust iterators\",\"searched_at\":\"2026-09-22T09:50:00Z\",\"source\":\"takeout-json\"}\n",
    )
    .unwrap();
    let fitted = run(
        "vrd-train",
        &[
            &["fit", "--history", &person("watch-history.jsonl"), "--candidates", &person("videos.jsonl")][..],
            &["--searches", &searches, "--media", &d("media.safetensors")],
            &["--out", &d("model"), "--report", &d("report.json")],
        ]
        .concat(),
    );
    let said = String::from_utf8_lossy(&fitted.stderr);
    assert!(said.contains("250 never-watched candidates, 2 searches"), "{said}");
    assert!(!std::path::Path::new(&d("model/model.json")).exists(), "no answers, no answers' model");

    // The card says what it was trained on: the history's span, its watches and moments.
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d("model/pick.json")).unwrap()).unwrap();
    let history = lines(&std::fs::read(person("watch-history.jsonl")).unwrap());
    let at = |w: &serde_json::Value| vrd_core::time::parse_rfc3339(w["watched_at"].as_str().unwrap()).unwrap();
    let span = &card["history"];
    assert_eq!(vrd_core::time::parse_rfc3339(span["first_watch"].as_str().unwrap()).unwrap(), at(&history[0]));
    assert_eq!(
        vrd_core::time::parse_rfc3339(span["last_watch"].as_str().unwrap()).unwrap(),
        at(history.last().unwrap())
    );
    assert_eq!(span["watches"], history.len());
    let moments = span["moments"].as_u64().unwrap();
    assert!(moments > 20 && (moments as usize) < history.len(), "{moments}");
    let chosen = card["chosen"].as_str().unwrap();
    assert!(["network", "regression"].contains(&chosen) || chosen.starts_with("signal:"), "{chosen}");
    // The taste direction's strength, chosen on the held-out slice among 1×, 10×, 100× the
    // default penalty (there are never-watched candidates, so there is a direction).
    let l2 = card["training"]["taste_l2"].as_f64().unwrap();
    assert!([1e-3, 1e-2, 1e-1].iter().any(|v| (l2 - v).abs() < 1e-12), "{l2}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d("report.json")).unwrap()).unwrap();
    assert_eq!(report["next_watch"]["chosen"], card["chosen"]);
    // Rolling-origin folds (the default 4 cuts): each trained before its cut and judged after.
    let folds = report["next_watch"]["folds"].as_array().unwrap();
    assert!(folds.len() >= 2, "{folds:?}");
    for fold in folds {
        assert!(fold["train_until"].as_str() < fold["test_until"].as_str(), "{fold}");
        assert!(fold["test_moments"].as_u64().unwrap() > 0);
        for scorer in ["model", "regression", "signal:sim_last"] {
            let mrr = fold["mrr"][scorer].as_f64().unwrap();
            assert!(mrr > 0.0 && mrr <= 1.0, "{scorer}: {fold}");
        }
    }

    // After the history ends (its last watch is on 2026-10-18): night is cooking, morning
    // is Rust, though the last watch before 22:00 is the morning's.
    let topics = topics();
    let watched: std::collections::HashSet<&str> = history.iter().map(|w| w["video_id"].as_str().unwrap()).collect();
    for (when, topic, words) in
        [("2026-10-20T22:00:00Z", "cooking", "At night"), ("2026-10-21T10:00:00Z", "rust", "Mornings")]
    {
        let feed = rank(&d("model"), &d("media.safetensors"), when, &["--searches", &searches]);
        assert_eq!(feed.len(), 5);
        let first = feed[0]["video_id"].as_str().unwrap();
        assert_eq!(topics[first], topic, "at {when}: {feed:#?}");
        assert!(feed.iter().all(|l| !watched.contains(l["video_id"].as_str().unwrap())), "watched videos stay out");
        let picks: Vec<f64> = feed.iter().map(|l| l["scores"]["pick"].as_f64().unwrap()).collect();
        // By the model's order, except that a channel's next video waits for another
        // channel's that comes close (within `CLOSE_SHARE` of it).
        let close = vrd_ranking::ordering::CLOSE_SHARE;
        let in_order = picks.iter().enumerate().all(|(i, &p)| picks[i..].iter().all(|&later| p >= close * later));
        assert!(in_order && picks.iter().all(|&p| p <= picks[0]) && picks[0] > 0.0 && picks[0] < 1.0, "{picks:?}");
        let reasons: Vec<&str> = feed[0]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
        assert!(
            reasons.iter().any(|r| r.starts_with(words) && r.ends_with("you often watch things like this")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|r| r.contains("watches")), "the channel's history is named: {reasons:?}");
    }

    // The next-watch model ranks from the history: without one it says so.
    let out = Command::new(RANK)
        .args([
            "--model",
            &d("model"),
            "--candidates",
            &person("videos.jsonl"),
            "--embeddings",
            &d("media.safetensors"),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--history"), "{}", String::from_utf8_lossy(&out.stderr));

    // A card of another version of the features is refused, naming the file.
    let mut stale = card.clone();
    stale["features"][0] = serde_json::json!("sim_first");
    std::fs::write(d("model/pick.json"), stale.to_string()).unwrap();
    let out = Command::new(RANK)
        .args(["--model", &d("model"), "--history", &person("watch-history.jsonl")])
        .args(["--candidates", &person("videos.jsonl"), "--embeddings", &d("media.safetensors")])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pick.json") && stderr.contains("features differ"), "{stderr}");
}

#[test]
fn with_answers_too_the_feed_blends_the_pick_into_interest_and_right_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    person_tools::encode_person(dir.path());
    run(
        "vrd-train",
        &[
            &["fit", "--labels", &person("labels.jsonl"), "--videos", &person("videos.jsonl")][..],
            &["--media", &d("media.safetensors"), "--context", &d("context.safetensors")],
            &["--history", &person("watch-history.jsonl"), "--candidates", &person("videos.jsonl")],
            &["--folds", "0", "--epochs", "2", "--out", &d("model")],
        ]
        .concat(),
    );
    for file in ["model.json", "pick.json", "pick-report.json"] {
        assert!(dir.path().join("model").join(file).is_file(), "{file}");
    }
    let feed =
        rank(&d("model"), &d("media.safetensors"), "2026-10-20T22:00:00Z", &["--events", &person("app-events.jsonl")]);
    assert_eq!(feed.len(), 5);
    for line in &feed {
        for score in ["pick", "interest", "right_time"] {
            let p = line["scores"][score].as_f64().unwrap_or(-1.0);
            assert!(p > 0.0 && p < 1.0, "{score}: {line}");
        }
        assert!(!line["reasons"].as_array().unwrap().is_empty());
    }

    // The pick multiplies the answers' blend by (2r / (1 + r))^⅓, r the pick relative to an
    // average candidate's: the same folder without pick.json ranks by the blend alone.
    std::fs::create_dir(d("answers-only")).unwrap();
    for file in ["model.json", "model.safetensors"] {
        std::fs::copy(dir.path().join("model").join(file), dir.path().join("answers-only").join(file)).unwrap();
    }
    let (history, videos, events) = (person("watch-history.jsonl"), person("videos.jsonl"), person("app-events.jsonl"));
    let whole_pool = |model: &str| {
        let args = [&["--model", model, "--history", &history, "--candidates", &videos][..], &["--events", &events]];
        let at = [
            "--embeddings",
            &d("media.safetensors"),
            "--at",
            "2026-10-20T22:00:00Z",
            "-n",
            "1000",
            "--per-channel",
            "1000",
        ];
        lines(&run("vrd-rank", &[args[0], args[1], &at[..]].concat()).stdout)
    };
    let (with, without) = (whole_pool(&d("model")), whole_pool(&d("answers-only")));
    assert_eq!(with.len(), without.len(), "the same pool");
    let picks: f64 = with.iter().map(|l| l["scores"]["pick"].as_f64().unwrap()).sum();
    assert!((picks - 1.0).abs() < 1e-6, "the picks add up to 1 over the pool: {picks}");
    let alone: HashMap<&str, f64> =
        without.iter().map(|l| (l["video_id"].as_str().unwrap(), l["score"].as_f64().unwrap())).collect();
    for line in &with {
        assert!(line["scores"].get("pick").is_some() && without[0]["scores"].get("pick").is_none());
        let r = line["scores"]["pick"].as_f64().unwrap() * with.len() as f64;
        let expected = alone[line["video_id"].as_str().unwrap()] * (2.0 * r / (1.0 + r)).powf(1.0 / 3.0);
        let score = line["score"].as_f64().unwrap();
        assert!((score - expected).abs() < 1e-6 * expected.max(1e-9) + 1e-9, "{score} vs {expected}: {line}");
    }
}

#[test]
fn the_store_alone_feeds_the_next_watch_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    run("vrd-encode", &["media", &person("videos.jsonl"), "-o", &d("media.safetensors")]);
    let (history, videos) = (person("watch-history.jsonl"), person("videos.jsonl"));
    run(
        "vrd-train",
        &["fit", "--history", &history, "--candidates", &videos, "--media", &d("media.safetensors")]
            .into_iter()
            .chain(["--folds", "0", "--out", &d("model")])
            .collect::<Vec<_>>(),
    );
    // The history, the catalogue and a search in a real SQLite store, as `vrd-ingest --db`
    // keeps them; the feed reads all three from it and is saved in it.
    let watches: Vec<vrd_core::records::WatchEvent> = crate::tools::json_lines(&std::fs::read(&history).unwrap());
    let catalogue: Vec<vrd_core::records::Video> = crate::tools::json_lines(&std::fs::read(&videos).unwrap());
    let search: vrd_core::records::Search = serde_json::from_str(
        r#"{"query":"sourdough starter","searched_at":"2026-10-20T21:40:00Z","source":"takeout-json"}"#,
    )
    .unwrap();
    let db = d("vrd.db");
    let mut store = vrd_store::Store::open(std::path::Path::new(&db)).unwrap();
    store.upsert_watch_events(&watches).unwrap();
    store.upsert_videos(&catalogue).unwrap();
    store.upsert_searches(&[search]).unwrap();
    drop(store);
    // The simulated person's catalogue spans the year before the moment.
    let args = ["--model", &d("model"), "--db", &db, "--embeddings", &d("media.safetensors"), "--max-age-days", "1000"];
    let out = run("vrd-rank", &[&args[..], &["--at", "2026-10-20T22:00:00Z", "-n", "5", "--explain"]].concat());
    let feed = lines(&out.stdout);
    assert_eq!(feed.len(), 5);
    let topics = topics();
    assert_eq!(topics[feed[0]["video_id"].as_str().unwrap()], "cooking", "{feed:#?}");
    let watched: std::collections::HashSet<&str> = watches.iter().map(|w| w.video_id.as_str()).collect();
    assert!(feed.iter().all(|l| !watched.contains(l["video_id"].as_str().unwrap())));
    let store = vrd_store::Store::open(std::path::Path::new(&db)).unwrap();
    let (_, saved) = store.latest_feed().unwrap().expect("the feed is saved in the store");
    assert_eq!(saved[0].video_id, feed[0]["video_id"].as_str().unwrap());
    assert!(saved[0].scores["pick"] > 0.0);
}

#[test]
fn the_apps_of_the_hour_before_choose_what_is_picked_at_the_same_hour() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (history, timeline, said) = person_tools::coder_and_gamer_model(dir.path());
    let videos = person("videos.jsonl");
    assert!(said.contains("knew the hour before 72 of the 72 watches"), "{said}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d("model/pick.json")).unwrap()).unwrap();
    assert_eq!(card["history"]["with_activity"], 72);

    // The evening after the history: the same moment and history (the last watches Rust),
    // only the hour before differs.
    let at = vrd_core::time::parse_rfc3339("2026-10-25T21:30:00Z").unwrap();
    let topics = topics();
    for (app, title, topic) in [("steam", "ELDEN RING", "cooking"), ("Code", "lib.rs - Visual Studio Code", "rust")] {
        let events = d(&format!("events-{app}.jsonl"));
        let hour = serde_json::json!({"start": (at - chrono::Duration::minutes(50)).to_rfc3339(), "duration_s": 2700,
            "app": app, "title": title, "category": [], "bucket": "aw-watcher-window_test"});
        std::fs::write(&events, std::fs::read_to_string(&timeline).unwrap() + &format!("{hour}\n")).unwrap();
        let (model, media, when) = (d("model"), d("media.safetensors"), at.to_rfc3339());
        let args = [
            &["--model", &model, "--history", &history, "--candidates", &videos][..],
            &["--embeddings", &media, "--events", &events, "--at", &when],
            &["-n", "3", "--explain"],
        ]
        .concat();
        let feed = lines(&run("vrd-rank", &args).stdout);
        let first = feed[0]["video_id"].as_str().unwrap();
        assert_eq!(topics[first], topic, "after {app}: {feed:#?}");
        // The feed says why (the reason is given where the feature is strong: the first
        // video may be first for other reasons too, such as a title like the last watch's).
        let after = format!("after {app} you often watch things like this");
        assert!(feed.iter().any(|item| item["reasons"].as_array().unwrap().iter().any(|r| r == &after)), "{feed:#?}");
    }

    // A model trained with the timeline needs the moment's: without --events it asks the
    // ActivityWatch server, and says how to do without one when there is none.
    let out = Command::new(RANK)
        .args(["--model", &d("model"), "--history", &history, "--candidates", &videos])
        .args(["--embeddings", &d("media.safetensors"), "--at", &at.to_rfc3339()])
        .args(["--aw-server", "http://127.0.0.1:9"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot get the current activity; pass --events FILE --at TIME"), "{stderr}");
}
