//! The catalog's words for the assistant: its kinds of product (the taxonomy's common names, the seller's
//! synonyms, and words learned from the titles' heads), its brands, and its stores with their short names.

use crate::cues::*;
use crate::words::*;
use std::collections::BTreeMap;

/// Something the catalog names, with the words shoppers use for it (any language, any case).
#[derive(Debug, Clone, Default)]
pub struct Term {
    /// What the engine filters by: a category path, a brand as written in the catalog, a location id.
    pub id: String,
    pub words: Vec<String>,
    /// Words learned from the catalog's titles: matched only where a word starts (a title's "패드" must not
    /// be found inside "아이패드").
    pub learned: Vec<String>,
}

/// The catalog's words: categories (taxonomy and search synonyms), brands, stores.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub categories: Vec<Term>,
    pub brands: Vec<Term>,
    pub stores: Vec<Term>,
    /// Every word of the catalog's titles (lowercase): a kind of product said as the titles say it
    /// ("hoodie", "김치") stays a search word as well as a category, so that the search finds that product
    /// within its category and not the category's best sellers.
    pub title_words: std::collections::BTreeSet<String>,
}

impl Vocabulary {
    /// A vocabulary from a catalog: its category paths (each gets the common words for its leaf and the
    /// leaf itself), its brands, and its stores (id and names in any language; "보더리스 강남역점" is also
    /// reached as "강남역점", "강남역" and "강남").
    pub fn from_catalog<'a>(
        categories: impl IntoIterator<Item = &'a str>,
        brands: impl IntoIterator<Item = &'a str>,
        stores: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>,
    ) -> Vocabulary {
        let mut v = Vocabulary::default();
        let mut seen = std::collections::BTreeSet::new();
        for c in categories {
            if !seen.insert(c.to_owned()) {
                continue;
            }
            let leaf = c.rsplit('/').next().unwrap_or(c);
            let mut words: Vec<String> = CATEGORY_WORDS
                .iter()
                .filter(|(l, _)| *l == leaf)
                .flat_map(|(_, w)| w.iter().map(|w| w.to_string()))
                .collect();
            words.push(leaf.replace(['-', '_'], " "));
            v.categories.push(Term { id: c.to_owned(), words, learned: Vec::new() });
            // The department above it ("apparel" for "apparel/tops"): "옷 보여줘" searches all of it.
            if let Some((parent, _)) = c.rsplit_once('/') {
                if seen.insert(parent.to_owned()) {
                    let words: Vec<String> = PARENT_WORDS
                        .iter()
                        .filter(|(p, _)| *p == parent)
                        .flat_map(|(_, w)| w.iter().map(|w| w.to_string()))
                        .collect();
                    if !words.is_empty() {
                        v.categories.push(Term { id: parent.to_owned(), words, learned: Vec::new() });
                    }
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for b in brands {
            if !b.is_empty() && seen.insert(b.to_owned()) {
                v.brands.push(Term { id: b.to_owned(), words: vec![b.to_owned()], learned: Vec::new() });
            }
        }
        // A brand's own first word is its name as shoppers say it ("dasom" for "Dasom Confectionery"), when no
        // other brand starts with it and it is no common word (a colour, a kind of product, "the").
        let firsts: Vec<Option<String>> = v
            .brands
            .iter()
            .map(|b| {
                let mut parts = b.id.split_whitespace();
                let first = lower(parts.next()?);
                parts.next()?;
                let common = COLOURS.iter().any(|(_, ws)| ws.contains(&first.as_str()))
                    || CATEGORY_WORDS.iter().chain(PARENT_WORDS).any(|(_, ws)| ws.contains(&first.as_str()))
                    || STOP.contains(&first.as_str())
                    // (An everyday word said for itself: "is the inner pot easy to clean?".)
                    || EVERYDAY.contains(&first.as_str());
                (first.chars().count() >= 4 && !common).then_some(first)
            })
            .collect();
        for (i, f) in firsts.iter().enumerate() {
            if let Some(f) = f {
                if firsts.iter().filter(|g| g.as_ref() == Some(f)).count() == 1 && !SMALLTALK.contains(&f.as_str()) {
                    // Dropped by `learn_from_titles` when the catalog's titles use it as a word ("Hanwoo").
                    v.brands[i].learned.push(f.clone());
                }
            }
        }
        for (id, names) in stores {
            let mut words = Vec::new();
            for n in names {
                words.push(n.to_owned());
                // The shop's own name in front of a branch ("보더리스 강남역점", "Borderless Gangnam Station").
                if let Some((_, branch)) = n.split_once(' ') {
                    // Each word of the branch alone ("부산 서면점" → "서면점", "서면").
                    // (ASCII parts shorter than 3 letters, "GO", would match ordinary words.)
                    for part in branch
                        .split_whitespace()
                        .filter(|p| !(p.eq_ignore_ascii_case("station") || p.is_ascii() && p.len() < 3))
                    {
                        words.push(part.to_owned());
                        let p = part.trim_end_matches('점');
                        words.push(p.to_owned());
                        if let Some(s) = p.strip_suffix('역') {
                            words.push(s.to_owned());
                        }
                    }
                    words.push(branch.to_owned());
                    let short = branch.trim_end_matches('점').trim_end_matches(" Station").trim_end_matches(" store");
                    words.push(short.to_owned());
                    if let Some(s) = short.strip_suffix('역') {
                        words.push(s.to_owned());
                    }
                }
            }
            // Romanised as shoppers spell it too: "seomyun" for Seomyeon (여 as "yu").
            let spelled: Vec<String> = words
                .iter()
                .filter(|w| w.is_ascii() && w.to_ascii_lowercase().contains("yeo"))
                .map(|w| w.to_ascii_lowercase().replace("yeo", "yu"))
                .collect();
            for s in spelled {
                if !words.contains(&s) {
                    words.push(s);
                }
            }
            words.retain(|w| w.chars().count() >= 2);
            v.stores.push(Term { id: id.to_owned(), words, learned: Vec::new() });
        }
        v
    }

    /// Joins the seller's search synonyms to the category or brand one of their words names ("소리오디오" with
    /// "Sori Audio").
    pub fn join_synonyms(&mut self, groups: &[Vec<String>]) {
        for group in groups {
            let group: Vec<String> = group.iter().map(|w| lower(w)).collect();
            for t in self.categories.iter_mut().chain(self.brands.iter_mut()) {
                if t.words.iter().any(|w| group.contains(&lower(w))) {
                    for w in &group {
                        if !t.words.iter().any(|x| lower(x) == *w) {
                            t.words.push(w.clone());
                        }
                    }
                }
            }
        }
    }

    /// Learns the words of each category from the catalog's titles. A noun phrase ends with its head, in
    /// Korean and in English ("배추 포기김치", "Napa Cabbage Kimchi", "Kimchi Ramyun" is ramyun): a title word
    /// that heads titles of one category (at least 80 % of the titles it heads, and half of all its uses) finds
    /// that category, and so does a Korean head's ending of two syllables or more ("김치" of "포기김치"). A word
    /// that only ever modifies ("스마트", "wireless") finds nothing: the engine asks the search instead.
    /// Colours, numbers and brands are never learned.
    pub fn learn_from_titles<'a>(&mut self, items: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut uses: BTreeMap<String, BTreeMap<&'a str, usize>> = BTreeMap::new();
        let mut heads: BTreeMap<String, BTreeMap<&'a str, usize>> = BTreeMap::new();
        let mut title_words = std::collections::BTreeSet::new();
        for (category, title) in items {
            let title = lower(title);
            title_words
                .extend(title.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned));
            // The variant after a comma ("Windbreaker Jacket, Olive") is not the phrase.
            // Nor what follows its head ("Clear Case for Aria A5" is a case).
            let phrase = title.split(',').next().unwrap_or(&title);
            let phrase = phrase.split(" for ").next().unwrap_or(phrase);
            let phrase = phrase.split(" with ").next().unwrap_or(phrase);
            let mut seen = std::collections::BTreeSet::new();
            let mut head: Option<String> = None;
            for w in phrase.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '/' | '·' | '+')) {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric());
                let hangul = w.chars().any(is_hangul);
                if w.chars().count() < if hangul { 2 } else { 3 } || w.chars().any(|c| c.is_ascii_digit()) {
                    continue;
                }
                if COLOURS.iter().any(|(_, ws)| ws.contains(&w)) || STOP.contains(&w) || SIZE_WORDS.contains(&w) {
                    continue;
                }
                if self.brands.iter().any(|b| b.words.iter().any(|x| lower(x).split_whitespace().any(|p| p == w))) {
                    continue;
                }
                head = Some(w.to_owned());
                if seen.insert(w.to_owned()) {
                    *uses.entry(w.to_owned()).or_default().entry(category).or_default() += 1;
                }
            }
            if let Some(h) = head {
                let cs: Vec<char> = h.chars().collect();
                let mut forms = vec![h.clone()];
                if cs.iter().all(|c| is_hangul(*c)) {
                    forms.extend((1..cs.len().saturating_sub(1)).map(|i| cs[i..].iter().collect::<String>()));
                }
                for f in forms {
                    *heads.entry(f).or_default().entry(category).or_default() += 1;
                }
            }
        }
        for b in &mut self.brands {
            b.learned.retain(|w| !title_words.contains(w));
        }
        self.title_words = title_words.clone();
        for (w, by_cat) in heads {
            let headed: usize = by_cat.values().sum();
            let Some((cat, n)) = by_cat.iter().max_by_key(|(_, n)| **n) else { continue };
            if *n * 5 < headed * 4 {
                continue;
            }
            let all = uses.get(&w).map(|u| u.values().sum::<usize>()).unwrap_or(0);
            let in_cat = uses.get(&w).and_then(|u| u.get(cat)).copied().unwrap_or(0);
            // An ending learned from compounds has no uses of its own; a whole word must mostly mean the kind.
            if all > 0 && in_cat.max(*n) * 2 < all {
                continue;
            }
            if let Some(t) = self.categories.iter_mut().find(|t| t.id == *cat) {
                if !t.words.iter().any(|x| lower(x) == w) && !t.learned.contains(&w) {
                    if w.is_ascii() && !w.ends_with('s') {
                        t.learned.push(format!("{w}s"));
                    }
                    t.learned.push(w);
                }
            }
        }
    }
}

/// Sizes said as words: a title's "Medium" is its variant, not its kind.
pub(crate) const SIZE_WORDS: &[&str] = &["small", "medium", "large", "mini", "big", "regular", "소형", "중형", "대형"];

pub(crate) fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Everyday English words a brand may start with, which a shopper says for themselves ("easy to clean", "good
/// morning"): never a brand's name alone.
const EVERYDAY: &[&str] = &[
    "clean", "morning", "fresh", "smart", "pure", "easy", "daily", "happy", "good", "best", "great", "cool", "soft",
    "light", "quick", "simple", "basic", "natural", "classic", "home", "life", "little", "warm", "sweet",
];

#[cfg(test)]
mod tests {
    #[test]
    fn stores_are_reached_by_their_branch_and_as_shoppers_spell_it() {
        let v = super::Vocabulary::from_catalog(
            [],
            [],
            [("loc_seomyeon", vec!["보더리스 부산 서면점", "Borderless Busan Seomyeon"])],
        );
        let words = &v.stores[0].words;
        for w in ["서면점", "서면", "Seomyeon", "seomyun"] {
            assert!(words.iter().any(|x| x == w), "{w}: {words:?}");
        }
    }
}
