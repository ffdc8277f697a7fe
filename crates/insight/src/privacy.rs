//! The k-anonymity rule: an answer never shows a cell that fewer than k distinct shoppers make up. Such
//! a row stays in the answer (so totals do not silently shrink) with every figure withheld.

/// The smallest number of distinct shoppers a shown cell needs, unless the seller sets another.
pub const DEFAULT_K: u32 = 5;

/// A row of an answer that counts shoppers.
pub trait Cell {
    /// Distinct shoppers behind the row.
    fn shoppers(&self) -> u64;
    /// Withholds every figure of the row (called when it is below k).
    fn withhold(&mut self);
}

/// Applies the rule to every row; returns how many were withheld.
pub fn suppress<T: Cell>(rows: &mut [T], k: u32) -> usize {
    let mut n = 0;
    for r in rows.iter_mut() {
        if r.shoppers() < k as u64 {
            r.withhold();
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(u64, Option<u64>);
    impl Cell for R {
        fn shoppers(&self) -> u64 {
            self.0
        }
        fn withhold(&mut self) {
            self.1 = None;
        }
    }

    #[test]
    fn rows_below_k_lose_their_figures() {
        let mut rows = vec![R(4, Some(10)), R(5, Some(11))];
        assert_eq!(suppress(&mut rows, 5), 1);
        assert_eq!(rows[0].1, None);
        assert_eq!(rows[1].1, Some(11));
        assert_eq!(suppress(&mut rows, 1), 0);
    }
}
