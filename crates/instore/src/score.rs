//! Scoring of receipts against truth. Owns [`score`] and [`Score`].
//!
//! **Line rule (strict, exact line match):** a predicted line `(target_id, barcode, quantity)`
//! is a true positive only if the truth has exactly that line — right shopper, right product and
//! right quantity. A line with the right product but a wrong quantity counts as one false
//! positive *and* one false negative. Precision = TP / predicted lines, recall = TP / truth lines
//! (both 1 when there is nothing to predict and nothing predicted; precision is 0 when nothing
//! is predicted but the truth has lines).
//!
//! * `exact_receipt_rate`: share of truth shoppers whose predicted receipt has exactly the same
//!   set of lines (a missing predicted receipt counts as empty).
//! * `attribution_accuracy`: over units (barcode copies) that the prediction and the truth both
//!   contain somewhere in the store, the share assigned to a shopper whose truth has that barcode
//!   (min-count matching per shopper). It isolates "who" errors from "what" errors.
//! * `review_rate`: share of truth shoppers whose predicted receipt has `pending_reviews > 0`.

use std::collections::{BTreeMap, HashMap};

use crate::receipt::Receipt;

/// Scores of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Score {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub exact_receipt_rate: f64,
    pub attribution_accuracy: f64,
    pub review_rate: f64,
    pub true_positives: usize,
    pub predicted_lines: usize,
    pub truth_lines: usize,
    pub shoppers: usize,
    /// Predicted receipts whose target is not in the truth (their lines are all false positives).
    pub unknown_shoppers: usize,
}

fn lines(r: &Receipt) -> BTreeMap<&str, u32> {
    r.items.iter().map(|l| (l.barcode.as_str(), l.quantity)).collect()
}

/// Scores `predicted` receipts against `truth` receipts (matched by `target_id`).
pub fn score(truth: &[Receipt], predicted: &[Receipt]) -> Score {
    let pred: HashMap<&str, &Receipt> = predicted.iter().map(|r| (r.target_id.as_str(), r)).collect();
    let truth_ids: std::collections::HashSet<&str> = truth.iter().map(|r| r.target_id.as_str()).collect();
    let empty = Receipt { target_id: String::new(), items: Vec::new(), pending_reviews: 0 };
    let (mut tp, mut exact, mut reviewed) = (0usize, 0usize, 0usize);
    let truth_lines: usize = truth.iter().map(|r| r.items.len()).sum();
    let predicted_lines: usize = predicted.iter().map(|r| r.items.len()).sum();
    for t in truth {
        let p = pred.get(t.target_id.as_str()).copied().unwrap_or(&empty);
        let (tl, pl) = (lines(t), lines(p));
        tp += tl.iter().filter(|(b, q)| pl.get(*b) == Some(*q)).count();
        exact += usize::from(tl == pl);
        reviewed += usize::from(p.pending_reviews > 0);
    }
    let unknown_shoppers = predicted.iter().filter(|r| !truth_ids.contains(r.target_id.as_str())).count();
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let precision = match (predicted_lines, truth_lines) {
        (0, 0) => 1.0,
        (0, _) => 0.0,
        _ => tp as f64 / predicted_lines as f64,
    };
    let recall = ratio(tp, truth_lines);
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Score {
        precision,
        recall,
        f1,
        exact_receipt_rate: ratio(exact, truth.len()),
        attribution_accuracy: attribution_accuracy(truth, predicted),
        review_rate: ratio(reviewed, truth.len()),
        true_positives: tp,
        predicted_lines,
        truth_lines,
        shoppers: truth.len(),
        unknown_shoppers,
    }
}

fn attribution_accuracy(truth: &[Receipt], predicted: &[Receipt]) -> f64 {
    let mut truth_units: HashMap<(&str, &str), u32> = HashMap::new();
    let mut truth_total: HashMap<&str, u32> = HashMap::new();
    for r in truth {
        for l in &r.items {
            truth_units.insert((r.target_id.as_str(), l.barcode.as_str()), l.quantity);
            *truth_total.entry(l.barcode.as_str()).or_insert(0) += l.quantity;
        }
    }
    let mut pred_total: HashMap<&str, u32> = HashMap::new();
    let mut right = 0u64;
    for r in predicted {
        for l in &r.items {
            *pred_total.entry(l.barcode.as_str()).or_insert(0) += l.quantity;
            right += l.quantity.min(*truth_units.get(&(r.target_id.as_str(), l.barcode.as_str())).unwrap_or(&0)) as u64;
        }
    }
    let comparable: u64 = pred_total.iter().map(|(b, &n)| n.min(*truth_total.get(b).unwrap_or(&0)) as u64).sum();
    if comparable == 0 {
        1.0
    } else {
        right as f64 / comparable as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, items: &[(&str, u32)]) -> Receipt {
        Receipt::from_counts(id, items.iter().map(|(b, q)| (b.to_string(), *q as i64)))
    }

    #[test]
    fn perfect_and_empty() {
        let t = vec![r("a", &[("1", 1), ("2", 2)]), r("b", &[])];
        let s = score(&t, &t);
        assert_eq!((s.precision, s.recall, s.f1, s.exact_receipt_rate), (1.0, 1.0, 1.0, 1.0));
        let s = score(&[r("a", &[])], &[r("a", &[])]);
        assert_eq!((s.precision, s.recall, s.f1), (1.0, 1.0, 1.0));
        let s = score(&[r("a", &[("1", 1)])], &[]);
        assert_eq!((s.precision, s.recall, s.f1, s.exact_receipt_rate), (0.0, 0.0, 0.0, 0.0));
    }

    #[test]
    fn wrong_quantity_is_both_false_positive_and_negative() {
        let s = score(&[r("a", &[("1", 2)])], &[r("a", &[("1", 1)])]);
        assert_eq!((s.true_positives, s.precision, s.recall), (0, 0.0, 0.0));
        assert_eq!(s.attribution_accuracy, 1.0);
    }

    #[test]
    fn wrong_shopper_hurts_lines_and_attribution() {
        let t = vec![r("a", &[("1", 1)]), r("b", &[("2", 1)])];
        let p = vec![r("a", &[]), r("b", &[("1", 1), ("2", 1)])];
        let s = score(&t, &p);
        assert_eq!(s.true_positives, 1);
        assert_eq!(s.precision, 0.5);
        assert_eq!(s.recall, 0.5);
        assert_eq!(s.exact_receipt_rate, 0.0);
        assert_eq!(s.attribution_accuracy, 0.5);
    }

    #[test]
    fn review_rate_and_unknown_shoppers() {
        let t = vec![r("a", &[("1", 1)]), r("b", &[])];
        let mut pa = r("a", &[("1", 1)]);
        pa.pending_reviews = 2;
        let s = score(&t, &[pa, r("x", &[("9", 1)])]);
        assert_eq!(s.review_rate, 0.5);
        assert_eq!(s.unknown_shoppers, 1);
        assert_eq!(s.precision, 0.5);
        assert_eq!(s.recall, 1.0);
    }
}
