//! What `vrd-train fit` trains from, typed and read one way: from the files the options
//! name, or from the store (`--db`, read once: its answers, videos, watches, searches and
//! app timeline, the embeddings cache completed with what it lacks). Both give the same
//! records to the same code, so the same data gives the same model bit for bit, whichever
//! way it came; nothing is staged in files on the way. The retrain's judge reads the store
//! through here too.

use crate::cmd::fit_args::FitArgs;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vrd_answers::data::{self, ContextInput, Dataset};
use vrd_core::context::{label_anchor_id, Anchor, Timeline};
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{AppEvent, Label, MediaText, Search, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_encoder::context_file::{self, ContextOptions};
use vrd_encoder::encoders::Encoders;
use vrd_next_watch::feed::Query;
use vrd_next_watch_torch::training::data::NextWatchInputs;
use vrd_store::person::{self, Answers, Person, PersonFiles, Wanted};
use vrd_store::Store;

/// Where a fit's inputs come from.
pub enum Source {
    /// The files `--labels`, `--history` … name.
    Files,
    Store(Stored),
}

/// What the store holds that training reads, read once.
pub struct Stored {
    pub db: PathBuf,
    /// The embeddings cache, complete for every stored and watched video with text.
    pub cache: PathBuf,
    /// The answers, the latest per video and question.
    pub labels: Vec<Label>,
    pub videos: Vec<Video>,
    pub history: Vec<WatchEvent>,
    pub searches: Vec<Search>,
    pub events: Vec<AppEvent>,
    /// The sentence encoders of the run, each loaded once: the cache's new videos, the
    /// activity windows' texts and the searches are usually one model.
    encoders: Encoders,
}

impl Stored {
    /// The store's records (`cache`: its embeddings cache, read where they are used).
    pub fn read(db: &Path, cache: &Path) -> Result<Stored> {
        if !db.is_file() {
            anyhow::bail!("{}: no such store (vrd-ingest --db makes it)", db.display());
        }
        let store = Store::open(db)?;
        let wanted = Wanted { searches: true, events: true, answers: Answers::Effective };
        let Person { videos, history, searches, labels, events } =
            person::read(&PersonFiles::default(), Some(&store), wanted)?;
        let (db, cache, encoders) = (db.to_path_buf(), cache.to_path_buf(), Encoders::default());
        Ok(Stored { db, cache, labels, videos, history, searches, events, encoders })
    }
}

impl Source {
    /// The store (`--db`, saying what it holds; refused when it holds nothing to learn
    /// from), else the files.
    pub fn of(args: &FitArgs) -> Result<Source> {
        let Some(db) = &args.db else { return Ok(Source::Files) };
        let cache = args.embeddings.clone().unwrap_or_else(|| default_cache(db));
        let stored = Stored::read(db, &cache)?;
        eprintln!(
            "vrd-train: {}: {} answers, {} videos, {} watches, {} searches",
            db.display(),
            stored.labels.len(),
            stored.videos.len(),
            stored.history.len(),
            stored.searches.len()
        );
        if stored.labels.is_empty() && stored.history.is_empty() {
            anyhow::bail!(
                "{}: nothing to learn from: no answers and no watch history (vrd-ingest takeout --db, vrd-label)",
                db.display()
            );
        }
        complete_embeddings(&stored, args.media_model.as_deref())?;
        Ok(Source::Store(stored))
    }

    /// Whether there is a watch history to learn the next-watch model from.
    pub fn has_history(&self, args: &FitArgs) -> bool {
        match self {
            Source::Files => args.history.is_some(),
            Source::Store(stored) => !stored.history.is_empty(),
        }
    }

    /// Whether there are answers to learn the answers' model from.
    pub fn has_answers(&self, args: &FitArgs) -> bool {
        match self {
            Source::Files => args.labels.is_some(),
            Source::Store(stored) => !stored.labels.is_empty(),
        }
    }

    /// The next-watch model's inputs, and the embeddings file they came from (for messages).
    pub fn history(&self, args: &FitArgs) -> Result<(HistoryInputs, PathBuf)> {
        match self {
            Source::Files => {
                let media = args.media.as_deref().expect("clap requires --media without --db");
                let data = HistoryInputs::read(&HistoryFiles {
                    history: args.history.as_deref().expect("called with --history"),
                    candidates: args.candidates.as_deref(),
                    videos: args.videos.as_deref(),
                    media,
                    searches: args.searches.as_deref(),
                    events: args.events.as_deref(),
                    media_model: args.media_model.as_deref(),
                })?;
                Ok((data, media.to_path_buf()))
            }
            Source::Store(stored) => {
                Ok((HistoryInputs::from_store(stored, args.media_model.as_deref())?, stored.cache.clone()))
            }
        }
    }

    /// The answers' rows with their videos, embeddings and activity windows (from the
    /// store: the windows cut from its timeline here, as `vrd-encode context --db` cuts them).
    pub fn answers(&self, args: &FitArgs) -> Result<Dataset> {
        match self {
            Source::Files => {
                fn required(p: &Option<PathBuf>) -> &PathBuf {
                    p.as_ref().expect("clap requires it with --labels")
                }
                data::load(&data::Sources {
                    labels: required(&args.labels),
                    videos: required(&args.videos),
                    media: required(&args.media),
                    context: required(&args.context),
                })
            }
            Source::Store(stored) => {
                let anchors: Vec<Anchor> = stored
                    .labels
                    .iter()
                    .map(|l| Anchor { id: label_anchor_id(&l.video_id, &l.labelled_at), at: l.labelled_at })
                    .collect();
                let opts = ContextOptions {
                    window: args.window,
                    ..ContextOptions::defaults(vrd_core::time::timezone_or_system(args.timezone)?)
                };
                let timeline = context_file::store_timeline(&Store::open(&stored.db)?, &anchors, opts.window)?;
                let encoder = stored.encoders.get(args.context_model.as_deref())?;
                let (arrays, report) = context_file::compute(&timeline, &anchors, &opts, &encoder)?;
                for line in report.lines(Path::new("the activity windows")) {
                    eprintln!("vrd-train: {line}");
                }
                let media = Embeddings::read(&stored.cache)?;
                data::assemble(&stored.labels, &stored.videos, media, ContextInput::Arrays(Box::new(arrays)))
            }
        }
    }
}

/// The files the next-watch model is trained from.
pub struct HistoryFiles<'a> {
    pub history: &'a Path,
    pub candidates: Option<&'a Path>,
    pub videos: Option<&'a Path>,
    pub media: &'a Path,
    pub searches: Option<&'a Path>,
    /// The app timeline (vrd-ingest aw JSONL).
    pub events: Option<&'a Path>,
    /// The model folder that made `media`, for the searches' queries.
    pub media_model: Option<&'a Path>,
}

/// What the next-watch model is trained from, read once.
pub struct HistoryInputs {
    pub history: Vec<WatchEvent>,
    pub candidates: Vec<Video>,
    pub videos: Vec<Video>,
    pub embeddings: Embeddings,
    /// The searches, embedded by the media model, in time order.
    pub searches: Vec<Query>,
    /// The app timeline, where there is one.
    pub timeline: Option<Timeline>,
}

impl HistoryInputs {
    pub fn read(files: &HistoryFiles) -> Result<HistoryInputs> {
        let read_videos = |p: Option<&Path>| -> Result<Vec<Video>> {
            p.map_or(Ok(Vec::new()), |p| JsonlReader::open(Some(p))?.read_all())
        };
        let embeddings = Embeddings::read(files.media)?;
        let searches: Vec<Search> = match files.searches {
            Some(p) => JsonlReader::open(Some(p))?.read_all()?,
            None => Vec::new(),
        };
        let events = match files.events {
            Some(path) => Some((JsonlReader::open(Some(path))?.read_all()?, path.display().to_string())),
            None => None,
        };
        let history = JsonlReader::open(Some(files.history))?.read_all()?;
        let (candidates, videos) = (read_videos(files.candidates)?, read_videos(files.videos)?);
        let records = (history, candidates, videos);
        HistoryInputs::from_records(records, embeddings, &searches, events, (files.media_model, &Encoders::default()))
    }

    /// The inputs from records, wherever they were read: the searches embedded by the
    /// media model (through the run's `encoders`), the app events (named for errors) as a
    /// timeline.
    pub fn from_records(
        (history, candidates, videos): (Vec<WatchEvent>, Vec<Video>, Vec<Video>),
        embeddings: Embeddings,
        searches: &[Search],
        events: Option<(Vec<AppEvent>, String)>,
        (media_model, encoders): (Option<&Path>, &Encoders),
    ) -> Result<HistoryInputs> {
        let searches = vrd_next_watch_torch::queries::embed(
            &searches.iter().collect::<Vec<_>>(),
            &embeddings.meta.model_id,
            media_model,
            encoders,
        )?;
        let timeline = match events {
            Some((events, name)) => Some(vrd_encoder::context_file::timeline(events, &name)?),
            None => None,
        };
        Ok(HistoryInputs { history, candidates, videos, embeddings, searches, timeline })
    }

    /// The same from the store's records ([`Stored`]): its watches, every stored video as
    /// details and as a candidate (the sampler never takes one watched by the moment as a
    /// taste negative), its searches and app timeline; the embeddings from its cache.
    pub fn from_store(stored: &Stored, media_model: Option<&Path>) -> Result<HistoryInputs> {
        let events = (!stored.events.is_empty()).then(|| (stored.events.clone(), "the store's app events".to_string()));
        HistoryInputs::from_records(
            (stored.history.clone(), stored.videos.clone(), stored.videos.clone()),
            Embeddings::read(&stored.cache)?,
            &stored.searches,
            events,
            (media_model, &stored.encoders),
        )
    }

    /// The training inputs over `history` (all of it, or a part for an evaluation), titles
    /// read in the lexical view too.
    pub fn inputs<'a>(&'a self, history: &'a [WatchEvent], unwatched: &'a [Video]) -> NextWatchInputs<'a> {
        let mut details: HashMap<&str, &Video> = HashMap::new();
        for v in self.videos.iter().chain(&self.candidates) {
            details.insert(v.video_id.as_str(), v);
        }
        NextWatchInputs {
            history,
            unwatched,
            details,
            searches: &self.searches,
            timeline: self.timeline.as_ref(),
            embeddings: &self.embeddings,
            lexical: true,
        }
    }
}

/// Where the cache is kept by default: beside the store, as the cron job keeps it.
pub fn default_cache(db: &Path) -> PathBuf {
    db.with_file_name("media.safetensors")
}

/// The store's cache with every stored and watched video that has text, written back when
/// it grew.
fn complete_embeddings(stored: &Stored, media_model: Option<&Path>) -> Result<()> {
    let (cache, videos, history) = (stored.cache.as_path(), &stored.videos, &stored.history);
    let existing = match cache.exists() {
        true => Some(Embeddings::read(cache)?),
        false => None,
    };
    let texts: Vec<MediaText> = videos.iter().map(MediaText::from).chain(history.iter().map(MediaText::from)).collect();
    let (embeddings, added) = vrd_encoder::embeddings_cache::complete(existing, &texts, media_model, &stored.encoders)?;
    if added > 0 {
        eprintln!("vrd-train: encoded {added} videos that {} lacked", cache.display());
        embeddings.write(cache).with_context(|| format!("cannot write {}", cache.display()))?;
    }
    Ok(())
}
