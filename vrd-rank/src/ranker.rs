//! Who ranks a run's feed, each a strategy over the same inputs and embeddings: "more like
//! this" (`--like`), the cold start, the next-watch model alone (a folder with only
//! `next_watch.json`), or the answers' model (with the next-watch model beside it when the
//! folder has both).

use crate::cli::Cli;
use crate::inputs::Inputs;
use crate::searches;
use crate::timeline_source::{Activity, ActivitySource};
use anyhow::Result;
use std::path::{Path, PathBuf};
use vrd_answers::model::AnswersModel;
use vrd_core::context::Timeline;
use vrd_core::model_dir::ModelDir;
use vrd_core::records::{FeedItem, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::time::Timestamp;
use vrd_core::usage::UsageError;
use vrd_encoder::encoders::Encoders;
use vrd_next_watch::card::NextWatchCard;
use vrd_next_watch::feed::{Besides, DeepPart, NextWatchRanker};
use vrd_next_watch_torch::fusion_part::NextWatchEncoder;
use vrd_ranking::candidates::Answers;
use vrd_ranking::cold_start;

/// Where a model comes from, for the messages of a folder that holds none.
const TRAIN_ONE: &str = "the cron job (vrd-cron-feed) trains the first one there from the store (vrd-train \
                         retrain), or vrd-train fit --out DIR trains one from files";

pub enum Ranker<'a> {
    /// `--like VIDEO_ID`: the candidates nearest that video.
    Like(String),
    ColdStart,
    /// A model folder with only the next-watch model: the history before `--at` is the moment.
    NextWatch {
        model: PathBuf,
        card: NextWatchCard,
        activity: ActivitySource<'a>,
    },
    /// The answers' model, with the next-watch model's next_watch where the folder has one.
    Answers {
        model: PathBuf,
        saved: Box<AnswersModel>,
        next_watch: Option<NextWatchCard>,
        activity: ActivitySource<'a>,
    },
}

/// The moment a feed is for, and the activity before it where the ranker reads it.
pub struct Moment {
    pub at: Timestamp,
    pub timeline: Option<Timeline>,
    /// Since when the activity is unknown (the server did not answer), said in the feed.
    pub unknown: Option<String>,
}

/// Whether a feed's order gives each channel's next video a wait
/// ([`vrd_ranking::ordering::spread_channels`]): the answers' model already picks for
/// variety (maximal marginal relevance).
pub enum Spread {
    ByChannel,
    AsRanked,
}

impl<'a> Ranker<'a> {
    pub fn choose(cli: &'a Cli) -> Result<Ranker<'a>> {
        let Some(model) = &cli.model else {
            return Ok(match &cli.like {
                Some(video_id) => Ranker::Like(video_id.clone()),
                None => Ranker::ColdStart,
            });
        };
        let activity = ActivitySource::new(cli)?;
        if !model.is_dir() {
            anyhow::bail!("--model {}: no such folder ({TRAIN_ONE})", model.display());
        }
        let next_watch = NextWatchCard::read_if_present(model)?;
        if !ModelDir::new(model).has_answers_model() {
            return match next_watch {
                Some(card) => Ok(Ranker::NextWatch { model: model.clone(), card, activity }),
                None => {
                    let [answers, next_watch] = ModelDir::card_names();
                    anyhow::bail!(
                        "{}: no model here (neither {answers} nor {next_watch}): {TRAIN_ONE}",
                        model.display()
                    )
                }
            };
        }
        let saved = Box::new(AnswersModel::load(model, tch::Device::Cpu, cli.encoder.as_deref())?);
        Ok(Ranker::Answers { model: model.clone(), saved, next_watch, activity })
    }

    /// The next-watch model's card, where this ranker uses one.
    fn next_watch_card(&self) -> Option<&NextWatchCard> {
        match self {
            Ranker::NextWatch { card, .. } => Some(card),
            Ranker::Answers { next_watch, .. } => next_watch.as_ref(),
            Ranker::Like(_) | Ranker::ColdStart => None,
        }
    }

    /// Whether it reads the searches and the history's embeddings (the cold start's
    /// profile, the next-watch model's past).
    pub fn reads_history_and_searches(&self) -> bool {
        matches!(self, Ranker::ColdStart) || self.next_watch_card().is_some()
    }

    /// What the inputs must hold for it.
    pub fn check(&self, inputs: &Inputs) -> Result<()> {
        if matches!(self, Ranker::NextWatch { .. }) && inputs.history.is_empty() {
            return Err(UsageError(
                "the next-watch model ranks from the watch history: pass --history FILE or --db STORE".into(),
            )
            .into());
        }
        Ok(())
    }

    /// The moment ranked for (`--at`, default now; the cold start and "more like this"
    /// rank for now) and the activity before it the models read: the answers' model its
    /// window, a next-watch model trained with the timeline the fortnight it compares the
    /// moment's apps with.
    pub fn moment(&self, cli: &Cli) -> Result<Moment> {
        let at = match self {
            Ranker::Like(_) | Ranker::ColdStart => chrono::Utc::now(),
            _ => cli.at.unwrap_or_else(chrono::Utc::now),
        };
        let since = match self {
            Ranker::Like(_) | Ranker::ColdStart => None,
            Ranker::NextWatch { card, activity, .. } => {
                (card.history.with_activity > 0).then(|| (next_watch_activity_since(at), activity))
            }
            Ranker::Answers { saved, next_watch, activity, .. } => {
                let mut since = at - saved.card.context.window() - chrono::Duration::days(1);
                if next_watch.as_ref().is_some_and(|card| card.history.with_activity > 0) {
                    since = since.min(next_watch_activity_since(at));
                }
                Some((since, activity))
            }
        };
        Ok(match since {
            Some((since, activity)) => {
                let Activity { timeline, unknown } = activity.timeline((since, at))?;
                Moment { at, timeline: Some(timeline), unknown }
            }
            None => Moment { at, timeline: None, unknown: None },
        })
    }

    /// How the feed is shaped once ranked (None: "more like this", written as it is).
    pub fn spread(&self) -> Option<Spread> {
        match self {
            Ranker::Like(_) => None,
            Ranker::ColdStart | Ranker::NextWatch { .. } => Some(Spread::ByChannel),
            Ranker::Answers { .. } => Some(Spread::AsRanked),
        }
    }

    /// The ranked feed, longer than `--top` where it is shaped after (`ranked_top`).
    pub fn rank(&self, cx: &RankInputs) -> Result<Vec<FeedItem>> {
        match self {
            Ranker::Like(video_id) => rank_like(video_id, cx),
            Ranker::ColdStart => rank_cold_start(cx),
            Ranker::NextWatch { model, card, .. } => rank_next_watch(model, card, cx),
            Ranker::Answers { model, saved, next_watch, .. } => rank_answers(model, saved, next_watch.as_ref(), cx),
        }
    }
}

/// What every ranker ranks from, for one run.
pub struct RankInputs<'a> {
    pub cli: &'a Cli,
    pub inputs: &'a Inputs,
    pub embeddings: &'a Embeddings,
    pub moment: &'a Moment,
    pub encoders: &'a Encoders,
}

/// "More like this": the candidates nearest the video.
fn rank_like(video_id: &str, cx: &RankInputs) -> Result<Vec<FeedItem>> {
    let RankInputs { cli, inputs, embeddings, .. } = *cx;
    let answers = Answers::from_labels(&inputs.labels);
    let settings = vrd_ranking::like::LikeSettings {
        top: cli.top,
        per_channel: cli.per_channel,
        lambda: cli.mode.blend().lambda,
        keep_watched: cli.keep_watched,
    };
    vrd_ranking::like::like(video_id, &inputs.candidates, &inputs.history, embeddings, &answers, &settings)
}

/// The cold start: similarity to the recent watches' profile (and the searches'), plus
/// the channel's familiarity.
fn rank_cold_start(cx: &RankInputs) -> Result<Vec<FeedItem>> {
    let RankInputs { cli, inputs, embeddings, encoders, .. } = *cx;
    let answers = Answers::from_labels(&inputs.labels);
    let settings = cold_start::Settings {
        recent: cli.recent,
        half_life_days: cli.half_life_days,
        keep_watched: cli.keep_watched,
        top: ranked_top(cli),
        channel_weight: cli.channel_weight,
        explain: cli.explain.then(chrono::Utc::now),
    };
    let model_id = &embeddings.meta.model_id;
    let search_profile = match inputs.searches.is_empty() || cli.search_weight == 0.0 {
        true => None,
        false => Some((
            searches::profile(&inputs.searches, model_id, cli.media_model.as_deref(), &settings, encoders)?,
            cli.search_weight,
        )),
    };
    let profile = search_profile.as_ref();
    cold_start::rank(&inputs.history, profile, &inputs.candidates, embeddings, &answers, &settings)
}

/// The next-watch model alone: the history before the moment is the moment.
fn rank_next_watch(model: &Path, card: &NextWatchCard, cx: &RankInputs) -> Result<Vec<FeedItem>> {
    let RankInputs { cli, inputs, embeddings, moment, encoders } = *cx;
    let (answers, at) = (Answers::from_labels(&inputs.labels), moment.at);
    let settings = vrd_next_watch::feed::NextWatchSettings {
        at,
        top: ranked_top(cli),
        per_channel: cli.per_channel.max(1),
        keep_watched: cli.keep_watched,
        explain: cli.explain,
        timezone: vrd_core::time::timezone_or_system(None)?,
    };
    let queries = searches_before(cli, inputs, at, embeddings, encoders)?;
    let encoder = NextWatchEncoder::for_card(model, card, cli.encoder.as_deref())?;
    let deep = deep_part(encoder.as_ref());
    let besides = Besides { searches: &queries, timeline: moment.timeline.as_ref() };
    let (history, candidates) = (&inputs.history, &inputs.candidates);
    vrd_next_watch::feed::rank((card, deep.as_deref()), history, besides, candidates, embeddings, &answers, &settings)
}

/// The answers' model for the moment, with the next-watch model's next_watch where the folder
/// has one.
fn rank_answers(
    model: &Path,
    saved: &AnswersModel,
    next_watch: Option<&NextWatchCard>,
    cx: &RankInputs,
) -> Result<Vec<FeedItem>> {
    let RankInputs { cli, inputs, embeddings, moment, encoders } = *cx;
    let (answers, at) = (Answers::from_labels(&inputs.labels), moment.at);
    let timeline = moment.timeline.as_ref().expect("the answers' model reads the activity");
    // What was watched by the moment ranked for (a past --at does not know the
    // later watches).
    let history: Vec<WatchEvent> = inputs.history.iter().filter(|e| e.watched_at < at).cloned().collect();
    let encoder = encoders.get(cli.context_model.as_deref())?;
    let now = vrd_answers::rank::now_context(saved, timeline, at, &encoder)?;
    let mut blend = cli.mode.blend();
    if let Some((i, r)) = cli.weights {
        (blend.interest, blend.right_time) = (i, r);
    }
    let settings = vrd_answers::rank::Settings {
        at,
        blend,
        top: ranked_top(cli),
        per_channel: cli.per_channel.max(1),
        half_life_days: cli.fresh_half_life_days,
        keep_watched: cli.keep_watched,
        explain: cli.explain,
    };
    let labels = &inputs.labels;
    let liked = cli.explain.then(|| vrd_answers::rank::Liked::from_labels(labels, &inputs.candidates, embeddings));
    let queries = match next_watch.is_some() {
        true => searches_before(cli, inputs, at, embeddings, encoders)?,
        false => Vec::new(),
    };
    let next_watch_encoder =
        next_watch.map(|card| NextWatchEncoder::for_card(model, card, cli.encoder.as_deref())).transpose()?.flatten();
    let deep = deep_part(next_watch_encoder.as_ref());
    let next_watch_ranker = next_watch
        .map(|card| {
            let besides = Besides { searches: &queries, timeline: Some(timeline) };
            NextWatchRanker::new(card, &history, besides, embeddings, at).map(|p| p.with_deep_part(deep.as_deref()))
        })
        .transpose()?;
    let person = vrd_answers::rank::Person {
        history: &history,
        answers: &answers,
        liked: liked.as_ref(),
        next_watch: next_watch_ranker.as_ref(),
    };
    vrd_answers::rank::rank(saved, &now, &inputs.candidates, embeddings, &person, &settings)
}

/// How many videos the rankers rank: more than the feed shows, so that the channels' turns
/// and the places kept for new channels have videos to choose from (the first `--top` of
/// each ranker's order are those it would give for `--top`).
fn ranked_top(cli: &Cli) -> usize {
    cli.top.saturating_mul(2)
}

/// The searches the next-watch model reads at `at`, embedded.
fn searches_before(
    cli: &Cli,
    inputs: &Inputs,
    at: Timestamp,
    embeddings: &Embeddings,
    encoders: &Encoders,
) -> Result<Vec<vrd_next_watch::feed::Query>> {
    searches::before(&inputs.searches, at, &embeddings.meta.model_id, cli.media_model.as_deref(), encoders)
}

/// A fusion next-watch card's encoder part, as the scorer calls it.
fn deep_part(encoder: Option<&NextWatchEncoder>) -> Option<Box<DeepPart<'_>>> {
    encoder.map(|encoder| Box::new(move |videos: &[&Video], z: &[Vec<f32>]| encoder.scores(videos, z)) as Box<DeepPart>)
}

/// How far back a next-watch model trained with the timeline reads it at `at`: the
/// fortnight of watches it compares the moment's apps with, and the hour before the first.
fn next_watch_activity_since(at: Timestamp) -> Timestamp {
    use vrd_next_watch::activity::{ACTIVITY_DAYS, ACTIVITY_WINDOW_MINUTES};
    at - chrono::Duration::days(ACTIVITY_DAYS) - chrono::Duration::minutes(ACTIVITY_WINDOW_MINUTES)
}
