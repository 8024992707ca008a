//! `vrd-label add`: one label from the command line.

use crate::known_videos;
use anyhow::Result;
use std::path::Path;
use vrd_core::records::{Label, LabelKind};
use vrd_core::time::Timestamp;
use vrd_store::Store;

#[derive(clap::Args)]
pub struct AddArgs {
    video_id: String,
    #[arg(value_parser = super::kind_arg)]
    kind: LabelKind,
    /// When it was given (RFC 3339 with a zone, e.g. 2026-11-20T17:05:00+01:00);
    /// default now. A right-time/not-now label is about this moment's activity.
    #[arg(long, value_parser = vrd_cli::time_arg)]
    at: Option<Timestamp>,
    #[arg(long, default_value = "cli")]
    source: String,
    /// Accept a video id the store does not know.
    #[arg(long)]
    allow_unknown: bool,
}

pub fn run(db: &Path, args: AddArgs) -> Result<()> {
    let mut store = Store::open(db)?;
    let label = Label {
        video_id: args.video_id,
        kind: args.kind,
        labelled_at: args.at.unwrap_or_else(chrono::Utc::now),
        source: args.source,
        feed_at: None,
    };
    if !args.allow_unknown {
        known_videos::check_known(&store, std::slice::from_ref(&label), |_| "argument".into())?;
    }
    let counts = store.add_labels(&[label], false)?;
    eprintln!("vrd-label: {}: {counts}", db.display());
    Ok(())
}
