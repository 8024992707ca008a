//! One module per subcommand: its options and its run (`youtube`, a command group with
//! its own API client, lives in `crate::youtube`).

pub mod aw;
pub mod rss;
pub mod stats;
pub mod subscriptions;
pub mod takeout;

use anyhow::Result;
use std::path::Path;
use vrd_core::jsonl::write_record;
use vrd_core::output::Output;

/// Records as JSONL to stdout or, complete or not at all, to a file.
pub fn write_jsonl<T: serde::Serialize>(records: &[T], output: Option<&Path>) -> Result<()> {
    let mut out = Output::open(output)?;
    for record in records {
        write_record(&mut out, record)?;
    }
    out.finish()
}
