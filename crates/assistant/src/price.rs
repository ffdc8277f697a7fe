//! Prices as shoppers say them, in Korean and English, turned into inclusive bounds in minor units:
//! "10만원 이하" → max 100000, "10만원 미만" → max 99999, "5만원대" → 50000–59999, "3만원 이상" → min 30000,
//! "under $50" → max 4999 (USD), "5만~10만원", "5만원부터 10만원까지", "10만원 내외" (±10 %), "10만5천원",
//! "1.5만원", "십만 원", "between 30 and 50 thousand won", "$20–40". A number alone is never a price: it needs
//! a currency (원, ₩, won, $, dollars…) or a Korean money unit (만, 천) with a bound word.

use serde::{Deserialize, Serialize};

/// Price bounds, both inclusive, in the currency's minor units (won; cents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriceBounds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_minor: Option<i64>,
    pub currency: String,
}

/// A price found in an utterance, with the byte range it covered (to take it out of the search words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPrice {
    pub bounds: PriceBounds,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cur {
    Krw,
    Usd,
}

impl Cur {
    fn code(self) -> &'static str {
        match self {
            Cur::Krw => "KRW",
            Cur::Usd => "USD",
        }
    }
    /// Minor units per major unit.
    fn minor(self) -> i64 {
        match self {
            Cur::Krw => 1,
            Cur::Usd => 100,
        }
    }
}

/// A number as said: its value in major units ×1000 (so "1.5만" and "$19.99" stay exact), whether a money
/// unit (만/천/thousand/k) scaled it, and the currency named right at it.
#[derive(Debug, Clone, Copy)]
struct Amount {
    milli: i128,
    /// The multiplier of the last money unit (10000 for 만, 1000 for 천/thousand/k), 1 without one.
    unit: i128,
    currency: Option<Cur>,
    start: usize,
    end: usize,
}

const KO_DIGITS: [(char, i128); 9] =
    [('일', 1), ('이', 2), ('삼', 3), ('사', 4), ('오', 5), ('육', 6), ('칠', 7), ('팔', 8), ('구', 9)];

fn ko_small_unit(c: char) -> Option<i128> {
    match c {
        '십' => Some(10),
        '백' => Some(100),
        '천' => Some(1000),
        _ => None,
    }
}

fn ko_big_unit(c: char) -> Option<i128> {
    match c {
        '만' => Some(10_000),
        '억' => Some(100_000_000),
        _ => None,
    }
}

/// The largest amount read as a price, in major units.
const MAX_MAJOR: i128 = 1_000_000_000_000_000;

/// Chars with their byte offsets.
fn chars(s: &str) -> Vec<(usize, char)> {
    s.char_indices().collect()
}

/// Reads a number at char index `i`: Arabic digits (with commas and a decimal point), Korean numerals, and
/// Korean money units in any mix ("10만5천", "1.5만", "삼만오천", "십만"), or English "k"/"thousand".
fn read_amount(cs: &[(usize, char)], text: &str, mut i: usize) -> Option<(Amount, usize)> {
    let start_i = i;
    let mut currency = None;
    if let Some(&(_, c)) = cs.get(i) {
        if c == '$' {
            currency = Some(Cur::Usd);
            i += 1;
        } else if c == '₩' || c == '￦' {
            currency = Some(Cur::Krw);
            i += 1;
        }
    }
    let mut total: i128 = 0; // milli
    let mut group: i128 = 0; // milli, below 만
    let mut current: Option<i128> = None; // milli, digits just read
    let mut unit = 1i128;
    let mut any = false;
    while let Some(&(_, c)) = cs.get(i) {
        if c.is_ascii_digit() {
            let mut j = i;
            let mut s = String::new();
            while let Some(&(_, d)) = cs.get(j) {
                if d.is_ascii_digit() || d == '.' || (d == ',' && cs.get(j + 1).is_some_and(|n| n.1.is_ascii_digit())) {
                    if d != ',' {
                        s.push(d);
                    }
                    j += 1;
                } else {
                    break;
                }
            }
            let s = s.trim_end_matches('.');
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            let frac: String = frac.chars().take(3).collect();
            // More than 15 digits is no price a shopper means (and would overflow below).
            if int.len() > 15 {
                return None;
            }
            let milli = int.parse::<i128>().ok()? * 1000 + format!("{frac:0<3}").parse::<i128>().ok()?;
            current = Some(milli);
            any = true;
            i = j;
            continue;
        }
        if let Some(&(_, v)) = KO_DIGITS.iter().find(|(k, _)| *k == c) {
            // A Korean numeral only counts when a unit follows (이 alone is a particle).
            let next = cs.get(i + 1).map(|x| x.1);
            if next.is_some_and(|n| ko_small_unit(n).is_some() || ko_big_unit(n).is_some()) {
                current = Some(v * 1000);
                i += 1;
                continue;
            }
            break;
        }
        if let Some(m) = ko_small_unit(c) {
            // 십, 백, 천 (alone: one of them).
            let base = current.take().unwrap_or(1000);
            group += base * m;
            unit = unit.max(if m == 1000 { 1000 } else { 1 });
            any = true;
            i += 1;
            continue;
        }
        // "4만 5천원": one amount said with a space after 만 (what follows is in thousands or hundreds).
        if c == ' ' && unit >= 10_000 && group == 0 && current.is_none() {
            let mut j = i + 1;
            while cs.get(j).is_some_and(|x| x.1.is_ascii_digit() || KO_DIGITS.iter().any(|(k, _)| *k == x.1)) {
                j += 1;
            }
            if j > i + 1 && cs.get(j).is_some_and(|x| matches!(x.1, '천' | '백')) {
                i += 1;
                continue;
            }
        }
        if let Some(m) = ko_big_unit(c) {
            let base = group + current.take().unwrap_or(if group == 0 { 1000 } else { 0 });
            total += base * m;
            group = 0;
            unit = unit.max(m);
            any = true;
            i += 1;
            continue;
        }
        break;
    }
    if !any {
        return None;
    }
    let mut value = total + group + current.unwrap_or(0);
    // Nothing above a thousand trillion (won or dollars): such a "price" is a typo or an attack, and every
    // bound computed from it below stays far inside i64.
    if value > MAX_MAJOR * 1000 {
        return None;
    }
    // English magnitudes: "50k", "50 thousand".
    let rest = &text[cs.get(i).map_or(text.len(), |x| x.0)..];
    let lower = rest.to_ascii_lowercase();
    let mut k = i;
    if lower.starts_with('k') && !lower[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        value *= 1000;
        unit = unit.max(1000);
        k += 1;
    } else {
        // "50 thousand", "1.5 million", "a million" (read as "1 million" by `find`).
        for (word, m) in [("thousand", 1000i128), ("million", 1_000_000)] {
            let trimmed = lower.trim_start();
            if trimmed.strip_prefix(word).is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_alphabetic())) {
                let skipped = lower.len() - trimmed.len();
                value *= m;
                unit = unit.max(m);
                k += text[cs[i].0..].chars().take(skipped + word.len()).count();
                break;
            }
        }
    }
    if value > MAX_MAJOR * 1000 {
        return None;
    }
    i = k;
    // The currency word right after ("원", " won", "달러", " dollars", " USD").
    let rest = &text[cs.get(i).map_or(text.len(), |x| x.0)..];
    let trimmed = rest.trim_start();
    let lower = trimmed.to_ascii_lowercase();
    let words: [(&str, Cur); 11] = [
        ("원", Cur::Krw),
        ("won", Cur::Krw),
        ("krw", Cur::Krw),
        ("₩", Cur::Krw),
        ("달러", Cur::Usd),
        ("불", Cur::Usd),
        ("dollars", Cur::Usd),
        ("dollar", Cur::Usd),
        ("bucks", Cur::Usd),
        ("usd", Cur::Usd),
        ("$", Cur::Usd),
    ];
    for (w, cur) in words {
        if lower.starts_with(w) && !lower[w.len()..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            currency = currency.or(Some(cur));
            let consumed = rest.len() - trimmed.len() + w.len();
            let end_byte = cs.get(i).map_or(text.len(), |x| x.0) + consumed;
            while cs.get(i).is_some_and(|x| x.0 < end_byte) {
                i += 1;
            }
            break;
        }
    }
    let start = cs[start_i].0;
    let end = cs.get(i).map_or(text.len(), |x| x.0);
    Some((Amount { milli: value, unit, currency, start, end }, i))
}

/// The largest bound a price can carry, in minor units (the largest amount read, in cents). Anything
/// said above it (a "k" after the digits multiplies late) is held at it, so every bound arithmetic after (`v + 1`, a decade's width, ±10 %) stays far
/// from `i64::MAX` — the fuzzer found "111111111111111k$" overflowing "about that much".
const MAX_MINOR: i64 = (MAX_MAJOR * 100) as i64;

fn to_minor(milli: i128, cur: Cur) -> i64 {
    (milli.saturating_mul(cur.minor() as i128).saturating_add(500) / 1000).clamp(0, MAX_MINOR as i128) as i64
}

fn skip_ws(cs: &[(usize, char)], mut i: usize) -> usize {
    while cs.get(i).is_some_and(|x| x.1.is_whitespace()) {
        i += 1;
    }
    i
}

/// The text from char `i` on, lowercased.
fn tail(cs: &[(usize, char)], text: &str, i: usize) -> String {
    text[cs.get(i).map_or(text.len(), |x| x.0)..].to_ascii_lowercase()
}

/// The text before byte `b`, lowercased and trimmed at the end.
fn head(text: &str, b: usize) -> String {
    text[..b].trim_end().to_ascii_lowercase()
}

enum Bound {
    Max { inclusive: bool },
    Min { inclusive: bool },
    Decade,
    Around,
}

/// Words after an amount that bound it (Korean), longest first; with the bytes each takes.
const AFTER_KO: &[(&str, u8)] = &[
    ("안 넘는", 0),
    ("안넘는", 0),
    ("안 넘게", 0),
    ("넘지 않는", 0),
    ("넘지 않게", 0),
    ("이하", 0),
    ("이내", 0),
    ("안쪽", 0),
    // "below", like "under" in English: the amount itself is out ("4만원 아래" → at most 39,999).
    ("아래", 1),
    ("밑", 1),
    ("까지", 0),
    ("미만", 1),
    ("이상", 2),
    ("부터", 2),
    ("넘는", 3),
    ("넘게", 3),
    ("초과", 3),
    ("대", 4),
    ("내외", 5),
    ("정도", 5),
    ("쯤", 5),
    ("안팎", 5),
    ("전후", 5),
    ("or less", 0),
    ("at most", 0),
    ("at the most", 0),
    ("or under", 0),
    ("and under", 0),
    ("max", 0),
    ("tops", 0),
    ("limit", 0),
    ("or more", 2),
    ("and up", 2),
    ("+", 2),
    ("or so", 5),
    // One banknote to spend: "만원 한 장으로", "오만원권 한 장 안에서", "whatever one 10,000 won bill covers" (not a
    // price a sheet: "1000원 한 장씩").
    ("권 한 장", 0),
    ("권 한장", 0),
    ("권으로", 0),
    ("한 장으로", 0),
    ("한장으로", 0),
    ("한 장 안", 0),
    ("한장 안", 0),
    ("한 장이면", 0),
    ("한장이면", 0),
    ("bill", 0),
    ("note", 0),
];

fn bound_of(code: u8) -> Bound {
    match code {
        0 => Bound::Max { inclusive: true },
        1 => Bound::Max { inclusive: false },
        2 => Bound::Min { inclusive: true },
        3 => Bound::Min { inclusive: false },
        4 => Bound::Decade,
        _ => Bound::Around,
    }
}

/// Words before an amount that bound it (English), checked against the end of the text before it.
const BEFORE_EN: &[(&str, u8)] = &[
    ("budget is", 0),
    ("budget's", 0),
    ("budget of", 0),
    ("budget", 0),
    ("예산은", 0),
    ("예산이", 0),
    ("예산을", 0),
    ("예산도", 0),
    ("예산", 0),
    ("under", 1),
    ("below", 1),
    ("less than", 1),
    ("cheaper than", 1),
    ("up to", 0),
    ("at most", 0),
    ("no more than", 0),
    ("not more than", 0),
    ("max", 0),
    ("maximum", 0),
    ("within", 0),
    ("nothing over", 0),
    ("nothing above", 0),
    ("not over", 0),
    ("over", 3),
    ("above", 3),
    ("more than", 3),
    ("at least", 2),
    ("from", 2),
    ("min", 2),
    ("minimum", 2),
    ("starting at", 2),
    ("around", 5),
    ("about", 5),
    ("approximately", 5),
    ("roughly", 5),
    ("~", 5),
];

/// Finds the price in `text`: the first one, joined with a second when one gives the floor and the other
/// the ceiling ("5만원 이상 10만원 이하", "over $20 and under $50").
pub fn find(text: &str) -> Option<FoundPrice> {
    // "a million won", "a thousand dollars": read as "1 million", "1 thousand" (the same byte length, so the
    // spans found stay those of `text`).
    let normalized;
    // ("the under-$60 ones": the bound joined to its amount; "dont want to spend more than 150k won": a ceiling —
    // both spelled to keep the byte length.)
    let joined = ["under-", "below-", "over-", "above-"].iter().any(|w| text.contains(w));
    let unwilling = ["dont want to spend more than", "don't want to spend more than", "not spend more than"]
        .iter()
        .any(|w| text.contains(w));
    // ("under forty thousand won", "thirty dollars or less": numbers in words, as digits of the same length.)
    let worded = crate::budget::numbers_in_words(text);
    let text = worded.as_deref().unwrap_or(text);
    let text = if text.contains("a million") || text.contains("a thousand") || joined || unwilling {
        let spelled = text
            .replace("a million", "1 million")
            .replace("a thousand", "1 thousand")
            .replace("under-", "under ")
            .replace("below-", "below ")
            .replace("over-", "over ")
            .replace("above-", "above ");
        normalized = if unwilling { spelled.replace("spend more than", "  not more than") } else { spelled };
        normalized.as_str()
    } else {
        text
    };
    let first = find_one(text, 0)?;
    let b = &first.bounds;
    if b.min_minor.is_some() != b.max_minor.is_some() {
        if let Some(second) = find_one(text, first.end) {
            let s = &second.bounds;
            if s.currency == b.currency
                && s.min_minor.is_some() != s.max_minor.is_some()
                && s.min_minor.is_some() != b.min_minor.is_some()
            {
                let (lo, hi) = (b.min_minor.or(s.min_minor), b.max_minor.or(s.max_minor));
                if lo <= hi {
                    let bounds = PriceBounds { min_minor: lo, max_minor: hi, currency: b.currency.clone() };
                    return Some(FoundPrice { bounds, start: first.start, end: second.end });
                }
            }
        }
    }
    Some(first)
}

/// The first price at or after byte `from`.
fn find_one(text: &str, from: usize) -> Option<FoundPrice> {
    let cs = chars(text);
    let mut i = cs.iter().position(|(b, _)| *b >= from).unwrap_or(cs.len());
    while i < cs.len() {
        // An amount starts where a number starts, never inside one (a refused 20-digit run is not read again
        // from its second digit).
        let c = cs[i].1;
        let continues = c.is_ascii_digit() || ko_small_unit(c).is_some() || ko_big_unit(c).is_some();
        if i > 0 && continues && (cs[i - 1].1.is_ascii_digit() || matches!(cs[i - 1].1, '.' | ',')) {
            i += 1;
            continue;
        }
        let Some((a, next)) = read_amount(&cs, text, i) else {
            i += 1;
            continue;
        };
        if let Some(found) = interpret(&cs, text, a, next) {
            return Some(found);
        }
        i = next.max(i + 1);
    }
    None
}

/// What an amount at char index range means with the words around it; `None` when it is not a price.
fn interpret(cs: &[(usize, char)], text: &str, a: Amount, next: usize) -> Option<FoundPrice> {
    let before = head(text, a.start);
    // "between A and B"
    if before.ends_with("between") {
        let j = skip_ws(cs, next);
        if tail(cs, text, j).starts_with("and") {
            let k = skip_ws(cs, j + 3);
            if let Some((b, end)) = read_amount(cs, text, k) {
                return range(a, b, before.len() - "between".len(), cs.get(end).map_or(text.len(), |x| x.0), text);
            }
        }
    }
    // "A~B", "A-B", "A–B", "A에서 B", "A부터 B까지"
    let j = skip_ws(cs, next);
    let t = tail(cs, text, j);
    for sep in ["~", "–", "—", "-", "에서", "부터", "to"] {
        if let Some(after) = t.strip_prefix(sep) {
            if sep == "to" && !after.starts_with(char::is_whitespace) {
                continue;
            }
            let k = skip_ws(cs, j + sep.chars().count());
            if let Some((b, end)) = read_amount(cs, text, k) {
                let mut end_b = cs.get(end).map_or(text.len(), |x| x.0);
                let rest = tail(cs, text, skip_ws(cs, end));
                for w in ["까지", "사이", "이하"] {
                    if rest.starts_with(w) {
                        end_b = text.len() - rest.len() + w.len();
                    }
                }
                if let Some(f) = range(a, b, a.start, end_b, text) {
                    return Some(f);
                }
            }
        }
    }
    // A bound word after it (Korean and English).
    let after = tail(cs, text, j);
    let bare_after = tail(cs, text, next);
    for (w, code) in AFTER_KO {
        // "5만원대" and "5만원 대 이어폰", but not "5만원 대용량" (a word that starts with 대).
        let spaced_decade = after.strip_prefix('대').is_some_and(|r| {
            r.chars()
                .next()
                .is_none_or(|c| !('가'..='힣').contains(&c) || matches!(c, '의' | '로' | '에' | '인' | '를'))
        });
        // "$20 and under", but not "over $20 and under $50" (there "under" bounds the next amount).
        let names_next = w.is_ascii()
            && after
                .get(w.len()..)
                .is_some_and(|r| r.trim_start().starts_with(|c: char| c.is_ascii_digit() || c == '$' || c == '₩'));
        // (An English word whole, or plural: "10k won notebook" holds no "note".)
        let whole = !w.is_ascii()
            || after.get(w.len()..).is_none_or(|r| {
                let r = r.strip_prefix('s').unwrap_or(r);
                !r.starts_with(|c: char| c.is_ascii_alphabetic())
            });
        let hit = if *w == "대" {
            bare_after.starts_with(w) || spaced_decade
        } else {
            after.starts_with(w) && !names_next && whole
        };
        if hit {
            let cur = a.currency.or(if a.unit > 1 { Some(Cur::Krw) } else { None })?;
            let used = if *w == "대" && bare_after.starts_with(w) { bare_after.len() } else { after.len() };
            let end = text.len() - used + w.len();
            return Some(bounded(a, cur, bound_of(*code), a.start, end));
        }
    }
    // "~10만원": up to (Korean usage; "~$50" in English is "about", below).
    if before.ends_with('~') && (a.unit > 1 || a.currency == Some(Cur::Krw)) {
        let start = text[..a.start].trim_end().len() - 1;
        return Some(bounded(a, Cur::Krw, Bound::Max { inclusive: true }, start, a.end));
    }
    // "5만원~" with nothing after it: from.
    if let Some(r) = after.strip_prefix('~') {
        if r.trim().is_empty() || !r.trim_start().starts_with(|c: char| c.is_ascii_digit() || c == '$' || c == '₩') {
            let cur = a.currency.or(if a.unit > 1 { Some(Cur::Krw) } else { None })?;
            let end = text.len() - after.len() + 1;
            return Some(bounded(a, cur, Bound::Min { inclusive: true }, a.start, end));
        }
    }
    // A bound word before it (English).
    for (w, code) in BEFORE_EN {
        if before.ends_with(w)
            && (before.len() == w.len()
                || !before[..before.len() - w.len()].ends_with(|c: char| c.is_ascii_alphabetic()))
        {
            let cur = a.currency.or(if a.unit > 1 { Some(Cur::Krw) } else { None })?;
            let start = text[..a.start].trim_end().len() - w.len();
            return Some(bounded(a, cur, bound_of(*code), start, a.end));
        }
    }
    // A price with a currency and no bound word: "5만원짜리", "$30 earbuds" — about that much.
    let cur = a.currency?;
    Some(bounded(a, cur, Bound::Around, a.start, a.end))
}

fn bounded(a: Amount, cur: Cur, b: Bound, start: usize, end: usize) -> FoundPrice {
    let v = to_minor(a.milli, cur);
    let (min, max) = match b {
        Bound::Max { inclusive: true } => (None, Some(v)),
        // "under $0" leaves nothing but free: never a negative bound.
        Bound::Max { inclusive: false } => (None, Some((v - 1).max(0))),
        Bound::Min { inclusive: true } => (Some(v), None),
        Bound::Min { inclusive: false } => (Some(v + 1), None),
        Bound::Decade => {
            // 5만원대 → 50000–59999; 10만원대 → 100000–199999: the leading digit's place.
            let mut width = 1i64;
            let mut x = v;
            while x >= 10 && x % 10 == 0 {
                width *= 10;
                x /= 10;
            }
            (Some(v), Some(v + width - 1))
        }
        Bound::Around => {
            let d = v / 10;
            (Some(v - d), Some(v + d))
        }
    };
    FoundPrice { bounds: PriceBounds { min_minor: min, max_minor: max, currency: cur.code().to_owned() }, start, end }
}

/// "A~B": a unit or currency said once applies to both ("5~10만원", "$20–40", "30 and 50 thousand won").
fn range(mut a: Amount, mut b: Amount, start: usize, end: usize, _text: &str) -> Option<FoundPrice> {
    if a.unit == 1 && b.unit > 1 {
        a.milli *= b.unit;
        a.unit = b.unit;
    }
    if b.unit == 1 && a.unit > 1 && b.milli < a.milli {
        b.milli *= a.unit;
        b.unit = a.unit;
    }
    let cur = a.currency.or(b.currency).or(if a.unit > 1 || b.unit > 1 { Some(Cur::Krw) } else { None })?;
    let (lo, hi) = (to_minor(a.milli, cur), to_minor(b.milli, cur));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    Some(FoundPrice {
        bounds: PriceBounds { min_minor: Some(lo), max_minor: Some(hi), currency: cur.code().to_owned() },
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (Option<i64>, Option<i64>, &'static str) {
        let f = find(s).unwrap_or_else(|| panic!("no price in {s:?}"));
        (f.bounds.min_minor, f.bounds.max_minor, if f.bounds.currency == "USD" { "USD" } else { "KRW" })
    }

    #[test]
    fn absurd_amounts_are_not_prices() {
        // Found by the fuzzer: a 37-digit number overflowed (a panic in debug builds, a wrong bound in release).
        let s = "be1111111111111111111111111111111111111111111111111111111tween 30nd wgn";
        let _ = find(s);
        assert_eq!(find("99999999999999999999원 이하"), None);
        assert_eq!(find("9999999999억 이하"), None, "beyond a thousand trillion won");
        assert!(find("100억 이하").is_some());
        // Found by the fuzzer in CI: a "k" after 15 digits went past every check, then "about" added 10 %.
        let f = find("111111111111111k$ zeogangnam sta L");
        assert!(f.is_none_or(|f| f.bounds.max_minor.is_some_and(|m| m <= MAX_MINOR + MAX_MINOR / 10)));
    }

    #[test]
    fn budgets() {
        assert_eq!(p("예산 30만원으로 공기청정기"), (None, Some(300_000), "KRW"));
        assert_eq!(p("아 예산을 10만원으로 줄일게요"), (None, Some(100_000), "KRW"));
        assert_eq!(p("30만원 안 넘는 걸로"), (None, Some(300_000), "KRW"));
        assert_eq!(p("vacuum, my budget is $300"), (None, Some(30_000), "USD"));
        assert_eq!(p("30만원 넘는 걸로"), (Some(300_001), None, "KRW"));
    }

    #[test]
    fn the_issues_examples() {
        assert_eq!(p("10만원 이하"), (None, Some(100_000), "KRW"));
        assert_eq!(p("10만원 미만"), (None, Some(99_999), "KRW"));
        assert_eq!(p("5만원대"), (Some(50_000), Some(59_999), "KRW"));
        assert_eq!(p("3만원 이상"), (Some(30_000), None, "KRW"));
        assert_eq!(p("under $50"), (None, Some(4_999), "USD"));
    }

    #[test]
    fn korean_forms() {
        assert_eq!(p("강남역 근처에서 오늘 픽업 가능한 10만원 이하 무선 이어폰"), (None, Some(100_000), "KRW"));
        assert_eq!(p("10만 원 이하로 보여줘"), (None, Some(100_000), "KRW"));
        assert_eq!(p("10만 이하"), (None, Some(100_000), "KRW"));
        assert_eq!(p("2만원 초과"), (Some(20_001), None, "KRW"));
        assert_eq!(p("10만원대"), (Some(100_000), Some(199_999), "KRW"));
        assert_eq!(p("15만원대 운동화"), (Some(150_000), Some(159_999), "KRW"));
        assert_eq!(p("10만원 대 이어폰"), (Some(100_000), Some(199_999), "KRW"));
        assert_eq!(p("5만원 대용량 텀블러"), (Some(45_000), Some(55_000), "KRW"), "about 5만원, not a decade");
        assert_eq!(p("5만~10만원"), (Some(50_000), Some(100_000), "KRW"));
        assert_eq!(p("5~10만원"), (Some(50_000), Some(100_000), "KRW"));
        assert_eq!(p("5만원부터 10만원까지"), (Some(50_000), Some(100_000), "KRW"));
        assert_eq!(p("3만원에서 5만원 사이"), (Some(30_000), Some(50_000), "KRW"));
        assert_eq!(p("10만원 내외"), (Some(90_000), Some(110_000), "KRW"));
        assert_eq!(p("5만원 정도"), (Some(45_000), Some(55_000), "KRW"));
        assert_eq!(p("10만원 안쪽"), (None, Some(100_000), "KRW"));
        assert_eq!(p("10만5천원 이하"), (None, Some(105_000), "KRW"));
        assert_eq!(p("1.5만원 이하"), (None, Some(15_000), "KRW"));
        assert_eq!(p("십만 원 이하"), (None, Some(100_000), "KRW"));
        assert_eq!(p("삼만오천원 이하"), (None, Some(35_000), "KRW"));
        assert_eq!(p("만원 이하 과자"), (None, Some(10_000), "KRW"));
        assert_eq!(p("오천원 미만"), (None, Some(4_999), "KRW"));
        assert_eq!(p("50,000원 이하"), (None, Some(50_000), "KRW"));
        assert_eq!(p("₩39,000 이하"), (None, Some(39_000), "KRW"));
        assert_eq!(p("3만원 넘는 거"), (Some(30_001), None, "KRW"));
        assert_eq!(p("~10만원"), (None, Some(100_000), "KRW"));
        assert_eq!(p("5만원~"), (Some(50_000), None, "KRW"));
        assert_eq!(p("5만원 이상 10만원 이하"), (Some(50_000), Some(100_000), "KRW"));
        assert_eq!(p("10만원까지"), (None, Some(100_000), "KRW"));
        assert_eq!(p("2만 원대 선물"), (Some(20_000), Some(29_999), "KRW"));
        assert_eq!(p("이십만원 이하"), (None, Some(200_000), "KRW"));
        assert_eq!(p("만오천원 이하"), (None, Some(15_000), "KRW"));
    }

    #[test]
    fn english_forms() {
        assert_eq!(p("between 30 and 50 thousand won"), (Some(30_000), Some(50_000), "KRW"));
        assert_eq!(p("phones under a million won"), (None, Some(999_999), "KRW"));
        assert_eq!(p("up to 1.5 million won"), (None, Some(1_500_000), "KRW"));
        assert_eq!(p("2 million won or less"), (None, Some(2_000_000), "KRW"));
        assert_eq!(p("$20–40"), (Some(2_000), Some(4_000), "USD"));
        assert_eq!(p("$20-40 headphones"), (Some(2_000), Some(4_000), "USD"));
        assert_eq!(p("earbuds up to $50"), (None, Some(5_000), "USD"));
        assert_eq!(p("less than 100,000 won"), (None, Some(99_999), "KRW"));
        assert_eq!(p("over $20"), (Some(2_001), None, "USD"));
        assert_eq!(p("at least 30k won"), (Some(30_000), None, "KRW"));
        assert_eq!(p("around $100"), (Some(9_000), Some(11_000), "USD"));
        assert_eq!(p("$19.99 or less"), (None, Some(1_999), "USD"));
        assert_eq!(p("dehumidifier, 300k won at most"), (None, Some(300_000), "KRW"));
        assert_eq!(p("에어프라이어 10만원 아래"), (None, Some(99_999), "KRW"));
        assert_eq!(p("슬리퍼 3만원 밑으로"), (None, Some(29_999), "KRW"));
        assert_eq!(p("슬림 치노 베이지 XL 4만 5천원 이하"), (None, Some(45_000), "KRW"));
        assert_eq!(p("4만 오천원 정도"), (Some(40_500), Some(49_500), "KRW"));
        assert_eq!(p("4만 원 이하 5천원짜리 말고"), (None, Some(40_000), "KRW"));
        assert_eq!(p("50 dollars max"), (None, Some(5_000), "USD"));
        assert_eq!(p("over $20 and under $50"), (Some(2_001), Some(4_999), "USD"));
        assert_eq!(p("~$50"), (Some(4_500), Some(5_500), "USD"));
        assert_eq!(p("from $20 to $40"), (Some(2_000), Some(4_000), "USD"));
        assert_eq!(p("cheaper than $100"), (None, Some(9_999), "USD"));
    }

    #[test]
    fn numbers_alone_are_not_prices() {
        for s in ["청바지 30", "270mm 운동화", "95 사이즈", "아이폰 15", "라면 5개", "2인용 텐트", "이 중에 싼 거"]
        {
            assert!(find(s).is_none(), "{s:?} is not a price: {:?}", find(s));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any text: an answer or none, never a panic, and a span on character boundaries.
        #[test]
        fn any_text_is_read_or_left(s in "[0-9만천십백억원이하미만대~ $.,a-zA-Z가-힣₩-]{0,40}") {
            if let Some(f) = find(&s) {
                proptest::prop_assert!(s.is_char_boundary(f.start) && s.is_char_boundary(f.end) && f.start <= f.end);
                if let (Some(lo), Some(hi)) = (f.bounds.min_minor, f.bounds.max_minor) {
                    proptest::prop_assert!(lo <= hi, "{:?}", f);
                }
            }
        }
    }

    #[test]
    fn the_span_covers_the_price_words() {
        let s = "강남역 10만원 이하 무선 이어폰";
        let f = find(s).unwrap();
        assert_eq!(&s[f.start..f.end], "10만원 이하");
        let s = "earbuds under $50 please";
        let f = find(s).unwrap();
        assert_eq!(&s[f.start..f.end], "under $50");
    }
}
