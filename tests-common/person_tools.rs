//! The simulated person's fixture files and the built tools beside a test's binary, for
//! the tests that train and rank through the real tools (`#[path]`-included).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A file of fixtures/person.
pub fn person(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/person").join(name).to_string_lossy().into_owned()
}

/// Runs `tool` (built beside `beside`, a tool of this workspace) and asserts it succeeded.
pub fn run_beside(beside: &str, tool: &str, args: &[&str]) -> Output {
    let bin = Path::new(beside).with_file_name(tool);
    let out = Command::new(&bin).args(args).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}
