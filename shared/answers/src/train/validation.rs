//! The validation slice of a training run: carved from the end of its rows (with an
//! embargo, so no activity window overlaps across the cut) and split into two interleaved
//! halves that do separate jobs (the epoch and the choice on one, the calibration on the
//! other).

use crate::data::Row;

/// The latest labels of a training run as two interleaved halves: one picks the epoch;
/// on the other, which nothing was tuned on, the model meets the better baseline and the
/// probabilities are fitted (the choice reads only the ranking, the calibration only the
/// scale). Decision thresholds only cut the ranking and take the whole slice.
pub(super) struct Validation<'a> {
    pub(super) all: Vec<&'a Row>,
    pub(super) select: Vec<&'a Row>,
    pub(super) calibrate: Vec<&'a Row>,
}

impl<'a> Validation<'a> {
    pub(super) fn split(all: Vec<&'a Row>) -> Validation<'a> {
        if all.len() < 8 {
            return Validation { select: all.clone(), calibrate: all.clone(), all };
        }
        let select = all.iter().step_by(2).copied().collect();
        let calibrate = all.iter().skip(1).step_by(2).copied().collect();
        Validation { all, select, calibrate }
    }
}

/// Splits time-ordered rows into a fit part and a later validation slice. A fit row that
/// sees activity keeps `embargo` (the window length) before the first validation row, so
/// no two windows overlap across the split; rows that see none only need to be earlier.
pub fn carve_validation<'a>(rows: &[&'a Row], share: f64, embargo: chrono::Duration) -> (Vec<&'a Row>, Vec<&'a Row>) {
    let n_val = ((rows.len() as f64) * share).round() as usize;
    let start = rows.len().saturating_sub(n_val.max(1));
    let val: Vec<&Row> = rows[start..].to_vec();
    let first = val.first().map(|r| r.at);
    let fit: Vec<&Row> = rows[..start].iter().copied().filter(|r| first.is_none_or(|f| r.before(f, embargo))).collect();
    (fit, val)
}
