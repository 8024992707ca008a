//! `vrd-train fit --db`: the model trained from everything the store holds, in one command.
//! The store's answers, videos, watch history and searches are read once; the embeddings
//! cache is completed with what it lacks (as vrd-rank does) and written back; the activity
//! before each answer is cut from the store's timeline (as `vrd-encode context --db` cuts
//! it). These inputs are staged, in a temporary folder, as the files the file options read,
//! and the file path trains on them: one code path, so the same data gives the same model
//! bit for bit, whichever way it came.

use super::fit::FitArgs;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use vrd_core::context::{label_anchor_id, Anchor};
use vrd_core::records::MediaText;
use vrd_core::tensors::Embeddings;
use vrd_engine::context_file::{self, ContextOptions};
use vrd_store::Store;

pub fn run(args: &FitArgs, db: &Path) -> Result<()> {
    if !db.is_file() {
        anyhow::bail!("{}: no such store (vrd-ingest --db makes it)", db.display());
    }
    let store = Store::open(db)?;
    let labels = store.effective_labels()?;
    let videos = store.videos()?;
    let history = store.watch_events()?;
    let searches = store.searches()?;
    eprintln!(
        "vrd-train: {}: {} answers, {} videos, {} watches, {} searches",
        db.display(),
        labels.len(),
        videos.len(),
        history.len(),
        searches.len()
    );
    if labels.is_empty() && history.is_empty() {
        anyhow::bail!(
            "{}: nothing to learn from: no answers and no watch history (vrd-ingest takeout --db, vrd-label)",
            db.display()
        );
    }
    let cache = args.embeddings.clone().unwrap_or_else(|| default_cache(db));
    complete_embeddings(&cache, &videos, &history, args)?;

    let staged = tempfile::Builder::new().prefix("vrd-train-inputs").tempdir()?;
    let dir = staged.path();
    let mut files = args.clone();
    (files.db, files.media) = (None, Some(cache));
    files.videos = Some(stage(dir, "videos.jsonl", &videos)?);
    if !history.is_empty() {
        files.history = Some(stage(dir, "history.jsonl", &history)?);
        // Every stored video is a candidate; the sampler never takes one watched by the
        // moment as a taste negative.
        files.candidates = Some(stage(dir, "candidates.jsonl", &videos)?);
        if !searches.is_empty() {
            files.searches = Some(stage(dir, "searches.jsonl", &searches)?);
        }
        let events = store.app_events(None, None)?;
        if !events.is_empty() {
            files.events = Some(stage(dir, "app-events.jsonl", &events)?);
        }
    }
    if !labels.is_empty() {
        files.labels = Some(stage(dir, "labels.jsonl", &labels)?);
        let anchors: Vec<Anchor> = labels
            .iter()
            .map(|l| Anchor { id: label_anchor_id(&l.video_id, &l.labelled_at), at: l.labelled_at })
            .collect();
        let opts = ContextOptions {
            window: args.window,
            ..ContextOptions::defaults(vrd_core::time::timezone_or_system(args.timezone)?)
        };
        let timeline = context_file::store_timeline(&store, &anchors, opts.window)?;
        let encoder_dir = vrd_engine::encoder_dir::resolve_encoder_dir(args.context_model.as_deref())?;
        let encoder = vrd_model::SentenceEncoder::load(&encoder_dir, &Default::default())?;
        let context = dir.join("context.safetensors");
        for line in context_file::write(&timeline, &anchors, &opts, &encoder, &context)?.lines(&context) {
            eprintln!("vrd-train: {line}");
        }
        files.context = Some(context);
    }
    drop(store);
    super::fit::run(&files)
}

/// `records` as the JSONL file `name` in `dir`.
fn stage<T: serde::Serialize>(dir: &Path, name: &str, records: &[T]) -> Result<PathBuf> {
    let path = dir.join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for record in records {
        vrd_core::jsonl::write_record(&mut out, record)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(path)
}

/// Where the cache is kept by default: beside the store, as the cron job keeps it.
pub fn default_cache(db: &Path) -> PathBuf {
    db.with_file_name("media.safetensors")
}

/// The cache with every stored and watched video that has text, written back when it grew.
fn complete_embeddings(
    cache: &Path,
    videos: &[vrd_core::records::Video],
    history: &[vrd_core::records::WatchEvent],
    args: &FitArgs,
) -> Result<()> {
    let existing = match cache.exists() {
        true => Some(Embeddings::read(cache)?),
        false => None,
    };
    let texts: Vec<MediaText> = videos.iter().map(MediaText::from).chain(history.iter().map(MediaText::from)).collect();
    let (embeddings, added) =
        vrd_engine::embeddings_cache::complete(existing, &texts, args.media_model.as_deref(), &Default::default())?;
    if added > 0 {
        eprintln!("vrd-train: encoded {added} videos that {} lacked", cache.display());
        embeddings.write(cache).with_context(|| format!("cannot write {}", cache.display()))?;
    }
    Ok(())
}
