//! The time-series folds of labelled rows: expanding-window training blocks before each
//! test block, with the embargo that keeps a training row's activity window from reaching
//! into the test block. Shared by the evaluation and the training's inner splits.

use crate::data::Row;

/// Rows (indices into the time-ordered rows) of each fold.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// `k` test blocks of equal size after a first training block; each trains on the rows
/// before its test block that may train it ([`Row::before`]: rows with an activity window
/// end more than `embargo` before the block's first row).
pub fn time_series_folds<R: std::borrow::Borrow<Row>>(rows: &[R], k: usize, embargo: chrono::Duration) -> Vec<Fold> {
    let rows: Vec<&Row> = rows.iter().map(|r| r.borrow()).collect();
    let n = rows.len();
    let block = n / (k + 1);
    (0..k)
        .filter_map(|i| {
            let start = (i + 1) * block;
            let end = if i + 1 == k { n } else { start + block };
            let first = rows.get(start)?.at;
            let train: Vec<usize> = (0..start).filter(|&j| rows[j].before(first, embargo)).collect();
            (!train.is_empty() && end > start).then(|| Fold { train, test: (start..end).collect() })
        })
        .collect()
}
