//! The simulated person's fixture files, encoded and stored as the tests that train and
//! rank through the real tools need them (not every test uses every helper).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A file of fixtures/person.
pub fn person(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/person").join(name).to_string_lossy().into_owned()
}

/// The person's videos and the activity before each label encoded by the built
/// vrd-encode into `dir` (`media.safetensors`, `context.safetensors`: one-hour windows in
/// UTC), as `vrd-train fit` reads them.
pub fn encode_person(dir: &Path) {
    let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
    crate::tools::run("vrd-encode", &["media", &person("videos.jsonl"), "-o", &d("media.safetensors")]);
    let (labels, events) = (person("labels.jsonl"), person("app-events.jsonl"));
    let context = ["context", "--labels", &labels, "--events", &events, "--window", "1h", "--timezone", "UTC"];
    crate::tools::run("vrd-encode", &[&context[..], &["-o", &d("context.safetensors")]].concat());
}

/// The records of a file of fixtures/person.
pub fn read<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    vrd_core::jsonl::JsonlReader::open(Some(Path::new(&person(name)))).unwrap().read_all().unwrap()
}

/// A real SQLite store at `db` holding the person: the catalogue, the app timeline, every
/// answer, and the first `watches` of the watch history.
pub fn person_store(db: &Path, watches: usize) {
    use vrd_core::records::{AppEvent, Label, Video, WatchEvent};
    let history: Vec<WatchEvent> = read("watch-history.jsonl");
    let mut store = vrd_store::Store::open(db).unwrap();
    store.upsert_videos(&read::<Video>("videos.jsonl")).unwrap();
    store.upsert_app_events(&read::<AppEvent>("app-events.jsonl")).unwrap();
    store.upsert_watch_events(&history[..watches.min(history.len())]).unwrap();
    store.add_labels(&read::<Label>("labels.jsonl"), false).unwrap();
}

/// Every answer of the person given again a second later, the other way round (poisoned
/// answers a retrain must refuse).
pub fn flipped_answers() -> Vec<vrd_core::records::Label> {
    use vrd_core::records::{Label, LabelKind};
    read::<Label>("labels.jsonl")
        .into_iter()
        .filter_map(|l| {
            let kind = match l.kind {
                LabelKind::Interest => LabelKind::Uninterest,
                LabelKind::Uninterest => LabelKind::Interest,
                LabelKind::RightTime => LabelKind::NotNow,
                LabelKind::NotNow => LabelKind::RightTime,
                _ => return None,
            };
            Some(Label {
                kind,
                labelled_at: l.labelled_at + chrono::Duration::seconds(1),
                source: "poison".into(),
                ..l
            })
        })
        .collect()
}

/// A watch of `v` at `at`, as vrd-ingest takeout writes one.
pub fn watch_of(v: &vrd_core::records::Video, at: vrd_core::time::Timestamp) -> vrd_core::records::WatchEvent {
    vrd_core::records::WatchEvent {
        video_id: v.video_id.clone(),
        title: v.title.clone(),
        title_unknown: false,
        channel: v.channel.clone(),
        channel_id: None,
        watched_at: at,
        source: "takeout-json".into(),
        watched_s: None,
    }
}

/// `minutes` of `app` (its window titled `title`) from `start`, as vrd-ingest aw writes an
/// event of a desktop's window watcher.
pub fn app_event(
    app: &str,
    title: &str,
    start: vrd_core::time::Timestamp,
    minutes: i64,
) -> vrd_core::records::AppEvent {
    vrd_core::records::AppEvent {
        start,
        duration_s: (minutes * 60) as f64,
        app: app.into(),
        title: title.into(),
        url: None,
        category: Vec::new(),
        bucket: "aw-watcher-window_test".into(),
        host: None,
    }
}

/// A person who, at the same hours of the evening, watches Rust after an hour of coding and
/// cooking after an hour of a game (which, by chance from day to day; the last evening
/// Rust): 24 evenings of 3 videos from the catalogue, written to `dir` as vrd-ingest
/// takeout and vrd-ingest aw write them (`history.jsonl`, `app-events.jsonl`, with time on
/// YouTube itself in the timeline too, which the activity leaves out). Returns both paths.
pub fn coder_and_gamer(dir: &Path) -> (String, String) {
    use vrd_core::records::{AppEvent, Video, WatchEvent};
    let videos: Vec<Video> = read("videos.jsonl");
    let by_topic = |topic: &str| -> Vec<&Video> { videos.iter().filter(|v| v.tags[0] == topic).collect() };
    let (rust, cooking) = (by_topic("rust"), by_topic("cooking"));
    let start = vrd_core::time::parse_rfc3339("2026-10-01T20:00:00Z").unwrap();
    let (mut watches, mut events): (Vec<WatchEvent>, Vec<AppEvent>) = (Vec::new(), Vec::new());
    let mut seed = 7u64;
    let (mut next_rust, mut next_cooking) = (0, 0);
    for day in 0..24 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let coding = day == 23 || (seed >> 33).is_multiple_of(2);
        let session = start + chrono::Duration::days(day) + chrono::Duration::minutes(((seed >> 40) % 180) as i64);
        let before = session - chrono::Duration::minutes(55);
        events.push(match coding {
            true => app_event("Code", "main.rs - Visual Studio Code", before, 50),
            false => app_event("steam", "ELDEN RING", before, 50),
        });
        for k in 0..3 {
            let (list, next) = if coding { (&rust, &mut next_rust) } else { (&cooking, &mut next_cooking) };
            let v = list[*next];
            *next += 1;
            let at = session + chrono::Duration::minutes(10 * k);
            events.push(app_event("firefox", &format!("{} - YouTube — Mozilla Firefox", v.title), at, 10));
            watches.push(watch_of(v, at));
        }
    }
    let write = |name: &str, lines: Vec<String>| {
        let path = dir.join(name);
        std::fs::write(&path, lines.concat()).unwrap();
        path.to_string_lossy().into_owned()
    };
    (
        write("history.jsonl", watches.iter().map(|w| serde_json::to_string(w).unwrap() + "\n").collect()),
        write("app-events.jsonl", events.iter().map(|e| serde_json::to_string(e).unwrap() + "\n").collect()),
    )
}

/// The coder-and-gamer person written to `dir`, the catalogue encoded there
/// (`media.safetensors`) and their next-watch model trained with the timeline into
/// `dir/model` (no evaluation folds): the history's and the timeline's paths, and what
/// vrd-train said.
pub fn coder_and_gamer_model(dir: &Path) -> (String, String, String) {
    let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
    crate::tools::run("vrd-encode", &["media", &person("videos.jsonl"), "-o", &d("media.safetensors")]);
    let (history, timeline) = coder_and_gamer(dir);
    let videos = person("videos.jsonl");
    let fit = [
        &["fit", "--history", &history, "--candidates", &videos, "--events", &timeline][..],
        &["--media", &d("media.safetensors"), "--folds", "0", "--out", &d("model")],
    ];
    let fitted = crate::tools::run("vrd-train", &fit.concat());
    (history, timeline, String::from_utf8_lossy(&fitted.stderr).into_owned())
}
