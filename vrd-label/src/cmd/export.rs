//! `vrd-label export`: the labels as JSONL for vrd-train.

use anyhow::Result;
use std::path::{Path, PathBuf};
use vrd_store::Store;

#[derive(clap::Args)]
pub struct ExportArgs {
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[arg(long)]
    all: bool,
}

pub fn run(db: &Path, args: &ExportArgs) -> Result<()> {
    let store = Store::open(db)?;
    let labels = if args.all { store.label_history()? } else { store.effective_labels()? };
    let mut out = vrd_core::output::Output::open(args.output.as_deref())?;
    for label in &labels {
        vrd_core::jsonl::write_record(&mut out, label)?;
    }
    out.finish()
}
