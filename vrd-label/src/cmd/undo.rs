//! `vrd-label undo`: removes the most recent label and prints it.

use anyhow::{anyhow, Result};
use std::path::Path;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct UndoArgs {
    #[arg(long)]
    source: Option<String>,
}

pub fn run(db: &Path, args: &UndoArgs) -> Result<()> {
    let mut store = Store::open(db)?;
    match store.undo_last_label(args.source.as_deref())? {
        Some(label) => {
            let mut out = vrd_core::output::Output::open(None)?;
            vrd_core::jsonl::write_record(&mut out, &label)?;
            out.finish()
        }
        None => Err(anyhow!("{}: no label to undo", db.display())),
    }
}
