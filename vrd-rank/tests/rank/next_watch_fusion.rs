//! The early-fusion next-watch model (`--arch fusion`) through the tools: vrd-train fit
//! --history trains it beside the fast scorers (here over the tiny XLM-R, for speed) and
//! judges it on the same held-out slice; vrd-rank ranks with a fusion card, its score the
//! card's regression plus the encoder's deep part.

use crate::next_watch_fusion_card::{fusion_card, tiny_xlmr as tiny};
use crate::person_tools::person;
use crate::tools::{json_lines, run};
use crate::BIN as RANK;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vrd_core::model_dir::ModelDir;
use vrd_next_watch::card::{NextWatchCard, NextWatchScorer};

fn card_of(dir: &Path) -> NextWatchCard {
    serde_json::from_str(&std::fs::read_to_string(dir.join("pick.json")).unwrap()).unwrap()
}

/// The simulated person's videos encoded into `dir/media.safetensors` and `vrd-train fit
/// --history` run over them with `options`, saving into `out` (with `out_options`).
fn encode_and_fit(dir: &Path, options: &[&str], (out, out_options): (&Path, &[&str])) -> (PathBuf, Output) {
    let media = dir.join("media.safetensors");
    run("vrd-encode", &["media", &person("videos.jsonl"), "-o", media.to_str().unwrap()]);
    let (history, videos) = (person("watch-history.jsonl"), person("videos.jsonl"));
    let fitted = run(
        "vrd-train",
        &[
            &["fit", "--history", &history, "--candidates", &videos, "--media", media.to_str().unwrap()][..],
            options,
            &["--out", out.to_str().unwrap()],
            out_options,
        ]
        .concat(),
    );
    (media, fitted)
}

#[test]
fn fit_history_with_arch_fusion_judges_the_fusion_model_beside_the_fast_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let (tiny, model, report) = (tiny(), d("model"), d("report.json"));
    let (_, fitted) = encode_and_fit(
        dir.path(),
        &["--arch", "fusion", "--encoder", tiny.to_str().unwrap(), "--folds", "2"],
        (&model, &["--report", report.to_str().unwrap()]),
    );
    let card = card_of(&d("model"));
    let fusion = &card.training["fusion"];
    let epochs = fusion["epochs"].as_u64().expect("the fusion contest is recorded");
    assert!(epochs <= 3, "{fusion}");
    let held_out = card.selection["fusion"];
    assert!(held_out > 0.0 && held_out <= 1.0 && (fusion["held_out_mrr"].as_f64().unwrap() - held_out).abs() < 1e-12);
    // The gain is measured against what the fast scorers' rule chose.
    let fast = ["network", "regression"]
        .iter()
        .map(|k| card.selection[*k])
        .chain(card.selection.iter().filter(|(k, _)| k.starts_with("signal:")).map(|(_, v)| *v))
        .collect::<Vec<f64>>();
    let gain = fusion["gain_over_fast"].as_f64().unwrap();
    assert!(fast.iter().any(|m| (held_out - gain - m).abs() < 1e-9), "{fusion} {:?}", card.selection);
    // Shipped only by the rule, and then with its weights beside the card.
    let shipped = card.chosen == "fusion";
    assert_eq!(
        shipped,
        ModelDir::new(d("model")).next_watch_fusion_weights().exists(),
        "{}",
        String::from_utf8_lossy(&fitted.stderr)
    );
    assert_eq!(shipped, card.fusion().is_some());
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d("report.json")).unwrap()).unwrap();
    for fold in report["next_watch"]["folds"].as_array().unwrap() {
        let mrr = fold["mrr"]["model"].as_f64().unwrap();
        assert!(mrr > 0.0 && mrr <= 1.0, "{fold}");
    }
}

fn picks(model: &Path, media: &Path, extra: &[&str]) -> Vec<(String, f64)> {
    let (history, videos) = (person("watch-history.jsonl"), person("videos.jsonl"));
    let args = [
        &["--model", model.to_str().unwrap(), "--history", &history][..],
        &["--candidates", &videos, "--embeddings", media.to_str().unwrap()],
        &["--at", "2026-10-20T22:00:00Z", "-n", "250", "--per-channel", "250"],
        extra,
    ]
    .concat();
    json_lines::<serde_json::Value>(&run("vrd-rank", &args).stdout)
        .into_iter()
        .map(|l| (l["video_id"].as_str().unwrap().to_string(), l["scores"]["pick"].as_f64().unwrap()))
        .collect()
}

#[test]
fn a_fusion_card_ranks_with_the_encoders_deep_part_added_to_its_regression() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    let (media, _) = encode_and_fit(dir.path(), &["--folds", "0"], (&d("fast"), &[]));
    let fast = card_of(&d("fast"));
    // The regression alone, as a card of its own: what the fusion card's wide part is.
    let NextWatchScorer::Fusion { weights, taste, .. } = fusion_card(&fast, &d("zero"), 0.0).scorer else {
        unreachable!()
    };
    NextWatchCard { scorer: NextWatchScorer::Regression { weights, taste }, ..fast.clone() }
        .write(&d("regression"))
        .unwrap();
    fusion_card(&fast, &d("zero"), 0.0).write(&d("zero")).unwrap();
    fusion_card(&fast, &d("random"), 1.0).write(&d("random")).unwrap();

    let regression = picks(&d("regression"), &media, &[]);
    let zero = picks(&d("zero"), &media, &[]);
    let random = picks(&d("random"), &media, &[]);
    assert!(regression.len() > 100, "{}", regression.len());
    // A deep part of zero leaves the regression's feed exactly (same order, same picks).
    assert_eq!(regression.len(), zero.len());
    for (a, b) in regression.iter().zip(&zero) {
        assert_eq!(a.0, b.0);
        assert!((a.1 - b.1).abs() < 1e-9, "{a:?} {b:?}");
    }
    // A trained one moves the picks; they are still a distribution over the candidates.
    let moved = regression.iter().zip(&random).filter(|(a, b)| a.0 != b.0).count();
    assert!(moved > 10, "{moved} places changed");
    assert!((random.iter().map(|p| p.1).sum::<f64>() - 1.0).abs() < 1e-6);

    // Another encoder than the one it was fine-tuned from is refused, naming both.
    let minilm = vrd_encoder::encoder_dir::resolve_encoder_dir(None).unwrap();
    let out = Command::new(RANK)
        .args(["--model", d("random").to_str().unwrap(), "--history", &person("watch-history.jsonl")])
        .args(["--candidates", &person("videos.jsonl"), "--embeddings", media.to_str().unwrap()])
        .args(["--encoder", minilm.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not the one the next-watch model was fine-tuned from"), "{stderr}");
    // Its weights missing: refused, naming the file; no feed on stdout.
    std::fs::remove_file(ModelDir::new(d("random")).next_watch_fusion_weights()).unwrap();
    let out = Command::new(RANK)
        .args(["--model", d("random").to_str().unwrap(), "--history", &person("watch-history.jsonl")])
        .args(["--candidates", &person("videos.jsonl"), "--embeddings", media.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(ModelDir::next_watch_fusion_weights_name()) && out.stdout.is_empty(), "{stderr}");
}
