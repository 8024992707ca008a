//! Which scorer ships: the rule, on each contender's reciprocal ranks over the held-out
//! slice. The network must beat the regression by `margin` standard errors of their
//! paired difference (its extra capacity has to pay for itself) without losing on either
//! question (the moment among the person's own videos, or taste against never-watched
//! ones: a gain on one bought with the other is no gain to a feed that asks both); then
//! the better of the learned scorer and the best single signal ships.

use super::fit::{mean, paired_standard_error};
use super::sample::Question;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Chosen {
    /// The network, at this training step.
    Network {
        step: usize,
    },
    Regression,
    /// A single feature.
    Signal(String),
}

impl Chosen {
    pub fn name(&self) -> String {
        match self {
            Chosen::Network { .. } => "network".into(),
            Chosen::Regression => "regression".into(),
            Chosen::Signal(name) => format!("signal:{name}"),
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
}

/// `network`: its best step and that step's reciprocal ranks (step 0 is the regression
/// itself); `questions`: what each held-out group asked.
pub fn choose(
    regression: &[f64],
    network: (usize, &[f64]),
    signals: &[(&str, Vec<f64>)],
    margin: f64,
    questions: &[Question],
) -> Choice {
    let mut mrr =
        BTreeMap::from([("regression".to_string(), mean(regression)), ("network".to_string(), mean(network.1))]);
    for (name, rr) in signals {
        mrr.insert(format!("signal:{name}"), mean(rr));
    }
    let gain = mean(network.1) - mean(regression);
    let se = paired_standard_error(network.1, regression);
    let on = |rr: &[f64], q: Question| -> f64 {
        let v: Vec<f64> = rr.iter().zip(questions).filter(|(_, &k)| k == q).map(|(r, _)| *r).collect();
        mean(&v)
    };
    let no_loss = [Question::Timing, Question::Taste].iter().all(|&q| on(network.1, q) >= on(regression, q));
    let (mut chosen, mut best, mut ranks) = match network.0 > 0 && gain > 0.0 && gain > margin * se && no_loss {
        true => (Chosen::Network { step: network.0 }, mean(network.1), network.1),
        false => (Chosen::Regression, mean(regression), regression),
    };
    for (name, rr) in signals {
        if mean(rr) > best {
            (chosen, best, ranks) = (Chosen::Signal(name.to_string()), mean(rr), rr);
        }
    }
    Choice { chosen, mrr, network_gain: gain, standard_error: se, ranks: ranks.to_vec() }
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
    fn a_single_signal_ships_when_it_beats_what_was_learned() {
        let regression = vec![0.5; 10];
        let questions = [Question::Timing; 10];
        let c = choose(
            &regression,
            (0, &regression),
            &[("sim_last", vec![0.6; 10]), ("x", vec![0.55; 10])],
            1.0,
            &questions,
        );
        assert_eq!(c.chosen, Chosen::Signal("sim_last".into()));
        assert_eq!(c.chosen.name(), "signal:sim_last");
        assert_eq!(c.ranks, vec![0.6; 10], "the chosen signal's ranks");
        assert!((c.mrr["signal:x"] - 0.55).abs() < 1e-12);
        let c = choose(&regression, (0, &regression), &[("sim_last", vec![0.4; 10])], 1.0, &questions);
        assert_eq!(c.chosen, Chosen::Regression);
    }
}
