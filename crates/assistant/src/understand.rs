//! One utterance understood: the shopper's intent (find, refine, compare, availability, order status,
//! returns, gift, hand-off to staff, out of scope) and the slots a search needs — category, brand, price
//! bounds, colour and size, where to pick up — from the catalog's own words (`Vocabulary`, supplied by the
//! engine), in Korean or English, with the previous turn's slots carried into a refinement ("더 싼 거",
//! "검은색으로", "in black", "다른 브랜드는?").

use crate::price::{self, PriceBounds};
use crate::words::*;
use serde::{Deserialize, Serialize};
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

    /// Learns the words of each category from the catalog's titles: a title word (Korean or English, its
    /// English plural too) that names products of one category only — at least 80 % of its uses, and not
    /// a colour, a number or a brand — finds that category.
    pub fn learn_from_titles<'a>(&mut self, items: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut uses: BTreeMap<String, BTreeMap<&'a str, usize>> = BTreeMap::new();
        for (category, title) in items {
            let title = lower(title);
            let mut seen = std::collections::BTreeSet::new();
            for w in title.split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '/' | '·' | '+')) {
                let w = w.trim_matches(|c: char| !c.is_alphanumeric());
                let hangul = w.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
                if w.chars().count() < if hangul { 2 } else { 3 } || w.chars().any(|c| c.is_ascii_digit()) {
                    continue;
                }
                if COLOURS.iter().any(|(_, ws)| ws.contains(&w)) || STOP.contains(&w) {
                    continue;
                }
                if self.brands.iter().any(|b| b.words.iter().any(|x| lower(x).split_whitespace().any(|p| p == w))) {
                    continue;
                }
                if seen.insert(w.to_owned()) {
                    *uses.entry(w.to_owned()).or_default().entry(category).or_default() += 1;
                }
            }
        }
        for (w, by_cat) in uses {
            let total: usize = by_cat.values().sum();
            let Some((cat, n)) = by_cat.iter().max_by_key(|(_, n)| **n) else { continue };
            if *n * 5 < total * 4 {
                continue;
            }
            if let Some(t) = self.categories.iter_mut().find(|t| t.id == *cat) {
                if !t.words.iter().any(|x| lower(x) == w) {
                    if w.is_ascii() && !w.ends_with('s') {
                        t.learned.push(format!("{w}s"));
                    }
                    t.learned.push(w);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Pickup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_km: Option<u32>,
    /// "today", "오늘": in stock now, not on order.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub today: bool,
}

/// What one utterance asks, as the API's `understood` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Understood {
    pub intent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// A refinement away from this brand ("다른 브랜드는?").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceBounds>,
    pub attributes: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup: Option<Pickup>,
    /// How a refinement changes the last answer: `cheaper`, `pricier`, `other_brand`, `colour`, `size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine: Option<String>,
    /// The words left for the search engine.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub words: String,
}

/// Whether what is left after the slots still names a product ("사운드바 있어요?"), not only fillers.
fn has_product_words(rest: &str) -> bool {
    rest.split(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | ',' | '.' | '~'))
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .any(|w| {
            !availability_cues().any(|a| a.contains(w) || w.starts_with(a.trim_end_matches('?')))
                && !FILLERS.iter().any(|f| w.starts_with(f))
        })
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// The longest term whose word appears in `text` (Korean: as a substring; Latin: as a whole word).
fn best_term<'a>(text: &str, terms: &'a [Term]) -> Option<(&'a Term, String)> {
    let mut best: Option<(&Term, String)> = None;
    for t in terms {
        let curated = t.words.iter().map(|w| (w, false));
        for (w, learned) in curated.chain(t.learned.iter().map(|w| (w, true))) {
            let w = lower(w);
            if w.is_empty() || !(if learned { starts_word(text, &w) } else { contains_word(text, &w) }) {
                continue;
            }
            if best.as_ref().is_none_or(|(_, b)| w.chars().count() > b.chars().count()) {
                best = Some((t, w));
            }
        }
    }
    best
}

fn contains_word(text: &str, w: &str) -> bool {
    if !w.is_ascii() {
        return text.contains(w);
    }
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        let tail = &text[i + w.len()..];
        // An English plural ("hoodies", "earbuds" for "earbud", "boxes") is the same word.
        let tail = tail.strip_prefix("es").or_else(|| tail.strip_prefix('s')).filter(|_| w.len() > 2).unwrap_or(tail);
        let after = tail.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
        before && after
    })
}

/// Whether `w` appears where a word starts (Korean particles may follow it).
fn starts_word(text: &str, w: &str) -> bool {
    if w.is_ascii() {
        return contains_word(text, w);
    }
    text.match_indices(w).any(|(i, _)| text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
}

/// A Korean colour word standing alone: at a word's start and followed by the word's end, a particle or
/// 색 ("블루투스" is not blue).
fn colour_word(text: &str, w: &str) -> bool {
    if w.is_ascii() {
        return contains_word(text, w);
    }
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = &text[i + w.len()..];
        let ends = after.chars().next().is_none_or(|c| !c.is_alphanumeric())
            || ["색", "으로", "로", "은", "는", "이", "가", "을", "를", "의", "요", "도", "계열", "컬러"]
                .iter()
                .any(|p| after.starts_with(p));
        before && ends
    })
}

/// Removes the first occurrence of `w` (and a Korean particle stuck to it).
fn cut(text: &mut String, w: &str) {
    if let Some(i) = text.find(w) {
        let mut end = i + w.len();
        // An English plural goes with its word ("jackets" leaves no stray "s" to be read as size S).
        if w.is_ascii() {
            for p in ["es", "s"] {
                let rest = &text[end..];
                if rest.starts_with(p) && rest[p.len()..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric()) {
                    end += p.len();
                    break;
                }
            }
        }
        for p in ["으로", "에서", "은", "는", "이", "가", "을", "를", "로", "의", "에"] {
            if text[end..].starts_with(p) {
                end += p.len();
                break;
            }
        }
        text.replace_range(i..end, " ");
    }
}

/// A size said with its unit: "270mm", "270 사이즈", "95사이즈", "L 사이즈", "사이즈 M", "size L".
fn size(text: &str) -> Option<(String, String)> {
    let short = |t: &str| !t.is_empty() && t.len() <= 3 && t.chars().all(|c| c.is_ascii_alphanumeric());
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for (i, t) in tokens.iter().enumerate() {
        let clean = t.trim_end_matches(['?', '.', ',', '!']);
        if let Some(n) = clean.strip_suffix("mm").filter(|n| n.len() >= 2 && n.chars().all(|c| c.is_ascii_digit())) {
            return Some((n.to_owned(), t.to_string()));
        }
        let stripped = clean.trim_end_matches(['은', '는', '이', '가', '을', '를', '로', '으', '요', '도']);
        if let Some(n) = stripped.strip_suffix("사이즈").filter(|n| short(n)) {
            return Some((n.to_uppercase(), t.to_string()));
        }
        if stripped == "사이즈" || clean == "size" {
            if let Some(prev) = i.checked_sub(1).map(|p| tokens[p]).filter(|p| short(p) && stripped == "사이즈") {
                return Some((prev.to_uppercase(), format!("{prev} {t}")));
            }
            if let Some(next) = tokens.get(i + 1) {
                let n = next.trim_end_matches(['?', '.', ',', '!']);
                if short(n) {
                    return Some((n.to_uppercase(), format!("{t} {next}")));
                }
            }
        }
    }
    None
}

/// Korean clothing sizes said as chest numbers ("95 사이즈") to the catalog's letters.
fn letter_size(n: &str) -> Option<&'static str> {
    Some(match n {
        "85" => "XS",
        "90" => "S",
        "95" => "M",
        "100" => "L",
        "105" => "XL",
        "110" => "XXL",
        _ => return None,
    })
}

/// A size said without its unit, once the kind of product is known: a shoe length alone ("270 운동화",
/// "260으로"), a clothing letter or word alone ("L", "large", "extra large").
fn bare_size(text: &str, leaf: &str) -> Option<(String, String)> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for (i, t) in tokens.iter().enumerate() {
        let clean = t.trim_matches(|c: char| !c.is_alphanumeric());
        let clean = clean.trim_end_matches(['은', '는', '이', '가', '을', '를', '로', '으', '요', '도']);
        match leaf {
            "shoes" => {
                if let Ok(n) = clean.parse::<u32>() {
                    if (220..=300).contains(&n) && n % 5 == 0 {
                        return Some((n.to_string(), t.to_string()));
                    }
                }
            }
            "tops" | "bottoms" | "outerwear" => {
                let word = match clean {
                    "xs" | "s" | "m" | "l" | "xl" | "xxl" => Some(clean.to_uppercase()),
                    "small" => Some("S".into()),
                    "medium" => Some("M".into()),
                    "large" if i > 0 && tokens[i - 1] == "extra" => {
                        return Some(("XL".into(), format!("extra {t}")));
                    }
                    "large" => Some("L".into()),
                    _ => None,
                };
                if let Some(w) = word {
                    return Some((w, t.to_string()));
                }
            }
            _ => {}
        }
    }
    None
}

/// Understands one utterance; `previous` is the last turn's understanding (for refinements).
pub fn understand(utterance: &str, vocab: &Vocabulary, previous: Option<&Understood>) -> Understood {
    let text = lower(utterance.trim());
    let mut rest = text.clone();
    let mut u = Understood { intent: "find".into(), ..Default::default() };

    if let Some(p) = price::find(&rest) {
        u.price = Some(p.bounds.clone());
        rest.replace_range(p.start..p.end, " ");
    }
    if let Some((s, said)) = size(&rest) {
        let s = letter_size(&s).map_or(s, str::to_owned);
        u.attributes.insert("size".into(), s);
        cut(&mut rest, &said);
    }
    // The longest colour word said wins ("light blue" over "blue").
    let colour = COLOURS
        .iter()
        .flat_map(|(id, words)| words.iter().map(move |w| (*id, *w)))
        .filter(|(_, w)| colour_word(&rest, w))
        .max_by_key(|(_, w)| w.chars().count());
    if let Some((id, w)) = colour {
        u.attributes.insert("color".into(), id.into());
        cut(&mut rest, w);
    }
    if let Some((t, w)) = best_term(&rest, &vocab.stores) {
        u.pickup = Some(Pickup { location_id: Some(t.id.clone()), ..Default::default() });
        cut(&mut rest, &w);
    }
    let near_me =
        ["내 주변", "가까운", "근처 매장", "near me", "nearby", "close to me"].iter().any(|w| text.contains(w));
    let today = ["오늘", "today", "지금 바로", "right now"].iter().any(|w| text.contains(w));
    if near_me || today {
        let p = u.pickup.get_or_insert_with(Pickup::default);
        if near_me && p.location_id.is_none() {
            p.within_km = Some(3);
        }
        p.today = today;
    }
    if let Some((t, w)) = best_term(&rest, &vocab.brands) {
        u.brand = Some(t.id.clone());
        cut(&mut rest, &w);
    }
    if let Some((t, w)) = best_term(&rest, &vocab.categories) {
        u.category = Some(t.id.clone());
        cut(&mut rest, &w);
    }
    if !u.attributes.contains_key("size") {
        let kind = u.category.as_deref().or(previous.and_then(|p| p.category.as_deref()));
        if let Some((s, said)) = kind.and_then(|k| bare_size(&rest, k.rsplit('/').next().unwrap_or(k))) {
            u.attributes.insert("size".into(), s);
            cut(&mut rest, &said);
        }
    }

    // The intent: explicit cues first, then a refinement of the last turn, availability, find.
    let off_topic = OUT_OF_SCOPE.iter().any(|w| contains_word(&text, w));
    let no_slots = u.category.is_none() && u.brand.is_none() && u.price.is_none();
    let mut intent: &'static str = "find";
    let mut refine: Option<&'static str> = None;
    if off_topic && no_slots {
        intent = "out_of_scope";
    } else if let Some((i, _)) = INTENTS.iter().find(|(i, cues)| {
        // "선물용 말고" / "not a gift": the cue is denied.
        let denied = *i == "gift"
            && ["선물용 말고", "선물 말고", "not a gift", "not for a gift"].iter().any(|d| text.contains(d));
        !denied && cues.iter().any(|c| text.contains(c))
    }) {
        intent = i;
    } else if let Some((how, _)) = REFINE.iter().find(|(_, cues)| cues.iter().any(|c| text.contains(c))) {
        intent = "refine";
        refine = Some(how);
    } else if previous.is_some() && u.category.is_none() && WHICH_STORE.iter().any(|c| text.contains(c)) {
        // "which stores have it in size M?": where the products shown are.
        intent = "availability";
    } else if previous.is_some()
        && u.category.is_none()
        && (u.brand.is_some()
            || u.attributes.contains_key("color")
            || u.attributes.contains_key("size")
            || u.price.is_some())
    {
        // Narrowing what was asked: a brand, a colour, a size, a budget (a kind named again is a new request).
        intent = "refine";
        refine = Some(if u.attributes.contains_key("color") {
            "colour"
        } else if u.attributes.contains_key("size") {
            "size"
        } else if u.brand.is_some() {
            "brand"
        } else {
            "price"
        });
    } else if no_slots && BROWSE.iter().any(|c| text.contains(c)) {
        // "what do you have?": a search of everything (answered with a question about what kind).
        intent = "find";
    } else if availability_cues().any(|c| text.contains(c))
        && u.price.is_none()
        && ((u.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
            && (u.category.is_none() || STOCK_QUESTION.iter().any(|c| text.contains(c))))
            || (u.category.is_none() && u.brand.is_none() && !has_product_words(&rest)))
    {
        intent = "availability";
    } else if previous.is_some()
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.today || p.within_km.is_some())
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && !has_product_words(&rest)
    {
        // "what about Gangnam?", "near Hongdae today?" after products were shown.
        intent = "availability";
    } else if u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && QUESTION.iter().any(|c| contains_word(&text, c))
    {
        // "how much is it?", "방수 돼요?": about a product shown, answered from the catalog.
        intent = "question";
    }
    u.intent = intent.to_owned();
    u.refine = refine.map(str::to_owned);

    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | ',' | '.' | '~'))
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .filter(|w| {
            !REFINE
                .iter()
                .chain(INTENTS.iter())
                .any(|(_, cues)| cues.iter().any(|c| c.contains(*w) && w.chars().count() > 1))
        })
        .collect();
    u.words = words.join(" ");

    // "what do you have?": everything, so that the answer can ask what kind.
    if u.intent == "find" && u.category.is_none() && u.brand.is_none() && BROWSE.iter().any(|c| text.contains(c)) {
        u.words.clear();
        u.category = None;
        return u;
    }
    if u.intent == "find"
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && u.pickup.is_none()
        && u.words.is_empty()
    {
        u.intent = if SMALLTALK.iter().any(|w| contains_word(&text, w)) { "smalltalk" } else { "out_of_scope" }.into();
    }
    // Said only to greet or thank ("안녕하세요", "네 감사합니다", "ㅎㅎ 알겠어요"): a friendly word, no search.
    if u.intent == "find"
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && !u.words.is_empty()
        && u.words.split_whitespace().all(|w| {
            // English words whole ("no" is not "notebook"), Korean ones with their endings ("감사합니다").
            let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
            SMALLTALK.iter().any(|s| if s.is_ascii() { w == *s } else { w.starts_with(s) })
                || w.chars().all(|c| matches!(c, 'ㅎ' | 'ㅋ' | 'ㅠ' | 'ㅜ' | '^'))
        })
    {
        u.intent = "smalltalk".into();
    }
    // Nothing to search for in small talk or an off-topic request: no slots ("오늘 날씨").
    if matches!(u.intent.as_str(), "smalltalk" | "out_of_scope") {
        u.pickup = None;
        u.attributes.clear();
    }

    // A gift request goes on being one while the shopper narrows it ("엄마요, 5만원 이하로").
    // Until it knows what kind of gift; after that, narrowing it is a refinement like any other.
    let gift_going_on = previous.is_some_and(|p| p.intent == "gift" && p.category.is_none())
        && matches!(u.intent.as_str(), "find" | "refine");
    if gift_going_on && u.category.is_none() {
        let mut merged = previous.cloned().unwrap_or_default();
        if u.price.is_some() {
            merged.price = u.price.clone();
        }
        merged.attributes.extend(u.attributes.clone());
        if u.brand.is_some() {
            merged.brand = u.brand.clone();
        }
        if u.pickup.is_some() {
            merged.pickup = u.pickup.clone();
        }
        return merged;
    }
    if gift_going_on {
        // The kind is named now: the gift's budget and place stay.
        let prev = previous.cloned().unwrap_or_default();
        u.intent = "gift".into();
        u.refine = None;
        u.price = u.price.or(prev.price);
        u.pickup = u.pickup.or(prev.pickup);
        return u;
    }
    // A refinement keeps what the last turn asked for, changing only what this one says.
    if u.intent == "refine" {
        if let Some(prev) = previous {
            let mut merged = prev.clone();
            merged.intent = "refine".into();
            merged.refine = u.refine.clone();
            if u.price.is_some() {
                merged.price = u.price.clone();
            }
            for (k, v) in &u.attributes {
                merged.attributes.insert(k.clone(), v.clone());
            }
            if u.refine.as_deref() == Some("other_brand") {
                merged.exclude_brand = prev.brand.clone();
                merged.brand = None;
            } else if u.brand.is_some() {
                merged.brand = u.brand.clone();
                merged.exclude_brand = None;
            }
            if u.pickup.is_some() {
                merged.pickup = u.pickup.clone();
            }
            if !u.words.is_empty() {
                merged.words = u.words.clone();
            }
            return merged;
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let t = |id: &str, words: &[&str]| Term {
            id: id.into(),
            words: words.iter().map(|w| w.to_string()).collect(),
            learned: Vec::new(),
        };
        Vocabulary {
            categories: vec![
                t("electronics/audio", &["무선 이어폰", "이어폰", "헤드폰", "earbuds", "earphones", "headphones"]),
                t("apparel/shoes", &["운동화", "스니커즈", "신발", "sneakers", "shoes"]),
                t("apparel/bottoms", &["청바지", "바지", "jeans", "trousers"]),
            ],
            brands: vec![
                t("Sori Audio", &["소리오디오", "sori audio", "sori"]),
                t("VoltWorks", &["볼트웍스", "voltworks"]),
            ],
            stores: vec![
                t("loc_gangnam", &["강남역점", "강남역", "강남", "gangnam"]),
                t("loc_hongdae", &["홍대점", "홍대", "hongdae"]),
            ],
        }
    }

    #[test]
    fn the_readme_question() {
        let u = understand("강남역 근처에서 오늘 픽업 가능한 10만원 이하 무선 이어폰", &vocab(), None);
        assert_eq!(u.intent, "find");
        assert_eq!(u.category.as_deref(), Some("electronics/audio"));
        assert_eq!(u.price, Some(PriceBounds { min_minor: None, max_minor: Some(100_000), currency: "KRW".into() }));
        assert_eq!(u.pickup, Some(Pickup { location_id: Some("loc_gangnam".into()), within_km: None, today: true }));
        assert_eq!(u.words, "", "nothing left over: {u:?}");
    }

    #[test]
    fn refinements_keep_the_last_turn() {
        let v = vocab();
        let first = understand("소리오디오 무선 이어폰 10만원 이하", &v, None);
        let cheaper = understand("더 싼 거", &v, Some(&first));
        assert_eq!((cheaper.intent.as_str(), cheaper.refine.as_deref()), ("refine", Some("cheaper")));
        assert_eq!(cheaper.category.as_deref(), Some("electronics/audio"));
        let black = understand("검은색으로", &v, Some(&first));
        assert_eq!(
            (black.intent.as_str(), black.attributes.get("color").map(String::as_str)),
            ("refine", Some("black"))
        );
        assert_eq!(black.brand.as_deref(), Some("Sori Audio"));
        let other = understand("다른 브랜드는?", &v, Some(&first));
        assert_eq!(
            (other.refine.as_deref(), other.brand.clone(), other.exclude_brand.as_deref()),
            (Some("other_brand"), None, Some("Sori Audio"))
        );
        let en = understand("in black", &v, Some(&first));
        assert_eq!(en.attributes.get("color").map(String::as_str), Some("black"));
        assert_eq!(en.intent, "refine");
    }

    #[test]
    fn intents_in_both_languages() {
        let v = vocab();
        for (s, intent) in [
            ("내 주문 언제 와요?", "order_status"),
            ("where is my order", "order_status"),
            ("반품하고 싶어요", "returns"),
            ("can I return these?", "returns"),
            ("직원이랑 얘기하고 싶어요", "handoff"),
            ("talk to a human", "handoff"),
            ("엄마 생일 선물 추천해줘", "gift"),
            ("이 두 개 비교해줘", "compare"),
            ("강남역점에 있어요?", "availability"),
            ("오늘 날씨 어때?", "out_of_scope"),
            ("tell me a joke", "out_of_scope"),
            ("270mm 운동화", "find"),
        ] {
            let u = understand(s, &v, None);
            assert_eq!(u.intent, intent, "{s:?}: {u:?}");
        }
    }

    #[test]
    fn a_vocabulary_from_a_catalog() {
        let v = Vocabulary::from_catalog(
            ["electronics/audio", "apparel/shoes", "electronics/audio"],
            ["Sori Audio"],
            [("GANGNAM", vec!["보더리스 강남역점", "Borderless Gangnam Station"])],
        );
        assert_eq!(v.categories.len(), 4, "two kinds and their two departments");
        let u = understand("can I pick up sori audio earbuds at gangnam today", &v, None);
        assert_eq!(u.category.as_deref(), Some("electronics/audio"));
        assert_eq!(u.brand.as_deref(), Some("Sori Audio"));
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("GANGNAM"));
        let u = understand("강남 매장에 운동화 있어요?", &v, None);
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("GANGNAM"));
        assert_eq!(u.category.as_deref(), Some("apparel/shoes"));
    }

    #[test]
    fn context_across_turns() {
        let v = vocab();
        let first = understand("무선 이어폰 10만원 이하", &v, None);
        let brand = understand("소리오디오 걸로", &v, Some(&first));
        assert_eq!((brand.intent.as_str(), brand.category.as_deref()), ("refine", Some("electronics/audio")));
        assert_eq!(brand.price.as_ref().and_then(|p| p.max_minor), Some(100_000), "the budget stays");
        let gift = understand("엄마 생일 선물", &v, None);
        let narrowed = understand("5만원 이하로", &v, Some(&gift));
        assert_eq!(
            (narrowed.intent.as_str(), narrowed.price.as_ref().and_then(|p| p.max_minor)),
            ("gift", Some(50_000))
        );
        assert_eq!(understand("which stores have it?", &v, Some(&first)).intent, "availability");
        assert_eq!(understand("how much is the second one?", &v, Some(&first)).intent, "question");
        assert_eq!(understand("what do you have?", &v, None).intent, "find");
        assert_eq!(understand("anything pricier?", &v, Some(&first)).refine.as_deref(), Some("pricier"));
        for s in ["thanks anyway", "네 감사합니다", "yes, I see", "sounds good"] {
            assert_eq!(understand(s, &v, None).intent, "smalltalk", "{s}");
        }
        let plural = understand("black sneakers and jackets", &v, None);
        assert!(!plural.attributes.contains_key("size"), "no size S from a plural: {plural:?}");
        for s in ["notebook", "iphone", "goods"] {
            assert_eq!(understand(s, &v, None).intent, "find", "{s} is not small talk");
        }
    }

    #[test]
    fn an_understanding_survives_json() {
        let u = understand("강남역 근처에서 오늘 픽업 가능한 10만원 이하 블랙 무선 이어폰", &vocab(), None);
        let back: Understood = serde_json::from_str(&serde_json::to_string(&u).unwrap()).unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn slots_in_both_languages() {
        let v = vocab();
        let u = understand("270mm 흰색 운동화", &v, None);
        assert_eq!(u.attributes.get("size").map(String::as_str), Some("270"));
        assert_eq!(u.attributes.get("color").map(String::as_str), Some("white"));
        assert_eq!(u.category.as_deref(), Some("apparel/shoes"));
        let u = understand("black sneakers size L under $50 near me", &v, None);
        assert_eq!(u.attributes.get("size").map(String::as_str), Some("L"));
        assert_eq!(u.attributes.get("color").map(String::as_str), Some("black"));
        assert_eq!(u.price.as_ref().and_then(|p| p.max_minor), Some(4_999));
        assert_eq!(u.pickup.as_ref().and_then(|p| p.within_km), Some(3));
        let u = understand("청바지 30", &v, None);
        assert_eq!(u.price, None, "a number alone is not a price");
        assert_eq!(u.category.as_deref(), Some("apparel/bottoms"));
        assert_eq!(u.words, "30");
    }
}
