//! What answers each question: the trained model against the better linear baseline on
//! the held-out half of the validation slice, by the one-standard-error rule ([`Contest`]);
//! and the trained result assembled from the best epoch, calibrated and chosen.

use super::calibration::{calibrate_on, Calibrated};
use super::epochs::{restore, BestEpoch, EpochLoop, Training};
use super::setup::{refit_baselines, wide_matrix, Baselines, Setup};
use super::{auc_and_standard_error, auc_on, margins, Trained};
use crate::data::{Dataset, Row};
use crate::net::fast::Scorer;
use crate::net::wide::WideFeatures;
use crate::net::{Net, RankerSpec};
use anyhow::Result;
use std::collections::BTreeMap;
use tch::{Device, Kind};
use vrd_core::records::{Head, PerHead};

/// What answers one question, why, and how its margins become probabilities.
#[derive(Debug, Clone)]
pub struct Choice {
    pub scorer: Scorer,
    pub calibrated: Calibrated,
    /// ROC-AUC of each candidate on the held-out validation half the choice was made on.
    pub validation: BTreeMap<String, f64>,
    /// The standard error of the model's ROC-AUC there: what it had to beat the baseline by.
    pub standard_error: Option<f64>,
}

/// The best epoch's weights back, in f32 (what ranking runs); calibrated on the held-out
/// half of the validation slice, met there with the baselines per question, and the
/// chosen scorer written into the fast model.
pub(super) fn calibrate_and_choose(
    setup: Setup,
    training: Training,
    state: EpochLoop,
    data: &Dataset,
    arch: &RankerSpec,
    device: Device,
    context_blind: bool,
) -> Result<Trained> {
    let Setup { fit, val, scale, features, mut baselines, .. } = setup;
    let Training { mut vs, mut model, .. } = training;
    let BestEpoch { epoch: best_epoch, weights: weights_at_best, .. } = state.best;
    restore(&vs, &weights_at_best)?;
    // What is calibrated, evaluated and saved is the f32 model ranking will run.
    vs.float();
    let on = (device, Kind::Float);

    // The model meets the baseline on the half its epoch was not picked on: on the other,
    // the best of 20 epochs would flatter it.
    let own_held = margins(&model, data, &val.calibrate, &scale, on, context_blind);
    let own = PerHead::new(|head| {
        calibrate_on(&val, head, |rows| margins(&model, data, rows, &scale, on, context_blind).get(head).clone())
    });
    let chosen = PerHead::new(|head| {
        choose(
            head,
            arch,
            &baselines,
            own_held.get(head),
            *own.get(head),
            &features,
            data,
            &val.calibrate,
            context_blind,
        )
    });
    // Chosen and calibrated, the baselines are fitted again with the validation slice
    // added (their strength kept): a quarter more answers, which a linear model on a few
    // hundred is worth (MovieLens interest 0.58 → 0.60). Their calibration, and the
    // model's, stays the one fitted on held-out margins; a test fold is in neither.
    let everything: Vec<&Row> = fit.iter().chain(&val.all).copied().collect();
    for head in Head::ALL {
        refit_baselines(baselines.get_mut(head), &features, data, &everything, head, context_blind);
    }
    if let Net::Fast(m) = &mut model {
        for head in Head::ALL {
            let choice = chosen.get(head);
            let b = baselines.get(head);
            // The model's wide path becomes the refitted regression too, the deep residual
            // kept: it was chosen over the start on the slice, and the regression is the
            // better for the slice's answers. With the deep part at zero (the start won)
            // the model is the regression exactly, never below it.
            m.set_linear(head, true, &b.logistic.weight, b.logistic.bias);
            match choice.scorer {
                Scorer::Model => {}
                Scorer::LogisticRegression => m.set_linear(head, false, &b.logistic.weight, b.logistic.bias),
                Scorer::Similarity => m.set_linear(head, false, &b.similarity.weight, b.similarity.bias),
            }
            *m.config.scorers.get_mut(head) = choice.scorer;
        }
    }
    Ok(Trained { vs, model, scale, best_epoch, context_blind, own, chosen, baselines, features })
}

/// Picks what answers `head`: the model, unless the better baseline ranks the held-out
/// validation half within one standard error as well. Which baseline competes is
/// settled first on the inner time-series splits of the fit part, which hold many more
/// answers than the slice: comparing all three on a few dozen answers let the weakest
/// win by chance. The fusion model cannot carry a baseline and always answers itself.
#[allow(clippy::too_many_arguments)]
pub(super) fn choose(
    head: Head,
    arch: &RankerSpec,
    baselines: &PerHead<Baselines>,
    own_margins: &[f64],
    own: Calibrated,
    features: &WideFeatures,
    data: &Dataset,
    held: &[&Row],
    blind: bool,
) -> Choice {
    let b = baselines.get(head);
    let x = wide_matrix(features, data, held, head, blind);
    let mut validation = BTreeMap::new();
    let inner = |s: Scorer| b.inner_roc_auc.get(s.name()).copied();
    let contender = match (inner(Scorer::LogisticRegression), inner(Scorer::Similarity)) {
        (Some(lr), Some(sim)) if sim > lr + 1e-12 => Some(Scorer::Similarity),
        (Some(_), _) => Some(Scorer::LogisticRegression),
        (None, Some(_)) => Some(Scorer::Similarity),
        // No split to settle it on: both compete on the slice.
        (None, None) => None,
    };
    let own_scored = auc_and_standard_error(own_margins, held, head);
    let candidates = [
        (Scorer::LogisticRegression, auc_on(&b.logistic.margins(&x), held, head), b.logistic_calibrated),
        (Scorer::Similarity, auc_on(&b.similarity.margins(&x), held, head), b.similarity_calibrated),
        (Scorer::Model, own_scored.map(|(auc, _)| auc), own),
    ];
    let mut baseline: Option<(Scorer, f64, Calibrated)> = None;
    let mut model_auc = None;
    for (scorer, auc, calibrated) in candidates {
        let Some(auc) = auc else { continue };
        validation.insert(scorer.name().to_string(), auc);
        if scorer == Scorer::Model {
            model_auc = Some(auc);
        } else if matches!(arch, RankerSpec::Fast)
            && contender.is_none_or(|c| c == scorer)
            && baseline.is_none_or(|(_, a, _)| auc > a + 1e-12)
        {
            baseline = Some((scorer, auc, calibrated));
        }
    }
    // The one-standard-error rule: the model, the less simple candidate, must beat the
    // baseline by more than its own ROC-AUC's standard error on this half. A few dozen
    // answers cannot tell two near-equal scorers apart, and then the baseline, refitted
    // on more answers afterwards, is the better bet.
    let standard_error = own_scored.map(|(_, se)| se);
    let contest = Contest { baseline: baseline.map(|(s, auc, _)| (s, auc)), model: model_auc.zip(standard_error) };
    let scorer = contest.winner();
    let calibrated = match baseline {
        Some((s, _, calibrated)) if s == scorer => calibrated,
        _ => own,
    };
    Choice { scorer, calibrated, validation, standard_error }
}

/// One question's contenders on the held-out half of the validation slice: the better
/// baseline (its scorer and ROC-AUC) and the model (its ROC-AUC and that figure's standard
/// error), each where it could be scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Contest {
    pub(super) baseline: Option<(Scorer, f64)>,
    pub(super) model: Option<(f64, f64)>,
}

impl Contest {
    /// The one-standard-error rule: the model, the less simple candidate, answers only if
    /// it beats the baseline by more than its own ROC-AUC's standard error; a baseline
    /// answers when the model could not be scored; the model when there is no baseline.
    pub(super) fn winner(&self) -> Scorer {
        match (self.baseline, self.model) {
            (Some((scorer, auc)), Some((model, se))) if model <= auc + se => scorer,
            (Some((scorer, _)), None) => scorer,
            _ => Scorer::Model,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_answers_only_beyond_one_standard_error() {
        let _rng = crate::torch_rng_lock();
        let lr = Some((Scorer::LogisticRegression, 0.80));
        let contest = |baseline, model| Contest { baseline, model }.winner();
        // Ahead by less than its standard error, or level: the baseline.
        assert_eq!(contest(lr, Some((0.83, 0.05))), Scorer::LogisticRegression);
        assert_eq!(contest(lr, Some((0.85, 0.05))), Scorer::LogisticRegression, "exactly one error ahead");
        // Ahead by more: the model.
        assert_eq!(contest(lr, Some((0.86, 0.05))), Scorer::Model);
        let sim = Some((Scorer::Similarity, 0.70));
        assert_eq!(contest(sim, Some((0.60, 0.01))), Scorer::Similarity, "behind");
        // The model could not be scored on the half (one class only): the baseline.
        assert_eq!(contest(sim, None), Scorer::Similarity);
        // No baseline competes (the fusion model, or none could be scored): the model.
        assert_eq!(contest(None, Some((0.5, 0.1))), Scorer::Model);
        assert_eq!(contest(None, None), Scorer::Model);
    }
}
