//! `vrd-train retrain`: the nightly retrain a cron job runs. At most once a night, and
//! only when the store holds something new (a day of new watches, or enough new answers),
//! it trains a new version from the store (`fit --db`) beside the current one and judges
//! both on the same held-out slice: the latest moments of the watch history, as `fit`'s
//! choice holds them out (the new version as trained without them). The new version
//! replaces the current one only if it is not worse there (by more than a standard error,
//! `judge::Comparison`), for the next-watch model and for the answers' interest (what the
//! person went on to watch, against what they never did). Every run leaves a record in the log; `vrd-train
//! rollback` brings back the version before. See `vrd_core::model_versions` for the folder.

use super::fit_args::FitArgs;
use crate::inputs::{HistoryInputs, Stored};
use anyhow::{Context, Result};
use clap::Args;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vrd_core::model_dir::{ModelDir, TrainedOn};
use vrd_core::model_versions::{stamp, Outcome, RetrainRecord, Versions};
use vrd_core::records::Video;
use vrd_core::usage::UsageError;
use vrd_next_watch::card::NextWatchCard;
use vrd_next_watch_torch::training::judge::{reciprocal_ranks_of, Comparison, Slice};

#[derive(Args)]
pub struct RetrainArgs {
    /// The model folder vrd-rank ranks with (made a link to its current version).
    #[arg(long)]
    model: PathBuf,
    /// Retrain when this many answers were given since the current version was trained.
    #[arg(long, default_value_t = 20)]
    min_answers: usize,
    /// At most one retrain in this long (the cron job may call every half hour).
    #[arg(long, default_value = "20h", value_parser = vrd_cli::duration_arg)]
    min_interval: chrono::Duration,
    /// Retrain now, whatever is new and whenever the last retrain was.
    #[arg(long)]
    force: bool,
    /// The training options, as `vrd-train fit` takes them (--db is required, --out is
    /// the new version's folder).
    #[command(flatten)]
    fit: FitArgs,
}

/// `vrd-train rollback`.
#[derive(Args)]
pub struct RollbackArgs {
    /// The model folder a retrain keeps.
    #[arg(long)]
    model: PathBuf,
}

pub fn run(args: &RetrainArgs) -> Result<()> {
    let Some(db) = args.fit.db.clone() else {
        return Err(UsageError("retrain trains from the store: pass --db".into()).into());
    };
    if args.fit.out.is_some() {
        return Err(UsageError("retrain makes its own versions of --model; --out is not taken".into()).into());
    }
    if !db.is_file() {
        anyhow::bail!("{}: no such store (vrd-ingest --db makes it)", db.display());
    }
    let versions = Versions::of(&args.model);
    let Some(_lock) = versions.try_lock()? else {
        eprintln!("vrd-train: another retrain of {} is running; skipping this one", args.model.display());
        return Ok(());
    };
    versions.clear_partial()?;
    let now = chrono::Utc::now();
    if let Err(e) = versions.adopt(&ModelDir::card_names()) {
        // Said in the log too, which the page reads.
        versions.append(&record(now, Outcome::Failed, None, None, format!("{e:#}"), None))?;
        return Err(e);
    }
    let current = versions.current();
    let store = vrd_store::Store::open(&db)?;
    let watches = store.watch_events()?;
    let seen = TrainedOn {
        trained_at: now,
        watches: watches.len(),
        last_watch: watches.iter().map(|e| e.watched_at).max(),
        answers: store.label_history()?.len(),
    };
    drop(store);
    let wait = match args.force {
        true => None,
        false => reason_to_wait(args, &versions, current.as_deref(), &seen, now)?,
    };
    if let Some(why) = wait {
        eprintln!("vrd-train: retrain skipped: {why}");
        return versions.append(&record(now, Outcome::Skipped, None, current, why, None));
    }

    // Named by its time; a second run within the same second gets a suffix.
    let version = (1..)
        .map(|n| match n {
            1 => stamp(&now),
            n => format!("{}-{n}", stamp(&now)),
        })
        .find(|v| !versions.path_of(v).exists() && !versions.path_of(&format!("{v}.partial")).exists())
        .expect("a free name");
    let partial = versions.path_of(&format!("{version}.partial"));
    // The new version grows here until it is complete; a run killed on the way leaves
    // only this, which the next run clears.
    std::fs::create_dir_all(&partial)?;
    let mut fit = args.fit.clone();
    fit.out = Some(partial.clone());
    fit.folds = 0;
    // The history model's report stays with the version (stdout is the feed's, in cron).
    fit.report = Some(ModelDir::new(&partial).next_watch_report());
    if let Err(e) = super::fit::run(&fit) {
        let _ = std::fs::remove_dir_all(&partial);
        versions.append(&record(now, Outcome::Failed, None, current, format!("{e:#}"), None))?;
        return Err(e.context("the retrain failed; the current model stays"));
    }
    vrd_core::output::write_bytes_atomic(
        &ModelDir::new(&partial).trained_on(),
        serde_json::to_string_pretty(&seen)?.as_bytes(),
    )?;
    std::fs::rename(&partial, versions.path_of(&version))?;

    let mut verdict = match &current {
        None => Verdict { deploy: true, reason: "the first model".into(), figures: None },
        Some(current) => judge(&fit, &db, &versions.path_of(current), &versions.path_of(&version))?,
    };
    let outcome = if verdict.deploy { Outcome::Deployed } else { Outcome::Refused };
    // How the feeds served lately did for what the person went on to watch (seen live):
    // the one measure about this person, beside the judge's slice of their history.
    let served = served_feeds(&fit, &db, now)?;
    if let Some(hits) = &served {
        eprintln!("vrd-train: the feeds served: {}", hits.words(SERVED_DAYS));
    }
    if let Some(hits) = served {
        let figures = verdict.figures.get_or_insert_with(|| serde_json::json!({}));
        figures["served_feeds"] = serde_json::json!({
            "days": SERVED_DAYS,
            "watched": hits.watched,
            "shown": hits.shown.len(),
            "feed_mrr": hits.feed_mrr(),
            "cold_start_mrr": hits.cold_start_mrr(),
        });
        verdict.reason += &format!("; the feeds served: {}", hits.words(SERVED_DAYS));
    }
    if verdict.deploy {
        versions.point_to(&version)?;
    }
    eprintln!(
        "vrd-train: retrain {}: {} ({})",
        if verdict.deploy { "deployed" } else { "refused; the current model stays" },
        version,
        verdict.reason
    );
    versions.append(&record(now, outcome, Some(version.clone()), current, verdict.reason, verdict.figures))?;
    if !verdict.deploy {
        // The log keeps its figures; the refused weights are of no further use.
        std::fs::remove_dir_all(versions.path_of(&version))?;
    }
    Ok(())
}

pub fn rollback(args: &RollbackArgs) -> Result<()> {
    let versions = Versions::of(&args.model);
    let Some(_lock) = versions.try_lock()? else {
        anyhow::bail!("a retrain of {} is running; roll back when it is done", args.model.display());
    };
    let Some(current) = versions.current() else {
        anyhow::bail!("{}: not a retrained model folder (no versions to roll back to)", args.model.display());
    };
    let Some(previous) = versions.before(&current)? else {
        anyhow::bail!("{}: {current} is the first version; nothing to roll back to", args.model.display());
    };
    versions.point_to(&previous)?;
    let reason = format!("rolled back from {current} to {previous}");
    eprintln!("vrd-train: {reason}");
    versions.append(&record(chrono::Utc::now(), Outcome::RolledBack, Some(previous), Some(current), reason, None))
}

fn record(
    at: vrd_core::time::Timestamp,
    outcome: Outcome,
    version: Option<String>,
    previous: Option<String>,
    reason: String,
    figures: Option<serde_json::Value>,
) -> RetrainRecord {
    RetrainRecord { at, outcome, version, previous, reason, figures }
}

/// Why not to retrain now, if there is a reason: retrained too recently, or nothing new
/// since the current version.
fn reason_to_wait(
    args: &RetrainArgs,
    versions: &Versions,
    current: Option<&str>,
    seen: &TrainedOn,
    now: vrd_core::time::Timestamp,
) -> Result<Option<String>> {
    // No model at all: the first one comes whenever asked (a run refused or failed before
    // it had one does not hold it back).
    if current.is_none() {
        return Ok(None);
    }
    let log = versions.log()?;
    let tried = |r: &&RetrainRecord| matches!(r.outcome, Outcome::Deployed | Outcome::Refused | Outcome::Failed);
    if let Some(last) = log.iter().rev().find(tried) {
        if now - last.at < args.min_interval {
            let ago = (now - last.at).num_minutes();
            return Ok(Some(format!(
                "the last retrain was {ago} min ago (at most one in {}h)",
                args.min_interval.num_hours()
            )));
        }
    }
    // A model no retrain made (or none at all): what it was trained on is unknown.
    let Some(trained) = current.and_then(|v| ModelDir::new(&args.model).version(v).read_trained_on()) else {
        return Ok(None);
    };
    let new_answers = seen.answers.saturating_sub(trained.answers);
    let new_watches_span = match (seen.last_watch, trained.last_watch) {
        (Some(now_last), Some(then_last)) => now_last - then_last,
        (Some(_), None) => chrono::Duration::days(1),
        _ => chrono::Duration::zero(),
    };
    if new_answers < args.min_answers && new_watches_span < chrono::Duration::days(1) {
        return Ok(Some(format!(
            "nothing new enough: {new_answers} new answers (retrain at {}), watches reach {:.1} h past the current model's",
            args.min_answers,
            new_watches_span.num_minutes() as f64 / 60.0
        )));
    }
    Ok(None)
}

/// The span the served feeds are judged over.
const SERVED_DAYS: i64 = 28;

/// The served feeds' figures over the live watches of the last [`SERVED_DAYS`] (None
/// before any), the cold start's side from the embeddings cache.
fn served_feeds(
    fit: &FitArgs,
    db: &Path,
    now: vrd_core::time::Timestamp,
) -> Result<Option<vrd_ranking::served::FeedHits>> {
    use vrd_ranking::served::{feed_hits, ServedFeed, SHOWN_WITHIN_DAYS};
    let store = vrd_store::Store::open(db)?;
    let since = now - chrono::Duration::days(SERVED_DAYS);
    let feeds: Vec<ServedFeed> = store
        .feeds_since(&(since - chrono::Duration::days(SHOWN_WITHIN_DAYS)))?
        .into_iter()
        .map(|(at, items)| ServedFeed { at, items })
        .collect();
    let cache = fit.embeddings.clone().unwrap_or_else(|| crate::inputs::default_cache(db));
    let embeddings = cache.is_file().then(|| vrd_core::tensors::Embeddings::read(&cache)).transpose()?;
    let hits = feed_hits(&feeds, &store.watch_events()?, &store.videos()?, embeddings.as_ref(), since);
    Ok((hits.watched > 0).then_some(hits))
}

struct Verdict {
    deploy: bool,
    reason: String,
    figures: Option<serde_json::Value>,
}

/// The current and the new version on the same held-out slice of the store's history.
fn judge(fit: &FitArgs, db: &Path, current: &Path, new: &Path) -> Result<Verdict> {
    let cache = fit.embeddings.clone().unwrap_or_else(|| crate::inputs::default_cache(db));
    let data = HistoryInputs::from_store(&Stored::read(db, &cache)?, fit.media_model.as_deref())?;
    let refuse = |reason: String| Ok(Verdict { deploy: false, reason, figures: None });
    let (sampling, options) = super::fit_history::options(fit)?;
    let inputs = data.inputs(&data.history, &data.candidates);
    let Some(slice) = Slice::latest(&inputs, &sampling, &options)? else {
        return refuse("too few moments in the watch history to judge a new model on; the current one stays".into());
    };
    if !ModelDir::new(new).has_next_watch_model() {
        return refuse("the new model has no next-watch model to judge".into());
    }
    // The new model as trained without the slice (out of sample), the current one as it is.
    let new_rr = slice.trained_before(&options)?;
    // A folder without a next-watch model ranks by the taste profile (the cold start).
    let current_rr = match NextWatchCard::read_if_present(current)? {
        Some(card) => {
            let deep = vrd_next_watch_torch::fusion_part::NextWatchEncoder::for_card(current, &card, None)?;
            slice.ranks_under(&card, deep.as_ref().map(|d| d.scorer()))?
        }
        None => None,
    }
    .unwrap_or_else(|| slice.signal("sim_profile"));
    let next_watch = Comparison::of(&current_rr, &new_rr);
    let interest = match (ModelDir::new(current).has_answers_model(), ModelDir::new(new).has_answers_model()) {
        (true, true) => Some(interest_comparison(&slice, &data, fit, current, new)?),
        (true, false) => {
            return refuse("the current model answers from the person's answers and the new one does not".into())
        }
        _ => None,
    };
    let deploy = next_watch.not_worse() && interest.as_ref().is_none_or(Comparison::not_worse);
    let say = |what: &str, c: &Comparison| {
        format!("{what} {:.3} → {:.3} (± {:.3}, {} questions)", c.current, c.new, c.standard_error, c.questions)
    };
    let mut reason = format!(
        "on the latest {} questions of the history, mean reciprocal rank: {}",
        slice.len(),
        say("next watch", &next_watch)
    );
    if let Some(i) = &interest {
        reason += &format!("; {}", say("answers' interest", i));
    }
    if !deploy {
        reason += "; worse than the current model by more than a standard error";
    }
    let figures = serde_json::json!({ "next_watch": next_watch, "interest": interest });
    Ok(Verdict { deploy, reason, figures: Some(figures) })
}

/// Both answers' models' interest on the slice's taste questions: does the video the
/// person went on to watch rank above the ones they never did.
fn interest_comparison(
    slice: &Slice,
    data: &HistoryInputs,
    fit: &FitArgs,
    current: &Path,
    new: &Path,
) -> Result<Comparison> {
    let questions = slice.taste_rows();
    let emb = &data.embeddings;
    let mut by_id: HashMap<&str, Video> = HashMap::new();
    for e in &data.history {
        by_id.entry(e.video_id.as_str()).or_insert_with(|| Video::from(e));
    }
    for v in data.videos.iter().chain(&data.candidates) {
        by_id.insert(v.video_id.as_str(), v.clone());
    }
    let mut rows: Vec<usize> = questions.iter().flatten().copied().collect();
    rows.sort_unstable();
    rows.dedup();
    // Every row is a watched video or a stored one.
    let pool: Vec<(&Video, usize)> = rows
        .iter()
        .map(|&r| {
            let id = emb.meta.ids[r].as_str();
            by_id.get(id).map(|v| (v, r)).ok_or_else(|| anyhow::anyhow!("no record of video {id}"))
        })
        .collect::<Result<_>>()?;
    let encoder_dir = vrd_encoder::encoder_dir::resolve_encoder_dir(fit.context_model.as_deref())?;
    let encoder = vrd_model::SentenceEncoder::load(&encoder_dir, &Default::default())?;
    let probabilities = |dir: &Path| -> Result<HashMap<usize, f64>> {
        let saved = vrd_answers::model::AnswersModel::load(dir, tch::Device::Cpu, None)
            .with_context(|| format!("loading {}", dir.display()))?;
        let p = vrd_answers::rank::interest_probabilities(&saved, &pool, emb, &encoder)?;
        Ok(rows.iter().copied().zip(p).collect())
    };
    let (old, new) = (probabilities(current)?, probabilities(new)?);
    Ok(Comparison::of(&reciprocal_ranks_of(&questions, |r| old[&r]), &reciprocal_ranks_of(&questions, |r| new[&r])))
}
