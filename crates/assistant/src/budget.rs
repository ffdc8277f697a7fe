//! Budgets said beyond a plain amount: numbers in English words ("under forty thousand won"), and one budget
//! shared by several items ("두 켤레, 합쳐서 6만원 이하").

/// How many items a budget said for all of them covers ("두 켤레, 합쳐서 6만원 이하", "2 of them, 50k won max for
/// both", "2 for 90k won max in total"): each item's share is the budget divided by it. `None` when the budget is
/// no total (said per item, "개당", "each", or with no count).
pub fn items_sharing_budget(text: &str) -> Option<i64> {
    // ("total" as a word: "i totally need 2 pairs under 50k won" is a budget each.)
    let total = ["for both", "in total", "합쳐서", "합쳐", "다 해서", "통틀어"].iter().any(|w| text.contains(w))
        || text.split(|c: char| !c.is_alphanumeric()).any(|w| w == "total");
    let said: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
    if !total
        || said.iter().any(|w| ["each", "apiece"].contains(w))
        || ["개당", "하나당"].iter().any(|w| text.contains(w))
    {
        return None;
    }
    let count = |w: &str| -> Option<i64> {
        let n = match w {
            "두" | "two" => 2,
            "세" | "three" => 3,
            "네" | "four" => 4,
            _ => w.parse::<i64>().ok()?,
        };
        (2..=10).contains(&n).then_some(n)
    };
    const UNITS: &[&str] = &[
        "개", "켤레", "벌", "병", "팩", "캔", "pairs", "pair", "of", "for", "pieces", "packs", "items", "bottles",
        "cans",
    ];
    let words: Vec<&str> = text.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
    words.iter().enumerate().find_map(|(i, w)| {
        // "2 pairs", "두 켤레", "2 of them"; or the unit joined: "2개", "두켤레".
        let next = words.get(i + 1).copied().unwrap_or_default();
        count(w)
            .filter(|_| UNITS.iter().any(|u| next.starts_with(u)))
            .or_else(|| UNITS.iter().filter(|u| !u.is_ascii()).find_map(|u| w.strip_suffix(u).and_then(&count)))
    })
}

/// `text` with English numbers said in words before an amount's unit ("forty thousand won", "thirty dollars", "two
/// hundred thousand won") written as digits padded with spaces to the same byte length, so that the spans found
/// stay those of `text`; `None` when there are none. A number not followed by a unit stays ("one 10,000 won bill").
pub(crate) fn numbers_in_words(text: &str) -> Option<String> {
    const UNITS: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
    const AFTER: &[&str] = &["thousand", "million", "won", "dollars", "dollar", "bucks", "usd", "k"];
    // (ASCII lowercasing keeps every byte where it was.)
    let lower = text.to_ascii_lowercase();
    // Runs of Latin letters with where they start.
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut run: Option<usize> = None;
    for (b, c) in lower.char_indices().chain(std::iter::once((lower.len(), ' '))) {
        match (c.is_ascii_alphabetic(), run) {
            (true, None) => run = Some(b),
            (false, Some(start)) => {
                words.push((start, &lower[start..b]));
                run = None;
            }
            _ => {}
        }
    }
    let value = |w: &str| -> Option<i64> {
        UNITS
            .iter()
            .position(|u| *u == w)
            .map(|n| n as i64)
            .or_else(|| TENS.iter().position(|t| *t == w).map(|n| (n as i64 + 2) * 10))
    };
    // A number below a hundred at word `i` ("forty", "forty-five", "forty five"): its value and the word after it.
    let small = |i: usize| -> Option<(i64, usize)> {
        let n = value(words.get(i)?.1)?;
        match words.get(i + 1).and_then(|w| value(w.1)).filter(|u| n >= 20 && n % 10 == 0 && (1..10).contains(u)) {
            Some(u) => Some((n + u, i + 2)),
            None => Some((n, i + 1)),
        }
    };
    // A whole number at word `i`: "two hundred fifty", "a hundred and twenty", "thirty".
    let number = |i: usize| -> Option<(i64, usize)> {
        let (n, j) = if words.get(i)?.1 == "a" && words.get(i + 1).is_some_and(|w| w.1 == "hundred") {
            (1, i + 1)
        } else {
            small(i)?
        };
        if words.get(j).is_none_or(|w| w.1 != "hundred") {
            return Some((n, j));
        }
        let k = if words.get(j + 1).is_some_and(|w| w.1 == "and") { j + 2 } else { j + 1 };
        Some(match small(k) {
            Some((m, l)) if m < 100 => (n * 100 + m, l),
            _ => (n * 100, j + 1),
        })
    };
    // Every number said in words, with its word span; kept when a unit follows it, or when "to" / "and" / "or"
    // joins it to a kept one ("twenty to thirty bucks", "between thirty and fifty thousand won").
    let mut found: Vec<(i64, usize, usize, bool)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match number(i) {
            Some((n, j)) => {
                // (Right after it: "one 10,000 won bill" is one bill.)
                let end = words[j - 1].0 + words[j - 1].1.len();
                let unit = words.get(j).is_some_and(|w| AFTER.contains(&w.1) && lower[end..w.0].trim().is_empty());
                found.push((n, i, j, unit));
                i = j;
            }
            None => i += 1,
        }
    }
    for f in (0..found.len()).rev() {
        let (_, _, j, kept) = found[f];
        if !kept
            && words.get(j).is_some_and(|w| {
                ["to", "and", "or"].contains(&w.1)
                    && lower[words[j - 1].0 + words[j - 1].1.len()..w.0].trim().is_empty()
            })
            && found.get(f + 1).is_some_and(|next| next.1 == j + 1 && next.3)
        {
            found[f].3 = true;
        }
    }
    let mut out = text.to_owned();
    let mut changed = false;
    for (n, i, j, kept) in found {
        let (start, end) = (words[i].0, words[j - 1].0 + words[j - 1].1.len());
        // Only words in between (spaces and hyphens).
        let joined = lower[start..end].chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-');
        let digits = n.to_string();
        if kept && joined && digits.len() <= end - start {
            out.replace_range(start..end, &format!("{digits:<width$}", width = end - start));
            changed = true;
        }
    }
    changed.then_some(out)
}

/// Whether the shopper lets go of the budget: "actually price doesn't matter", "예산 상관없이 보여주세요".
pub(crate) fn lets_go_of_the_budget(text: &str) -> bool {
    const SAID: &[&str] = &[
        "price doesn't matter",
        "price doesnt matter",
        "price does not matter",
        "budget doesn't matter",
        "budget doesnt matter",
        "no budget",
        "any price",
        "regardless of price",
        "forget the budget",
        "whatever the price",
        "price is no object",
        "예산 상관없",
        "예산은 상관없",
        "예산 상관 없",
        "가격 상관없",
        "가격은 상관없",
        "가격 상관 없",
        "가격 무관",
        "예산 무관",
    ];
    SAID.iter().any(|w| text.contains(w))
}
