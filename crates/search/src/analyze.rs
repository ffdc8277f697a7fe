//! The analyzer shared by indexing and queries: lower-casing, English stemming (Snowball), Korean runs
//! as whole words, particle-stripped words and character bigrams (so "무선이어폰을" meets "무선 이어폰"),
//! and numbers with units kept whole and split ("270mm" → 270mm, 270, mm; "1.5l" → 1.5l, 1.5, l).

use rust_stemmers::{Algorithm, Stemmer};

/// Korean particles stripped from the end of a word (longest first).
const PARTICLES: [&str; 16] =
    ["에서는", "으로", "에서", "에게", "까지", "부터", "을", "를", "이", "가", "은", "는", "에", "로", "와", "과"];

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c) || ('\u{3131}'..='\u{318E}').contains(&c)
}

/// One analyzed term with whether it came from a whole word (bigrams are not whole words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub whole: bool,
}

pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer { stemmer: Stemmer::create(Algorithm::English) }
    }
}

impl Analyzer {
    /// Terms of `text` in order.
    pub fn terms(&self, text: &str) -> Vec<Term> {
        let mut out = Vec::new();
        let lower = text.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if is_hangul(c) {
                let start = i;
                while i < chars.len() && is_hangul(chars[i]) {
                    i += 1;
                }
                self.korean(&chars[start..i].iter().collect::<String>(), &mut out);
            } else if c.is_alphanumeric() {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() && !is_hangul(chars[i])
                        || (chars[i] == '.'
                            && i + 1 < chars.len()
                            && chars[i + 1].is_ascii_digit()
                            && i > start
                            && chars[i - 1].is_ascii_digit()))
                {
                    i += 1;
                }
                self.latin(&chars[start..i].iter().collect::<String>(), &mut out);
            } else {
                i += 1;
            }
        }
        out
    }

    fn latin(&self, word: &str, out: &mut Vec<Term>) {
        let digits = word.chars().filter(|c| c.is_ascii_digit()).count();
        if digits > 0 && digits < word.chars().filter(|c| *c != '.').count() {
            // A number with a unit: the whole, and its parts.
            out.push(Term { text: word.to_owned(), whole: true });
            let mut part = String::new();
            let mut numeric = None;
            for c in word.chars() {
                let is_num = c.is_ascii_digit() || c == '.';
                if numeric.is_some_and(|n| n != is_num) {
                    out.push(Term { text: self.stem(&part), whole: true });
                    part.clear();
                }
                numeric = Some(is_num);
                part.push(c);
            }
            if !part.is_empty() {
                out.push(Term { text: self.stem(&part), whole: true });
            }
        } else {
            out.push(Term { text: self.stem(word), whole: true });
        }
    }

    fn stem(&self, w: &str) -> String {
        if w.chars().all(|c| c.is_ascii_alphabetic()) && w.len() > 3 {
            self.stemmer.stem(w).into_owned()
        } else {
            w.to_owned()
        }
    }

    fn korean(&self, word: &str, out: &mut Vec<Term>) {
        let chars: Vec<char> = word.chars().collect();
        out.push(Term { text: word.to_owned(), whole: true });
        if let Some(p) = PARTICLES.iter().find(|p| word.ends_with(*p) && chars.len() > p.chars().count() + 1) {
            out.push(Term { text: word[..word.len() - p.len()].to_owned(), whole: true });
        }
        if chars.len() > 2 {
            for w in chars.windows(2) {
                out.push(Term { text: w.iter().collect(), whole: false });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        Analyzer::default().terms(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn english_is_stemmed_and_units_split() {
        assert_eq!(texts("Running Shoes 270mm"), vec!["run", "shoe", "270mm", "270", "mm"]);
        assert_eq!(texts("Water 1.5L, 256GB"), vec!["water", "1.5l", "1.5", "l", "256gb", "256", "gb"]);
    }

    #[test]
    fn korean_compounds_meet_their_parts() {
        let q = texts("무선이어폰을");
        assert!(q.contains(&"무선이어폰".to_owned()), "{q:?}");
        assert!(q.contains(&"이어".to_owned()) && q.contains(&"어폰".to_owned()));
        let d = texts("무선 이어폰 블루투스");
        assert!(d.contains(&"이어폰".to_owned()) && d.contains(&"무선".to_owned()));
        assert!(texts("나이키 running").contains(&"나이키".to_owned()));
    }

    proptest::proptest! {
        /// Any text a shopper types (any script, controls, huge numbers, long runs) is analysed without a
        /// panic into a bounded number of terms.
        #[test]
        fn any_text_is_analysed(text in "\\PC{0,200}") {
            let terms = super::Analyzer::default().terms(&text);
            proptest::prop_assert!(terms.len() <= 8 * text.chars().count() + 8, "{} terms", terms.len());
        }

        #[test]
        fn korean_and_numbers_are_analysed(text in "[가-힣0-9a-zA-Z .,/~%-]{0,120}") {
            let _ = super::Analyzer::default().terms(&text);
        }
    }
}
