//! vrd-encode context on the fixture timeline (one day of a person in Berlin): tensor
//! layout, exact window contents, the text cache, reused statistics, time zones, the
//! store as input, and bad input.

use safetensors::SafeTensors;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vrd_core::records::AppEvent;
use vrd_model::{SentenceEncoder, SentenceEncoderOptions};

use crate::BIN;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/activity").join(name).to_string_lossy().into_owned()
}

fn context(args: &[&str]) -> Output {
    Command::new(BIN).arg("context").args(args).stdin(Stdio::null()).output().unwrap()
}

struct Ctx {
    bytes: Vec<u8>,
    meta: HashMap<String, String>,
}

impl Ctx {
    fn read(path: &Path) -> Ctx {
        Ctx { bytes: std::fs::read(path).unwrap(), meta: vrd_core::tensors::read_metadata(path).unwrap() }
    }
    fn f32s(&self, name: &str) -> (Vec<usize>, Vec<f32>) {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(name).unwrap();
        (t.shape().to_vec(), t.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect())
    }
    fn mask(&self) -> (Vec<usize>, Vec<u8>) {
        let st = SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor("mask").unwrap();
        (t.shape().to_vec(), t.data().to_vec())
    }
}

fn events() -> Vec<AppEvent> {
    vrd_core::jsonl::JsonlReader::open(Some(Path::new(&fixture("app-events.jsonl")))).unwrap().read_all().unwrap()
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn layout_and_window_contents_for_label_anchors() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("ctx.safetensors");
    let out = context(&[
        "--events",
        &fixture("app-events.jsonl"),
        "--labels",
        &fixture("labels.jsonl"),
        "--timezone",
        "Europe/Berlin",
        "--max-events",
        "32",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    ok(&out);
    let ctx = Ctx::read(&out_path);
    let (shape, emb) = ctx.f32s("emb");
    assert_eq!(shape, [6, 32, 384]);
    let (num_shape, num) = ctx.f32s("num");
    assert_eq!(num_shape, [6, 32, 5]);
    let (_, mask) = ctx.mask();
    assert!(num.iter().all(|x| x.is_finite()));
    let counts: Vec<usize> = mask.chunks(32).map(|m| m.iter().filter(|&&x| x == 1).count()).collect();
    // The last label (the day before) has no activity: an all-zero mask and zero tensors.
    assert_eq!(counts[5], 0);
    assert!(emb[5 * 32 * 384..].iter().all(|&x| x == 0.0));
    // The 09:30Z "not now" label: its window is 03:30–09:30Z; the day starts at 07:00Z.
    let ts = events();
    let expected_0930 = merged_count(&ts, "2026-11-20T03:30:00Z", "2026-11-20T09:30:00Z");
    assert_eq!(counts[1], expected_0930.min(32));
    // Masks are a prefix of ones; padding rows are zero.
    for (a, m) in mask.chunks(32).enumerate() {
        let n = counts[a];
        assert!(m[..n].iter().all(|&x| x == 1) && m[n..].iter().all(|&x| x == 0));
        let row = |i: usize| &emb[(a * 32 + i) * 384..(a * 32 + i + 1) * 384];
        if n > 0 {
            let norm: f32 = row(0).iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "event embeddings are unit vectors");
        }
        assert!((n..32).all(|i| row(i).iter().all(|&x| x == 0.0)));
    }
    assert_eq!(ctx.meta["format"], "vrd-context/2");
    let spec: serde_json::Value = serde_json::from_str(&ctx.meta["spec"]).unwrap();
    assert_eq!(spec["timezone"], "Europe/Berlin");
    assert_eq!(spec["window_s"], 21600);
    assert_eq!(spec["app_buckets"], 256);
    let ids: Vec<String> = serde_json::from_str(&ctx.meta["anchor_ids"]).unwrap();
    assert_eq!(ids[0], "lWaRokVH711@2026-11-20T17:05:00Z");
    let times: Vec<String> = serde_json::from_str(&ctx.meta["anchor_times"]).unwrap();
    assert_eq!(times[2], "2026-11-20T20:15:00.250Z");
}

/// Events of the timeline in [from, to), merged like the tool does (same app and title).
fn merged_count(events: &[AppEvent], from: &str, to: &str) -> usize {
    let (from, to) = (vrd_core::time::parse_rfc3339(from).unwrap(), vrd_core::time::parse_rfc3339(to).unwrap());
    let mut last: Option<(&str, &str)> = None;
    let mut n = 0;
    for e in events {
        let end = e.start + chrono::Duration::microseconds((e.duration_s * 1e6) as i64);
        if e.start < to && end > from {
            if last != Some((e.app.as_str(), e.title.as_str())) {
                n += 1;
            }
            last = Some((e.app.as_str(), e.title.as_str()));
        }
    }
    n
}

#[test]
fn event_embeddings_are_the_encoders_and_the_newest_event_is_last() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("ctx.safetensors");
    ok(&context(&[
        "--events",
        &fixture("app-events.jsonl"),
        "--at",
        "2026-11-20T10:00:00Z",
        "--timezone",
        "UTC",
        "-o",
        out_path.to_str().unwrap(),
    ]));
    let ctx = Ctx::read(&out_path);
    let (_, mask) = ctx.mask();
    let n = mask.iter().filter(|&&m| m == 1).count();
    let (_, emb) = ctx.f32s("emb");
    let (_, num) = ctx.f32s("num");
    // The last event before 10:00Z, embedded directly, is the last row of the window.
    let last = events()
        .into_iter()
        .rfind(|e| e.start < vrd_core::time::parse_rfc3339("2026-11-20T10:00:00Z").unwrap())
        .unwrap();
    let text = format!("{} | {} | {}", last.category.join("/"), last.app, last.title);
    let enc = SentenceEncoder::load(
        &vrd_encoder::encoder_dir::packaged_encoder_dir().unwrap(),
        &SentenceEncoderOptions::default(),
    )
    .unwrap();
    let want = &enc.embed(&[text.as_str()], 1).unwrap()[0];
    let got = &emb[(n - 1) * 384..n * 384];
    let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-5, "{worst}");
    // Its time of day (UTC here) lies just before 10:00.
    let hour = (num[(n - 1) * 5].atan2(num[(n - 1) * 5 + 1]) as f64).rem_euclid(std::f64::consts::TAU)
        / std::f64::consts::TAU
        * 24.0;
    assert!(hour > 9.0 && hour < 10.0, "{hour}");
}

#[test]
fn distinct_texts_are_encoded_once_and_cached_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.safetensors");
    let args = |out: &str| {
        vec![
            "--events".to_string(),
            fixture("app-events.jsonl"),
            "--labels".into(),
            fixture("labels.jsonl"),
            "--timezone".into(),
            "Europe/Berlin".into(),
            "--cache".into(),
            cache.to_string_lossy().into_owned(),
            "-o".into(),
            dir.path().join(out).to_string_lossy().into_owned(),
        ]
    };
    let run = |a: Vec<String>| Command::new(BIN).arg("context").args(a).output().unwrap();
    let first = ok(&run(args("a.safetensors")));
    // 13 distinct app/title texts in the fixture, met in many more window events.
    assert!(first.contains("143 window events, 13 distinct texts: 13 encoded, 0 from the cache"), "{first}");
    let second = ok(&run(args("b.safetensors")));
    assert!(second.contains("13 distinct texts: 0 encoded, 13 from the cache"), "{second}");
    let (a, b) = (Ctx::read(&dir.path().join("a.safetensors")), Ctx::read(&dir.path().join("b.safetensors")));
    assert_eq!(a.f32s("emb").1, b.f32s("emb").1, "cached vectors are the same vectors");
    // Another encoder (the tiny XLM-R) does not take vectors from this cache: every text
    // is encoded again, and the tool says why under its own name.
    let tiny = crate::paths::repo().join("fixtures/tiny-xlmr");
    let other = ok(&run([args("c.safetensors"), vec!["--model".into(), tiny.to_string_lossy().into_owned()]].concat()));
    assert!(other.contains(&format!("vrd-encode: cache {} was made by", cache.display())), "{other}");
    assert!(other.contains("; not used") && other.contains("13 encoded, 0 from the cache"), "{other}");
}

#[test]
fn statistics_are_reused_and_time_zones_move_only_time_features() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let base = ["--events".to_string(), fixture("app-events.jsonl"), "--at".into(), "2026-11-20T18:00:00Z".into()];
    let run = |extra: &[&str]| Command::new(BIN).arg("context").args(&base).args(extra).output().unwrap();
    ok(&run(&["--timezone", "Europe/Berlin", "-o", &p("train.safetensors"), "--labels", &fixture("labels.jsonl")]));
    ok(&run(&["--timezone", "Europe/Berlin", "-o", &p("berlin.safetensors"), "--stats", &p("train.safetensors")]));
    ok(&run(&["--timezone", "Asia/Tokyo", "-o", &p("tokyo.safetensors"), "--stats", &p("train.safetensors")]));
    ok(&run(&["--timezone", "Europe/Berlin", "-o", &p("own.safetensors")]));
    let train = Ctx::read(Path::new(&p("train.safetensors")));
    let berlin = Ctx::read(Path::new(&p("berlin.safetensors")));
    let own = Ctx::read(Path::new(&p("own.safetensors")));
    let mean =
        |c: &Ctx| serde_json::from_str::<serde_json::Value>(&c.meta["spec"]).unwrap()["duration"]["mean"].clone();
    assert_eq!(mean(&berlin), mean(&train));
    assert_ne!(mean(&own), mean(&train), "fitted on its own anchors otherwise");
    let tokyo = Ctx::read(Path::new(&p("tokyo.safetensors")));
    let (b, t) = (berlin.f32s("num").1, tokyo.f32s("num").1);
    let n = berlin.mask().1.iter().filter(|&&m| m == 1).count();
    assert!(n > 0);
    for i in 0..n {
        assert_ne!(b[i * 5], t[i * 5], "time of day differs between zones");
        assert_eq!(b[i * 5 + 4], t[i * 5 + 4], "duration features do not");
    }
}

#[test]
fn the_store_gives_the_same_tensors_as_the_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vrd.sqlite");
    vrd_store::Store::open(&db).unwrap().upsert_app_events(&events()).unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let common = ["--labels", &fixture("labels.jsonl"), "--timezone", "Europe/Berlin"];
    ok(&Command::new(BIN)
        .arg("context")
        .args(common)
        .args(["--events", &fixture("app-events.jsonl"), "-o", &p("a.safetensors")])
        .output()
        .unwrap());
    ok(&Command::new(BIN)
        .arg("context")
        .args(common)
        .args(["--db", db.to_str().unwrap(), "-o", &p("b.safetensors")])
        .output()
        .unwrap());
    assert_eq!(std::fs::read(p("a.safetensors")).unwrap(), std::fs::read(p("b.safetensors")).unwrap());
}

#[test]
fn f16_output_halves_the_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("ctx.safetensors");
    ok(&context(&[
        "--events",
        &fixture("app-events.jsonl"),
        "--at",
        "2026-11-20T12:00:00Z",
        "--timezone",
        "UTC",
        "--half",
        "-o",
        out_path.to_str().unwrap(),
    ]));
    let bytes = std::fs::read(&out_path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("emb").unwrap().dtype(), safetensors::Dtype::F16);
}

fn assert_failed_cleanly(out: &Output, code: i32, needles: &[&str], dir: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}: {stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("out"))
        .collect();
    assert!(left.is_empty(), "no output and no temporary left behind: {left:?}");
}

#[test]
fn bad_input_is_named_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.safetensors");
    let o = out_path.to_str().unwrap();
    let lines: Vec<String> =
        std::fs::read_to_string(fixture("app-events.jsonl")).unwrap().lines().map(String::from).collect();

    let unsorted = dir.path().join("unsorted.jsonl");
    std::fs::write(&unsorted, format!("{}\n{}\n{}\n", lines[0], lines[2], lines[1])).unwrap();
    let out = context(&["--events", unsorted.to_str().unwrap(), "--now", "--timezone", "UTC", "-o", o]);
    assert_failed_cleanly(&out, 1, &["unsorted.jsonl:3: field `start`", "time order"], dir.path());

    let labels = dir.path().join("labels.jsonl");
    std::fs::write(&labels, "{\"video_id\":\"a\",\"kind\":\"not_now\",\"labelled_at\":\"2026-11-20T10:00:00Z\",\"source\":\"t\"}\n{\"video_id\":\"b\",\"kind\":\"not_now\",\"source\":\"t\"}\n").unwrap();
    let out = context(&[
        "--events",
        &fixture("app-events.jsonl"),
        "--labels",
        labels.to_str().unwrap(),
        "--timezone",
        "UTC",
        "-o",
        o,
    ]);
    assert_failed_cleanly(&out, 1, &["labels.jsonl:2", "missing field `labelled_at`"], dir.path());

    std::fs::write(
        &labels,
        "{\"video_id\":\"a\",\"kind\":\"not_now\",\"labelled_at\":\"2026-11-20T10:00:00\",\"source\":\"t\"}\n",
    )
    .unwrap();
    let out = context(&[
        "--events",
        &fixture("app-events.jsonl"),
        "--labels",
        labels.to_str().unwrap(),
        "--timezone",
        "UTC",
        "-o",
        o,
    ]);
    assert_failed_cleanly(&out, 1, &["labels.jsonl:1: field `labelled_at`"], dir.path());

    let out = context(&["--events", &fixture("app-events.jsonl"), "--now", "--timezone", "Mars/Olympus_Mons", "-o", o]);
    assert_failed_cleanly(&out, 2, &["unknown time zone \"Mars/Olympus_Mons\""], dir.path());

    let out = context(&["--events", &fixture("app-events.jsonl"), "--timezone", "UTC", "-o", o]);
    assert_failed_cleanly(&out, 2, &["no anchors"], dir.path());

    let out = context(&["--events", &fixture("app-events.jsonl"), "--now", "--window", "6 hours", "-o", o]);
    assert_failed_cleanly(&out, 2, &["--window"], dir.path());

    let out = context(&[
        "--events",
        &fixture("app-events.jsonl"),
        "--now",
        "--stats",
        &fixture("labels.jsonl"),
        "--timezone",
        "UTC",
        "-o",
        o,
    ]);
    assert_failed_cleanly(&out, 1, &["labels.jsonl", "not a safetensors file"], dir.path());
}
