//! A video's channel, category and tags reach a trained model's ranking as its metadata
//! columns (vrd_core::metadata), cut from the candidate record as training cut them: with a
//! model trained on the simulated person (whose interest follows the topic, which is also
//! each video's tag), the same video with another topic's tag gets another interest
//! probability, and the same tags in another order and case get the same one.

use crate::person_tools;
use person_tools::person;

use crate::tools::run;

#[test]
fn the_tags_of_a_candidate_move_its_interest_as_they_moved_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    person_tools::encode_person(dir.path());
    let sources = ["--labels", &person("labels.jsonl"), "--videos", &person("videos.jsonl")];
    run(
        "vrd-train",
        &[
            &["fit"][..],
            &sources,
            &["--media", &d("media.safetensors"), "--context", &d("context.safetensors")],
            &["--folds", "0", "--epochs", "2", "--out", &d("model")],
        ]
        .concat(),
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d("model/model.json")).unwrap()).unwrap();
    assert_eq!(card["config"]["metadata_buckets"], 64, "the card records the columns it was trained with");

    // One training video, as a candidate with its own tag, another topic's, and its own
    // again in another case and with a blank one.
    let videos: Vec<serde_json::Value> = std::fs::read_to_string(person("videos.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let video = &videos[0];
    let own = video["tags"][0].as_str().unwrap().to_string();
    let other = videos.iter().map(|v| v["tags"][0].as_str().unwrap()).find(|t| *t != own).unwrap().to_string();
    let interest = |tags: serde_json::Value| -> f64 {
        let mut candidate = video.clone();
        candidate["tags"] = tags;
        let file = d("candidate.jsonl");
        std::fs::write(&file, format!("{candidate}\n")).unwrap();
        let out = run(
            "vrd-rank",
            &["--model", &d("model"), "--candidates", &file, "--embeddings", &d("media.safetensors")]
                .into_iter()
                .chain(["--events", &person("app-events.jsonl"), "--at", "2026-09-15T21:30:00Z"])
                .collect::<Vec<_>>(),
        );
        let line: serde_json::Value =
            serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
        line["scores"]["interest"].as_f64().unwrap()
    };
    let as_trained = interest(serde_json::json!([own]));
    let retagged = interest(serde_json::json!([other]));
    assert!((as_trained - retagged).abs() > 1e-4, "another topic's tag, another interest: {as_trained} vs {retagged}");
    let same = interest(serde_json::json!([format!(" {} ", own.to_uppercase()), ""]));
    assert!((as_trained - same).abs() < 1e-9, "the same tag in another case: {as_trained} vs {same}");
}
