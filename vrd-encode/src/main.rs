//! vrd-encode: text → embeddings, and activity windows → sequence tensors.

mod context;
mod media;
mod runtime_args;

use clap::{Parser, Subcommand};

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
    /// App activity before each anchor (label time, listed times or now) → sequence tensors.
    Context(context::ContextArgs),
}

fn main() -> ! {
    let cli: Cli = vrd_cli::parse_args_with_long_version(vrd_encoder::version::long_version);
    vrd_cli::run("vrd-encode", || match cli.command {
        Command::Media(args) => media::run(&args),
        Command::Context(args) => context::run(&args),
    })
}
