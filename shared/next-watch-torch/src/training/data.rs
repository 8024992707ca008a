//! The training moments of a history as feature tensors: each group's positive first, then
//! its negatives, every row the features of that video at the group's moment as
//! `crate` computes them for ranking (the same [`Past`], walked once in time
//! order, so nothing at or after a moment reaches its features).

use super::sample::{self, Group, Item, Sampling};
use anyhow::{bail, Result};
use std::collections::{HashMap, HashSet};
use vrd_core::context::Timeline;
use vrd_core::records::{Video, WatchEvent};
use vrd_core::tensors::Embeddings;
use vrd_next_watch::activity::{activities, Activity};
use vrd_next_watch::features::{channel_key, Candidate, Features, FEATURES};
use vrd_next_watch::feed::Query;
use vrd_next_watch::past::{Past, Watch};
use vrd_next_watch::{lexical_documents, lexical_of_video, lexical_of_watch, prepare_history, watch_of};
use vrd_ranking::lexical::{Idf, LexicalVector};

/// What the model learns from.
pub struct NextWatchInputs<'a> {
    /// The watch history, as read (it is prepared here: time order, repeats merged,
    /// untitled left out).
    pub history: &'a [WatchEvent],
    /// Videos the person never watched (stored candidates, subscriptions' uploads): taste
    /// negatives. Watched ones among them are left out.
    pub unwatched: &'a [Video],
    /// Videos' details where known (the upload time), by id.
    pub details: HashMap<&'a str, &'a Video>,
    /// The person's searches (time, query embedding), in time order.
    pub searches: &'a [Query],
    /// The person's app timeline, where there is one.
    pub timeline: Option<&'a Timeline>,
    pub embeddings: &'a Embeddings,
    /// Whether the model reads titles in the lexical view too (its frequencies made from
    /// the history and `unwatched`).
    pub lexical: bool,
}

/// Groups of feature rows, padded to the largest group.
pub struct Dataset {
    pub groups: Vec<Group>,
    /// `[groups, width, features]`, row 0 of each group the positive.
    pub x: Vec<f32>,
    /// Each row's video as its row in the embeddings (0 for padding).
    pub embedding_rows: Vec<i64>,
    /// How many rows of each group are real.
    pub sizes: Vec<usize>,
    pub width: usize,
    /// The prepared history's length, first and last watch.
    pub watches: usize,
    /// How many never-watched candidates were usable.
    pub unwatched: usize,
    /// How many of the history's watches the timeline knows the hour before of.
    pub with_activity: usize,
    /// The lexical view's frequencies the rows were made with, if any.
    pub lexical: Option<Idf>,
    pub span: Option<(vrd_core::time::Timestamp, vrd_core::time::Timestamp)>,
}

impl Dataset {
    /// The distinct moments (each asked one or two questions).
    pub fn moments(&self) -> usize {
        let mut m: Vec<usize> = self.groups.iter().map(|g| g.moment).collect();
        m.dedup();
        m.len()
    }

    pub fn row(&self, g: usize, r: usize) -> &[f32] {
        let f = FEATURES.len();
        let start = (g * self.width + r) * f;
        &self.x[start..start + f]
    }
}

pub fn build(inputs: &NextWatchInputs, sampling: &Sampling) -> Result<Dataset> {
    let history = prepare_history(inputs.history);
    let emb = inputs.embeddings;
    let index = emb.index();
    let row_of = |id: &str| index.get(id).map(|&r| emb.row(r));
    let row_index = |id: &str| index[id] as i64;
    let watched: HashSet<&str> = history.iter().map(|e| e.video_id.as_str()).collect();
    let mut seen = HashSet::new();
    let unwatched: Vec<&Video> = inputs
        .unwatched
        .iter()
        .filter(|v| !watched.contains(v.video_id.as_str()) && row_of(&v.video_id).is_some() && seen.insert(&v.video_id))
        .collect();
    let usable = |i: usize| row_of(&history[i].video_id).is_some();
    let groups = sample::groups(&history, &usable, unwatched.len(), sampling);
    if groups.is_empty() {
        bail!(
            "the history has no moment to learn from: {} titled watches with embeddings, and a moment needs {} before it",
            history.iter().filter(|e| row_of(&e.video_id).is_some()).count(),
            sampling.min_history
        );
    }
    let width = 1 + groups.iter().map(|g| g.negatives.len()).max().unwrap_or(0);
    let f = FEATURES.len();
    let mut x = vec![0f32; groups.len() * width * f];
    let mut sizes = Vec::with_capacity(groups.len());
    let mut embedding_rows = vec![0i64; groups.len() * width];
    let published = |id: &str| inputs.details.get(id).and_then(|v| v.published_at);
    // The apps of the hour before every watch (a moment is its first watch's time).
    let watch_activity = match inputs.timeline {
        Some(timeline) => activities(timeline, &history.iter().map(|e| e.watched_at).collect::<Vec<_>>())?,
        None => vec![None; history.len()],
    };
    // The lexical view: its frequencies from the history and the never-watched videos
    // (each video once), every watch's and candidate's vector made once.
    let idf = inputs.lexical.then(|| lexical_documents(history.iter().copied(), unwatched.iter().copied()));
    let watch_lexical: Vec<Option<LexicalVector>> =
        history.iter().map(|e| idf.as_ref().map(|idf| lexical_of_watch(idf, e))).collect();
    let unwatched_lexical: Vec<Option<LexicalVector>> =
        unwatched.iter().map(|v| idf.as_ref().map(|idf| lexical_of_video(idf, v))).collect();
    let mut past = Past::new(emb.meta.dim);
    let (mut pushed, mut searched) = (0, 0);
    for (g, group) in groups.iter().enumerate() {
        while pushed < history.len() && history[pushed].watched_at < group.at {
            let activity: Option<&Activity> = watch_activity[pushed].as_ref();
            let lexical = watch_lexical[pushed].as_ref();
            past.push(&Watch { activity, lexical, ..watch_of(history[pushed], row_of(&history[pushed].video_id)) });
            pushed += 1;
        }
        while searched < inputs.searches.len() && inputs.searches[searched].at < group.at {
            let q = &inputs.searches[searched];
            let lexical = idf.as_ref().map(|idf| idf.vector(&q.text));
            past.push_search(q.at, &q.embedding, lexical.as_ref());
            searched += 1;
        }
        let moment = past.moment(group.at, watch_activity[group.moment].as_ref());
        let watched_candidate = |i: usize| {
            let e = history[i];
            Candidate {
                embedding: row_of(&e.video_id).expect("groups hold only embedded videos"),
                lexical: watch_lexical[i].as_ref(),
                channel: channel_key(e.channel_id.as_deref(), e.channel.as_deref()),
                published_at: published(&e.video_id),
            }
        };
        let mut rows: Vec<Features> = vec![moment.features(&watched_candidate(group.moment))];
        let mut ids: Vec<&str> = vec![&history[group.moment].video_id];
        for n in &group.negatives {
            rows.push(match *n {
                Item::Watched(i) => {
                    ids.push(&history[i].video_id);
                    moment.features(&watched_candidate(i))
                }
                Item::Unwatched(k) => {
                    let v = unwatched[k];
                    ids.push(&v.video_id);
                    moment.features(&Candidate {
                        embedding: row_of(&v.video_id).expect("kept only with an embedding"),
                        lexical: unwatched_lexical[k].as_ref(),
                        channel: channel_key(v.channel_id.as_deref(), v.channel.as_deref()),
                        published_at: v.published_at,
                    })
                }
            });
        }
        for (r, id) in ids.iter().enumerate() {
            embedding_rows[g * width + r] = row_index(id);
        }
        for (r, features) in rows.iter().enumerate() {
            let start = (g * width + r) * f;
            x[start..start + f].copy_from_slice(features);
        }
        sizes.push(rows.len());
    }
    let span = history.first().zip(history.last()).map(|(a, b)| (a.watched_at, b.watched_at));
    let with_activity = watch_activity.iter().filter(|a| a.is_some()).count();
    Ok(Dataset {
        groups,
        x,
        embedding_rows,
        sizes,
        width,
        watches: history.len(),
        unwatched: unwatched.len(),
        with_activity,
        span,
        lexical: idf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::records::AppEvent;
    use vrd_core::tensors::EmbeddingMeta;
    use vrd_next_watch::features::Feature;
    use vrd_next_watch::feed::{candidate_of, past_before, Besides};

    /// Training sees at each moment exactly what ranking sees there: every group's rows
    /// equal the features `vrd_next_watch::feed` computes from the history before it.
    #[test]
    fn training_rows_are_the_features_ranking_computes_at_the_moment() {
        let ids: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let data: Vec<f32> = (0..40)
            .flat_map(|i| {
                let a = i as f32 * 0.7;
                [a.cos(), a.sin(), (i % 3) as f32 * 0.3]
            })
            .collect();
        let meta = EmbeddingMeta {
            model_id: "m".into(),
            dim: 3,
            ids: ids.clone(),
            text_hashes: ids.iter().map(|_| "h".into()).collect(),
        };
        let embeddings = Embeddings::from_parts(meta, data).unwrap();
        let start = vrd_core::time::parse_rfc3339("2025-01-01T08:00:00Z").unwrap();
        // Every 4th watch a new video (the moments, spread over the 25 days, so that the
        // later ones look back a whole fortnight), the others rewatches of earlier ones.
        let history: Vec<WatchEvent> = (0..120)
            .map(|k| WatchEvent {
                video_id: ids[if k % 4 == 0 { k / 4 } else { (k * 7) % (k / 4 + 1) }].clone(),
                // Three series, each episode titled on its own: the lexical view has grams
                // to share.
                title: format!("{} part {k}", ["cooking show", "daily news", "minecraft hardcore"][k % 3]),
                title_unknown: false,
                channel: Some(format!("c{}", k % 5)),
                channel_id: None,
                watched_at: start + chrono::Duration::hours(k as i64 * 5),
                source: "test".into(),
                watched_s: None,
            })
            .collect();
        // Searches every 3 days, along the first axis or the second.
        let searches: Vec<Query> = (0..8)
            .map(|k| Query {
                at: start + chrono::Duration::hours(k * 72 + 1),
                text: ["minecraft", "news today"][k as usize % 2].into(),
                embedding: vec![(k % 2) as f32, 1.0 - (k % 2) as f32, 0.0],
            })
            .collect();
        // Every 5 hours, the hour before a watch alternates between two apps (and some
        // hours hold YouTube alone, which is left out).
        let events: Vec<AppEvent> = (0..121)
            .map(|k| AppEvent {
                start: start + chrono::Duration::hours(k as i64 * 5) - chrono::Duration::minutes(50),
                duration_s: 40.0 * 60.0,
                app: ["Code", "Steam", "YouTube"][k % 3].into(),
                title: String::new(),
                url: None,
                category: Vec::new(),
                bucket: "window".into(),
                host: None,
            })
            .collect();
        let timeline = vrd_core::context::prepare_timeline(events, |i| format!("event {i}")).unwrap();
        let unwatched: Vec<Video> = ids[30..]
            .iter()
            .map(|id| serde_json::from_value(serde_json::json!({"video_id": id, "title": id, "channel": "x"})).unwrap())
            .collect();
        let inputs = NextWatchInputs {
            history: &history,
            unwatched: &unwatched,
            details: HashMap::new(),
            searches: &searches,
            timeline: Some(&timeline),
            embeddings: &embeddings,
            lexical: true,
        };
        let ds = build(&inputs, &Sampling { min_history: 3, ..Sampling::default() }).unwrap();
        // Ranking reads the view from the card.
        let idf = Idf::from_card(&ds.lexical.as_ref().unwrap().to_card()).unwrap();
        assert!(ds.groups.len() > 20);
        assert!(ds.with_activity > 50, "{} watches with their hour's apps", ds.with_activity);
        let prepared = prepare_history(&history);
        let index = embeddings.index();
        let mut lexical_seen = [0; 3];
        for (g, group) in ds.groups.iter().enumerate() {
            let besides = Besides { searches: &searches, timeline: Some(&timeline) };
            let (past, now) = past_before(&history, besides, Some(&idf), &embeddings, group.at).unwrap();
            let moment = past.moment(group.at, now.as_ref());
            let target = prepared[group.moment];
            let v: Video = serde_json::from_value(serde_json::json!({
                "video_id": target.video_id, "title": target.title, "channel": target.channel
            }))
            .unwrap();
            let lexical = lexical_of_video(&idf, &v);
            let c =
                Candidate { lexical: Some(&lexical), ..candidate_of(&v, embeddings.row(index[v.video_id.as_str()])) };
            let features = moment.features(&c);
            assert_eq!(ds.row(g, 0), &features[..], "group {g} at {}", group.at);
            for (seen, f) in
                lexical_seen.iter_mut().zip([Feature::LexLast, Feature::LexMaxLast10, Feature::LexSearchWeek])
            {
                *seen += usize::from(features[f] > 0.1);
            }
            assert_eq!(ds.embedding_rows[g * ds.width], index[v.video_id.as_str()] as i64);
        }
        assert!(lexical_seen.iter().all(|&n| n > 5), "the lexical features were at work: {lexical_seen:?}");
    }
}
