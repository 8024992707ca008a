//! vrd-train: learns what interests the person and what fits the moment, from their labels,
//! the videos' embeddings and the activity before each label; judges it on time-series
//! folds against baselines; saves the model vrd-rank uses.
//!
//! This file parses the command line and dispatches; each subcommand is a module of
//! `cmd/`, over the models' crates (`vrd-answers`, `vrd-next-watch-torch`).

mod cmd;
mod inputs;
mod options;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "vrd-train", about = "Train and evaluate the ranking model")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluates on time-series folds against baselines (the JSON report on stdout or
    /// --report), then trains on every label and saves the model to --out.
    Fit(Box<cmd::fit::FitArgs>),
    /// Times training steps of the early-fusion model at a given encoder size (e.g.
    /// fixtures/bge-m3/config.json, random weights) on synthetic inputs; JSON on stdout.
    Bench(Box<cmd::bench::BenchArgs>),
    /// The next-watch benchmark of one person's history: the model trained on its first
    /// part, every method ranking each later first watch in the same pools (JSONL).
    NextWatch(Box<cmd::next_watch::NextWatchArgs>),
    /// The nightly retrain (the cron job's): from the store, when something is new, at
    /// most once a night; the new version replaces --model only if it is not worse on the
    /// latest slice of the history, and the log says what happened.
    Retrain(Box<cmd::retrain::RetrainArgs>),
    /// Brings back the version of --model before the current one.
    Rollback(cmd::retrain::RollbackArgs),
    /// Writes a synthetic person (app events, a video catalogue, labels) as JSONL, for
    /// tests and demos.
    Simulate(cmd::simulate::SimulateArgs),
}

fn main() -> ! {
    let cli: Cli = vrd_cli::parse_args_with_long_version(vrd_encoder::version::long_version);
    vrd_cli::run("vrd-train", || match cli.command {
        Command::Fit(args) => cmd::fit::run(&args),
        Command::Bench(args) => cmd::bench::run(&args),
        Command::NextWatch(args) => cmd::next_watch::run(&args),
        Command::Retrain(args) => cmd::retrain::run(&args),
        Command::Rollback(args) => cmd::retrain::rollback(&args),
        Command::Simulate(args) => cmd::simulate::run(&args),
    })
}
