//! `vrd-train next-watch`: the next-watch benchmark of one person's history, every method
//! in one run on the same moments and pools (scripts/bench-next-watch runs it per person
//! and sums up).
//!
//! The history (time order, consecutive repeats merged, untitled watches left out) is cut
//! at the `--cut` share of its watches in time; the model is trained on the watches
//! before, exactly as `vrd-train fit --history` trains, with half of `--others`' videos
//! as its never-watched candidates. Each first watch after the cut is a test moment; its
//! video (the target) is ranked, with only the history before the moment known, among
//! - *timing*: the person's videos first watched in the `--timing-days` after it;
//! - *interest*: `--interest-pool` videos of the other half of `--others`.
//!
//! One JSON line per moment and pool: the target's rank under each method (ties broken
//! in one random order shared by all methods).

use crate::inputs::{HistoryFiles, HistoryInputs};
use anyhow::{bail, Result};
use clap::Args;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use vrd_core::jsonl::JsonlReader;
use vrd_core::records::{MediaText, Video, WatchEvent};
use vrd_core::rng::Rng;
use vrd_core::text::{TextTemplate, DEFAULT_DESCRIPTION_CHARS, DEFAULT_TEMPLATE};
use vrd_next_watch::activity::activities;
use vrd_next_watch::card::score_standardised;
use vrd_next_watch::features::Candidate;
use vrd_next_watch::features::Feature::{ChannelDaysSinceLog, ChannelNew, LexLast, SimLast};
use vrd_next_watch::feed::candidate_of;
use vrd_next_watch::method::Method;
use vrd_next_watch::past::{Past, Watch};
use vrd_next_watch::{lexical_of_video, lexical_of_watch, prepare_history, watch_of};
use vrd_next_watch_torch::training::data::NextWatchInputs;
use vrd_next_watch_torch::training::fit::FitOptions;
use vrd_next_watch_torch::training::fusion::FusionOptions;
use vrd_next_watch_torch::training::sample::Sampling;
use vrd_ranking::candidates::Answers;
use vrd_ranking::cold_start;

#[derive(Args)]
pub struct NextWatchArgs {
    /// The person's watch history (vrd-ingest takeout JSONL).
    #[arg(long)]
    history: PathBuf,
    /// Embeddings of every video of --history and --others.
    #[arg(long)]
    media: PathBuf,
    /// Other people's watch histories (JSONL): the interest pools and the model's
    /// never-watched candidates, each from its own half.
    #[arg(long)]
    others: PathBuf,
    /// The share of the history (in time) trained on.
    #[arg(long, default_value_t = 0.8)]
    cut: f64,
    #[arg(long, default_value_t = 15.0)]
    timing_days: f64,
    #[arg(long, default_value_t = 100)]
    interest_pool: usize,
    /// Leave --others out of the model's training (taste negatives from the person's own
    /// far-off videos only).
    #[arg(long)]
    no_candidates: bool,
    /// Train the model without the lexical view of titles (its lexical features read 0):
    /// run with and without to see what the view adds.
    #[arg(long)]
    no_lexical: bool,
    /// Negatives per training moment from the person's own following weeks.
    #[arg(long, default_value_t = Sampling::default().timing_negatives)]
    timing_negatives: usize,
    /// Negatives per training moment from far-off and never-watched videos.
    #[arg(long, default_value_t = Sampling::default().taste_negatives)]
    taste_negatives: usize,
    /// Hidden units of the network beside the regression.
    #[arg(long, default_value_t = FitOptions::default().hidden)]
    hidden: usize,
    /// Full-batch training steps of the network.
    #[arg(long, default_value_t = FitOptions::default().steps)]
    steps: usize,
    /// The L2 penalty of the taste direction over the embeddings (0: none).
    #[arg(long, default_value_t = FitOptions::default().taste_l2)]
    taste_l2: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 1.0)]
    deep_margin: f64,
    /// The person's searches (vrd-ingest searches JSONL), their queries embedded by the
    /// packaged model (or VRD_MODEL), which must be the one that made --media.
    #[arg(long)]
    searches: Option<PathBuf>,
    /// The person's app timeline (vrd-ingest aw JSONL): the apps of the hour before each
    /// watch, for the model's activity features (run with and without it to see what it
    /// adds).
    #[arg(long)]
    events: Option<PathBuf>,
    /// fast, or fusion: also train the early-fusion model (the encoder, LoRA-tuned, over
    /// each candidate's text with its features at the moment) and rank with it as method
    /// `fusion`, whether or not the choice ships it.
    #[arg(long, default_value = "fast", value_parser = crate::options::arch_arg)]
    arch: vrd_model::RankerArch,
    /// The fusion model's encoder folder (default: the packaged model, which must be the one
    /// that made --media).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Passes of the fusion model over the training moments (the kept one is chosen on the
    /// held-out slice).
    #[arg(long, default_value_t = 3)]
    fusion_epochs: usize,
    /// Tokens of each candidate's text the fusion model reads.
    #[arg(long, default_value_t = 48)]
    fusion_max_length: usize,
    /// Moments per training step of the fusion model (each with its positive and 7
    /// negatives drawn: the step's memory grows with it).
    #[arg(long, default_value_t = 8)]
    fusion_moments_per_step: usize,
    /// Save the trained model here (pick.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The ranks JSONL (default stdout).
    #[arg(long)]
    ranks: Option<PathBuf>,
}

/// The same half for an id in every run (FNV-1a).
fn half(id: &str) -> bool {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)) & 1 == 0
}

pub fn run(args: &NextWatchArgs) -> Result<()> {
    let data = HistoryInputs::read(&HistoryFiles {
        history: &args.history,
        candidates: None,
        videos: None,
        media: &args.media,
        searches: args.searches.as_deref(),
        events: args.events.as_deref(),
        media_model: None,
    })?;
    let emb = &data.embeddings;
    let index_of = emb.index();
    let prepared = prepare_history(&data.history);
    if prepared.len() < 50 {
        bail!("{}: {} titled watches; the benchmark needs 50 at least", args.history.display(), prepared.len());
    }
    let cut_at = prepared[((prepared.len() as f64) * args.cut) as usize].watched_at;
    // The whole history in time order (stable: same-instant watches as read), so that the
    // history before any moment is a prefix.
    let mut by_time = data.history.clone();
    by_time.sort_by_key(|e| e.watched_at);
    let train = by_time[..by_time.partition_point(|e| e.watched_at < cut_at)].to_vec();
    let own: HashSet<&str> = data.history.iter().map(|e| e.video_id.as_str()).collect();
    let others: Vec<WatchEvent> = JsonlReader::open(Some(&args.others))?.read_all()?;
    let mut seen = HashSet::new();
    let (mut train_others, mut test_others) = (Vec::new(), Vec::new());
    for e in others.iter().filter(|e| !e.title_unknown && !own.contains(e.video_id.as_str())) {
        if index_of.contains_key(e.video_id.as_str()) && seen.insert(e.video_id.as_str()) {
            match half(&e.video_id) {
                true => train_others.push(Video::from(e)),
                false => test_others.push(Video::from(e)),
            }
        }
    }
    let unwatched: &[Video] = if args.no_candidates { &[] } else { &train_others };
    let sampling = Sampling {
        seed: args.seed,
        timing_negatives: args.timing_negatives,
        taste_negatives: args.taste_negatives,
        ..Sampling::default()
    };
    let options = FitOptions {
        seed: args.seed,
        deep_margin: args.deep_margin,
        taste_l2: args.taste_l2,
        hidden: args.hidden,
        steps: args.steps,
        fusion: match args.arch {
            vrd_model::RankerArch::Fast => None,
            vrd_model::RankerArch::Fusion => Some(FusionOptions {
                epochs: args.fusion_epochs,
                max_length: args.fusion_max_length,
                groups_per_step: args.fusion_moments_per_step,
                keep_unchosen: true,
                ..super::fit_history::fusion_options(args.encoder.as_deref())?
            }),
        },
        ..FitOptions::default()
    };
    let queries = &data.searches;
    let inputs = NextWatchInputs { lexical: !args.no_lexical, ..data.inputs(&train, unwatched) };
    let trained = vrd_next_watch_torch::training::train(&inputs, &sampling, &options, &emb.meta.model_id)?;
    let card = &trained.card;
    eprintln!(
        "vrd-train next-watch: {}: trained on {} watches before {} ({} moments): chosen {}, held-out MRR {:?}",
        args.history.display(),
        train.len(),
        vrd_core::time::format_rfc3339(&cut_at),
        card.history.moments,
        card.chosen,
        card.selection
    );
    if let Some(out) = &args.out {
        super::fit_history::save(&trained, out)?;
    }
    // The model's lexical view, as vrd-rank reads it from the card.
    let lexical = card.lexical_view()?;
    let template = TextTemplate::parse(DEFAULT_TEMPLATE, DEFAULT_DESCRIPTION_CHARS)?;
    // The fusion model's deep part over a pool (its scores add to the regression's).
    let fusion_deep = |pool: &[&Video], z: &[Vec<f32>]| -> Result<Option<Vec<f64>>> {
        let Some(fitted) = &trained.fusion else { return Ok(None) };
        let texts: Vec<String> = pool.iter().map(|v| template.render(&MediaText::from(*v))).collect();
        Ok(Some(fitted.scores(&texts.iter().map(String::as_str).collect::<Vec<_>>(), z)?))
    };

    // The test moments: first watches after the cut.
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, e) in prepared.iter().enumerate() {
        first.entry(e.video_id.as_str()).or_insert(i);
    }
    let firsts: Vec<usize> = (0..prepared.len())
        .filter(|&i| first[prepared[i].video_id.as_str()] == i && index_of.contains_key(prepared[i].video_id.as_str()))
        .collect();
    let own_video: HashMap<&str, Video> = prepared.iter().map(|e| (e.video_id.as_str(), Video::from(*e))).collect();
    let mut rng = Rng::new(args.seed ^ 0x5eed);
    let mut out = vrd_core::output::Output::open(args.ranks.as_deref())?;
    // The apps of the hour before every watch: a test moment is a watch's.
    let watch_activity = match &data.timeline {
        Some(timeline) => activities(timeline, &prepared.iter().map(|e| e.watched_at).collect::<Vec<_>>())?,
        None => vec![None; prepared.len()],
    };
    let mut past = Past::new(emb.meta.dim);
    let (mut pushed, mut searched) = (0, 0);
    let (mut moments, mut skipped) = (0, 0);
    for (k, &i) in firsts.iter().enumerate() {
        let target = prepared[i];
        let t = target.watched_at;
        if t < cut_at {
            continue;
        }
        while pushed < prepared.len() && prepared[pushed].watched_at < t {
            let e = prepared[pushed];
            let watch = watch_of(e, index_of.get(e.video_id.as_str()).map(|&r| emb.row(r)));
            let lexical_vector = lexical.as_ref().map(|idf| lexical_of_watch(idf, e));
            past.push(&Watch { activity: watch_activity[pushed].as_ref(), lexical: lexical_vector.as_ref(), ..watch });
            pushed += 1;
        }
        while searched < queries.len() && queries[searched].at < t {
            let q = &queries[searched];
            past.push_search(q.at, &q.embedding, lexical.as_ref().map(|idf| idf.vector(&q.text)).as_ref());
            searched += 1;
        }
        let moment = past.moment(t, watch_activity[i].as_ref());
        let horizon = t + chrono::Duration::seconds((args.timing_days * 86_400.0) as i64);
        let timing: Vec<&Video> = firsts[k + 1..]
            .iter()
            .map(|&j| prepared[j])
            .filter(|e| e.watched_at > t && e.watched_at <= horizon)
            .map(|e| &own_video[e.video_id.as_str()])
            .collect();
        let interest: Vec<&Video> = (0..args.interest_pool.min(test_others.len()))
            .map(|_| &test_others[rng.below(test_others.len())])
            .collect();
        let history_before = &by_time[..by_time.partition_point(|e| e.watched_at < t)];
        let target_video = &own_video[target.video_id.as_str()];
        let candidate = |v: &Video| lexical.as_ref().map(|idf| lexical_of_video(idf, v));
        let target_lexical = candidate(target_video);
        let target_features = moment.features(&Candidate {
            lexical: target_lexical.as_ref(),
            ..candidate_of(target_video, emb.row(index_of[target.video_id.as_str()]))
        });
        let is_new_channel = target_features[ChannelNew] == 1.0;
        for (name, others) in [("timing", timing), ("interest", interest)] {
            let mut pool: Vec<&Video> = vec![target_video];
            let mut ids: HashSet<&str> = HashSet::from([target_video.video_id.as_str()]);
            pool.extend(others.into_iter().filter(|v| ids.insert(v.video_id.as_str())));
            if pool.len() < 2 {
                skipped += 1;
                continue;
            }
            let tiebreak: Vec<u64> = pool.iter().map(|_| rng.next_u64()).collect();
            let mut scores: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
            let mut standardised = Vec::with_capacity(pool.len());
            for v in &pool {
                let e = emb.row(index_of[v.video_id.as_str()]);
                let v_lexical = candidate(v);
                let f = moment.features(&Candidate { lexical: v_lexical.as_ref(), ..candidate_of(v, e) });
                let z = card.standardise(&f);
                scores.entry(Method::Model.bench_key()).or_default().push(card.score(&f, e));
                scores.entry(Method::Regression.bench_key()).or_default().push(score_standardised(
                    &trained.regression,
                    &z,
                    e,
                ));
                standardised.push(z);
                scores.entry(Method::Signal(SimLast).bench_key()).or_default().push(f64::from(f[SimLast]));
                if lexical.is_some() {
                    // The two views of the last watch, alone and summed.
                    scores.entry(Method::Signal(LexLast).bench_key()).or_default().push(f64::from(f[LexLast]));
                    scores
                        .entry(Method::SimPlusLexLast.bench_key())
                        .or_default()
                        .push(f64::from(f[SimLast] + f[LexLast]));
                }
                scores
                    .entry(Method::ChannelRecency.bench_key())
                    .or_default()
                    .push(-f64::from(f[ChannelDaysSinceLog]) - 100.0 * f64::from(f[ChannelNew]));
                scores.entry(Method::Chance.bench_key()).or_default().push(0.0);
            }
            scores.insert(Method::ColdStart.bench_key(), cold_start_scores(history_before, &pool, emb)?);
            if let Some(deep) = fusion_deep(&pool, &standardised)? {
                let fused: Vec<f64> =
                    scores[Method::Regression.bench_key()].iter().zip(&deep).map(|(w, d)| w + d).collect();
                if card.fusion().is_some() {
                    scores.insert(Method::Model.bench_key(), fused.clone());
                }
                scores.insert(Method::Fusion.bench_key(), fused);
            }
            let ranks: BTreeMap<&str, usize> = scores.iter().map(|(m, s)| (*m, rank_of_target(s, &tiebreak))).collect();
            let line = serde_json::json!({
                "at": vrd_core::time::format_rfc3339(&t),
                "pool": name,
                "size": pool.len(),
                "new_channel": is_new_channel,
                "ranks": ranks,
            });
            vrd_core::jsonl::write_record(&mut out, &line)?;
        }
        moments += 1;
    }
    out.finish()?;
    eprintln!("vrd-train next-watch: {moments} test moments ({skipped} pools with the target alone left out)");
    Ok(())
}

/// The cold-start feed's scores, exactly as `vrd-rank --cold-start` ranks the pool (its
/// default settings): the better its place, the higher.
fn cold_start_scores(history: &[WatchEvent], pool: &[&Video], emb: &vrd_core::tensors::Embeddings) -> Result<Vec<f64>> {
    let settings = cold_start::Settings::defaults(pool.len());
    let videos: Vec<Video> = pool.iter().map(|v| (*v).clone()).collect();
    let feed = cold_start::rank(history, None, &videos, emb, &Answers::default(), &settings)?;
    let place: HashMap<&str, usize> = feed.iter().map(|f| (f.video_id.as_str(), f.rank)).collect();
    Ok(pool.iter().map(|v| place.get(v.video_id.as_str()).map_or(f64::NEG_INFINITY, |&r| -(r as f64))).collect())
}

/// The rank (from 1) of `scores[0]`, ties ordered by `tiebreak`.
fn rank_of_target(scores: &[f64], tiebreak: &[u64]) -> usize {
    1 + (1..scores.len())
        .filter(|&j| scores[j] > scores[0] || (scores[j] == scores[0] && tiebreak[j] < tiebreak[0]))
        .count()
}
