//! Ranking with a trained model (vrd-train's fast or early-fusion architecture): the activity before "now"
//! is cut and encoded exactly as training cut it (window, features, statistics, text
//! model: all read from the model card), compressed once per candidate's duration
//! condition, and every candidate gets calibrated probabilities of interest (asked
//! without the moment, as trained) and right-time (asked with it).

use crate::model::{AnswersCard, AnswersModel, RankNet, RankerCard};
use crate::net::activity::Activity;
use crate::net::fast::FastModel;
use crate::net::fusion::FusionModel;
use crate::net::heads::HeadLogits;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashSet};
use tch::{Device, Kind, Tensor};
use vrd_core::context::{event_text, windows, Anchor, Timeline, WindowArrays, WindowEvent};
use vrd_core::records::MediaText;
use vrd_core::records::{FeedItem, Score, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::text::TextTemplate;
use vrd_core::time::Timestamp;
use vrd_model::fusion::{pad_token_ids, FusionTokenizer};
use vrd_model::SentenceEncoder;
use vrd_ranking::candidates::{self, Answers};
use vrd_ranking::ordering::{self, Blend, Candidate};

pub struct Settings {
    pub at: Timestamp,
    pub blend: Blend,
    pub top: usize,
    pub per_channel: usize,
    pub half_life_days: f64,
    pub keep_watched: bool,
    pub explain: bool,
}

/// What is known of the person besides the moment: what they watched (left out of the
/// feed), their standing answers, and for `--explain` the videos they liked.
#[derive(Clone, Copy)]
pub struct Person<'a> {
    pub history: &'a [WatchEvent],
    pub answers: &'a Answers,
    pub liked: Option<&'a Liked>,
    /// The next-watch model at the moment, when the model folder has one (`next_watch.json`):
    /// its probability joins the blend ([`Blend::with_next_watch`]) and its reasons the
    /// explanation.
    pub next_watch: Option<&'a vrd_next_watch::feed::NextWatchRanker<'a>>,
}

/// Videos the person said interest them, for `--explain`: the one most like each item is
/// named.
pub struct Liked {
    pub titles: Vec<String>,
    pub rows: Vec<usize>,
}

impl Liked {
    /// The interest labels' videos that have an embedding (titles from `videos`).
    pub fn from_labels(labels: &[vrd_core::records::Label], videos: &[Video], embeddings: &Embeddings) -> Liked {
        let index = embeddings.index();
        let titles: std::collections::HashMap<&str, &str> =
            videos.iter().map(|v| (v.video_id.as_str(), v.title.as_str())).collect();
        let mut seen = HashSet::new();
        let mut liked = Liked { titles: Vec::new(), rows: Vec::new() };
        for l in labels.iter().filter(|l| l.kind == vrd_core::records::LabelKind::Interest) {
            if let (Some(&row), true) = (index.get(l.video_id.as_str()), seen.insert(l.video_id.as_str())) {
                liked.titles.push(titles.get(l.video_id.as_str()).copied().unwrap_or(&l.video_id).to_string());
                liked.rows.push(row);
            }
        }
        liked
    }

    /// The liked video nearest to `embedding` (cosine, embeddings being unit length).
    fn nearest(&self, embeddings: &Embeddings, embedding: &[f32], exclude_row: usize) -> Option<(&str, f64)> {
        self.rows
            .iter()
            .zip(&self.titles)
            .filter(|(row, _)| **row != exclude_row)
            .map(|(row, title)| (title.as_str(), candidates::cosine(embeddings.row(*row), embedding)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// The activity window before `at`, as the model card says to cut it.
pub struct Now {
    pub events: Vec<WindowEvent>,
    /// The window as one batch row, as vrd-encode context writes a training anchor's.
    pub activity: Activity,
}

pub fn now_context(saved: &AnswersModel, timeline: &Timeline, at: Timestamp, encoder: &SentenceEncoder) -> Result<Now> {
    let spec = &saved.card.context;
    if encoder.model_id() != spec.model_id {
        bail!(
            "the activity text model is {}, the model was trained with {}; pass --context-model",
            encoder.model_id(),
            spec.model_id
        );
    }
    let tz = spec.tz()?;
    let window = windows(timeline, &[Anchor { id: "now".into(), at }], &spec.window_spec())?.pop().unwrap_or_default();
    let texts: Vec<String> = window.iter().map(|e| format!("{}{}", spec.text_prefix, event_text(e))).collect();
    let vectors = encoder.embed(&texts.iter().map(String::as_str).collect::<Vec<_>>(), 32)?;
    let (l, d) = (spec.max_events as i64, encoder.dim());
    let mut emb = vec![0f32; l as usize * d];
    for (i, v) in vectors.iter().enumerate().take(l as usize) {
        emb[i * d..(i + 1) * d].copy_from_slice(v);
    }
    let arrays = WindowArrays::new(&window, spec, &tz);
    let activity = Activity {
        text: Tensor::from_slice(&emb).view([1, l, d as i64]),
        num: Tensor::from_slice(&arrays.num).view([1, l, -1]),
        mask: Tensor::from_slice(&arrays.mask.iter().map(|m| i64::from(*m)).collect::<Vec<_>>()).view([1, l]),
        app: Tensor::from_slice(&arrays.app).view([1, l]),
        category: Tensor::from_slice(&arrays.category).view([1, l]),
        seconds: Tensor::from_slice(&arrays.seconds).view([1, l]),
    };
    Ok(Now { events: window, activity })
}

pub fn rank(
    saved: &AnswersModel,
    now: &Now,
    candidates: &[Video],
    embeddings: &Embeddings,
    person: &Person,
    s: &Settings,
) -> Result<Vec<FeedItem>> {
    let Person { history, answers, liked, next_watch } = *person;
    let fast = matches!(saved.net, RankNet::Fast(_));
    if fast && embeddings.meta.model_id != saved.card.media_model {
        bail!(
            "the embeddings were made by {}, the model was trained on {}: re-run vrd-encode media with that model",
            embeddings.meta.model_id,
            saved.card.media_model
        );
    }
    let pool = candidates::pool(candidates, history, embeddings, answers, s.keep_watched);
    if pool.is_empty() {
        return Ok(Vec::new());
    }
    let [interest, right_time] = match &saved.net {
        RankNet::Fast(model) => fast_probabilities(model, &saved.card, now, &pool, embeddings),
        RankNet::Fusion { model, tokenizer } => fusion_probabilities(model, tokenizer, &saved.card, now, &pool)?,
    };
    let next_watch_probabilities = next_watch.map(|p| p.probabilities(&pool)).transpose()?;
    let scored: Vec<(f64, f64)> = pool
        .iter()
        .enumerate()
        .map(|(i, (v, _))| {
            let fresh = ordering::freshness(v.published_at, s.at, s.half_life_days);
            let answers = s.blend.combine(interest[i], right_time[i]);
            let blended = next_watch_probabilities
                .as_ref()
                .map_or(answers, |p| Blend::with_next_watch(answers, p[i], pool.len()));
            (blended * fresh, fresh)
        })
        .collect();
    // "Not now" means later: a deferred video waits until the moment fits it (its
    // right-time probability now clears the model's threshold), then comes back ahead of
    // the rest; until then it is left out.
    let fits = |i: usize| right_time[i] >= saved.card.thresholds.right_time;
    let deferred_at = |i: usize| answers.deferred.get(&pool[i].0.video_id).copied();
    let mut returning: Vec<usize> = (0..pool.len()).filter(|&i| deferred_at(i).is_some() && fits(i)).collect();
    returning.sort_by(|&a, &b| scored[b].0.total_cmp(&scored[a].0).then(a.cmp(&b)));
    returning.truncate(MAX_RETURNING.min(s.top));
    // Diversity only reorders what is relevant: MMR runs over the best few hundred.
    let mut shortlist: Vec<usize> = (0..pool.len()).filter(|&i| deferred_at(i).is_none()).collect();
    shortlist.sort_by(|&a, &b| scored[b].0.total_cmp(&scored[a].0).then(a.cmp(&b)));
    shortlist.truncate((s.top * 20).max(500));
    let cands: Vec<Candidate> = shortlist
        .iter()
        .map(|&i| Candidate {
            score: scored[i].0,
            channel: pool[i].0.channel.as_deref(),
            embedding: embeddings.row(pool[i].1),
        })
        .collect();
    let rest = ordering::select(&cands, s.top - returning.len(), s.blend.lambda, s.per_channel);
    let order: Vec<usize> = returning.iter().copied().chain(rest.into_iter().map(|k| shortlist[k])).collect();
    let activity = s.explain.then(|| activity_summary(&now.events));
    let tz = saved.card.context.tz()?;
    let mut next_watch_reasons = match (next_watch, s.explain) {
        (Some(p), true) => p.reasons(&order.iter().map(|&i| pool[i]).collect::<Vec<_>>(), tz),
        _ => vec![Vec::new(); order.len()],
    };
    Ok(order
        .into_iter()
        .enumerate()
        .map(|(rank, i)| {
            let v = pool[i].0;
            let next_watch = next_watch_probabilities.as_ref().map(|p| (Score::NextWatch, p[i]));
            let scores = Score::map(
                [(Score::Interest, interest[i]), (Score::RightTime, right_time[i]), (Score::Freshness, scored[i].1)]
                    .into_iter()
                    .chain(next_watch),
            );
            let mut reasons = Vec::new();
            if let Some(at) = deferred_at(i) {
                let when = at.with_timezone(&tz).format("%a %H:%M");
                reasons.push(format!("you put this off on {when}; it fits now ({:.2})", right_time[i]));
            }
            if let Some(a) = &activity {
                reasons.extend(explain(interest[i], right_time[i], scored[i].1, saved, a));
            }
            let row = pool[i].1;
            reasons.append(&mut next_watch_reasons[rank]);
            if let Some((title, sim)) = liked.and_then(|l| l.nearest(embeddings, embeddings.row(row), row)) {
                reasons.push(format!("like \"{title}\" you liked ({sim:.2})"));
            }
            candidates::feed_item(rank + 1, v, scored[i].0, scores, reasons)
        })
        .collect())
}

/// The interest head's calibrated probability for each of `videos` (video, embedding
/// row), asked without the moment, as interest is trained and ranked: what a retrain
/// compares two answers' models by. `encoder`: the activity text model (for the empty
/// window's shape).
pub fn interest_probabilities(
    saved: &AnswersModel,
    videos: &[(&Video, usize)],
    embeddings: &Embeddings,
    encoder: &SentenceEncoder,
) -> Result<Vec<f64>> {
    let now = now_context(saved, &Timeline::default(), chrono::Utc::now(), encoder)?;
    let [interest, _] = match &saved.net {
        RankNet::Fast(model) => fast_probabilities(model, &saved.card, &now, videos, embeddings),
        RankNet::Fusion { model, tokenizer } => fusion_probabilities(model, tokenizer, &saved.card, &now, videos)?,
    };
    Ok(interest)
}

/// At most this many deferred videos come back at the head of one feed, so that a long
/// list put off at work does not fill the evening's.
const MAX_RETURNING: usize = 3;

/// Each candidate's duration condition (its duration z-score, rounded to 0.01, far below
/// what moves a probability): the distinct values, sorted, and each candidate's index
/// into them. The activity token depends on a candidate only through this condition, so
/// it is computed once per distinct value rather than once per candidate: ten thousand
/// candidates need a few hundred compressor passes.
fn duration_conditions(card: &AnswersCard, pool: &[(&Video, usize)]) -> (Vec<f64>, Vec<i64>) {
    let dz_of = |v: &Video| {
        let log1p = v.duration_s.map_or(0.0, |d| d.max(0.0).ln_1p());
        (((log1p - card.duration_log1p_mean) / card.duration_log1p_std) * 100.0).round() / 100.0
    };
    let per_candidate: Vec<f64> = pool.iter().map(|(v, _)| dz_of(v)).collect();
    let mut conditions = per_candidate.clone();
    conditions.sort_by(f64::total_cmp);
    conditions.dedup();
    let which = per_candidate.iter().map(|z| conditions.partition_point(|c| c < z) as i64).collect();
    (conditions, which)
}

/// "Now" repeated once per condition, as a batch for the compressor, with the conditions.
fn now_batch(now: &Now, conditions: &[f64]) -> (Activity, Tensor) {
    let index = Tensor::zeros([conditions.len() as i64], (Kind::Int64, Device::Cpu));
    (now.activity.index_select(&index), Tensor::from_slice(&conditions.iter().map(|c| *c as f32).collect::<Vec<_>>()))
}

fn calibrated(card: &AnswersCard, without_now: &HeadLogits, with_now: &HeadLogits) -> [Vec<f64>; 2] {
    [
        HeadLogits::margins(&without_now.interest).into_iter().map(|m| card.calibration.interest.apply(m)).collect(),
        HeadLogits::margins(&with_now.right_time).into_iter().map(|m| card.calibration.right_time.apply(m)).collect(),
    ]
}

/// Calibrated probabilities of both heads for every candidate, in batches: interest asked
/// without the moment (as trained), right-time with it.
fn fast_probabilities(
    model: &FastModel,
    card: &AnswersCard,
    now: &Now,
    pool: &[(&Video, usize)],
    emb: &Embeddings,
) -> [Vec<f64>; 2] {
    let dim = emb.meta.dim;
    let (conditions, which) = duration_conditions(card, pool);
    let mut out = [Vec::with_capacity(pool.len()), Vec::with_capacity(pool.len())];
    let scorers = card.scorers();
    tch::no_grad(|| {
        let (activity, cond) = now_batch(now, &conditions);
        let input = crate::net::fast::FastInput {
            media: &Tensor::zeros([conditions.len() as i64, model.config.media_dim], (Kind::Float, Device::Cpu)),
            activity: &activity,
            duration_z: &cond,
        };
        let tokens = model.context_token(&input, false);
        let window = model.summary(&now.activity);
        // Each candidate's input: its embedding, then the metadata bag the model was
        // trained with.
        let buckets = model.config.metadata_buckets as usize;
        for (chunk, which) in pool.chunks(4096).zip(which.chunks(4096)) {
            let n = chunk.len() as i64;
            let mut media = Vec::with_capacity(chunk.len() * (dim + buckets));
            for (video, row) in chunk {
                media.extend_from_slice(&emb.data()[row * dim..(row + 1) * dim]);
                media.extend(vrd_core::metadata::bag(video, buckets));
            }
            let media = Tensor::from_slice(&media).view([n, (dim + buckets) as i64]);
            let which = Tensor::from_slice(which);
            let token = tokens.index_select(0, &which);
            let dz = cond.index_select(0, &which);
            let window = window.index_select(&Tensor::zeros([n], (Kind::Int64, Device::Cpu)));
            let with_now = model.forward_with_token(&media, &token, &window, &dz, false, &scorers);
            let without =
                model.forward_with_token(&media, &token.zeros_like(), &window.zeros_like(), &dz, false, &scorers);
            let [i, r] = calibrated(card, &without, &with_now);
            out[0].extend(i);
            out[1].extend(r);
        }
    });
    out
}

/// The same for the early-fusion model: every candidate's text runs through the encoder
/// twice (with the activity token of "now", and with the zero token interest was trained
/// with), in batches of similar length so little of each pass is padding.
fn fusion_probabilities(
    model: &FusionModel,
    tokenizer: &FusionTokenizer,
    card: &AnswersCard,
    now: &Now,
    pool: &[(&Video, usize)],
) -> Result<[Vec<f64>; 2]> {
    let RankerCard::Fusion(f) = &card.arch else { bail!("internal: not a fusion model card") };
    let template = TextTemplate::parse(&f.text_template, f.description_chars)?;
    let texts: Vec<String> = pool.iter().map(|(v, _)| template.render(&MediaText::from(*v))).collect();
    let ids = tokenizer.encode(&texts.iter().map(String::as_str).collect::<Vec<_>>())?;
    let (conditions, which) = duration_conditions(card, pool);
    let mut order: Vec<usize> = (0..pool.len()).collect();
    order.sort_by_key(|&i| ids[i].len());
    let mut out = [vec![0.0; pool.len()], vec![0.0; pool.len()]];
    tch::no_grad(|| {
        let (activity, cond) = now_batch(now, &conditions);
        let tokens = model.context_token(&activity, &cond, false);
        for batch in order.chunks(FUSION_BATCH) {
            let rows: Vec<&[i64]> = batch.iter().map(|&i| ids[i].as_slice()).collect();
            let (input_ids, attention) = pad_token_ids(&rows, tokenizer.pad_id);
            let which = Tensor::from_slice(&batch.iter().map(|&i| which[i]).collect::<Vec<_>>());
            let token = tokens.index_select(0, &which);
            let with_now = model.forward_with_token(&input_ids, &attention, &token, false);
            let without = model.forward_with_token(&input_ids, &attention, &token.zeros_like(), false);
            let [i, r] = calibrated(card, &without, &with_now);
            for (k, &row) in batch.iter().enumerate() {
                out[0][row] = i[k];
                out[1][row] = r[k];
            }
        }
    });
    Ok(out)
}

/// Candidates per encoder pass in the fusion model.
const FUSION_BATCH: usize = 64;

/// The categories that filled the window, longest first: `Work > Programming 42 min`.
fn activity_summary(events: &[WindowEvent]) -> String {
    let mut by: BTreeMap<String, f64> = BTreeMap::new();
    for e in events {
        let name = if e.category.is_empty() { e.app.clone() } else { e.category.join(" > ") };
        *by.entry(name).or_default() += e.duration_s;
    }
    let mut parts: Vec<(String, f64)> = by.into_iter().collect();
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    if parts.is_empty() {
        return "no recent activity".into();
    }
    parts.iter().take(2).map(|(n, s)| format!("{n} {} min", (s / 60.0).round())).collect::<Vec<_>>().join(", ")
}

fn explain(interest: f64, right_time: f64, fresh: f64, saved: &AnswersModel, activity: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    let t = &saved.card.thresholds;
    reasons.push(if interest >= t.interest {
        format!("interests you ({interest:.2})")
    } else {
        format!("weak interest ({interest:.2})")
    });
    reasons.push(if right_time >= t.right_time {
        format!("fits now ({right_time:.2}) after {activity}")
    } else {
        format!("not for now ({right_time:.2}) after {activity}")
    });
    if fresh < 0.5 {
        reasons.push(format!("older (freshness {fresh:.2})"));
    }
    reasons
}
