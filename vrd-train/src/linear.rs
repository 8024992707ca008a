//! The linear baselines on a question's wide features (see `vrd_model::wide`): logistic
//! regression with an L2 penalty (class-balanced, fitted exactly by Newton's method in
//! f64 on standardised features, its strength chosen on the inner validation slice), and
//! similarity to the mean features of the positive answers. Both end as a margin
//! `x · weight + bias` over the raw features, which the fast model can carry and rank with.

use crate::metrics;
use tch::{Device, Kind, Tensor};

/// A margin `x · weight + bias` over raw features.
#[derive(Debug)]
pub struct LinearScorer {
    /// `(F,)` f64 on the CPU.
    pub weight: Tensor,
    pub bias: f64,
}

impl LinearScorer {
    pub fn margins(&self, x: &Tensor) -> Vec<f64> {
        let m = x.to_kind(Kind::Double).to_device(Device::Cpu).matmul(&self.weight) + self.bias;
        Vec::<f64>::try_from(&m).unwrap_or_default()
    }
}

/// L2 strengths tried (on the class-weighted sum of log losses over standardised features).
pub const L2_GRID: [f64; 6] = [0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0];

/// Logistic regression of `y` on the rows of `x` `(N, F)` with L2 strength `l2` (the
/// intercept unpenalised), class-balanced: each class weighs half.
pub fn logistic(x: &Tensor, y: &[bool], l2: f64) -> LinearScorer {
    let x = x.to_kind(Kind::Double).to_device(Device::Cpu);
    let (n, f) = (x.size()[0], x.size()[1]);
    let mean = x.mean_dim(0, false, Kind::Double);
    let std = x.std_dim(0, false, false).clamp_min(1e-6);
    // Constant columns (an app never seen in these windows) stay at zero weight.
    let z = Tensor::cat(&[(&x - &mean) / &std, Tensor::ones([n, 1], (Kind::Double, Device::Cpu))], 1);
    let pos = y.iter().filter(|v| **v).count() as f64;
    let neg = n as f64 - pos;
    let weights: Vec<f64> =
        y.iter().map(|&v| if v { n as f64 / (2.0 * pos.max(1.0)) } else { n as f64 / (2.0 * neg.max(1.0)) }).collect();
    let c = Tensor::from_slice(&weights);
    let target = Tensor::from_slice(&y.iter().map(|&v| f64::from(u8::from(v))).collect::<Vec<_>>());
    let mut penalty = vec![l2; f as usize + 1];
    penalty[f as usize] = 1e-8;
    let penalty = Tensor::from_slice(&penalty);
    let objective = |w: &Tensor| -> f64 {
        let s = z.matmul(w);
        // Σ c·(log(1 + e^s) − y·s) + ½ Σ λ w².
        let nll: Tensor = (&c * (s.softplus() - &target * &s)).sum(Kind::Double);
        let l2: Tensor = (&penalty * w * w).sum(Kind::Double);
        nll.double_value(&[]) + 0.5 * l2.double_value(&[])
    };
    let mut w = Tensor::zeros([f + 1], (Kind::Double, Device::Cpu));
    let mut current = objective(&w);
    for _ in 0..50 {
        let p = z.matmul(&w).sigmoid();
        let grad = z.transpose(0, 1).matmul(&(&c * (&p - &target))) + &penalty * &w;
        let curvature: Tensor = &c * &p * (1.0 - &p);
        let hessian = (z.transpose(0, 1) * curvature.unsqueeze(0)).matmul(&z) + penalty.diag(0);
        let step = Tensor::linalg_solve(&hessian, &grad.unsqueeze(1), true).squeeze_dim(1);
        // Newton with backtracking: the objective is convex, the first step usually right.
        let mut t = 1.0;
        let mut improved = false;
        for _ in 0..20 {
            let candidate = &w - &step * t;
            let value = objective(&candidate);
            if value <= current {
                improved = current - value > 1e-10 * current.abs().max(1.0);
                (w, current) = (candidate, value);
                break;
            }
            t *= 0.5;
        }
        if !improved {
            break;
        }
    }
    let coef = w.narrow(0, 0, f) / &std;
    let bias = w.double_value(&[f]) - (&coef * &mean).sum(Kind::Double).double_value(&[]);
    LinearScorer { weight: coef, bias }
}

/// Logistic regression with the L2 strength of [`L2_GRID`] whose margins rank `val` best
/// (ROC-AUC; ties to the stronger penalty); fitted on `fit`. Returns it with its strength.
pub fn logistic_tuned(fit: (&Tensor, &[bool]), val: (&Tensor, &[bool])) -> (LinearScorer, f64) {
    let both = |y: &[bool]| y.iter().any(|v| *v) && y.iter().any(|v| !*v);
    let mut best: Option<(f64, f64, LinearScorer)> = None;
    for &l2 in L2_GRID.iter().rev() {
        let model = logistic(fit.0, fit.1, l2);
        if !both(val.1) {
            // Nothing to choose by: a middle strength.
            return (logistic(fit.0, fit.1, 100.0), 100.0);
        }
        let auc = metrics::roc_auc(&model.margins(val.0), val.1);
        if best.as_ref().is_none_or(|(a, _, _)| auc > *a + 1e-12) {
            best = Some((auc, l2, model));
        }
    }
    let (_, l2, model) = best.expect("the grid is not empty");
    (model, l2)
}

/// Cosine-style similarity to the positive rows' mean features: the margin is each row's
/// projection on that mean's direction (for unit-length media embeddings, the cosine).
pub fn similarity(x: &Tensor, y: &[bool]) -> LinearScorer {
    let x = x.to_kind(Kind::Double).to_device(Device::Cpu);
    let f = x.size()[1];
    let idx: Vec<i64> = y.iter().enumerate().filter(|(_, v)| **v).map(|(i, _)| i as i64).collect();
    if idx.is_empty() {
        return LinearScorer { weight: Tensor::zeros([f], (Kind::Double, Device::Cpu)), bias: 0.0 };
    }
    let centre = x.index_select(0, &Tensor::from_slice(&idx)).mean_dim(0, false, Kind::Double);
    let norm = centre.norm().double_value(&[]).max(1e-12);
    LinearScorer { weight: centre / norm, bias: 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::Rng;

    fn data(n: usize, seed: u64) -> (Tensor, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a = rng.uniform() * 4.0 - 2.0;
            let b = rng.uniform() * 4.0 - 2.0;
            x.extend([a, b, 7.0]); // a constant column too
            y.push(rng.uniform() < 1.0 / (1.0 + (-(2.0 * a - b + 0.5)).exp()));
        }
        (Tensor::from_slice(&x).view([n as i64, 3]), y)
    }

    #[test]
    fn logistic_regression_recovers_the_coefficients() {
        let (x, y) = data(6000, 2);
        let m = logistic(&x, &y, 0.1);
        let w = Vec::<f64>::try_from(&m.weight).unwrap();
        // Class balancing moves the intercept only.
        assert!((w[0] - 2.0).abs() < 0.2 && (w[1] + 1.0).abs() < 0.15 && w[2].abs() < 1e-6, "{w:?}");
        assert!(metrics::roc_auc(&m.margins(&x), &y) > 0.8);
    }

    #[test]
    fn a_strong_penalty_shrinks_and_tuning_picks_a_useful_strength() {
        let (x, y) = data(400, 3);
        let weak = logistic(&x, &y, 0.1).weight.abs().sum(Kind::Double).double_value(&[]);
        let strong = logistic(&x, &y, 10000.0).weight.abs().sum(Kind::Double).double_value(&[]);
        assert!(strong < weak / 5.0, "{strong} vs {weak}");
        let (xv, yv) = data(400, 4);
        let (m, _) = logistic_tuned((&x, &y), (&xv, &yv));
        assert!(metrics::roc_auc(&m.margins(&xv), &yv) > 0.75);
    }

    #[test]
    fn similarity_points_at_the_positives() {
        let x = Tensor::from_slice(&[1.0f64, 0.0, 0.9, 0.1, 0.0, 1.0]).view([3, 2]);
        let s = similarity(&x, &[true, true, false]);
        let m = s.margins(&x);
        assert!(m[0] > m[2] && m[1] > m[2]);
    }
}
