//! Binary classification and ranking metrics on predicted probabilities: precision,
//! recall, F1 at a threshold, ROC-AUC (ties counted half), PR-AUC (average precision),
//! NDCG@k, the F1-best threshold (chosen on training-side data only), and how honest the
//! probabilities are: log loss, Brier score, expected calibration error.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Scores {
    pub n: usize,
    pub positives: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// `None` when the set holds one class only.
    pub roc_auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub ndcg_at_10: Option<f64>,
    /// Mean negative log-likelihood (probabilities clipped to [1e-15, 1 − 1e-15]).
    pub log_loss: Option<f64>,
    /// Mean squared error of the probabilities.
    pub brier: Option<f64>,
    /// Expected calibration error over 10 equal-width probability bins.
    pub ece: Option<f64>,
}

pub fn score(probs: &[f64], labels: &[bool], threshold: f64) -> Scores {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (p, &y) in probs.iter().zip(labels) {
        match (*p >= threshold, y) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            _ => {}
        }
    }
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    let positives = labels.iter().filter(|y| **y).count();
    let both = positives > 0 && positives < labels.len();
    Scores {
        n: labels.len(),
        positives,
        precision,
        recall,
        f1,
        roc_auc: both.then(|| roc_auc(probs, labels)),
        pr_auc: both.then(|| average_precision(probs, labels)),
        ndcg_at_10: (positives > 0).then(|| ndcg_at(probs, labels, 10)),
        log_loss: (!labels.is_empty()).then(|| log_loss(probs, labels)),
        brier: (!labels.is_empty()).then(|| brier(probs, labels)),
        ece: (!labels.is_empty()).then(|| expected_calibration_error(probs, labels, 10)),
    }
}

pub fn log_loss(probs: &[f64], labels: &[bool]) -> f64 {
    let total: f64 = probs
        .iter()
        .zip(labels)
        .map(|(p, &y)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            -(if y { p.ln() } else { (1.0 - p).ln() })
        })
        .sum();
    total / labels.len().max(1) as f64
}

pub fn brier(probs: &[f64], labels: &[bool]) -> f64 {
    let total: f64 = probs.iter().zip(labels).map(|(p, &y)| (p - f64::from(u8::from(y))).powi(2)).sum();
    total / labels.len().max(1) as f64
}

/// Σ over bins of (bin share) × |mean probability − positive rate| in the bin.
pub fn expected_calibration_error(probs: &[f64], labels: &[bool], bins: usize) -> f64 {
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (p, &y) in probs.iter().zip(labels) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        sum_y[b] += f64::from(u8::from(y));
        count[b] += 1;
    }
    let n = labels.len().max(1) as f64;
    (0..bins).filter(|&b| count[b] > 0).map(|b| (sum_p[b] - sum_y[b]).abs() / n).sum()
}

/// The standard error of a ROC-AUC `auc` measured on `pos` positives and `neg`
/// negatives (Hanley & McNeil 1982; 0.5 with a class missing).
pub fn roc_auc_standard_error(auc: f64, pos: usize, neg: usize) -> f64 {
    if pos == 0 || neg == 0 {
        return 0.5;
    }
    let (a, p, n) = (auc.clamp(0.0, 1.0), pos as f64, neg as f64);
    let q1 = a / (2.0 - a);
    let q2 = 2.0 * a * a / (1.0 + a);
    ((a * (1.0 - a) + (p - 1.0) * (q1 - a * a) + (n - 1.0) * (q2 - a * a)) / (p * n)).max(0.0).sqrt()
}

/// The probability that a random positive outranks a random negative (ties half).
pub fn roc_auc(probs: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[a].total_cmp(&probs[b]));
    // Average ranks over ties, then the Mann–Whitney U statistic.
    let mut ranks = vec![0.0; probs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && probs[order[j + 1]] == probs[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[order[k]] = rank;
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|y| **y).count() as f64;
    let neg = labels.len() as f64 - pos;
    let rank_sum: f64 = ranks.iter().zip(labels).filter(|(_, y)| **y).map(|(r, _)| r).sum();
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Average precision: the mean of the precision at each positive, ranked by probability.
pub fn average_precision(probs: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    let (mut hits, mut total) = (0.0, 0.0);
    for (rank, &i) in order.iter().enumerate() {
        if labels[i] {
            hits += 1.0;
            total += hits / (rank + 1) as f64;
        }
    }
    total / hits.max(1.0)
}

/// NDCG@k with binary gains: how near the top the positives are ranked.
pub fn ndcg_at(probs: &[f64], labels: &[bool], k: usize) -> f64 {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    let dcg: f64 =
        order.iter().take(k).enumerate().filter(|(_, &i)| labels[i]).map(|(r, _)| 1.0 / ((r + 2) as f64).log2()).sum();
    let ideal: f64 = (0..labels.iter().filter(|y| **y).count().min(k)).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
    if ideal > 0.0 {
        dcg / ideal
    } else {
        0.0
    }
}

/// The threshold with the best F1 on these (training-side) predictions; 0.5 when they
/// hold one class only.
pub fn best_threshold(probs: &[f64], labels: &[bool]) -> f64 {
    if labels.iter().all(|y| *y) || labels.iter().all(|y| !*y) {
        return 0.5;
    }
    let mut candidates: Vec<f64> = probs.to_vec();
    candidates.sort_by(f64::total_cmp);
    candidates.dedup();
    let mut best = (0.5, -1.0);
    for t in candidates {
        let f1 = score(probs, labels, t).f1;
        if f1 > best.1 {
            best = (t, f1);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_auc_standard_error_matches_hanley_mcneil() {
        // By hand from Hanley & McNeil's formula (Q1 = A/(2−A), Q2 = 2A²/(1+A)).
        assert!((roc_auc_standard_error(0.5, 12, 12) - 0.120_281).abs() < 1e-5);
        assert!((roc_auc_standard_error(0.9, 40, 60) - 0.034_907).abs() < 1e-5);
        assert!(roc_auc_standard_error(0.7, 400, 400) < roc_auc_standard_error(0.7, 20, 20) / 4.0);
        assert_eq!(roc_auc_standard_error(0.7, 0, 9), 0.5);
    }

    #[test]
    fn known_values() {
        let p = [0.9, 0.8, 0.7, 0.6, 0.2];
        let y = [true, false, true, false, false];
        // Positives at ranks 1 and 3: AP = (1/1 + 2/3) / 2.
        assert!((average_precision(&p, &y) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // 5 of 6 positive-negative pairs ordered right.
        assert!((roc_auc(&p, &y) - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[0.5, 0.5], &[true, false]), 0.5, "ties count half");
        let s = score(&p, &y, 0.65);
        assert_eq!((s.precision, s.recall), (2.0 / 3.0, 1.0));
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((ndcg_at(&p, &y, 10) - (1.0 + 1.0 / 4f64.log2()) / ideal).abs() < 1e-12);
        assert_eq!(best_threshold(&p, &y), 0.7);
        assert_eq!(score(&p, &[false; 5], 0.5).roc_auc, None);
    }

    #[test]
    fn calibration_metrics() {
        let y = [true, false, true, false];
        assert!((log_loss(&[0.5; 4], &y) - 2f64.ln()).abs() < 1e-12);
        assert!((brier(&[1.0, 0.0, 0.5, 0.5], &y) - 0.125).abs() < 1e-12);
        // Perfect rates per bin: no calibration error; all 0.9 for half positives: 0.4.
        assert!(expected_calibration_error(&[0.95, 0.05, 0.95, 0.05], &[true, false, true, false], 10) < 0.051);
        assert!((expected_calibration_error(&[0.9; 4], &y, 10) - 0.4).abs() < 1e-12);
        assert!(log_loss(&[0.0], &[true]).is_finite(), "clipped");
    }
}
