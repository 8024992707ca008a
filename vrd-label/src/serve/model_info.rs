//! What the progress page says about the model `--model` names: when it was trained and on
//! what, how it did on what it held out against the cold start, the last retrain and why
//! it was refused if it was, and which videos the model is least sure of (answering those
//! teaches it most). Read on every request: a nightly retrain swaps the folder's version.

use anyhow::Result;
use std::path::Path;
use vrd_core::model_dir::ModelDir;
use vrd_core::model_versions::Outcome;
use vrd_core::records::{FeedItem, Score};
use vrd_next_watch::card::NextWatchCard;
use vrd_next_watch::features::Feature;
use vrd_next_watch::method::Method;

/// An interest probability this close to a coin toss marks a video the model cannot place.
const UNSURE: std::ops::RangeInclusive<f64> = 0.35..=0.65;

/// The page's sentences about the model, each already in words.
#[derive(Default)]
pub struct ModelInfo {
    /// "Trained 2026-12-06 03:00 UTC (2 hours ago) on 2,943 watches and 120 answers."
    pub trained: Option<String>,
    /// The next-watch model on its held-out moments against the cold start's profile.
    pub next_watch: Option<String>,
    /// The answers' model per question on its held-out answers.
    pub answers: Vec<String>,
    /// The last retrain, and why it was refused if it was.
    pub last_retrain: Option<String>,
    /// How many answers the model asks for next, from its uncertainty.
    pub asks: Option<String>,
    /// The videos of the latest feed it is least sure of: (id, title, interest).
    pub unsure: Vec<(String, String, String)>,
}

pub fn read(model: &Path, latest_feed: &[FeedItem]) -> Result<ModelInfo> {
    let mut info = ModelInfo::default();
    let dir = ModelDir::new(model);
    let next_watch_card = NextWatchCard::read_if_present(model)?;
    let answers = dir.read_answers_summary()?;
    let trained_on = dir.read_trained_on();

    let answer_rows = answers.as_ref().map(|a| a.training.rows as u64);
    let watches =
        trained_on.as_ref().map(|t| t.watches as u64).or(next_watch_card.as_ref().map(|p| p.history.watches as u64));
    let answers_count = trained_on.as_ref().map(|t| t.answers as u64).or(answer_rows);
    let trained_at = trained_on
        .as_ref()
        .map(|t| t.trained_at)
        .or_else(|| answers.as_ref().and_then(|a| a.training.trained_at))
        .or_else(|| std::fs::metadata(dir.next_watch_card()).and_then(|m| m.modified()).ok().map(Into::into));
    if let Some(at) = trained_at {
        let on = [watches.map(|n| format!("{n} watches")), answers_count.map(|n| format!("{n} answers"))]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" and ");
        info.trained = Some(format!(
            "Trained {} ({}){}.",
            at.format("%Y-%m-%d %H:%M UTC"),
            super::ago::age(chrono::Utc::now() - at),
            if on.is_empty() { String::new() } else { format!(" on {on}") }
        ));
    }
    if let Some(p) = &next_watch_card {
        let chosen = p.selection.get(&p.chosen).copied();
        let cold = p.selection.get(&Method::Signal(Feature::SimProfile).key()).copied();
        let held_out = p.training.get("held_out_groups").and_then(|v| v.as_u64()).unwrap_or(0);
        info.next_watch = Some(match (chosen, cold) {
            (Some(m), Some(c)) => format!(
                "Next watch: on the latest {held_out} moments of your history it held out, the video you went on to \
                 watch came at mean reciprocal rank {m:.3} ({}), against {c:.3} for the cold start's taste profile: ×{:.2}.",
                p.chosen,
                m / c.max(1e-9)
            ),
            _ => format!("Next watch: {} (too little history to hold any out and measure it).", p.chosen),
        });
    }
    if let Some(a) = &answers {
        for (figures, head) in [(&a.selection.interest, "interest"), (&a.selection.right_time, "right time")] {
            let model_auc = figures.get("model").copied();
            let best = figures
                .iter()
                .filter(|(k, _)| k.as_str() != "model")
                .map(|(k, &v)| (k, v))
                .max_by(|x, y| x.1.total_cmp(&y.1));
            if let (Some(m), Some((name, b))) = (model_auc, best) {
                info.answers.push(format!(
                    "Answers, {head}: ROC-AUC {m:.3} on the held-out answers, against {b:.3} for the {} baseline.",
                    name.replace('_', " ")
                ));
            }
        }
    }
    let versions = dir.versions();
    if let Some(last) = versions.log()?.into_iter().rev().find(|r| r.outcome != Outcome::Skipped) {
        let what = match last.outcome {
            Outcome::Deployed => "deployed",
            Outcome::Refused => "refused, the model before it kept",
            Outcome::Failed => "failed, the model before it kept",
            Outcome::RolledBack => "rolled back",
            Outcome::Skipped => unreachable!("left out above"),
        };
        info.last_retrain = Some(format!(
            "Last retrain {} ({}): {what}. {}.",
            last.at.format("%Y-%m-%d %H:%M UTC"),
            super::ago::age(chrono::Utc::now() - last.at),
            vrd_ranking::words::capitalised(last.reason.trim_end_matches('.'))
        ));
    }
    // Uncertainty sampling: the videos whose interest is closest to a coin toss.
    let mut unsure: Vec<&FeedItem> =
        latest_feed.iter().filter(|i| i.score_of(Score::Interest).is_some_and(|p| UNSURE.contains(&p))).collect();
    let doubt = |i: &FeedItem| (i.score_of(Score::Interest).expect("kept above") - 0.5).abs();
    unsure.sort_by(|a, b| doubt(a).total_cmp(&doubt(b)));
    info.asks = Some(match (answers.is_some(), unsure.len()) {
        (false, _) => "No answers' model yet: the next retrain trains one once you have given 20 answers.".into(),
        (true, 0) => "The model is sure of every video in the latest feed: answer any you disagree with.".into(),
        (true, n) => format!(
            "The model needs {n} answers next: it is least sure (interest between 35% and 65%) of these videos of \
             the latest feed, and answering them teaches it most."
        ),
    });
    info.unsure = unsure
        .iter()
        .take(10)
        .map(|i| {
            (
                i.video_id.clone(),
                i.title.clone(),
                format!("{:.0}%", i.score_of(Score::Interest).expect("kept above") * 100.0),
            )
        })
        .collect();
    Ok(info)
}
