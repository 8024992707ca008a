//! A scorer's margins made probabilities (Platt scaling on the validation half nothing was
//! chosen on) with the decision threshold that cuts them.

use super::answered;
use super::validation::Validation;
use crate::calibrate;
use crate::calibrate::Calibration;
use crate::data::Row;
use crate::metrics;
use vrd_core::records::Head;

/// A calibrated way of answering one question, with its decision threshold.
#[derive(Debug, Clone, Copy)]
pub struct Calibrated {
    pub calibration: Calibration,
    pub threshold: f64,
}

/// The calibration of a scorer's margins (`margins_of` some rows) for `head`, fitted on
/// the calibration half, and its F1-best threshold over the whole validation slice.
pub(super) fn calibrate_on(val: &Validation, head: Head, margins_of: impl Fn(&[&Row]) -> Vec<f64>) -> Calibrated {
    let (m, y) = answered(&margins_of(&val.calibrate), &val.calibrate, head);
    let calibration = calibrate::fit(&m, &y);
    let (m, y) = answered(&margins_of(&val.all), &val.all, head);
    let probs: Vec<f64> = m.iter().map(|x| calibration.apply(*x)).collect();
    Calibrated { calibration, threshold: metrics::best_threshold(&probs, &y) }
}
