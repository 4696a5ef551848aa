//! How good a churn score is: ranking (ROC-AUC, PR-AUC, lift), calibration (Brier, log-loss,
//! reliability bins) and the confusion matrix at a chosen threshold. Pure functions of labels
//! and probabilities.

use serde::{Deserialize, Serialize};

/// Every number an analyst compares models by, on one set of customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub customers: usize,
    pub churn_rate: f64,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub brier: f64,
    pub log_loss: f64,
    pub lift_top_10: f64,
    pub lift_top_20: f64,
    pub threshold: f64,
    pub confusion: Confusion,
}

/// Counts at a threshold: churn is the positive class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub true_positive: usize,
    pub false_positive: usize,
    pub true_negative: usize,
    pub false_negative: usize,
}

impl Confusion {
    pub fn at(labels: &[bool], probabilities: &[f64], threshold: f64) -> Self {
        let mut c = Self {
            true_positive: 0,
            false_positive: 0,
            true_negative: 0,
            false_negative: 0,
        };
        for (&y, &p) in labels.iter().zip(probabilities) {
            match (p >= threshold, y) {
                (true, true) => c.true_positive += 1,
                (true, false) => c.false_positive += 1,
                (false, false) => c.true_negative += 1,
                (false, true) => c.false_negative += 1,
            }
        }
        c
    }

    pub fn precision(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

pub fn evaluate(labels: &[bool], probabilities: &[f64], threshold: f64) -> Evaluation {
    Evaluation {
        customers: labels.len(),
        churn_rate: ratio(labels.iter().filter(|&&y| y).count(), labels.len()),
        roc_auc: roc_auc(labels, probabilities),
        pr_auc: average_precision(labels, probabilities),
        brier: brier(labels, probabilities),
        log_loss: log_loss(labels, probabilities),
        lift_top_10: lift_at(labels, probabilities, 0.10),
        lift_top_20: lift_at(labels, probabilities, 0.20),
        threshold,
        confusion: Confusion::at(labels, probabilities, threshold),
    }
}

/// Indices sorted by descending score; ties keep input order.
fn ranked(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// Probability that a random churner scores above a random retained customer (ties count
/// half): the Mann–Whitney statistic.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if labels[k] {
                rank_sum += mid_rank;
            }
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|&&y| y).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Area under the precision–recall curve as average precision (step-wise, tie groups as one
/// step), as scikit-learn computes it.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> f64 {
    pr_curve(labels, scores)
        .windows(2)
        .map(|w| (w[1].recall - w[0].recall) * w[1].precision)
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    pub threshold: f64,
    pub recall: f64,
    pub precision: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub threshold: f64,
    pub false_positive_rate: f64,
    pub true_positive_rate: f64,
}

/// Walks the thresholds from high to low, one point per distinct score.
fn cumulative(labels: &[bool], scores: &[f64]) -> Vec<(f64, usize, usize)> {
    let order = ranked(scores);
    let (mut tp, mut fp, mut out) = (0, 0, Vec::new());
    for (n, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = order
            .get(n + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            out.push((scores[i], tp, fp));
        }
    }
    out
}

pub fn pr_curve(labels: &[bool], scores: &[f64]) -> Vec<PrPoint> {
    let positives = labels.iter().filter(|&&y| y).count();
    let mut points = vec![PrPoint {
        threshold: f64::INFINITY,
        recall: 0.0,
        precision: 1.0,
    }];
    points.extend(
        cumulative(labels, scores)
            .into_iter()
            .map(|(t, tp, fp)| PrPoint {
                threshold: t,
                recall: ratio(tp, positives),
                precision: ratio(tp, tp + fp),
            }),
    );
    points
}

pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Vec<RocPoint> {
    let positives = labels.iter().filter(|&&y| y).count();
    let negatives = labels.len() - positives;
    let mut points = vec![RocPoint {
        threshold: f64::INFINITY,
        false_positive_rate: 0.0,
        true_positive_rate: 0.0,
    }];
    points.extend(
        cumulative(labels, scores)
            .into_iter()
            .map(|(t, tp, fp)| RocPoint {
                threshold: t,
                false_positive_rate: ratio(fp, negatives),
                true_positive_rate: ratio(tp, positives),
            }),
    );
    points
}

/// Churn rate among the top `fraction` by score, divided by the overall churn rate.
pub fn lift_at(labels: &[bool], scores: &[f64], fraction: f64) -> f64 {
    let order = ranked(scores);
    let top = ((labels.len() as f64 * fraction).ceil() as usize).clamp(1, labels.len().max(1));
    let overall = ratio(labels.iter().filter(|&&y| y).count(), labels.len());
    let in_top = ratio(order[..top].iter().filter(|&&i| labels[i]).count(), top);
    if overall == 0.0 {
        0.0
    } else {
        in_top / overall
    }
}

/// Cumulative gain: share of all churners found in the top k% of customers, k = 0..=100.
pub fn cumulative_gain(labels: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let order = ranked(scores);
    let positives = labels.iter().filter(|&&y| y).count();
    let n = labels.len();
    (0..=100)
        .map(|k| {
            let top = n * k / 100;
            let found = order[..top].iter().filter(|&&i| labels[i]).count();
            (k as f64 / 100.0, ratio(found, positives))
        })
        .collect()
}

pub fn brier(labels: &[bool], probabilities: &[f64]) -> f64 {
    let sum: f64 = labels
        .iter()
        .zip(probabilities)
        .map(|(&y, &p)| (p - f64::from(u8::from(y))).powi(2))
        .sum();
    sum / labels.len().max(1) as f64
}

pub fn log_loss(labels: &[bool], probabilities: &[f64]) -> f64 {
    let sum: f64 = labels
        .iter()
        .zip(probabilities)
        .map(|(&y, &p)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    sum / labels.len().max(1) as f64
}

/// Reliability bins: (mean predicted, observed churn rate, customers) for ten equal-width bins.
pub fn calibration_bins(labels: &[bool], probabilities: &[f64]) -> Vec<(f64, f64, usize)> {
    let mut bins = vec![(0.0, 0usize, 0usize); 10];
    for (&y, &p) in labels.iter().zip(probabilities) {
        let b = ((p * 10.0) as usize).min(9);
        bins[b].0 += p;
        bins[b].1 += usize::from(y);
        bins[b].2 += 1;
    }
    bins.into_iter()
        .filter(|b| b.2 > 0)
        .map(|(sum, churned, n)| (sum / n as f64, churned as f64 / n as f64, n))
        .collect()
}

/// The threshold with the best F1 among the scores' distinct values.
pub fn best_f1_threshold(labels: &[bool], probabilities: &[f64]) -> f64 {
    let positives = labels.iter().filter(|&&y| y).count();
    let mut best = (0.5, -1.0);
    for (t, tp, fp) in cumulative(labels, probabilities) {
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, positives);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
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
    fn auc_of_perfect_random_and_reversed_scores() {
        let labels = [true, true, false, false];
        assert_eq!(roc_auc(&labels, &[0.9, 0.8, 0.2, 0.1]), 1.0);
        assert_eq!(roc_auc(&labels, &[0.1, 0.2, 0.8, 0.9]), 0.0);
        assert_eq!(roc_auc(&labels, &[0.5, 0.5, 0.5, 0.5]), 0.5);
        // One mis-ordered pair of four.
        assert_eq!(roc_auc(&labels, &[0.9, 0.3, 0.4, 0.1]), 0.75);
    }

    #[test]
    fn average_precision_matches_hand_computation() {
        // Ranked: P N P N → precision at the two positives 1 and 2/3.
        let labels = [true, false, true, false];
        let ap = average_precision(&labels, &[0.9, 0.8, 0.7, 0.6]);
        assert!((ap - (0.5 * 1.0 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn lift_brier_logloss_and_confusion() {
        let labels = [
            true, false, false, false, false, false, false, false, false, false,
        ];
        let scores = [0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2];
        assert_eq!(lift_at(&labels, &scores, 0.10), 10.0);
        assert!((brier(&[true, false], &[0.8, 0.4]) - (0.04 + 0.16) / 2.0).abs() < 1e-12);
        assert!((log_loss(&[true], &[0.5]) - std::f64::consts::LN_2).abs() < 1e-12);
        let c = Confusion::at(&labels, &scores, 0.15);
        assert_eq!(
            (c.true_positive, c.false_positive, c.false_negative),
            (1, 1, 0)
        );
        assert_eq!(best_f1_threshold(&labels, &scores), 0.9);
    }
}
