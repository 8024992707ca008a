//! The workspace's tools as a test runs them: built first, so that a test never runs a
//! sibling tool older than its sources (`cargo test` builds only the tested package's own
//! binary), then run with their output checked.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Once;

/// The built tool `name` (`vrd-ingest` …). The first call in a test binary runs
/// `cargo build --release --workspace --bins`, which is a fraction of a second when the
/// tools are fresh (`make test` builds them first) and rebuilds the stale ones otherwise.
pub fn tool(name: &str) -> PathBuf {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
        let out = Command::new(cargo)
            .args(["build", "--release", "--workspace", "--bins", "--quiet"])
            .current_dir(crate::paths::repo())
            .stdin(Stdio::null())
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "building the tools failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
    // target/release/deps/<this test> → target/release/<tool>
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(|deps| deps.parent()).unwrap().join(name);
    assert!(bin.is_file(), "{} was not built", bin.display());
    bin
}

/// Runs the tool `name` with `args` (stdin empty) and asserts that it succeeded, with its
/// stderr in the failure.
pub fn run(name: &str, args: &[&str]) -> Output {
    run_command(Command::new(tool(name)).args(args))
}

/// Runs `command` (stdin empty) and asserts that it succeeded, with its output in the
/// failure.
pub fn run_command(command: &mut Command) -> Output {
    let out = command.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The JSON lines of a tool's output or a JSONL file's bytes, each as a `T` (a typed
/// record, or `serde_json::Value`).
pub fn json_lines<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Vec<T> {
    String::from_utf8_lossy(bytes).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
