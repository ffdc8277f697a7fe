//! Ranking metrics shared by every evaluation, so that the product and each baseline are scored by one
//! definition: binary relevance, averaged over shoppers.

/// Recall@k: the share of the target basket found in the first `k` recommendations.
pub fn recall_at(recs: &[u32], truth: &[u32], k: usize) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let hits = recs.iter().take(k).filter(|r| truth.contains(r)).count();
    hits as f64 / truth.len() as f64
}

/// NDCG@k with binary gains: DCG = Σ 1/log2(rank+1) over hits, divided by the best possible DCG.
pub fn ndcg_at(recs: &[u32], truth: &[u32], k: usize) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let dcg: f64 = recs
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, r)| truth.contains(r))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let idcg: f64 = (0..k.min(truth.len())).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    dcg / idcg
}

/// Hit and reciprocal rank of one next item within the first `k` recommendations.
pub fn hit_and_rr(recs: &[u32], next: u32, k: usize) -> (f64, f64) {
    match recs.iter().take(k).position(|&r| r == next) {
        Some(p) => (1.0, 1.0 / (p + 1) as f64),
        None => (0.0, 0.0),
    }
}

/// Mean Recall@10/20 and NDCG@10/20 of ranked lists against target baskets.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BasketScores {
    pub recall10: f64,
    pub recall20: f64,
    pub ndcg10: f64,
    pub ndcg20: f64,
}

impl BasketScores {
    pub fn of<'a>(pairs: impl Iterator<Item = (&'a [u32], &'a [u32])>) -> Self {
        let (mut s, mut n) = (BasketScores::default(), 0usize);
        for (recs, truth) in pairs {
            s.recall10 += recall_at(recs, truth, 10);
            s.recall20 += recall_at(recs, truth, 20);
            s.ndcg10 += ndcg_at(recs, truth, 10);
            s.ndcg20 += ndcg_at(recs, truth, 20);
            n += 1;
        }
        if n > 0 {
            let n = n as f64;
            s.recall10 /= n;
            s.recall20 /= n;
            s.ndcg10 /= n;
            s.ndcg20 /= n;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_empty_rankings() {
        assert_eq!(recall_at(&[1, 2, 3], &[1, 2], 10), 1.0);
        assert!((ndcg_at(&[1, 2, 3], &[1, 2], 10) - 1.0).abs() < 1e-12);
        assert_eq!(recall_at(&[5, 6], &[1], 10), 0.0);
        assert_eq!(ndcg_at(&[], &[1], 10), 0.0);
        assert_eq!(recall_at(&[1], &[], 10), 0.0);
    }

    #[test]
    fn rank_matters_for_ndcg_not_recall() {
        let early = ndcg_at(&[1, 9, 9], &[1], 3);
        let late = ndcg_at(&[9, 9, 1], &[1], 3);
        assert!(early > late);
        assert_eq!(recall_at(&[9, 9, 1], &[1], 3), 1.0);
        assert_eq!(recall_at(&[9, 9, 1], &[1], 2), 0.0);
        assert_eq!(hit_and_rr(&[4, 7, 1], 1, 20), (1.0, 1.0 / 3.0));
        assert_eq!(hit_and_rr(&[4, 7, 1], 1, 2), (0.0, 0.0));
    }
}
