//! The feed of a next-watch model: every candidate scored by what the person would pick at
//! the moment, given the history before it; `scores.pick` is the model's probability that
//! this video is the one picked next among the feed's candidates (a softmax over them, so
//! the candidates' values add up to 1), and the feed is in that order, at most
//! `per_channel` videos of one channel.

use super::activity::{activities, Activity, ACTIVITY_DAYS};
use super::card::{score_standardised, NextWatchCard};
use super::features::{channel_key, Candidate, Feature, Features};
use super::past::{self, Facts, Moment, Past};
use super::{lexical_of_video, lexical_of_watch, prepare_history, watch_of};
use anyhow::{bail, Result};
use chrono::Timelike;
use chrono_tz::Tz;
use vrd_core::context::Timeline;
use vrd_core::records::{FeedItem, Score, Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_core::time::Timestamp;
use vrd_ranking::candidates::{self, Answers};
use vrd_ranking::lexical::{self, Idf};
use vrd_ranking::words::{ago, capitalised, shorten};

/// How much closer to this hour's usual videos than to the history's as a whole (cosine)
/// a candidate must be for the time of day to be named as a reason.
const HOUR_AFFINITY_REASON: f32 = 0.05;
/// The same for what the person watches after the apps of the hour before.
const ACTIVITY_AFFINITY_REASON: f32 = 0.05;
/// How close in the lexical view (cosine) a recent watch must be for the words they share
/// to be named.
const LEXICAL_REASON: f32 = 0.3;

pub struct NextWatchSettings {
    pub at: Timestamp,
    pub top: usize,
    pub per_channel: usize,
    pub keep_watched: bool,
    pub explain: bool,
    /// The zone the reasons speak of times of day in.
    pub timezone: Tz,
}

/// What a moment's features are made from, besides the watch history: the person's
/// searches (in time order) and their app timeline, where there are any.
#[derive(Clone, Copy, Default)]
pub struct Besides<'a> {
    pub searches: &'a [Query],
    pub timeline: Option<&'a Timeline>,
}

/// The past of `history` (and of the searches and timeline) strictly before `at`, with
/// each watch's embedding where the file has one and the apps of the hour before it where
/// the timeline covers it, and in the lexical view of `lexical` (the model card's) where it
/// has one; and the apps of the hour before `at`.
pub fn past_before(
    history: &[WatchEvent],
    besides: Besides,
    lexical: Option<&Idf>,
    embeddings: &Embeddings,
    at: Timestamp,
) -> Result<(Past, Option<Activity>)> {
    let index = embeddings.index();
    let watches: Vec<&WatchEvent> = prepare_history(history).into_iter().take_while(|e| e.watched_at < at).collect();
    // A moment at `at` compares its apps only with the watches of the fortnight before it
    // (`Past` forgets older ones), so only theirs are cut from the timeline.
    let horizon = at - chrono::Duration::days(ACTIVITY_DAYS);
    let recent = watches.partition_point(|e| e.watched_at <= horizon);
    let mut times: Vec<Timestamp> = watches[recent..].iter().map(|e| e.watched_at).collect();
    times.push(at);
    let mut activity = vec![None; recent];
    match besides.timeline {
        Some(timeline) => activity.extend(activities(timeline, &times)?),
        None => activity.resize(watches.len() + 1, None),
    }
    let now = activity.pop().flatten();
    let mut past = Past::new(embeddings.meta.dim);
    // Only the last few watches are read in the lexical view.
    let lexical_from = watches.len().saturating_sub(past::LEXICAL_PROFILE_WATCHES);
    for (k, (e, activity)) in watches.into_iter().zip(&activity).enumerate() {
        let row = index.get(e.video_id.as_str()).map(|&r| embeddings.row(r));
        let lexical = lexical.filter(|_| k >= lexical_from).map(|idf| lexical_of_watch(idf, e));
        past.push(&past::Watch { activity: activity.as_ref(), lexical: lexical.as_ref(), ..watch_of(e, row) });
    }
    for q in besides.searches.iter().take_while(|q| q.at < at) {
        let lexical = lexical.map(|idf| idf.vector(&q.text));
        past.push_search(q.at, &q.embedding, lexical.as_ref());
    }
    Ok((past, now))
}

/// A search: when, its query, and the query embedded by the media model.
#[derive(Debug, Clone)]
pub struct Query {
    pub at: Timestamp,
    pub text: String,
    pub embedding: Vec<f32>,
}

/// The deep part of a fusion scorer (the text encoder, which this crate does not run):
/// each candidate's addition to its score from the video and its standardised features at
/// the moment.
pub type DeepPart<'a> = dyn Fn(&[&Video], &[Vec<f32>]) -> Result<Vec<f64>> + 'a;

/// A next-watch model at one moment: the person's past before it, ready to score
/// candidates and say why.
pub struct NextWatchRanker<'a> {
    card: &'a NextWatchCard,
    /// The card's lexical view, where it has one.
    lexical: Option<Idf>,
    /// A fusion scorer's deep part (required for one).
    deep: Option<&'a DeepPart<'a>>,
    embeddings: &'a Embeddings,
    past: Past,
    /// The apps of the hour before `at`, where known.
    now: Option<Activity>,
    at: Timestamp,
}

impl<'a> NextWatchRanker<'a> {
    /// The model at `at`, with the history, searches and timeline before it (later ones
    /// are ignored).
    pub fn new(
        card: &'a NextWatchCard,
        history: &[WatchEvent],
        besides: Besides,
        embeddings: &'a Embeddings,
        at: Timestamp,
    ) -> Result<NextWatchRanker<'a>> {
        if embeddings.meta.model_id != card.media_model {
            bail!(
                "the embeddings were made by {:?}, the next-watch model was trained on {:?}'s; encode with that model",
                embeddings.meta.model_id,
                card.media_model
            );
        }
        card.check_dim(embeddings.meta.dim)?;
        let lexical = card.lexical_view()?;
        let (past, now) = past_before(history, besides, lexical.as_ref(), embeddings, at)?;
        Ok(NextWatchRanker { card, lexical, deep: None, embeddings, past, now, at })
    }

    /// The same with a fusion scorer's deep part.
    pub fn with_deep_part(self, deep: Option<&'a DeepPart<'a>>) -> NextWatchRanker<'a> {
        NextWatchRanker { deep, ..self }
    }

    /// Each candidate's probability of being the one picked next among `pool` (each with
    /// its row in the embeddings).
    pub fn probabilities(&self, pool: &[(&Video, usize)]) -> Result<Vec<f64>> {
        let moment = self.past.moment(self.at, self.now.as_ref());
        let deep = match (self.card.fusion(), self.deep) {
            (Some(_), Some(deep)) => Some(deep),
            (Some(_), None) => bail!("the next-watch model is a fusion model: its encoder must be loaded"),
            (None, _) => None,
        };
        // The standardised features are kept only for a deep part to read.
        let keep_z = deep.is_some();
        let idf = self.lexical.as_ref();
        let score = |&(v, row): &(&Video, usize)| {
            let e = self.embeddings.row(row);
            let lexical = idf.map(|idf| lexical_of_video(idf, v));
            let z =
                self.card.standardise(&moment.features(&Candidate { lexical: lexical.as_ref(), ..candidate_of(v, e) }));
            let s = score_standardised(&self.card.scorer, &z, e);
            (s, if keep_z { z } else { Vec::new() })
        };
        // The candidates are independent: split over the cores (10,000 of them against a
        // long history are most of a feed's time once libtorch has loaded).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(pool.len().div_ceil(1000)).max(1);
        let chunk = pool.len().div_ceil(threads).max(1);
        let (mut scores, z): (Vec<f64>, Vec<Vec<f32>>) = std::thread::scope(|scope| {
            let parts: Vec<_> = pool
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(score).collect::<Vec<_>>()))
                .collect();
            parts.into_iter().flat_map(|p| p.join().expect("scoring does not panic")).unzip()
        });
        if let Some(deep) = deep {
            let videos: Vec<&Video> = pool.iter().map(|(v, _)| *v).collect();
            for (s, d) in scores.iter_mut().zip(deep(&videos, &z)?) {
                *s += d;
            }
        }
        Ok(softmax(&scores))
    }

    /// Why the model puts each of `items` (a video and its row in the embeddings) where it
    /// does, in words; the moment is made once for all of them.
    pub fn reasons(&self, items: &[(&Video, usize)], tz: Tz) -> Vec<Vec<String>> {
        let moment = self.past.moment(self.at, self.now.as_ref());
        items
            .iter()
            .map(|&(video, row)| {
                let lexical = self.lexical.as_ref().map(|idf| lexical_of_video(idf, video));
                let c = Candidate { lexical: lexical.as_ref(), ..candidate_of(video, self.embeddings.row(row)) };
                reasons(&moment, &moment.facts(&c), &moment.features(&c), video, tz)
            })
            .collect()
    }
}

/// The feed of a next-watch model alone (with its deep part, for a fusion scorer).
pub fn rank(
    (card, deep): (&NextWatchCard, Option<&DeepPart>),
    history: &[WatchEvent],
    besides: Besides,
    candidates: &[Video],
    embeddings: &Embeddings,
    answers: &Answers,
    s: &NextWatchSettings,
) -> Result<Vec<FeedItem>> {
    let before: Vec<WatchEvent> = history.iter().filter(|e| e.watched_at < s.at).cloned().collect();
    let picker = NextWatchRanker::new(card, &before, besides, embeddings, s.at)?.with_deep_part(deep);
    let pool: Vec<(&Video, usize)> = candidates::pool(candidates, &before, embeddings, answers, s.keep_watched)
        .into_iter()
        // Nothing here tells when a deferred video fits the moment: it waits for a
        // model of the moment (as in the cold start).
        .filter(|(video, _)| !answers.deferred.contains_key(&video.video_id))
        .collect();
    let probabilities = picker.probabilities(&pool)?;
    // By the model's order (ties by id, so the feed is reproducible), at most
    // `per_channel` of one channel: no trade for variety (the model already weighs what
    // the moment wants), so no similarities to compute.
    let mut by_score: Vec<usize> = (0..pool.len()).collect();
    by_score.sort_by(|&a, &b| {
        probabilities[b].total_cmp(&probabilities[a]).then_with(|| pool[a].0.video_id.cmp(&pool[b].0.video_id))
    });
    let mut per_channel: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let order: Vec<usize> = by_score
        .into_iter()
        .filter(|&i| match pool[i].0.channel.as_deref() {
            Some(channel) => {
                let n = per_channel.entry(channel).or_default();
                *n += 1;
                *n <= s.per_channel.max(1)
            }
            None => true,
        })
        .take(s.top)
        .collect();
    let mut reasons = match s.explain {
        true => picker.reasons(&order.iter().map(|&i| pool[i]).collect::<Vec<_>>(), s.timezone),
        false => vec![Vec::new(); order.len()],
    };
    Ok(order
        .into_iter()
        .enumerate()
        .map(|(rank, i)| {
            let video = pool[i].0;
            let reasons = std::mem::take(&mut reasons[rank]);
            let scores = Score::map([(Score::NextWatch, probabilities[i])]);
            candidates::feed_item(rank + 1, video, probabilities[i], scores, reasons)
        })
        .collect())
}

/// A video as the features see it (without the lexical view, which the caller adds where
/// the model has one).
pub fn candidate_of<'a>(v: &'a Video, embedding: &'a [f32]) -> Candidate<'a> {
    Candidate {
        embedding,
        lexical: None,
        channel: channel_key(v.channel_id.as_deref(), v.channel.as_deref()),
        published_at: v.published_at,
    }
}

/// `exp(s) / Σ exp`, computed from the largest score down.
pub fn softmax(scores: &[f64]) -> Vec<f64> {
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|&x| (x - top).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

/// Why the model puts a video here, in words: the facts behind its strongest features.
pub fn reasons(moment: &Moment, facts: &Facts, features: &Features, video: &Video, tz: Tz) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = facts.lexical.as_ref().filter(|m| m.cosine >= LEXICAL_REASON) {
        if let Some(words) = lexical::shared_phrase(&video.title, m.title) {
            let (words, title) = (shorten(&words, 40), shorten(m.title, 60));
            out.push(match m.last {
                true => format!("shares “{words}” with your last watch, “{title}”"),
                false => {
                    let days = (moment.t - m.at).num_seconds() as f64 / 86_400.0;
                    format!("shares “{words}” with “{title}”, watched {}", ago(days))
                }
            });
        }
    }
    let (streak, last_title) = facts.streak;
    if streak >= 1 && moment.gap_minutes().is_some_and(|g| g < 120.0) {
        let like = last_title.map(|t| format!(" like “{}”", shorten(t, 60))).unwrap_or_default();
        out.push(match streak {
            1 => format!("you just watched something{like}"),
            n => format!("{} video in a row{like}", ordinal(n + 1)),
        });
    }
    out.extend(vrd_ranking::words::channel_reason(video.channel.as_deref(), facts.channel));
    if let Some(share) = facts.interest_share.filter(|&s| s >= 0.05) {
        out.push(format!("one of your interests ({:.0}% of your recent watches)", share * 100.0));
    }
    let local = moment.t.with_timezone(&tz);
    let hour_affinity = features[Feature::HourAffinity];
    if hour_affinity >= HOUR_AFFINITY_REASON {
        out.push(format!("{} you often watch things like this", capitalised(part_of_day(local.hour()))));
    }
    if let Some(app) = moment.activity_app().filter(|_| features[Feature::ActivityAffinity] >= ACTIVITY_AFFINITY_REASON)
    {
        out.push(format!("after {app} you often watch things like this"));
    }
    if let Some(p) = video.published_at.filter(|p| *p <= moment.t) {
        let d = (moment.t - p).num_seconds() as f64 / 86_400.0;
        if d <= 7.0 {
            out.push(format!("uploaded {}", ago(d)));
        }
    }
    if out.is_empty() {
        out.push("like what you watched lately".into());
    }
    out
}

fn part_of_day(hour: u32) -> &'static str {
    match hour {
        5..=11 => "mornings",
        12..=16 => "afternoons",
        17..=21 => "evenings",
        _ => "at night",
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::embeddings;
    use vrd_core::context::prepare_timeline;
    use vrd_core::records::AppEvent;
    use vrd_core::time::parse_rfc3339;

    /// A small deterministic generator (the property test's cases).
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    fn watch(id: &str, channel: &str, at: Timestamp) -> WatchEvent {
        crate::test_support::watch(id, Some(channel), at)
    }

    fn video(id: &str, channel: &str) -> Video {
        crate::test_support::video(id, Some(channel))
    }

    /// Twelve 2-d videos around the circle, "v0" … "v11".
    fn circle() -> Embeddings {
        let rows: Vec<(String, [f32; 2])> = (0..12)
            .map(|i| {
                let a = i as f32 * std::f32::consts::TAU / 12.0;
                (format!("v{i}"), [a.cos(), a.sin()])
            })
            .collect();
        embeddings(&rows.iter().map(|(id, e)| (id.as_str(), *e)).collect::<Vec<_>>())
    }

    #[test]
    fn no_watch_at_or_after_the_moment_changes_any_feature_there() {
        let emb = circle();
        let base = parse_rfc3339("2025-03-01T00:00:00Z").unwrap();
        let mut rng = Lcg(9);
        let titles: Vec<String> = (0..12).map(|i| format!("title of v{i}")).collect();
        let idf = Idf::fit(titles.iter().map(String::as_str));
        let mut known = 0;
        for case in 0..200 {
            // A random history over 30 days, and a random moment inside it.
            let n = 5 + rng.below(60) as usize;
            let mut history: Vec<WatchEvent> = (0..n)
                .map(|_| {
                    let at = base + chrono::Duration::minutes(rng.below(30 * 24 * 60) as i64);
                    watch(&format!("v{}", rng.below(12)), &format!("c{}", rng.below(4)), at)
                })
                .collect();
            let t = base + chrono::Duration::minutes(rng.below(30 * 24 * 60) as i64);
            let before: Vec<WatchEvent> = history.iter().filter(|e| e.watched_at < t).cloned().collect();
            // More at and after the moment: one exactly at it, others later.
            history.push(watch("v3", "c1", t));
            for _ in 0..5 {
                history.push(watch(
                    &format!("v{}", rng.below(12)),
                    "c9",
                    t + chrono::Duration::minutes(rng.below(9999) as i64),
                ));
            }
            // Searches too: one before the moment, one at it, one after.
            let minute = chrono::Duration::minutes(1);
            let query = |at, text: &str, embedding: Vec<f32>| Query { at, text: text.into(), embedding };
            let searches: Vec<Query> = vec![
                query(t - minute, "title of v3", vec![1.0, 0.0]),
                query(t, "title of v4", vec![0.0, 1.0]),
                query(t + minute, "v5", vec![0.0, 1.0]),
            ];
            // And an app timeline over the 30 days and beyond; the cut one ends at the
            // moment (an event running into it cut there).
            let full_events = random_timeline(&mut rng, base, t);
            let cut_events: Vec<AppEvent> = full_events
                .iter()
                .filter(|e| e.start < t)
                .map(|e| {
                    let left = (t - e.start).num_microseconds().unwrap() as f64 / 1e6;
                    AppEvent { duration_s: e.duration_s.min(left), ..e.clone() }
                })
                .collect();
            let timeline = |events: Vec<AppEvent>| prepare_timeline(events, |i| format!("event {i}")).unwrap();
            let (cut_timeline, full_timeline) = (timeline(cut_events), timeline(full_events));
            let besides = |searches, timeline| Besides { searches, timeline: Some(timeline) };
            let cut_besides = besides(&searches[..1], &cut_timeline);
            let (cut, now_cut) = past_before(&before, cut_besides, Some(&idf), &emb, t).unwrap();
            let full_besides = besides(&searches, &full_timeline);
            let (full, now_full) = past_before(&history, full_besides, Some(&idf), &emb, t).unwrap();
            assert_eq!(now_cut, now_full, "case {case}");
            let (a, b) = (cut.moment(t, now_cut.as_ref()), full.moment(t, now_full.as_ref()));
            for i in 0..12 {
                for channel in ["c0", "c1", "c9"] {
                    let v = video(&format!("v{i}"), channel);
                    let lexical = lexical_of_video(&idf, &v);
                    let c = Candidate { lexical: Some(&lexical), ..candidate_of(&v, emb.row(i)) };
                    assert_eq!(a.features(&c), b.features(&c), "case {case}: v{i} of {channel} at {t}");
                }
            }
            assert_eq!(cut.watches(), full.watches(), "case {case}");
            known += usize::from(a.activity_app().is_some());
        }
        // The timelines did reach the features (the moment's apps alike some watches').
        assert!(known > 50, "{known} of 200 moments with a known activity");
    }

    /// Back-to-back app events over 40 days from `base`, and one starting exactly at `t`.
    fn random_timeline(rng: &mut Lcg, base: Timestamp, t: Timestamp) -> Vec<AppEvent> {
        let apps = ["Code", "Steam", "Firefox", "YouTube"];
        let mut events = Vec::new();
        let mut at = base - chrono::Duration::hours(2);
        while at < base + chrono::Duration::days(40) {
            let minutes = 1 + rng.below(90) as i64;
            let app = apps[rng.below(4) as usize];
            if at < t && t < at + chrono::Duration::minutes(minutes) && rng.below(2) == 0 {
                // Some moments fall on an event's start.
                events.push(app_event(app, at, (t - at).num_seconds() as f64 / 60.0));
                at = t;
                continue;
            }
            events.push(app_event(app, at, minutes as f64));
            at += chrono::Duration::minutes(minutes + rng.below(30) as i64);
        }
        events
    }

    fn app_event(app: &str, start: Timestamp, minutes: f64) -> AppEvent {
        AppEvent {
            start,
            duration_s: minutes * 60.0,
            app: app.into(),
            title: String::new(),
            url: None,
            category: Vec::new(),
            bucket: "window".into(),
            host: None,
        }
    }

    #[test]
    #[should_panic(expected = "strictly before")]
    fn a_moment_refuses_a_past_that_reaches_it() {
        let t = parse_rfc3339("2025-03-01T00:00:00Z").unwrap();
        let mut past = Past::new(2);
        past.push(&watch_of(&watch("v0", "c", t), Some(&[1.0, 0.0])));
        past.moment(t, None);
    }

    #[test]
    fn the_reasons_name_the_streak_the_channel_and_a_new_one() {
        let emb = circle();
        let t = parse_rfc3339("2025-03-10T21:00:00Z").unwrap();
        let min = |m: i64| t - chrono::Duration::minutes(m);
        // Long ago one video of "far"; tonight three in a row near v0, from "cooks".
        let history = [
            watch("v6", "far", t - chrono::Duration::days(40)),
            watch("v11", "cooks", min(50)),
            watch("v0", "cooks", min(30)),
            watch("v1", "cooks", min(10)),
        ];
        let (card_free, _) = past_before(&history, Besides::default(), None, &emb, t).unwrap();
        let moment = card_free.moment(t, None);
        let say = |v: &Video, row: usize| {
            let c = candidate_of(v, emb.row(row));
            reasons(&moment, &moment.facts(&c), &moment.features(&c), v, chrono_tz::UTC)
        };
        // Near all three (v0 lies between v11 and v1).
        let next = say(&video("v0", "cooks"), 0);
        assert!(next.contains(&"4th video in a row like “title of v1”".to_string()), "{next:?}");
        assert!(
            next.contains(&"cooks: a channel you watch often (3 watches, the latest 10 min ago)".to_string()),
            "{next:?}"
        );
        assert!(next.iter().any(|r| r.starts_with("one of your interests (")), "{next:?}");
        let other = say(&video("v6", "somebody"), 6);
        assert!(other.contains(&"a channel new to you".to_string()), "{other:?}");
        assert!(!other.iter().any(|r| r.contains("in a row")), "{other:?}");
    }

    #[test]
    fn softmax_adds_up_to_one_in_the_scores_order() {
        let p = softmax(&[2.0, 0.0, 5.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[2] > p[0] && p[0] > p[1]);
    }
}
