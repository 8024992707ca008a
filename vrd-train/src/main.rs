//! vrd-train: fine-tunes the encoder with the activity-sequence model (the training issue).
//!
//! Only the shared command-line surface exists so far: `--version` reports the libtorch
//! this build runs on. Running it without arguments explains that and exits 2.

use clap::Parser;
use shared::cli::UsageError;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-train", about = "Fine-tune the ranking model (not available yet)")]
struct Cli {}

fn main() -> ExitCode {
    let _cli: Cli = vrd_model::version::parse_args_with_torch();
    shared::cli::run("vrd-train", || {
        Err(UsageError("this tool has no commands yet in this version; see README.md for what works today".into())
            .into())
    })
}
