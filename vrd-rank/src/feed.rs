//! One run of vrd-rank, one pipeline whoever ranks: the inputs read (files, else the
//! store), the embeddings completed, the feed ranked by the [`Ranker`] the options choose,
//! the embeddings kept, then the feed shaped, saved in the store and written.

use crate::cli::Cli;
use crate::feed_format;
use crate::inputs::{self, Origins};
use crate::ranker::{RankInputs, Ranker, Spread};
use anyhow::Result;
use std::collections::HashSet;
use vrd_core::output::Output;
use vrd_core::records::{FeedItem, MediaText, Video};
use vrd_core::tensors::Embeddings;
use vrd_encoder::encoders::Encoders;
use vrd_ranking::ordering::{self, keep_places, spread_channels};

pub fn run(cli: &Cli) -> Result<()> {
    // Every sentence encoder the run needs (the cache's new videos, the searches, the
    // activity) is loaded once, through here.
    let encoders = Encoders::default();
    let ranker = Ranker::choose(cli)?;
    let inputs = inputs::read(cli, ranker.reads_history_and_searches())?;
    ranker.check(&inputs)?;
    let moment = ranker.moment(cli)?;
    let mut texts: Vec<MediaText> = inputs.candidates.iter().map(MediaText::from).collect();
    if ranker.reads_history_and_searches() {
        texts.extend(inputs.history.iter().map(MediaText::from));
    }
    let (embeddings, added) = load_embeddings(cli, &texts, &encoders)?;
    warn_unembedded(cli, &inputs.candidates, &embeddings);
    let feed = ranker.rank(&RankInputs {
        cli,
        inputs: &inputs,
        embeddings: &embeddings,
        moment: &moment,
        encoders: &encoders,
    })?;
    save_embeddings(cli, embeddings, added, inputs.stored_ids.as_ref())?;
    match ranker.spread() {
        Some(spread) => finish(cli, &moment.at, feed, moment.unknown, (&inputs.origins, spread)),
        None => write(cli, &feed),
    }
}

/// The feed to stdout or `--output`.
fn write(cli: &Cli, feed: &[FeedItem]) -> Result<()> {
    let mut out = Output::open(cli.output.as_deref())?;
    feed_format::write_feed(&mut out, feed, cli.format)?;
    out.finish()
}

/// The feed shaped (channels take turns where their videos come close; `--mode explore`
/// keeps every fourth place for a newly discovered channel), cut to `--top`, said where each
/// video came from (with `--explain`), saved in the store (with `--db`) under its moment
/// with since when its activity is unknown (`unknown`, where the server did not answer: a
/// reason of every item too), then written.
fn finish(
    cli: &Cli,
    at: &vrd_core::time::Timestamp,
    feed: Vec<FeedItem>,
    unknown: Option<String>,
    (origins, spread): (&Origins, Spread),
) -> Result<()> {
    let mut feed = match spread {
        Spread::ByChannel => spread_channels(feed),
        Spread::AsRanked => feed,
    };
    if cli.mode == ordering::Mode::Explore && !origins.discovered.is_empty() {
        feed = keep_places(feed, |i| origins.discovered.contains(&i.video_id), EXPLORE_EVERY);
    }
    feed.truncate(cli.top);
    let notes: Vec<String> = unknown.into_iter().collect();
    if cli.explain {
        for item in &mut feed {
            if let Some(words) = origins.words.get(&item.video_id) {
                item.reasons.insert(0, words.clone());
            }
            item.reasons.extend(notes.iter().cloned());
        }
    }
    if let Some(db) = &cli.db {
        vrd_store::Store::open(db)?.save_feed(at, &feed, &notes)?;
    }
    write(cli, &feed)
}

/// In `--mode explore`, every this many places one is kept for a new channel's video.
const EXPLORE_EVERY: usize = 4;

/// The embeddings cache, with the videos it lacked encoded (and how many those were).
fn load_embeddings(cli: &Cli, videos: &[MediaText], encoders: &Encoders) -> Result<(Embeddings, usize)> {
    let path = &cli.embeddings;
    let cache = if path.exists() {
        Some(Embeddings::read(path)?)
    } else if path.parent().is_some_and(|d| !d.as_os_str().is_empty() && !d.is_dir()) {
        anyhow::bail!("{}: no such file, and its folder does not exist", path.display());
    } else {
        None
    };
    let (embeddings, added) =
        vrd_encoder::embeddings_cache::complete(cache, videos, cli.media_model.as_deref(), encoders)?;
    if added > 0 && !cli.quiet {
        eprintln!("vrd-rank: encoded {added} videos that {} lacked", path.display());
    }
    Ok((embeddings, added))
}

/// Says (unless --quiet) which candidates still have no embedding: the ranking leaves them
/// out; what the cache lacked was encoded, so these had no text to encode.
fn warn_unembedded(cli: &Cli, candidates: &[Video], embeddings: &Embeddings) {
    let missing = vrd_ranking::candidates::without_embedding(candidates, embeddings);
    if !missing.is_empty() && !cli.quiet {
        eprintln!(
            "vrd-rank: {} candidates have no embedding and are left out (first: {}; run vrd-encode media over them)",
            missing.len(),
            missing[0]
        );
    }
}

/// Keeps what was encoded for the next run (once the feed is made: a failed run leaves
/// the cache as it was); with a store, without the rows of videos it no longer holds (the
/// uploads that aged out of it), so the cache stays bounded as the store does.
fn save_embeddings(
    cli: &Cli,
    mut embeddings: Embeddings,
    added: usize,
    stored: Option<&HashSet<String>>,
) -> Result<()> {
    if cli.no_cache_update {
        return Ok(());
    }
    let dropped = stored.map_or(0, |ids| embeddings.retain(|id| ids.contains(id)));
    if added + dropped > 0 {
        embeddings.write(&cli.embeddings)?;
    }
    Ok(())
}
