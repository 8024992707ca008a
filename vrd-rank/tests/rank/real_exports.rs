//! Every real export in `../shared/data` through the whole pipeline with the built tools:
//! each Takeout history (JSON, HTML, the 2016 playlist shape, the edge cases) ingest →
//! vrd-encode media → a cold-start feed over the real RSS feeds; each ActivityWatch export
//! (a Windows desktop, an Android phone) ingest → vrd-encode context → a vrd-rank feed for
//! a moment in it, and both hosts as one multi-host timeline; and four writers of different
//! kinds at once on one store, every row there afterwards. The samples are read where they
//! are (never copied into the repository); without them this test fails.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vrd_core::records::{AppEvent, FeedItem, Video, WatchEvent};

use crate::paths;
use paths::repo;

fn samples() -> PathBuf {
    let dir = repo().join("../shared/data");
    assert!(dir.join("README.md").is_file(), "the real samples are expected in {}", dir.display());
    dir
}

use crate::tools::{run, tool};

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    crate::tools::json_lines(&std::fs::read(path).unwrap())
}

fn feed(out: &Output) -> Vec<FeedItem> {
    crate::tools::json_lines(&out.stdout)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The three real channel feeds as candidates.
fn candidates(dir: &Path) -> PathBuf {
    let path = dir.join("candidates.jsonl");
    let mut lines = String::new();
    for feed in ["dyeray-podtube.xml", "feedjira-youtube-atom.xml", "mikemad-youtube-feed.xml"] {
        let out = run("vrd-ingest", &["rss", s(&samples().join("rss").join(feed))]);
        let n = String::from_utf8_lossy(&out.stdout).lines().count();
        assert_eq!(n, 15, "{feed}: every entry a video");
        lines.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    std::fs::write(&path, lines).unwrap();
    path
}

#[test]
fn every_takeout_sample_makes_a_cold_start_feed() {
    let dir = tempfile::tempdir().unwrap();
    let cands = candidates(dir.path());
    let candidate_ids: HashSet<String> = read_jsonl::<Video>(&cands).into_iter().map(|v| v.video_id).collect();
    // (file, entries, watch events, of them with the title unknown)
    let expected = [
        ("case104-watch-history.json", 364, 345, 29),
        ("lemmingscode-watch-history.html", 563, 563, 4),
        ("yutotakano-2016-legacy-playlistItem.json", 3, 3, 0),
        ("yutotakano-edge-cases-watch-history.json", 6, 3, 0),
    ];
    for (file, entries, events, untitled) in expected {
        let watch = dir.path().join(format!("{file}.jsonl"));
        let out = run("vrd-ingest", &["takeout", s(&samples().join("takeout").join(file)), "-o", s(&watch)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("{entries} entries: {events} watch events")), "{file}: {stderr}");
        let history: Vec<WatchEvent> = read_jsonl(&watch);
        assert_eq!(history.len(), events, "{file}");
        assert_eq!(history.iter().filter(|w| w.title_unknown && w.title.is_empty()).count(), untitled, "{file}");

        let emb = dir.path().join(format!("{file}.safetensors"));
        let out = run("vrd-encode", &["media", s(&watch), s(&cands), "-o", s(&emb)]);
        let known: HashSet<&str> = history.iter().filter(|w| !w.title_unknown).map(|w| w.video_id.as_str()).collect();
        let rows = known.union(&candidate_ids.iter().map(String::as_str).collect()).count();
        assert_eq!(vrd_core::tensors::Embeddings::read(&emb).unwrap().meta.rows(), rows, "{file}");
        if untitled > 0 {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(&format!("{untitled} watch events with the title unknown left out")), "{stderr}");
        }

        let out = run(
            "vrd-rank",
            &["--cold-start", "--history", s(&watch), "--candidates", s(&cands), "--embeddings", s(&emb), "-n", "10"],
        );
        let items = feed(&out);
        let watched: HashSet<&str> = history.iter().map(|w| w.video_id.as_str()).collect();
        let fresh = candidate_ids.iter().filter(|id| !watched.contains(id.as_str())).count();
        assert_eq!(items.len(), fresh.min(10), "{file}");
        assert!(items.iter().all(|i| !watched.contains(i.video_id.as_str())), "{file}: watched videos left out");
        // Best first; after it, a channel's next video may wait for another's that comes close.
        assert!(items.iter().all(|i| i.score <= items[0].score), "{file}: best first");
    }
}

#[test]
fn every_activitywatch_export_makes_a_feed_for_a_moment_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let person = repo().join("fixtures/person");
    let p = |name: &str| person.join(name).to_string_lossy().into_owned();
    // A model to rank with (the simulated person's; the timelines here have no labels).
    run("vrd-encode", &["media", &p("videos.jsonl"), "-o", s(&d("media.safetensors"))]);
    run(
        "vrd-encode",
        &[
            "context",
            "--labels",
            &p("labels.jsonl"),
            "--events",
            &p("app-events.jsonl"),
            "--window",
            "1h",
            "--timezone",
            "UTC",
            "-o",
            s(&d("person-context.safetensors")),
        ],
    );
    run(
        "vrd-train",
        &[
            "fit",
            "--labels",
            &p("labels.jsonl"),
            "--videos",
            &p("videos.jsonl"),
            "--media",
            s(&d("media.safetensors")),
            "--context",
            s(&d("person-context.safetensors")),
            "--folds",
            "2",
            "--epochs",
            "2",
            "--out",
            s(&d("model")),
        ],
    );

    // (export, its host, app events in its timeline)
    let exports = [
        ("endersa1-aw-buckets-export.json", "LAPTOP-MCRJASPH", 1863),
        ("liv10let-android-export-slice.json", "unknown", 1446),
    ];
    let mut all = String::new();
    let mut moments = Vec::new();
    for (file, host, count) in exports {
        let timeline = d(&format!("{file}.jsonl"));
        let export = samples().join("activitywatch").join(file);
        run("vrd-ingest", &["aw", "--export", s(&export), "-o", s(&timeline)]);
        let events: Vec<AppEvent> = read_jsonl(&timeline);
        assert_eq!(events.len(), count, "{file}");
        assert!(events.iter().all(|e| e.host.as_deref() == Some(host)), "{file}: every event tagged with its host");
        for w in events.windows(2) {
            let end = w[0].start + chrono::Duration::microseconds((w[0].duration_s * 1e6).round() as i64);
            assert!(end <= w[1].start, "{file}: one timeline: {:?} overlaps {:?}", w[0], w[1]);
        }
        // A moment inside the timeline, just after its middle event ended.
        let mid = &events[events.len() / 2];
        let at = mid.start + chrono::Duration::seconds(mid.duration_s.ceil() as i64 + 1);
        let at = vrd_core::time::format_rfc3339(&at);
        let context = d(&format!("{file}.context.safetensors"));
        let out = run(
            "vrd-encode",
            &[
                "context",
                "--events",
                s(&timeline),
                "--at",
                &at,
                "--window",
                "1h",
                "--timezone",
                "UTC",
                "-o",
                s(&context),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("1 anchors (1 with activity)"), "{file}: {stderr}");
        let out = run(
            "vrd-rank",
            &[
                "--model",
                s(&d("model")),
                "--candidates",
                &p("videos.jsonl"),
                "--embeddings",
                s(&d("media.safetensors")),
                "--events",
                s(&timeline),
                "--at",
                &at,
                "-n",
                "10",
            ],
        );
        let items = feed(&out);
        assert_eq!(items.len(), 10, "{file}");
        assert!(items.iter().all(|i| (0.0..=1.0).contains(&i.score)), "{file}");
        all.push_str(&std::fs::read_to_string(&timeline).unwrap());
        moments.push(at);
    }

    // Both hosts in one file, one host after the other: one timeline each, both read.
    let (both, model, media) = (d("both.jsonl"), d("model"), d("media.safetensors"));
    std::fs::write(&both, all).unwrap();
    let mut args = vec!["context", "--events", s(&both), "--window", "1h", "--timezone", "UTC"];
    for at in &moments {
        args.extend(["--at", at.as_str()]);
    }
    let both_context = d("both.context.safetensors");
    args.extend(["-o", s(&both_context)]);
    let out = run("vrd-encode", &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3309 app events") && stderr.contains("2 anchors (2 with activity)"), "{stderr}");
    for at in &moments {
        let args = [
            "--model",
            s(&model),
            "--candidates",
            &p("videos.jsonl"),
            "--embeddings",
            s(&media),
            "--events",
            s(&both),
            "--at",
            at,
            "-n",
            "5",
        ];
        assert_eq!(feed(&run("vrd-rank", &args)).len(), 5);
    }
}

#[test]
fn four_writers_of_different_kinds_at_once_on_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.db");
    let db = s(&db);
    let data = samples();
    let takeout = data.join("takeout/case104-watch-history.json");
    let rss = data.join("rss/feedjira-youtube-atom.xml");
    let android = data.join("activitywatch/liv10let-android-export-slice.json");
    let labels = repo().join("fixtures/person/labels.jsonl");
    let writers: Vec<(&str, Vec<&str>)> = vec![
        ("vrd-ingest", vec!["takeout", s(&takeout), "--db", db]),
        ("vrd-ingest", vec!["rss", s(&rss), "--db", db]),
        ("vrd-ingest", vec!["aw", "--export", s(&android), "--db", db]),
        ("vrd-label", vec!["--db", db, "import", s(&labels), "--allow-unknown"]),
    ];
    for round in ["a new store", "the same store again"] {
        let children: Vec<_> = writers
            .iter()
            .map(|(name, args)| {
                Command::new(tool(name))
                    .args(args)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (child, (name, args)) in children.into_iter().zip(&writers) {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{round}: {name} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        let store = vrd_store::Store::open(Path::new(db)).unwrap();
        assert_eq!(store.watch_events().unwrap().len(), 345, "{round}");
        assert_eq!(store.videos().unwrap().len(), 15, "{round}");
        assert_eq!(store.app_events(None, None).unwrap().len(), 1446, "{round}");
        let in_file = std::fs::read_to_string(&labels).unwrap().lines().count();
        assert_eq!(store.label_history().unwrap().len(), in_file, "{round}: each label once");
    }
    // The store alone is then enough for a feed.
    let cache = dir.path().join("media.safetensors");
    // The samples' uploads are years old: ranked all the same.
    let out = run(
        "vrd-rank",
        &["--cold-start", "--db", db, "--embeddings", s(&cache), "-n", "5", "--max-age-days", "100000"],
    );
    assert_eq!(feed(&out).len(), 5);
}

/// The next-watch model with each real timeline beside a watch history (one watch every
/// 20 minutes over the timeline's span, of Rust after an hour mostly in work apps, of
/// cooking after one mostly in others, of gossip after an idle hour): trained with the
/// timeline (`vrd-train fit --events`), it counts the watches the timeline covered, and
/// ranks the same from the ingested file (`--events`) as from the export itself (`--aw`)
/// and from a store it was ingested into (`--db`), and otherwise without a timeline.
#[test]
fn the_next_watch_model_reads_each_real_timeline_from_its_file_and_its_export() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let videos = repo().join("fixtures/person/videos.jsonl");
    let media = d("media.safetensors");
    run("vrd-encode", &["media", s(&videos), "-o", s(&media)]);
    let catalogue: Vec<Video> = read_jsonl(&videos);
    let by_topic = |topic: &'static str| catalogue.iter().filter(move |v| v.tags[0] == topic).cycle();
    let work_apps = ["Code.exe", "powershell.exe", "python.exe", "wsl.exe", "微信", "飞书"];
    for file in ["endersa1-aw-buckets-export.json", "liv10let-android-export-slice.json"] {
        let export = samples().join("activitywatch").join(file);
        let timeline = d(&format!("{file}.jsonl"));
        run("vrd-ingest", &["aw", "--export", s(&export), "-o", s(&timeline)]);
        let events: Vec<AppEvent> = read_jsonl(&timeline);
        let (first, last) = (events[0].start, events.last().unwrap().start);
        // Seconds per app in the hour before `t`, time on YouTube left out (the oracle).
        let hour_before = |t: vrd_core::time::Timestamp| -> Vec<(String, f64)> {
            let (from, youtube) = (t - chrono::Duration::hours(1), |s: &str| s.to_lowercase().contains("youtube"));
            let mut apps: Vec<(String, f64)> = Vec::new();
            for e in events.iter().filter(|e| !youtube(&e.app) && !youtube(&e.title)) {
                let end = e.start + chrono::Duration::microseconds((e.duration_s * 1e6).round() as i64);
                let seconds = (end.min(t) - e.start.max(from)).num_milliseconds().max(0) as f64 / 1000.0;
                match apps.iter_mut().find(|(a, _)| *a == e.app) {
                    Some((_, s)) => *s += seconds,
                    None => apps.push((e.app.clone(), seconds)),
                }
            }
            apps.sort_by(|a, b| b.1.total_cmp(&a.1));
            apps
        };
        let (mut rust, mut cooking, mut gossip) = (by_topic("rust"), by_topic("cooking"), by_topic("gossip"));
        let (mut history, mut watches, mut covered_expected) = (String::new(), 0, 0);
        let mut at = first + chrono::Duration::hours(1);
        while at < last {
            let apps = hour_before(at);
            let active = apps.iter().map(|(_, s)| s).sum::<f64>() >= 60.0;
            covered_expected += usize::from(active);
            let v = match (active, apps.first()) {
                (true, Some((app, _))) if work_apps.contains(&app.as_str()) => rust.next(),
                (true, _) => cooking.next(),
                (false, _) => gossip.next(),
            }
            .unwrap();
            history += &format!("{}\n", serde_json::to_string(&crate::person_tools::watch_of(v, at)).unwrap());
            watches += 1;
            at += chrono::Duration::minutes(20);
        }
        let history_file = d(&format!("{file}.history.jsonl"));
        std::fs::write(&history_file, history).unwrap();
        let model = d(&format!("{file}.model"));
        let out = run(
            "vrd-train",
            &["fit", "--history", s(&history_file), "--candidates", s(&videos), "--events", s(&timeline)]
                .into_iter()
                .chain(["--media", s(&media), "--folds", "0", "--out", s(&model)])
                .collect::<Vec<_>>(),
        );
        let card: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(model.join("pick.json")).unwrap()).unwrap();
        let covered = card["history"]["with_activity"].as_u64().unwrap() as usize;
        let said = String::from_utf8_lossy(&out.stderr);
        let line = format!("({} events) knew the hour before {covered} of the {watches} watches", events.len());
        assert!(said.contains(&line), "{file}: {said}");
        assert_eq!(covered, covered_expected, "{file}: of {watches}");
        assert!(covered > 10, "{file}");

        // A moment in the last third of the span, at the end of an event with an active hour
        // before it: the same feed from the file and the export.
        let at = events
            .iter()
            .map(|e| e.start + chrono::Duration::seconds(e.duration_s.ceil() as i64 + 1))
            .filter(|&t| t > last - (last - first) / 3 && t < last)
            .find(|&t| hour_before(t).iter().map(|(_, s)| s).sum::<f64>() >= 600.0)
            .expect("an active hour in the last third");
        let at = vrd_core::time::format_rfc3339(&at);
        let feed_from = |source: [&str; 2]| {
            let args = [
                &["--model", s(&model), "--history", s(&history_file), "--candidates", s(&videos)][..],
                &["--embeddings", s(&media), "--at", &at, "-n", "10", "--explain"],
                &source,
            ]
            .concat();
            feed(&run("vrd-rank", &args))
        };
        // The file ingested up to the moment: the whole file's last event before it may be
        // a second longer, filled up to the next event (ActivityWatch's flood), which at
        // the moment has not happened yet.
        let until_at = d(&format!("{file}.until.jsonl"));
        run("vrd-ingest", &["aw", "--export", s(&export), "--until", &at, "-o", s(&until_at)]);
        let (from_file, from_export) = (feed_from(["--events", s(&until_at)]), feed_from(["--aw", s(&export)]));
        assert_eq!(from_file.len(), 10, "{file}");
        let picks = |f: &[FeedItem]| -> Vec<(String, f64)> {
            f.iter().map(|i| (i.video_id.clone(), i.scores["pick"])).collect()
        };
        assert_eq!(picks(&from_file), picks(&from_export), "{file}");
        // The whole export ingested into a store, as `vrd-ingest aw --db` keeps a timeline:
        // the moment lies within its reach, so the feed reads it alone (no server runs
        // here) and ranks as the whole file does.
        let store = d(&format!("{file}.db"));
        run("vrd-ingest", &["aw", "--export", s(&export), "--db", s(&store)]);
        let from_store = feed_from(["--db", s(&store)]);
        assert_eq!(picks(&from_store), picks(&feed_from(["--events", s(&timeline)])), "{file}");
        // And the timeline counts: without it (an empty file) the picks differ.
        let empty = d("no-events.jsonl");
        std::fs::write(&empty, "").unwrap();
        assert_ne!(picks(&feed_from(["--events", s(&empty)])), picks(&from_file), "{file}: {}", card["chosen"]);
    }
}
