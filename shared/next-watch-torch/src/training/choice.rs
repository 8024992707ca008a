//! Which scorer ships: the rule, on each contender's reciprocal ranks over the held-out
//! slice. The network must beat the regression by `margin` standard errors of their
//! paired difference (its extra capacity has to pay for itself) without losing on either
//! question (the moment among the person's own videos, or taste against never-watched
//! ones: a gain on one bought with the other is no gain to a feed that asks both); then
//! the better of the learned scorer and the best single signal ships.

use super::mrr::{mean, paired_standard_error};
use super::sample::Question;
use std::collections::BTreeMap;
use vrd_next_watch::features::Feature;
use vrd_next_watch::method::Method;

#[derive(Debug, Clone, PartialEq)]
pub enum Chosen {
    /// The network, at this training step.
    Network {
        step: usize,
    },
    Regression,
    /// A single feature.
    Signal(Feature),
    /// The early-fusion model, trained for this many epochs.
    Fusion {
        epochs: usize,
    },
}

impl Chosen {
    pub fn name(&self) -> String {
        match self {
            Chosen::Network { .. } => Method::Network.key(),
            Chosen::Regression => Method::Regression.key(),
            Chosen::Signal(feature) => Method::Signal(*feature).key(),
            Chosen::Fusion { .. } => Method::Fusion.key(),
        }
    }
}

/// The contenders' results on the slice and what the rule made of them.
#[derive(Debug, Clone)]
pub struct Choice {
    pub chosen: Chosen,
    /// Each contender's mean reciprocal rank (`network`, `regression`, `signal:NAME`).
    pub mrr: BTreeMap<String, f64>,
    /// The network's gain over the regression and the standard error it had to clear.
    pub network_gain: f64,
    pub standard_error: f64,
    /// The chosen contender's reciprocal rank on each held-out question (what a retrain
    /// compares with the current model on the same questions).
    pub ranks: Vec<f64>,
    /// The early-fusion contender's result, when it contended.
    pub fusion: Option<FusionContest>,
    /// The taste direction's L2 penalty the slice chose (the learned scorers were fitted
    /// with it; 0: no taste direction).
    pub taste_l2: f64,
}

/// `network`: its best step and that step's reciprocal ranks (step 0 is the regression
/// itself); `questions`: what each held-out group asked.
pub fn choose(
    regression: &[f64],
    network: (usize, &[f64]),
    signals: &[(Feature, Vec<f64>)],
    margin: f64,
    questions: &[Question],
) -> Choice {
    let mut mrr =
        BTreeMap::from([(Method::Regression.key(), mean(regression)), (Method::Network.key(), mean(network.1))]);
    for (feature, rr) in signals {
        mrr.insert(Method::Signal(*feature).key(), mean(rr));
    }
    let Margin { wins, gain, se } = Margin::of(network.1, regression, margin, questions);
    let (mut chosen, mut best, mut ranks) = match network.0 > 0 && wins {
        true => (Chosen::Network { step: network.0 }, mean(network.1), network.1),
        false => (Chosen::Regression, mean(regression), regression),
    };
    for (feature, rr) in signals {
        if mean(rr) > best {
            (chosen, best, ranks) = (Chosen::Signal(*feature), mean(rr), rr);
        }
    }
    Choice { chosen, mrr, network_gain: gain, standard_error: se, ranks: ranks.to_vec(), fusion: None, taste_l2: 0.0 }
}

/// A deeper contender against what would ship without it: it wins if its mean reciprocal
/// rank is higher by more than `margin` standard errors of the paired difference, and it
/// loses on neither question.
pub struct Margin {
    pub wins: bool,
    pub gain: f64,
    /// The standard error of the paired difference.
    pub se: f64,
}

impl Margin {
    pub fn of(contender: &[f64], incumbent: &[f64], margin: f64, questions: &[Question]) -> Margin {
        let gain = mean(contender) - mean(incumbent);
        let se = paired_standard_error(contender, incumbent);
        let on = |rr: &[f64], q: Question| -> f64 {
            let v: Vec<f64> = rr.iter().zip(questions).filter(|(_, &k)| k == q).map(|(r, _)| *r).collect();
            mean(&v)
        };
        let no_loss = [Question::Timing, Question::Taste].iter().all(|&q| on(contender, q) >= on(incumbent, q));
        Margin { wins: gain > 0.0 && gain > margin * se && no_loss, gain, se }
    }
}

/// The early-fusion contender's result on the slice: its best epoch and that epoch's
/// reciprocal ranks, against the fast choice.
#[derive(Debug, Clone)]
pub struct FusionContest {
    pub epochs: usize,
    pub mrr: f64,
    /// Against the fast scorer the rule chose.
    pub gain: f64,
    pub standard_error: f64,
}

/// The choice with the fusion contender in it: it ships over the fast choice only by the
/// margin (`Margin`); `fusion`: its best epoch (0: the regression alone) and that epoch's
/// reciprocal ranks.
pub fn with_fusion(
    mut choice: Choice,
    fusion: (usize, &[f64]),
    margin: f64,
    questions: &[Question],
) -> (Choice, FusionContest) {
    let m = Margin::of(fusion.1, &choice.ranks, margin, questions);
    let contest = FusionContest { epochs: fusion.0, mrr: mean(fusion.1), gain: m.gain, standard_error: m.se };
    choice.mrr.insert(Method::Fusion.key(), contest.mrr);
    if fusion.0 > 0 && m.wins {
        choice.chosen = Chosen::Fusion { epochs: fusion.0 };
        choice.ranks = fusion.1.to_vec();
    }
    (choice, contest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_ships_only_by_the_margin() {
        let regression = vec![0.5; 100];
        // +0.02 on average, with a spread: the standard error of the difference is 0.01.
        let network: Vec<f64> = (0..100).map(|i| if i % 2 == 0 { 0.62 } else { 0.42 }).collect();
        let questions: Vec<Question> =
            (0..100).map(|i| if i % 4 < 2 { Question::Timing } else { Question::Taste }).collect();
        let c = choose(&regression, (40, &network), &[], 1.0, &questions);
        assert!((c.network_gain - 0.02).abs() < 1e-9 && (c.standard_error - 0.01005).abs() < 1e-4);
        assert_eq!(c.chosen, Chosen::Network { step: 40 });
        assert_eq!(c.ranks, network, "the chosen network's ranks");
        assert_eq!(choose(&regression, (40, &network), &[], 3.0, &questions).chosen, Chosen::Regression);
        // Step 0 is the regression itself: never "the network".
        assert_eq!(choose(&regression, (0, &network), &[], 0.0, &questions).chosen, Chosen::Regression);
        // The same gain, all of it on taste and a loss on timing: the regression stays.
        let lopsided: Vec<f64> = questions.iter().map(|q| if *q == Question::Timing { 0.49 } else { 0.55 }).collect();
        let c = choose(&regression, (40, &lopsided), &[], 0.0, &questions);
        assert!(c.network_gain > 0.0);
        assert_eq!(c.chosen, Chosen::Regression);
    }

    #[test]
    fn fusion_ships_only_over_the_fast_choice_by_the_margin() {
        let questions: Vec<Question> =
            (0..100).map(|i| if i % 4 < 2 { Question::Timing } else { Question::Taste }).collect();
        let regression = vec![0.5; 100];
        let fast = choose(&regression, (0, &regression), &[], 1.0, &questions);
        let better: Vec<f64> = (0..100).map(|i| if i % 2 == 0 { 0.62 } else { 0.42 }).collect();
        let (c, contest) = with_fusion(fast.clone(), (2, &better), 1.0, &questions);
        assert_eq!(c.chosen, Chosen::Fusion { epochs: 2 });
        assert_eq!(c.chosen.name(), "fusion");
        assert_eq!(c.ranks, better);
        assert!((contest.gain - 0.02).abs() < 1e-9 && (c.mrr["fusion"] - 0.52).abs() < 1e-9);
        // Not by three standard errors; and epoch 0 is the regression itself.
        assert_eq!(with_fusion(fast.clone(), (2, &better), 3.0, &questions).0.chosen, Chosen::Regression);
        assert_eq!(with_fusion(fast, (0, &better), 0.0, &questions).0.chosen, Chosen::Regression);
    }

    #[test]
    fn a_single_signal_ships_when_it_beats_what_was_learned() {
        let regression = vec![0.5; 10];
        let questions = [Question::Timing; 10];
        let c = choose(
            &regression,
            (0, &regression),
            &[(Feature::SimLast, vec![0.6; 10]), (Feature::SimProfile, vec![0.55; 10])],
            1.0,
            &questions,
        );
        assert_eq!(c.chosen, Chosen::Signal(Feature::SimLast));
        assert_eq!(c.chosen.name(), "signal:sim_last");
        assert_eq!(c.ranks, vec![0.6; 10], "the chosen signal's ranks");
        assert!((c.mrr["signal:sim_profile"] - 0.55).abs() < 1e-12);
        let c = choose(&regression, (0, &regression), &[(Feature::SimLast, vec![0.4; 10])], 1.0, &questions);
        assert_eq!(c.chosen, Chosen::Regression);
    }
}
