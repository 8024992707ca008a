//! How a head's margin becomes a probability: fitted by training on its validation slice
//! (`vrd_answers::train`), kept in the model card and applied when ranking
//! (`vrd_answers::rank`): one definition for both.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_keeps_probabilities_off_zero_and_one() {
        assert_eq!(Calibration::IDENTITY.apply(0.0), 0.5);
        let c = Calibration { a: 2.0, b: -0.5, floor: 0.01 };
        assert!((c.apply(0.25) - 0.5).abs() < 1e-12, "a·m + b = 0 is one half");
        assert!(c.apply(1e6) <= 0.99 && c.apply(-1e6) >= 0.01);
        assert!(c.apply(1.0) > c.apply(0.0), "a > 0 keeps the order");
    }
}
