//! An in-memory inverted index with BM25 ranking, a coordination factor (documents matching more of the
//! query's words first), typo tolerance (query words one edit away from an indexed word, by a deletion
//! index: one letter in English, one jamo in Korean words of three syllables or more), the shop's
//! Korean ↔ English vocabulary beside the seller's synonyms, and prefix completion of the last word. A
//! number never carries a query alone, and a fragment of a Korean word is a match only when nothing holds a word of
//! the query. Documents can be added and removed in place, so a
//! catalog change reaches the index in microseconds; removed documents stay in the postings (skipped when
//! scoring) until the owner rebuilds.

use crate::analyze::{Analyzer, Term};
use std::collections::HashMap;

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Weight of a character-bigram match against a whole-word match.
const BIGRAM_WEIGHT: f32 = 0.5;
/// Weight of a match through a typo correction.
const FUZZY_WEIGHT: f32 = 0.7;

#[derive(Default)]
pub struct Index {
    analyzer: Analyzer,
    terms: HashMap<String, u32>,
    vocab: Vec<String>,
    /// Per term: (document, term frequency, whether the document holds the term as a word of its own and
    /// not only as a syllable pair of a longer Korean word).
    postings: Vec<Vec<(u32, u16, bool)>>,
    doc_len: Vec<f32>,
    avg_len: f32,
    deletions: HashMap<String, Vec<u32>>,
    sorted_vocab: Vec<u32>,
    /// analyzed word → analyzed words of its synonyms (a seller's list: 운동화 ↔ sneakers …)
    synonyms: HashMap<String, Vec<String>>,
    /// Removed documents (a bit per document) and how many there are.
    deleted: Vec<u64>,
    n_deleted: usize,
    /// Sum of the live documents' lengths (for the BM25 average).
    total_len: f64,
}

/// Weight of a match through a synonym.
const SYNONYM_WEIGHT: f32 = 0.9;
/// The bit of a document's match mask that says it matched a term without a digit.
const TEXT_HIT: u32 = 1 << 31;
/// Synonym groups and words per group at most.
pub const MAX_SYNONYM_GROUPS: usize = 5_000;
pub const MAX_SYNONYM_WORDS: usize = 20;

/// A query term after analysis and expansion: which indexed terms it stands for, with a weight each.
struct QueryWord {
    alternatives: Vec<(u32, f32)>,
    whole: bool,
    /// Contains a digit ("30", "270mm"): such a word alone never makes a product a match.
    numeric: bool,
    /// A Korean word found only through a one-jamo typo correction.
    corrected: bool,
}

/// A query after analysis: its words, and its Korean words of three syllables or more with their
/// syllable pairs.
struct Query {
    words: Vec<QueryWord>,
    compounds: Vec<Compound>,
}

/// A Korean word of three syllables or more: its position in `Query::words` and which of them are its
/// syllable pairs in order (`None`: not searched).
struct Compound {
    word: Option<usize>,
    pairs: Vec<Option<usize>>,
}

impl Query {
    /// Whether a document that matched the words of `hits` (a bit per word) matched a whole word of the
    /// query that is not a number (as typed, corrected or through a synonym).
    fn text_hit(&self, hits: u64) -> bool {
        self.words.iter().enumerate().any(|(i, w)| w.whole && !w.numeric && hits & (1 << i) != 0)
    }

    /// Whether such a document holds the compound `c` rather than a fragment of it: the word itself, its
    /// last pair (the compound's head: 로봇청소기 for "무선청소기"), two adjacent pairs, or a pair it holds as
    /// a word of its own (`held`: 맥북 in "맥북 프로" for "맥북에어"). An air fryer shares only the first
    /// pair of "이어폰".
    fn holds(c: &Compound, hits: u64, held: u64) -> bool {
        let hit = |w: &Option<usize>| w.is_some_and(|w| hits & (1 << w) != 0);
        let h = |j: usize| hit(&c.pairs[j]);
        hit(&c.word)
            || h(c.pairs.len() - 1)
            || (1..c.pairs.len()).any(|j| h(j - 1) && h(j))
            || c.pairs.iter().any(|w| w.is_some_and(|w| held & (1 << w) != 0))
    }
}

/// Hangul syllables as jamo (initial, medial and, when present, final), for one-jamo typo matching
/// ("이어펀" is one vowel away from "이어폰"); `None` unless every character is a syllable and there are at
/// least three (two-syllable words are too dense for a one-jamo edit to mean a typo).
fn jamo(w: &str) -> Option<String> {
    let mut out = String::new();
    let mut n = 0;
    for c in w.chars() {
        let u = c as u32;
        if !(0xAC00..=0xD7A3).contains(&u) {
            return None;
        }
        let s = u - 0xAC00;
        out.push(char::from_u32(0x1100 + s / 588)?);
        out.push(char::from_u32(0x1161 + (s % 588) / 28)?);
        if !s.is_multiple_of(28) {
            out.push(char::from_u32(0x11A7 + s % 28)?);
        }
        n += 1;
    }
    (n >= 3).then_some(out)
}

impl Index {
    /// Builds the index of `docs` (document text by position).
    pub fn build<'a>(docs: impl IntoIterator<Item = &'a str>) -> Index {
        let mut ix = Index::default();
        for text in docs {
            ix.insert(text, false);
        }
        for id in 0..ix.vocab.len() as u32 {
            ix.index_deletions(id);
        }
        ix.sorted_vocab = (0..ix.vocab.len() as u32).collect();
        let vocab = &ix.vocab;
        ix.sorted_vocab.sort_unstable_by(|a, b| vocab[*a as usize].cmp(&vocab[*b as usize]));
        ix
    }

    /// Adds a document; returns its position (one past the last).
    pub fn add(&mut self, text: &str) -> u32 {
        self.insert(text, true)
    }

    /// Removes a document: it no longer matches or counts in the statistics. Its position stays taken.
    pub fn remove(&mut self, d: u32) {
        let du = d as usize;
        if du >= self.doc_len.len() || self.is_deleted(d) {
            return;
        }
        if self.deleted.len() <= du / 64 {
            self.deleted.resize(du / 64 + 1, 0);
        }
        self.deleted[du / 64] |= 1 << (du % 64);
        self.n_deleted += 1;
        self.total_len -= self.doc_len[du] as f64;
        self.avg_len = (self.total_len / self.live().max(1) as f64) as f32;
    }

    pub fn is_deleted(&self, d: u32) -> bool {
        let du = d as usize;
        self.deleted.get(du / 64).is_some_and(|w| w & (1 << (du % 64)) != 0)
    }

    /// When `query` is one word (one run of letters or digits: its particle-stripped form and a number's
    /// parts aside), how many live documents hold exactly that word, counted up to `cap` — not its syllable
    /// pairs, typo corrections, completions or synonyms; `None` when the query is not one word.
    pub fn one_word_documents(&self, query: &str, cap: usize) -> Option<usize> {
        let terms = self.analyzer.terms(query);
        let word = terms.first().filter(|t| t.whole)?;
        if terms.iter().any(|t| t.whole && !word.text.contains(t.text.as_str())) {
            return None;
        }
        // The word as typed, or without its particle ("에어프라이어를" → 에어프라이어).
        let Some(id) = terms.iter().filter(|t| t.whole).find_map(|t| self.terms.get(&t.text).copied()) else {
            return Some(0);
        };
        let mut docs: Vec<u32> = Vec::new();
        for &(d, _, held) in &self.postings[id as usize] {
            if held && !self.is_deleted(d) && !docs.contains(&d) {
                docs.push(d);
                if docs.len() >= cap {
                    break;
                }
            }
        }
        Some(docs.len())
    }

    /// Documents that have not been removed.
    pub fn live(&self) -> usize {
        self.doc_len.len() - self.n_deleted
    }

    /// Removed documents still in the postings (the owner rebuilds when they pile up).
    pub fn removed(&self) -> usize {
        self.n_deleted
    }

    /// Appends one document; `incremental` keeps the typo and completion tables up to date for new words
    /// (a bulk build fills them once at the end instead).
    fn insert(&mut self, text: &str, incremental: bool) -> u32 {
        let d = self.doc_len.len() as u32;
        let terms = self.analyzer.terms(text);
        let len = terms.len().max(1) as f32;
        self.doc_len.push(len);
        self.total_len += len as f64;
        let mut tf: HashMap<u32, (u16, bool)> = HashMap::new();
        for t in terms {
            let id = match self.terms.get(&t.text) {
                Some(&id) => id,
                None => {
                    let id = self.vocab.len() as u32;
                    self.terms.insert(t.text.clone(), id);
                    self.vocab.push(t.text);
                    self.postings.push(Vec::new());
                    if incremental {
                        self.index_deletions(id);
                        let w = self.vocab[id as usize].as_str();
                        let at = self.sorted_vocab.partition_point(|x| self.vocab[*x as usize].as_str() < w);
                        self.sorted_vocab.insert(at, id);
                    }
                    id
                }
            };
            let n = tf.entry(id).or_default();
            *n = (n.0.saturating_add(1), n.1 || t.whole);
        }
        let mut tf: Vec<_> = tf.into_iter().collect();
        tf.sort_unstable();
        for (id, (n, whole)) in tf {
            self.postings[id as usize].push((d, n, whole));
        }
        self.avg_len = (self.total_len / self.live().max(1) as f64) as f32;
        d
    }

    /// Registers a Latin word of four letters or more under each of its one-letter deletions, and a
    /// Korean word of three syllables or more under its jamo and each one-jamo deletion of them.
    fn index_deletions(&mut self, id: u32) {
        let w = &self.vocab[id as usize];
        if w.chars().count() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()) {
            for del in deletions(w) {
                self.deletions.entry(del).or_default().push(id);
            }
        } else if let Some(j) = jamo(w) {
            for del in std::iter::once(j.clone()).chain(deletions(&j)) {
                self.deletions.entry(del).or_default().push(id);
            }
        }
    }

    /// Sets the seller's synonym groups: every phrase in a group also finds what the others find. Phrases
    /// are analyzed like queries, so "운동화" ↔ "sneakers" also covers "운동화를" and "sneaker". The
    /// shop's own Korean ↔ English vocabulary ([`crate::thesaurus`]) applies beside them, its English
    /// words finding only their Korean counterparts.
    pub fn set_synonyms(&mut self, groups: &[Vec<String>]) {
        self.synonyms.clear();
        let builtin: Vec<Vec<String>> =
            crate::thesaurus::GROUPS.iter().map(|g| g.iter().map(|w| (*w).to_owned()).collect()).collect();
        for (g, one_way) in
            builtin.iter().map(|g| (g, true)).chain(groups.iter().take(MAX_SYNONYM_GROUPS).map(|g| (g, false)))
        {
            let analyzed: Vec<(bool, Vec<String>)> = g
                .iter()
                .take(MAX_SYNONYM_WORDS)
                .map(|p| {
                    let words = self.analyzer.terms(p).into_iter().filter(|t| t.whole).map(|t| t.text).collect();
                    (crate::thesaurus::is_korean(p), words)
                })
                .collect();
            for (i, (korean, a)) in analyzed.iter().enumerate() {
                for word in a {
                    let e = self.synonyms.entry(word.clone()).or_default();
                    for (j, (other_korean, b)) in analyzed.iter().enumerate() {
                        // The shop's vocabulary leads from English only to Korean.
                        if i == j || (one_way && !korean && !other_korean) {
                            continue;
                        }
                        for w in b {
                            if w != word && !e.contains(w) {
                                e.push(w.clone());
                            }
                        }
                    }
                }
            }
        }
    }

    /// Positions taken, removed documents included.
    pub fn len(&self) -> usize {
        self.doc_len.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live() == 0
    }

    fn expand(&self, t: &Term, last: bool) -> QueryWord {
        let mut alternatives = Vec::new();
        let mut corrected = false;
        let w = if t.whole { 1.0 } else { BIGRAM_WEIGHT };
        if let Some(&id) = self.terms.get(&t.text) {
            alternatives.push((id, w));
        } else if let Some(j) = jamo(&t.text).filter(|_| t.whole) {
            // One jamo away (a vowel or consonant mistyped, added or left out): the Korean twin of the
            // deletion index below, over the word's jamo, all of which are registered.
            let mut seen = Vec::new();
            for del in std::iter::once(j.clone()).chain(deletions(&j)) {
                for &id in self.deletions.get(&del).into_iter().flatten() {
                    if !seen.contains(&id) {
                        seen.push(id);
                    }
                }
            }
            seen.sort_by_key(|id| std::cmp::Reverse(self.postings[*id as usize].len()));
            corrected = !seen.is_empty();
            alternatives.extend(seen.into_iter().take(3).map(|id| (id, w * FUZZY_WEIGHT)));
        } else if t.whole && t.text.chars().count() >= 4 && t.text.chars().all(|c| c.is_ascii_alphabetic()) {
            // One edit away: a shared deletion (covers insertions, deletions, substitutions, most swaps).
            let mut seen = Vec::new();
            for del in std::iter::once(t.text.clone()).chain(deletions(&t.text)) {
                for &id in self.deletions.get(&del).into_iter().flatten() {
                    if !seen.contains(&id) {
                        seen.push(id);
                    }
                }
                if let Some(&id) = self.terms.get(&del) {
                    if !seen.contains(&id) {
                        seen.push(id);
                    }
                }
            }
            seen.sort_by_key(|id| std::cmp::Reverse(self.postings[*id as usize].len()));
            alternatives.extend(seen.into_iter().take(3).map(|id| (id, w * FUZZY_WEIGHT)));
        }
        if last && t.whole && alternatives.is_empty() && !t.text.is_empty() {
            // Completion of the word being typed.
            let start = self.sorted_vocab.partition_point(|id| self.vocab[*id as usize].as_str() < t.text.as_str());
            let mut found: Vec<u32> = self.sorted_vocab[start..]
                .iter()
                .take_while(|id| self.vocab[**id as usize].starts_with(&t.text))
                .copied()
                .collect();
            found.sort_by_key(|id| std::cmp::Reverse(self.postings[*id as usize].len()));
            alternatives.extend(found.into_iter().take(5).map(|id| (id, w * FUZZY_WEIGHT)));
        }
        if t.whole {
            for syn in self.synonyms.get(&t.text).into_iter().flatten() {
                if let Some(&id) = self.terms.get(syn) {
                    if !alternatives.iter().any(|a| a.0 == id) {
                        alternatives.push((id, w * SYNONYM_WEIGHT));
                    }
                }
            }
        }
        QueryWord { alternatives, whole: t.whole, numeric: t.text.chars().any(|c| c.is_ascii_digit()), corrected }
    }

    fn query_words(&self, query: &str) -> Query {
        let terms = self.analyzer.terms(query);
        let n = terms.len();
        let mut words: Vec<QueryWord> = Vec::new();
        // Each distinct term once, with the position of its word (`None`: not searched).
        let mut seen: Vec<(String, Option<usize>)> = Vec::new();
        // Korean words corrected by a one-jamo typo match: their syllable pairs other than the last
        // (the compound's head, "크린" of 선크린) stand for the mistyped word and would find unrelated
        // products (an air fryer shares "이어" with "이어펀"), so they are not searched.
        let mut corrected: Vec<String> = Vec::new();
        for (k, t) in terms.iter().enumerate() {
            if seen.iter().any(|(s, _)| *s == t.text) {
                continue;
            }
            if !t.whole && corrected.iter().any(|w| w.contains(t.text.as_str()) && !w.ends_with(t.text.as_str())) {
                seen.push((t.text.clone(), None));
                continue;
            }
            seen.push((t.text.clone(), Some(words.len())));
            let word = self.expand(t, k + 1 == n);
            if word.corrected {
                corrected.push(t.text.clone());
            }
            words.push(word);
        }
        // The syllable pairs of every Korean word that has them, in order ("이어폰" → 이어, 어폰).
        let of = |text: &str| seen.iter().find(|(s, _)| s == text).and_then(|(_, w)| *w);
        let mut compounds = Vec::new();
        for t in terms.iter().filter(|t| t.whole) {
            let chars: Vec<char> = t.text.chars().collect();
            if chars.len() > 2 && chars.iter().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(c)) {
                let pairs = chars.windows(2).map(|w| of(&w.iter().collect::<String>())).collect();
                compounds.push(Compound { word: of(&t.text), pairs });
            }
        }
        Query { words, compounds }
    }

    /// BM25 with coordination: each document's score is multiplied by the share of the query's whole
    /// words it matches, squared. Scores accumulate in per-thread dense arrays (no hashing per posting).
    ///
    /// Fragments of a Korean word are a fallback: a document whose only match to a compound of the query
    /// is a fragment of it ([`Query::holds`]) is kept for that compound only when no document `shown`
    /// would show holds the compound, and left out unless something else of the query keeps it.
    fn score_all(&self, query: &Query, shown: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)> {
        type Scratch = (Vec<f32>, Vec<u32>, Vec<u32>, Vec<u64>, Vec<u64>);
        thread_local! {
            static SCRATCH: std::cell::RefCell<Scratch> = const { std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new())) };
        }
        let words = &query.words;
        // Syllable pairs are searched (the query has a Korean word of three syllables or more): note which
        // words each document matched, and which pairs it holds as words, to tell a word from a fragment.
        // (A query of 64 words or more is not told apart: its pairs all count.)
        let track = words.len() <= 64 && !query.compounds.is_empty();
        let n_docs = self.doc_len.len();
        let n_live = self.live() as f32;
        let deleted = if self.n_deleted > 0 { Some(self.deleted.as_slice()) } else { None };
        let avg = self.avg_len.max(1e-6);
        let whole = words.iter().take(31).filter(|w| w.whole).count().max(1) as f32;
        // A number never carries a query: with a word in it too, a product must match a non-numeric term.
        let needs_text = words.iter().any(|w| w.numeric) && words.iter().any(|w| !w.numeric);
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let (score, mask, touched, hits, helds) = &mut *guard;
            if score.len() < n_docs {
                score.resize(n_docs, 0.0);
                mask.resize(n_docs, 0);
                hits.resize(n_docs, 0);
                helds.resize(n_docs, 0);
            }
            touched.clear();
            for (wi, w) in words.iter().enumerate() {
                for &(id, weight) in &w.alternatives {
                    let post = &self.postings[id as usize];
                    let df = post.len() as f32;
                    let idf = ((n_live - df).max(0.0) + 0.5) / (df + 0.5);
                    let idf = (idf + 1.0).ln();
                    for &(d, tf, held) in post {
                        let du = d as usize;
                        if deleted.is_some_and(|del| del.get(du / 64).is_some_and(|w| w & (1 << (du % 64)) != 0)) {
                            continue;
                        }
                        let tf = tf as f32;
                        let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * self.doc_len[du] / avg));
                        if score[du] == 0.0 && mask[du] == 0 {
                            touched.push(d);
                        }
                        score[du] += weight * s;
                        if w.whole && wi < 31 {
                            mask[du] |= 1 << wi;
                        }
                        if !w.numeric {
                            mask[du] |= TEXT_HIT;
                        }
                        if track {
                            hits[du] |= 1 << wi;
                            if held {
                                helds[du] |= 1 << wi;
                            }
                        }
                    }
                }
            }
            // Per compound, whether a document the caller shows holds it.
            let mut found = vec![false; if track { query.compounds.len() } else { 0 }];
            let out: Vec<(u32, f32, u64, u64)> = touched
                .iter()
                .filter_map(|&d| {
                    let du = d as usize;
                    let (m, v, h, held) = (mask[du], score[du], hits[du], helds[du]);
                    score[du] = 0.0;
                    mask[du] = 0;
                    hits[du] = 0;
                    helds[du] = 0;
                    if needs_text && m & TEXT_HIT == 0 {
                        return None;
                    }
                    // (`shown` reads the page's filters: asked only of a document that holds a compound not
                    // found yet.)
                    let newly: u64 = if track {
                        (0..found.len())
                            .filter(|&i| !found[i] && Query::holds(&query.compounds[i], h, held))
                            .fold(0, |m, i| m | 1 << i)
                    } else {
                        0
                    };
                    if newly != 0 && shown(d) {
                        for (i, f) in found.iter_mut().enumerate() {
                            *f |= newly & (1 << i) != 0;
                        }
                    }
                    let cover = (m & !TEXT_HIT).count_ones() as f32 / whole;
                    Some((d, v * (0.25 + 0.75 * cover * cover), h, held))
                })
                .collect();
            // Fragments are a fallback: once a product holds "이어폰", one that shares only its 이어 (an
            // air fryer) is not a match for it.
            out.into_iter()
                .filter(|&(_, _, h, held)| {
                    !track
                        || query.text_hit(h)
                        || query.compounds.iter().zip(&found).any(|(c, &found)| {
                            Query::holds(c, h, held)
                                || !found && c.pairs.iter().any(|w| w.is_some_and(|w| h & (1 << w) != 0))
                        })
                })
                .map(|(d, v, _, _)| (d, v))
                .collect()
        })
    }

    /// The best `k` documents for `query`, best first.
    pub fn search(&self, query: &str, k: usize) -> Vec<(u32, f32)> {
        let mut out = self.top(query, k);
        out.sort_unstable_by(by_score);
        out
    }

    /// The best `k` documents for `query` in no particular order (for callers that filter and sort
    /// themselves).
    pub fn top(&self, query: &str, k: usize) -> Vec<(u32, f32)> {
        self.top_where(query, k, &|_| true)
    }

    /// [`Index::top`] for a caller that will show only the documents `shown` accepts (its filters): a
    /// match on fragments of a Korean word is left out only when one of those holds a word of the query,
    /// so a filter that leaves only such matches still finds them.
    pub fn top_where(&self, query: &str, k: usize, shown: &dyn Fn(u32) -> bool) -> Vec<(u32, f32)> {
        let mut out = self.score_all(&self.query_words(query), shown);
        if k > 0 && out.len() > k {
            out.select_nth_unstable_by(k - 1, by_score);
        }
        out.truncate(k);
        out
    }

    /// Scores of the given documents only (re-ranking a candidate pool); unmatched documents score 0.
    pub fn rank(&self, query: &str, docs: &[u32]) -> Vec<(u32, f32)> {
        let mut all = self.score_all(&self.query_words(query), &|_| true);
        all.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.retain(|(d, _)| docs.contains(d));
        for &d in docs {
            if !all.iter().any(|x| x.0 == d) {
                all.push((d, 0.0));
            }
        }
        all
    }
}

/// Higher score first, then lower position.
fn by_score(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// Every string made by deleting one character of `w`.
fn deletions(w: &str) -> Vec<String> {
    let chars: Vec<char> = w.chars().collect();
    (0..chars.len()).map(|i| chars.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_prefixes_and_korean_compounds() {
        let docs = ["Wireless Earbuds Bluetooth", "무선 이어폰 블루투스", "Running Shoes 270mm", "Toilet Seat Cover"];
        let ix = Index::build(docs.iter().copied());
        assert_eq!(ix.search("toliet seat", 1)[0].0, 3, "one swap away");
        assert_eq!(ix.search("runn", 1)[0].0, 2, "completes the word being typed");
        assert_eq!(ix.search("무선이어폰을", 1)[0].0, 1);
        assert_eq!(ix.search("이어폰", 1)[0].0, 1);
        assert_eq!(ix.search("shoes 270mm", 1)[0].0, 2);
        assert!(ix.search("zzzz", 5).is_empty());
    }

    #[test]
    fn synonyms_cross_languages() {
        let docs = ["나이키 러닝 운동화 270mm", "Canvas Sneakers White"];
        let mut ix = Index::build(docs.iter().copied());
        assert!(ix.search("sneakers", 5).iter().all(|h| h.0 != 0));
        ix.set_synonyms(&[vec!["운동화".into(), "sneakers".into(), "스니커즈".into()]]);
        let hits: Vec<u32> = ix.search("sneakers", 5).into_iter().map(|h| h.0).collect();
        assert!(hits.contains(&0) && hits.contains(&1), "{hits:?}");
        assert_eq!(ix.search("운동화를", 5).len(), 2, "particles stripped before synonyms apply");
    }

    /// The demo's three complaints in issue #18, on a catalog shaped like it.
    #[test]
    fn everyday_korean_words_typos_and_numbers() {
        let docs = [
            "캔버스 로우탑 스니커즈 Canvas Low-top Sneakers",
            "와이드 데님 팬츠 Wide Denim Pants",
            "지퍼백 30매 Zipper Bags 30 pack",
            "두루마리 휴지 30롤 Toilet Paper 30 rolls",
            "무선 노이즈캔슬링 이어폰 ANC Wireless Earbuds",
            "에어프라이어 5.5L Air Fryer",
        ];
        let mut ix = Index::build(docs.iter().copied());
        ix.set_synonyms(&[]);
        let ids = |q: &str| ix.search(q, 10).into_iter().map(|h| h.0).collect::<Vec<u32>>();
        assert_eq!(ids("운동화"), [0], "the everyday word finds what the catalog titles 스니커즈");
        assert_eq!(ids("청바지 30"), [1], "jeans, not 30-packs: a number never carries a query");
        assert_eq!(ids("이어펀"), [4], "one jamo from 이어폰, and the air fryer's shared 이어 is noise");
        assert_eq!(ids("블루투수 이어폰")[0], 4);
        let mut thirty = ids("30");
        thirty.sort_unstable();
        assert_eq!(thirty, [2, 3], "a number alone still finds what carries it");
        // English finds only the Korean words of the shop's vocabulary: English-only catalogs rank as before.
        let en = Index::build(["Canvas Trainers", "Running Sneakers"].iter().copied());
        let mut with = Index::build(["Canvas Trainers", "Running Sneakers"].iter().copied());
        with.set_synonyms(&[]);
        assert_eq!(en.search("sneakers", 5), with.search("sneakers", 5));
    }

    /// A product that shares only part of a Korean word is shown only when no product holds the word.
    #[test]
    fn parts_of_korean_words_are_a_fallback() {
        let docs = [
            "무선 노이즈캔슬링 이어폰 ANC Wireless Earbuds",
            "에어프라이어 5.5L Air Fryer",
            "무선이어폰 화이트 True Wireless",
            "린넨 반바지 Linen Shorts",
            "와이드 데님 팬츠 Wide Denim Pants",
            "블루투스 이어폰 Bluetooth Earphones",
            "나이키 운동화 270mm Sneakers",
            "요가매트 6mm Yoga Mat",
        ];
        let mut ix = Index::build(docs.iter().copied());
        ix.set_synonyms(&[]);
        let ids = |q: &str| {
            let mut v = ix.search(q, 10).into_iter().map(|h| h.0).collect::<Vec<u32>>();
            v.sort_unstable();
            v
        };
        assert_eq!(ids("이어폰"), [0, 2, 5], "the air fryer's 이어 is part of a word; 무선이어폰 holds the word");
        assert_eq!(ids("이어폰을"), [0, 2, 5], "and with a particle");
        let jeans: Vec<u32> = ix.search("청바지", 10).into_iter().map(|h| h.0).collect();
        assert_eq!(jeans, [4, 3], "jeans by the shop's vocabulary first; shorts share the head 바지, so they stay");
        assert_eq!(ids("운동매트"), [7], "the mat shares the head 매트; the sneakers only 운동");
        assert_eq!(ids("블루투스스피커"), [5], "블루투스 holds three adjacent pairs of it");
        assert_eq!(ids("이어캡"), [0, 1, 2, 5], "nothing holds the word: its fragments still find the nearest");
        assert_eq!(ids("이어캡 무선"), [0, 1, 2, 5], "decided per word: 무선 is held, 이어캡 is not");
        // Decided among what the caller shows (its filters): with only the air fryer shown, it is found.
        let shown_fryer = |q: &str| ix.top_where(q, 10, &|d| d == 1).into_iter().any(|h| h.0 == 1);
        assert!(shown_fryer("이어캡") && shown_fryer("이어폰") && !ids("이어폰").contains(&1));
        assert_eq!(ids("에어프"), [1], "the word being typed is completed");
        // Every product holding a word of the query stays. The earphones stay too: 이어 is the last pair of
        // 프라이어, and the rule reads where a pair sits in the query's word, not in the product's.
        assert_eq!(ids("무선 프라이어"), [0, 1, 2, 5]);
        // English queries have no syllable pairs and match as before.
        assert_eq!(ids("wireless fryer"), [0, 1, 2]);
    }

    #[test]
    fn documents_matching_more_words_come_first() {
        let docs = ["angle bracket steel", "angle angle angle angle", "bracket"];
        let ix = Index::build(docs.iter().copied());
        assert_eq!(ix.search("angle bracket", 3)[0].0, 0);
    }

    #[test]
    fn documents_added_and_removed_in_place_match_a_fresh_build() {
        let mut ix = Index::build(["Wireless Earbuds", "Running Shoes"].iter().copied());
        let d = ix.add("Kettle Electric 1.7L 무선 주전자");
        assert_eq!(d, 2);
        assert_eq!(ix.search("kettle", 5)[0].0, 2);
        assert_eq!(ix.search("ketle", 5)[0].0, 2, "typo table covers new words");
        assert_eq!(ix.search("kett", 5)[0].0, 2, "completion covers new words");
        assert_eq!(ix.search("주전자를", 5)[0].0, 2);
        ix.remove(0);
        assert!(ix.search("wireless", 5).is_empty());
        assert_eq!(ix.live(), 2);
        ix.remove(0);
        assert_eq!(ix.removed(), 1, "removing twice counts once");
        // Scores equal those of an index built from the live documents only.
        let fresh = Index::build(["Running Shoes", "Kettle Electric 1.7L 무선 주전자"].iter().copied());
        let (a, b) = (ix.search("running kettle", 5), fresh.search("running kettle", 5));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!((x.1 - y.1).abs() < 1e-4, "{a:?} vs {b:?}");
        }
    }
}
