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
