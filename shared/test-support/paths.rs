//! Where a tool's tests find the checkout and the real data beside it (`#[path]`-included
//! by each tool's test binary, `tests/<tool>/main.rs`, so `CARGO_MANIFEST_DIR` is the
//! tool's folder).
#![allow(dead_code)]

use std::path::PathBuf;

/// The checkout's root, canonical.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// A file or folder of the real data beside the checkout (`../shared/data/PATH`): a test
/// that needs it fails, never passes, when it is missing.
pub fn shared_data(path: &str) -> PathBuf {
    let p = repo().join("../shared/data").join(path);
    assert!(p.exists(), "the real sample {} is missing (../shared/data beside the checkout)", p.display());
    p
}
