//! Learning from the watch history itself (implicit feedback): every first watch is a
//! positive for "what this person picks at that moment", against negatives from their
//! own surrounding weeks and from what they never watched ([`sample`]); the features come
//! from the crate's [`features`](vrd_next_watch::features) ([`data`]); a listwise regression and a network beside it are
//! fitted ([`fit`]) and one of them, or a single signal, ships by the rule of
//! [`choice`]. The result is the `pick.json` card vrd-rank ranks with; [`folds`] judges the
//! whole training on rolling-origin folds of the history.

pub mod choice;
pub mod data;
pub mod fit;
pub mod folds;
pub mod fusion;
pub mod judge;
pub mod mrr;
pub mod sample;

use crate::network::NextWatchFusionScorer;
use anyhow::Result;
use choice::{choose, Chosen};
use data::{Dataset, NextWatchInputs};
use fit::{batch, fit_network, fit_regression, standardisation, FitOptions, SIGNALS};
use mrr::reciprocal_ranks;
use sample::Sampling;
use std::time::Instant;
use vrd_core::model_dir::NEXT_WATCH_FORMAT as FORMAT;
use vrd_next_watch::card::{HistorySpan, NextWatchCard, NextWatchScorer};
use vrd_next_watch::features::{Feature, FEATURES};

/// How often the network's weights are kept for the choice of its step.
const SNAPSHOT_EVERY: usize = 20;

/// The taste direction's L2 penalties tried on the held-out slice, as multiples of
/// `FitOptions::taste_l2`; the best there is refitted. A stronger penalty leaves more to
/// the moment's features: the taste direction wins what a person picks at all and costs
/// what they pick now, and how much of it pays differs by person (on the shared
/// histories the slice chose 10× for the smallest, 1× for the rest).
const TASTE_L2_SCALES: [f64; 3] = [1.0, 10.0, 100.0];

/// A trained next-watch model and what its training found.
pub struct Trained {
    pub card: NextWatchCard,
    /// The regression refitted on every moment, whatever was chosen (a baseline to report).
    pub regression: NextWatchScorer,
    /// The early-fusion model refitted on every moment: when chosen (its weights are the
    /// card names, `ModelDir::next_watch_fusion_weights`), or when asked to be kept.
    pub fusion: Option<NextWatchFusionScorer>,
}

impl Trained {
    /// The deep part of the card's scorer, for scoring in this process (a fusion card's).
    pub fn deep_part(&self) -> Option<&NextWatchFusionScorer> {
        self.fusion.as_ref().filter(|_| self.card.fusion().is_some())
    }
}

pub fn train(inputs: &NextWatchInputs, sampling: &Sampling, o: &FitOptions, media_model: &str) -> Result<Trained> {
    let started = Instant::now();
    let ds = data::build(inputs, sampling)?;
    let n = ds.groups.len();
    let held_out = ((n as f64) * o.validation_share).round() as usize;
    let embeddings = fit::embedding_tensor(inputs.embeddings);
    let o = &options_for(&ds, o);
    let ids = o.fusion.as_ref().map(|fo| fo.token_ids(inputs)).transpose()?;
    let choice = held_out_choice(&ds, o, inputs.embeddings, &embeddings, ids.as_deref())?;
    let o = &match &choice {
        Some(c) => FitOptions { taste_l2: c.taste_l2, ..o.clone() },
        None => o.clone(),
    };
    let (mean, std) = standardisation(&ds, 0..n);
    let all = batch(&ds, 0..n, &mean, &std, &embeddings);
    let (weights, taste) = fit_regression(&all, o);
    let regression = NextWatchScorer::Regression { weights: weights.clone(), taste: taste.clone() };
    let chosen = choice.as_ref().map_or(Chosen::Regression, |c| c.chosen.clone());
    // The fusion model on every moment, for the epochs chosen on the slice.
    let fusion_epochs = match (&chosen, choice.as_ref().and_then(|c| c.fusion.as_ref())) {
        (Chosen::Fusion { epochs }, _) => Some(*epochs),
        (_, Some(contest)) if o.fusion.as_ref().is_some_and(|fo| fo.keep_unchosen) => Some(contest.epochs.max(1)),
        _ => None,
    };
    let fitted = match (fusion_epochs, &o.fusion, &ids) {
        (Some(epochs), Some(fo), Some(ids)) => {
            let data = fusion::FusionData { ds: &ds, standard: (&mean, &std), embeddings: inputs.embeddings, ids };
            Some(fusion::fit(&data, 0..n, &regression, (o.seed, fo), epochs, |_, _| ())?)
        }
        _ => None,
    };
    let scorer = match &chosen {
        Chosen::Network { step } => {
            let o = FitOptions { steps: *step, ..o.clone() };
            fit_network(&all, (&weights, &taste), &o, *step).pop().expect("the last step is kept").1
        }
        Chosen::Regression => regression.clone(),
        Chosen::Signal(feature) => NextWatchScorer::Signal { feature: feature.name().to_string() },
        Chosen::Fusion { .. } => NextWatchScorer::Fusion {
            weights: weights.clone(),
            taste: taste.clone(),
            fusion: o.fusion.as_ref().expect("chosen only when trained").part(FEATURES.len()),
        },
    };
    let (first, last) = ds.span.expect("a history with moments has watches");
    let card = NextWatchCard {
        format: FORMAT.into(),
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        mean,
        std,
        scorer,
        media_model: media_model.to_string(),
        history: HistorySpan {
            first_watch: first,
            last_watch: last,
            watches: ds.watches,
            moments: ds.moments(),
            with_activity: ds.with_activity,
        },
        selection: choice.as_ref().map(|c| c.mrr.clone()).unwrap_or_default(),
        chosen: chosen.name(),
        training: serde_json::json!({
            "sampling": sampling,
            "options": o,
            "groups": n,
            "held_out_groups": if choice.is_some() { held_out } else { 0 },
            "never_watched_candidates": ds.unwatched,
            "taste_direction": o.taste_l2 > 0.0,
            "taste_l2": o.taste_l2,
            "network_gain": choice.as_ref().map(|c| c.network_gain),
            "standard_error": choice.as_ref().map(|c| c.standard_error),
            "network_step": match chosen { Chosen::Network { step } => Some(step), _ => None },
            "fusion": choice.as_ref().and_then(|c| c.fusion.as_ref()).map(|f| serde_json::json!({
                "epochs": f.epochs,
                "held_out_mrr": f.mrr,
                "gain_over_fast": f.gain,
                "standard_error": f.standard_error,
            })),
            "seconds": started.elapsed().as_secs_f64(),
        }),
        lexical: ds.lexical.as_ref().map(|idf| idf.to_card()),
    };
    Ok(Trained { card, regression, fusion: fitted })
}

/// The options as `ds` allows them: the taste direction needs never-watched videos to
/// tell taste from the drift of time.
fn options_for(ds: &Dataset, o: &FitOptions) -> FitOptions {
    FitOptions { taste_l2: if ds.unwatched > 0 { o.taste_l2 } else { 0.0 }, ..o.clone() }
}

/// Where the held-out slice starts: the latest `validation_share` of the groups; None when
/// either side would have fewer than 10 (the regression then ships unjudged).
pub fn slice_start(groups: usize, o: &FitOptions) -> Option<usize> {
    let held_out = ((groups as f64) * o.validation_share).round() as usize;
    (held_out >= 10 && groups - held_out >= 10).then_some(groups - held_out)
}

/// The choice on the held-out slice of `ds`, if it has one; `ids`: the fusion model's
/// token ids by embedding row, when it contends.
fn held_out_choice(
    ds: &Dataset,
    o: &FitOptions,
    embeddings: &vrd_core::tensors::Embeddings,
    tensor: &tch::Tensor,
    ids: Option<&[Vec<i64>]>,
) -> Result<Option<choice::Choice>> {
    slice_start(ds.groups.len(), o).map(|split| choose_on_slice(ds, split, o, embeddings, tensor, ids)).transpose()
}

/// The contenders trained on `ds`'s moments before its held-out slice, as `train` trains
/// them, and judged on the slice: what the model `train` ships reached on moments it did
/// not see (its held-out reciprocal ranks: `Choice::ranks`).
pub fn held_out(ds: &Dataset, o: &FitOptions, inputs: &NextWatchInputs) -> Result<Option<choice::Choice>> {
    let o = options_for(ds, o);
    let ids = o.fusion.as_ref().map(|fo| fo.token_ids(inputs)).transpose()?;
    held_out_choice(ds, &o, inputs.embeddings, &fit::embedding_tensor(inputs.embeddings), ids.as_deref())
}

/// Every contender trained on the moments before `split` and judged on the rest.
fn choose_on_slice(
    ds: &Dataset,
    split: usize,
    o: &FitOptions,
    embeddings: &vrd_core::tensors::Embeddings,
    tensor: &tch::Tensor,
    ids: Option<&[Vec<i64>]>,
) -> Result<choice::Choice> {
    let n = ds.groups.len();
    let (mean, std) = standardisation(ds, 0..split);
    let train = batch(ds, 0..split, &mean, &std, tensor);
    let rr = |scorer: &NextWatchScorer| reciprocal_ranks(ds, split..n, (&mean, &std), embeddings, scorer);
    // The taste direction's strength per person: the slice says how much of it pays.
    let strengths: &[f64] = if o.taste_l2 > 0.0 { &TASTE_L2_SCALES } else { &[1.0] };
    let (weights, taste, taste_l2, regression) = strengths
        .iter()
        .map(|k| {
            let o = FitOptions { taste_l2: o.taste_l2 * k, ..o.clone() };
            let (w, t) = fit_regression(&train, &o);
            let r = rr(&NextWatchScorer::Regression { weights: w.clone(), taste: t.clone() });
            (w, t, o.taste_l2, r)
        })
        // The first (weakest penalty) of equals.
        .reduce(|best, next| if mrr::mean(&next.3) > mrr::mean(&best.3) { next } else { best })
        .expect("one strength at least");
    let o = &FitOptions { taste_l2, ..o.clone() };
    let network = fit_network(&train, (&weights, &taste), o, SNAPSHOT_EVERY)
        .into_iter()
        .map(|(step, scorer)| (step, rr(&scorer)))
        .max_by(|a, b| mrr::mean(&a.1).total_cmp(&mrr::mean(&b.1)).then(b.0.cmp(&a.0)))
        .expect("step 0 at least");
    let signals: Vec<(Feature, Vec<f64>)> =
        SIGNALS.iter().map(|&s| (s, rr(&NextWatchScorer::Signal { feature: s.name().to_string() }))).collect();
    let questions: Vec<sample::Question> = ds.groups[split..].iter().map(|g| g.question).collect();
    let mut fast = choose(&regression, (network.0, &network.1), &signals, o.deep_margin, &questions);
    fast.taste_l2 = o.taste_l2;
    let (Some(fo), Some(ids)) = (&o.fusion, ids) else { return Ok(fast) };
    // The fusion model beside the same regression, its epoch chosen on the slice (epoch
    // 0: the regression alone).
    let wide = NextWatchScorer::Regression { weights, taste };
    let data = fusion::FusionData { ds, standard: (&mean, &std), embeddings, ids };
    let mut best = (0, regression.clone());
    fusion::fit(&data, 0..split, &wide, (o.seed, fo), fo.epochs, |epoch, fitted| {
        let rr = data.reciprocal_ranks(fitted, &wide, split..n);
        if mrr::mean(&rr) > mrr::mean(&best.1) {
            best = (epoch, rr);
        }
    })?;
    let (mut choice, contest) = choice::with_fusion(fast, (best.0, &best.1), o.deep_margin, &questions);
    choice.fusion = Some(contest);
    choice.taste_l2 = o.taste_l2;
    Ok(choice)
}
