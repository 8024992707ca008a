//! vrd-encode: text → embeddings (and, later, activity windows → sequence tensors).

mod media;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "vrd-encode", about = "Turn vrd records into tensors")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Video or watch-event JSONL → one embedding per video (safetensors).
    Media(media::MediaArgs),
}

fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse_args();
    shared::cli::run("vrd-encode", || match cli.command {
        Command::Media(args) => media::run(&args),
    })
}
