//! `vrd-label import`: labels from a file, all or nothing.

use crate::known_videos;
use anyhow::Result;
use std::path::{Path, PathBuf};
use vrd_core::records::LabelKind;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct ImportArgs {
    file: PathBuf,
    /// The kind for a list without a kind column (a liked list: interest; a disliked
    /// list: uninterest).
    #[arg(long, value_parser = super::kind_arg)]
    kind: Option<LabelKind>,
    /// The source recorded for rows that do not name one.
    #[arg(long, default_value = "import")]
    source: String,
    #[arg(long)]
    allow_unknown: bool,
}

pub fn run(db: &Path, args: &ImportArgs) -> Result<()> {
    let mut store = Store::open(db)?;
    let parsed = vrd_core::label_files::read(&args.file, args.kind, &args.source)?;
    if !args.allow_unknown {
        known_videos::check_known(&store, &parsed.labels, |i| parsed.origins[i].clone())?;
    }
    let counts = store.add_labels(&parsed.labels, false)?;
    eprintln!("vrd-label: {}: {} labels read; {counts}", args.file.display(), parsed.labels.len());
    Ok(())
}
