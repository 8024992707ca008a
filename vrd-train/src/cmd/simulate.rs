//! `vrd-train simulate`: writes a synthetic person for tests and demos.

use anyhow::Result;
use std::path::PathBuf;
use vrd_answers::simulate;

#[derive(clap::Args)]
pub struct SimulateArgs {
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 42)]
    days: i64,
    #[arg(long, default_value_t = 250)]
    videos: usize,
    #[arg(long, default_value_t = 900)]
    labels: usize,
    #[arg(long, default_value_t = 0.05)]
    noise: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn run(args: &SimulateArgs) -> Result<()> {
    let options = simulate::Options {
        days: args.days,
        videos: args.videos,
        labels: args.labels,
        seed: args.seed,
        noise: args.noise,
    };
    let person = simulate::simulate(&options);
    simulate::write(&person, &args.out)?;
    eprintln!(
        "vrd-train: {}: {} app events, {} videos, {} labels, {} watches",
        args.out.display(),
        person.events.len(),
        person.videos.len(),
        person.labels.len(),
        person.history.len()
    );
    Ok(())
}
