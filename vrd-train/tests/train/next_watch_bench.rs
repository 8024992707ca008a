//! `vrd-train next-watch`, the benchmark of one person's history, takes their app timeline
//! (`--events`) so that a person with both can see what it adds: the model is trained with
//! it (its card counts the watches covered) and the test moments see their hour before, on
//! the same moments and pools as without it. The person is `person_tools::coder_and_gamer`
//! (Rust after coding, cooking after a game). Whether the timeline pays is for real data to
//! say; the feed's own test shows the behaviour (vrd-rank's `next_watch`).

use crate::person_tools;
use person_tools::person;

/// The model's rank of the target at each moment of one pool of a ranks file.
fn model_ranks(ranks: &str, pool: &str) -> Vec<(String, u64)> {
    crate::tools::json_lines::<serde_json::Value>(ranks.as_bytes())
        .iter()
        .filter(|l| l["pool"] == pool)
        .map(|l| (l["at"].as_str().unwrap().to_string(), l["ranks"]["model"].as_u64().expect("the model's rank")))
        .collect()
}

#[test]
fn the_benchmark_trains_and_ranks_with_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (history, timeline) = person_tools::coder_and_gamer(dir.path());
    crate::tools::run("vrd-encode", &["media", &person("videos.jsonl"), "-o", &d("media.safetensors")]);
    // The simulated person's own history is the "other people" here: their videos the
    // interest pools and never-watched candidates.
    let (media, others) = (d("media.safetensors"), person("watch-history.jsonl"));
    let bench = |extra: &[&str]| -> String {
        let args = [&["next-watch", "--history", &history, "--media", &media, "--others", &others][..], extra].concat();
        String::from_utf8(crate::tools::run("vrd-train", &args).stdout).unwrap()
    };
    let (with_model, without_model) = (d("with"), d("without"));
    let (without, with) = (bench(&["--out", &without_model]), bench(&["--events", &timeline, "--out", &with_model]));
    let card = |dir: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/pick.json")).unwrap()).unwrap()
    };
    // Trained on the 57 watches before the cut, every one after an hour of Code or a game.
    assert_eq!(card(&with_model)["history"]["watches"], 57);
    assert_eq!(card(&with_model)["history"]["with_activity"], 57);
    assert_eq!(card(&without_model)["history"]["with_activity"], 0);
    // The same moments, ranked otherwise once they see the hour before.
    let (a, b) = (model_ranks(&without, "timing"), model_ranks(&with, "timing"));
    assert!(a.len() >= 10, "{} test moments", a.len());
    let moments = |r: &[(String, u64)]| r.iter().map(|(at, _)| at.clone()).collect::<Vec<_>>();
    assert_eq!(moments(&a), moments(&b));
    assert_ne!(a, b, "the timeline reached the model");

    // The timeline up to the test evenings only: the same model (its training moments see
    // nothing later), and the test moments no longer see their hour before.
    let events: Vec<vrd_core::records::AppEvent> = crate::tools::json_lines(&std::fs::read(&timeline).unwrap());
    let test_from = vrd_core::time::parse_rfc3339("2026-10-20T12:00:00Z").unwrap();
    let lines: Vec<String> =
        events.iter().filter(|e| e.start < test_from).map(|e| serde_json::to_string(e).unwrap() + "\n").collect();
    let (cut_timeline, cut_model) = (d("until-the-test.jsonl"), d("until"));
    std::fs::write(&cut_timeline, lines.concat()).unwrap();
    let cut = bench(&["--events", &cut_timeline, "--out", &cut_model]);
    let weights = |dir: &str| {
        let c = card(dir);
        (c["mean"].clone(), c["std"].clone(), c["scorer"].clone())
    };
    assert_eq!(weights(&cut_model), weights(&with_model), "the same model");
    assert_ne!(model_ranks(&cut, "timing"), b, "the test moments see their hour before");
}
