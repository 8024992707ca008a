//! Probabilities from margins: Platt scaling that cannot run away. It is fitted on a slice
//! the model was not selected on, on standardised margins, with a weak Gaussian prior on
//! slope and intercept and the slope bounded (damped Newton, so separable margins converge
//! instead of diverging), and the result keeps the rule of succession's distance from 0
//! and 1: calibrated on n answers, no probability goes beyond (n+1)/(n+2). The card keeps
//! the fitted [`Calibration`] and ranking applies it.

use serde::{Deserialize, Serialize};

/// Platt scaling of one head, kept `floor` away from 0 and 1:
/// `p = floor + (1 − 2·floor) · sigmoid(a · (logit₁ − logit₀) + b)`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    pub a: f64,
    pub b: f64,
    pub floor: f64,
}

impl Calibration {
    pub const IDENTITY: Calibration = Calibration { a: 1.0, b: 0.0, floor: 0.0 };

    pub fn apply(&self, margin: f64) -> f64 {
        self.floor + (1.0 - 2.0 * self.floor) / (1.0 + (-(self.a * margin + self.b)).exp())
    }
}

/// The prior's precision on the standardised slope and intercept: weak (the bound and the
/// damping keep the fit finite), so that a few dozen answers still set the slope.
const PRIOR: f64 = 0.01;
/// The steepest standardised slope: a margin one standard deviation above the mean moves
/// the log-odds by at most this.
const MAX_SLOPE: f64 = 8.0;
/// The flattest: a scorer that ranks the calibration slice no better than chance gets
/// nearly the prior for every video, but still in its order. At 0 such a slice made every
/// probability equal, so the feed lost the scorer's ranking and the held-out ROC-AUC read
/// exactly 0.5 (7 of 90 person × scorer results on MovieLens; see BENCHMARKS.md).
const MIN_SLOPE: f64 = 0.05;

/// Fits the calibration of `margins` with answers `labels`.
pub fn fit(margins: &[f64], labels: &[bool]) -> Calibration {
    let n = margins.len() as f64;
    let pos = labels.iter().filter(|y| **y).count() as f64;
    let neg = n - pos;
    let mean = margins.iter().sum::<f64>() / n.max(1.0);
    let var = margins.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / n.max(1.0);
    let scale = if var.sqrt() > 1e-9 { var.sqrt() } else { 1.0 };
    if pos == 0.0 || neg == 0.0 {
        // Nothing to fit the intercept on: keep the order, on the standard scale, within
        // the succession bounds of what was seen.
        return Calibration { a: 1.0 / scale, b: -mean / scale, floor: 1.0 / (n + 2.0) };
    }
    let z: Vec<f64> = margins.iter().map(|m| (m - mean) / scale).collect();
    // Platt's smoothed targets.
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let targets: Vec<f64> = labels.iter().map(|&y| if y { hi } else { lo }).collect();
    let objective = |a: f64, b: f64| -> f64 {
        let nll: f64 = z
            .iter()
            .zip(&targets)
            .map(|(x, t)| {
                let s = a * x + b;
                // log(1 + e^s) − t·s, stable for large |s|.
                (if s > 0.0 { s + (-s).exp().ln_1p() } else { s.exp().ln_1p() }) - t * s
            })
            .sum();
        nll + 0.5 * PRIOR * (a * a + b * b)
    };
    let (mut a, mut b) = (1.0, 0.0);
    let mut current = objective(a, b);
    for _ in 0..100 {
        let (mut g_a, mut g_b, mut h_aa, mut h_ab, mut h_bb) = (PRIOR * a, PRIOR * b, PRIOR, 0.0, PRIOR);
        for (x, t) in z.iter().zip(&targets) {
            let p = 1.0 / (1.0 + (-(a * x + b)).exp());
            let (d, w) = (p - t, p * (1.0 - p));
            g_a += d * x;
            g_b += d;
            h_aa += w * x * x;
            h_ab += w * x;
            h_bb += w;
        }
        let det = h_aa * h_bb - h_ab * h_ab;
        let (da, db) = ((h_bb * g_a - h_ab * g_b) / det, (h_aa * g_b - h_ab * g_a) / det);
        // Backtracking: halve the step until the objective goes down (projected onto the
        // slope's bounds).
        let mut step = 1.0;
        let mut moved = false;
        for _ in 0..30 {
            let (na, nb) = ((a - step * da).clamp(MIN_SLOPE, MAX_SLOPE), b - step * db);
            let value = objective(na, nb);
            if value <= current {
                moved = (na - a).abs() + (nb - b).abs() > 1e-12;
                (a, b, current) = (na, nb, value);
                break;
            }
            step *= 0.5;
        }
        if !moved {
            break;
        }
    }
    let floor = 1.0 / (n + 2.0);
    Calibration { a: a / scale, b: b - a * mean / scale, floor }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::rng::Rng;

    #[test]
    fn platt_scaling_recovers_a_known_slope() {
        // Labels drawn from p = sigmoid(1.5m - 1): with 4000 rows the prior and the floor
        // hardly matter.
        let mut rng = Rng::new(5);
        let mut m = Vec::new();
        let mut y = Vec::new();
        for _ in 0..4000 {
            let x = rng.uniform() * 6.0 - 3.0;
            m.push(x);
            y.push(rng.uniform() < 1.0 / (1.0 + (-(1.5 * x - 1.0)).exp()));
        }
        let c = fit(&m, &y);
        assert!((c.a - 1.5).abs() < 0.2 && (c.b + 1.0).abs() < 0.2, "{c:?}");
    }

    #[test]
    fn separable_margins_give_moderate_probabilities_in_the_same_order() {
        // What diverged before: every positive far above every negative (an overfitted
        // network's margins), with a few answers each.
        // Answers of each class: the calibration slices of a few hundred labels.
        for (n, spread) in [(5usize, 50.0), (10, 12.0), (20, 3.0)] {
            let pos: Vec<f64> = (0..n).map(|i| spread * (1.0 + i as f64 / n as f64)).collect();
            let neg: Vec<f64> = pos.iter().map(|m| -m).collect();
            let margins: Vec<f64> = pos.iter().chain(&neg).copied().collect();
            let labels: Vec<bool> = (0..2 * n).map(|i| i < n).collect();
            let c = fit(&margins, &labels);
            assert!(c.a > 0.0 && c.a.is_finite() && c.b.is_finite(), "{c:?}");
            let p: Vec<f64> = margins.iter().map(|m| c.apply(*m)).collect();
            assert!(p.iter().all(|p| *p > 0.02 && *p < 0.98), "n {n}: {:?}", (c, &p[..3], &p[n..n + 3]));
            for w in p[..n].windows(2) {
                assert!(w[1] > w[0], "the order is kept, strictly: {w:?}");
            }
            assert!(p[..n].iter().all(|x| *x > 0.5) && p[n..].iter().all(|x| *x < 0.5));
        }
    }

    #[test]
    fn many_separable_answers_stay_finite_and_ordered() {
        let margins: Vec<f64> = (0..400).map(|i| if i < 200 { 10.0 + i as f64 } else { -(i as f64) }).collect();
        let labels: Vec<bool> = (0..400).map(|i| i < 200).collect();
        let c = fit(&margins, &labels);
        let p: Vec<f64> = margins.iter().map(|m| c.apply(*m)).collect();
        assert!(p.iter().all(|p| *p > 0.0 && *p < 1.0) && p[199] > p[0] && p[200] > p[399], "{c:?}");
    }

    #[test]
    fn a_slice_ranked_backwards_keeps_the_order_near_the_prior() {
        // Every positive below every negative: the slope goes to its floor, not to zero.
        let margins: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let labels: Vec<bool> = (0..40).map(|i| i < 20).collect();
        let c = fit(&margins, &labels);
        let p: Vec<f64> = margins.iter().map(|m| c.apply(*m)).collect();
        for w in p.windows(2) {
            assert!(w[1] > w[0], "strictly in the margins' order: {c:?}");
        }
        assert!(p.iter().all(|p| (p - 0.5).abs() < 0.1), "near the prior: {:?}", (p[0], p[39]));
    }

    #[test]
    fn one_class_keeps_the_order() {
        let c = fit(&[1.0, 2.0, 3.0], &[true, true, true]);
        assert!(c.apply(3.0) > c.apply(1.0));
    }

    #[test]
    fn the_floor_keeps_probabilities_off_zero_and_one() {
        assert_eq!(Calibration::IDENTITY.apply(0.0), 0.5);
        let c = Calibration { a: 2.0, b: -0.5, floor: 0.01 };
        assert!((c.apply(0.25) - 0.5).abs() < 1e-12, "a·m + b = 0 is one half");
        assert!(c.apply(1e6) <= 0.99 && c.apply(-1e6) >= 0.01);
        assert!(c.apply(1.0) > c.apply(0.0), "a > 0 keeps the order");
    }
}
