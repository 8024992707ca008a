//! "Not now" means later: a video put off at a working moment stays out of the working
//! feed and comes back near the top of an evening feed that it fits, with the reason;
//! "uninterest" removes a video for good. With a model trained on the simulated person
//! (fixtures/person), ranked by the built tools.

use std::collections::HashMap;
use std::process::Output;

const WORK: &str = "2026-09-15T11:10:00Z";
const EVENING: &str = "2026-09-15T21:30:00Z";

use crate::person_tools;
use person_tools::person;

use crate::tools::run;

fn feed(out: &Output) -> Vec<serde_json::Value> {
    crate::tools::json_lines(&out.stdout)
}

#[test]
fn a_video_put_off_at_work_comes_back_in_the_evening_and_a_dismissed_one_never() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    person_tools::encode_person(dir.path());
    run(
        "vrd-train",
        &[
            "fit",
            "--labels",
            &person("labels.jsonl"),
            "--videos",
            &person("videos.jsonl"),
            "--media",
            &d("media.safetensors"),
            "--context",
            &d("context.safetensors"),
            "--folds",
            "0",
            "--epochs",
            "8",
            "--out",
            &d("model"),
        ],
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d("model/model.json")).unwrap()).unwrap();
    let threshold = card["thresholds"]["right_time"].as_f64().unwrap();
    let rank = |at: &str, labels: Option<&str>, n: &str| {
        let mut args = vec![
            "--model".to_string(),
            d("model"),
            "--candidates".into(),
            person("videos.jsonl"),
            "--embeddings".into(),
            d("media.safetensors"),
            "--events".into(),
            person("app-events.jsonl"),
            "--at".into(),
            at.into(),
            "-n".into(),
            n.into(),
            // No channel cap, so that a long feed is every candidate.
            "--per-channel".into(),
            n.into(),
        ];
        if let Some(labels) = labels {
            args.extend(["--labels".into(), labels.into()]);
        }
        feed(&run("vrd-rank", &args.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let right_time = |items: &[serde_json::Value]| -> HashMap<String, f64> {
        items
            .iter()
            .map(|i| (i["video_id"].as_str().unwrap().to_string(), i["scores"]["right_time"].as_f64().unwrap()))
            .collect()
    };
    // Every candidate at both moments, with no answers given yet.
    let (work, evening) = (right_time(&rank(WORK, None, "1000")), right_time(&rank(EVENING, None, "1000")));
    assert_eq!(work.len(), 250);
    // The video that fits the evening and not the working hour by the widest margin.
    let (put_off, _) = evening
        .iter()
        .filter(|(id, &p)| p >= threshold && work[*id] < threshold)
        .map(|(id, &p)| (id.clone(), p - work[id]))
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .expect("some video fits the evening and not the working hour");
    // And one the person dismisses: the evening feed's first otherwise.
    let first_evening = rank(EVENING, None, "1")[0]["video_id"].as_str().unwrap().to_string();
    assert_ne!(first_evening, put_off);

    let labels = d("labels.jsonl");
    std::fs::write(
        &labels,
        format!(
            "{{\"video_id\":\"{put_off}\",\"kind\":\"not-now\",\"labelled_at\":\"2026-09-15T11:05:00Z\"}}\n\
             {{\"video_id\":\"{first_evening}\",\"kind\":\"uninterest\",\"labelled_at\":\"2026-09-15T11:06:00Z\"}}\n"
        ),
    )
    .unwrap();
    let ids = |items: &[serde_json::Value]| -> Vec<String> {
        items.iter().map(|i| i["video_id"].as_str().unwrap().to_string()).collect()
    };
    let at_work = ids(&rank(WORK, Some(&labels), "1000"));
    assert_eq!(at_work.len(), 248, "at work the deferred video waits and the dismissed one is gone");
    assert!(!at_work.contains(&put_off) && !at_work.contains(&first_evening));

    let tonight = rank(EVENING, Some(&labels), "10");
    let position = ids(&tonight).iter().position(|id| *id == put_off).expect("the deferred video is back tonight");
    assert!(position < 3, "near the top: {:?}", ids(&tonight));
    let reasons: Vec<&str> =
        tonight[position]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.starts_with("you put this off on Tue 11:05; it fits now")), "{reasons:?}");
    assert!(!ids(&tonight).contains(&first_evening), "uninterest is for good");

    // The cold start cannot tell the moment: the deferred video waits there too.
    let history = d("history.jsonl");
    let watched = evening.keys().find(|id| **id != put_off && **id != first_evening).unwrap();
    std::fs::write(
        &history,
        format!("{{\"video_id\":\"{watched}\",\"title\":\"t\",\"watched_at\":\"2026-09-15T08:00:00Z\"}}\n"),
    )
    .unwrap();
    let cold = feed(&run(
        "vrd-rank",
        &[
            "--cold-start",
            "--history",
            &history,
            "--candidates",
            &person("videos.jsonl"),
            "--embeddings",
            &d("media.safetensors"),
            "--labels",
            &labels,
            "-n",
            "1000",
            "--per-channel",
            "1000",
        ],
    ));
    let cold = ids(&cold);
    assert_eq!(cold.len(), 247, "all but the watched, the deferred and the dismissed");
    assert!(!cold.contains(&put_off) && !cold.contains(&first_evening));
}
