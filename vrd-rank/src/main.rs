//! vrd-rank: scores candidate videos for the person and prints the ranked feed.
//!
//! `cli` holds the options, `feed` one run's pipeline, `inputs` what it ranks from, `ranker`
//! who ranks (each a strategy), `feed_format` the output formats, `searches` what the media
//! model encodes on the way, `timeline_source` where the app timeline comes from;
//! the ranking itself is in the libraries: `vrd_ranking` (the cold start, "more like this",
//! the varied selection) and `vrd_answers::rank` (with a trained model).

mod cli;
mod feed;
mod feed_format;
mod inputs;
mod ranker;
mod searches;
mod timeline_source;

fn main() -> ! {
    let cli: cli::Cli = vrd_cli::parse_args_with_long_version(vrd_encoder::version::long_version);
    vrd_cli::run("vrd-rank", || feed::run(&cli))
}
