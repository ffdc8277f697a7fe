//! One utterance understood: the shopper's intent (find, refine, compare, availability, order status,
//! returns, gift, hand-off to staff, out of scope) and the slots a search needs — category, brand, price
//! bounds, colour and size, where to pick up — from the catalog's own words (`Vocabulary`, supplied by the
//! engine), in Korean or English, with the previous turn's slots carried into a refinement ("더 싼 거",
//! "검은색으로", "in black", "다른 브랜드는?").

use crate::cues::*;
use crate::matching::*;
use crate::price::{self, PriceBounds};
pub use crate::vocabulary::{Term, Vocabulary};
use crate::words::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// "여기", "here", "this store": the store the shopper is in (the request's `location_id`), which the
    /// engine puts in `location_id`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub here: bool,
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

/// How a question points at a product already shown.
const DEMONSTRATIVES: &[&str] = &[
    "이거",
    "그거",
    "저거",
    "이건",
    "그건",
    "저건",
    "첫번째",
    "첫 번째",
    "두번째",
    "두 번째",
    "this one",
    "that one",
    "it ",
    "the first",
    "the second",
    "does it",
    "is it",
    "can it",
    "will it",
    "do they",
    "are they",
    "would it",
];

/// Thanks and goodbyes.
const THANKS: &[&str] =
    &["고마워", "고맙", "감사", "ㄱㅅ", "ㅇㅋ", "갈게요", "할게요", "thanks", "thank", "thx", "ty", "bye", "cheers"];

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
    let here = HERE.iter().any(|w| contains_word(&text, w));
    if near_me || today || here {
        let p = u.pickup.get_or_insert_with(Pickup::default);
        if near_me && p.location_id.is_none() {
            p.within_km = Some(3);
        }
        p.today = today;
        p.here = here && p.location_id.is_none();
    }
    for w in HERE {
        if contains_word(&rest, w) {
            cut_word(&mut rest, w);
        }
    }
    // "there", "거기": the store the last turn named.
    if u.pickup.as_ref().is_none_or(|p| p.location_id.is_none()) {
        let store = previous.and_then(|p| p.pickup.as_ref()).and_then(|p| p.location_id.clone());
        if let Some(store) = store.filter(|_| ["there", "거기"].iter().any(|w| contains_word(&text, w))) {
            let p = u.pickup.get_or_insert_with(Pickup::default);
            p.location_id = Some(store);
            p.here = false;
            cut_word(&mut rest, "there");
            cut(&mut rest, "거기");
        }
    }
    if let Some((t, w)) = best_term(&rest, &vocab.brands) {
        // "다솜 말고", "other than sori audio", "not pixelon": a brand to leave out.
        let said_not = text.find(w.as_str()).is_some_and(|i| {
            let after = text[i + w.len()..].trim_start();
            let before = text[..i].trim_end();
            ["말고", "빼고", "제외", "아닌", "는 말고", "은 말고", "alternatives", "alternative"]
                .iter()
                .any(|n| after.starts_with(n))
                || ["other than", "than", "besides", "except", "not", "no", "instead of", "apart from"]
                    .iter()
                    .any(|n| before.ends_with(n))
        });
        if said_not {
            u.exclude_brand = Some(t.id.clone());
        } else {
            u.brand = Some(t.id.clone());
        }
        cut(&mut rest, &w);
    }
    if let Some((t, w)) = best_term(&rest, &vocab.categories) {
        u.category = Some(t.id.clone());
        let singular = w.strip_suffix('s').filter(|_| w.is_ascii()).unwrap_or(&w);
        if !(vocab.title_words.contains(&w) || vocab.title_words.contains(singular)) {
            cut(&mut rest, &w);
        }
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
    // The kind the last request was about, named again.
    let same_kind = previous.is_some_and(|p| {
        p.category.is_some()
            && p.category == u.category
            && matches!(p.intent.as_str(), "find" | "refine" | "availability")
    });
    let no_slots = u.category.is_none() && u.brand.is_none() && u.price.is_none();
    let mut intent: &'static str = "find";
    let mut refine: Option<&'static str> = None;
    if off_topic && no_slots {
        intent = "out_of_scope";
    } else if let Some((i, _)) = INTENTS.iter().find(|(i, cues)| {
        // "선물용 말고" / "not a gift": the cue is denied.
        let denied = *i == "gift"
            && ["선물용 말고", "선물 말고", "not a gift", "not for a gift"].iter().any(|d| text.contains(d));
        !denied && (cues.iter().any(|c| text.contains(c)) || (*i == "order_status" && asks_after_an_order(&text)))
    }) {
        intent = i;
    } else if (contains_word(&text, "or") && ["which", "better", "?"].iter().any(|w| text.contains(w)))
        && (u.category.is_some() || u.brand.is_some() || previous.is_some())
        && u.attributes.is_empty()
        && !contains_word(&text, "either")
    {
        // "nova 5 plus or flip 5, which one?", "chinos or joggers for work?".
        intent = "compare";
    } else if let Some((how, _)) = REFINE
        .iter()
        .find(|(_, cues)| cues.iter().any(|c| text.contains(c)))
        .filter(|_| previous.is_some() || u.category.is_none())
        .or_else(|| u.exclude_brand.as_ref().and(REFINE.iter().find(|(h, _)| *h == "other_brand")))
    {
        // ("ramen multipack cheaper than $9" with nothing before is a search with a budget.)
        intent = "refine";
        refine = Some(how);
    } else if previous.is_some_and(|p| p.intent == "availability" && p.pickup.is_some())
        && u.category.is_some()
        && u.price.is_none()
        && u.pickup.is_none()
        && asks(&text)
        && (["and", "what about", "how about"].iter().any(|w| contains_word(&text, w))
            || ["는요", "은요", "도 있", "도요"].iter().any(|w| text.contains(w)))
    {
        // The same question about another kind: "cool, and chips?", "라면은요?".
        intent = "availability";
        u.pickup = previous.and_then(|p| p.pickup.clone());
    } else if same_kind
        && u.price.is_none()
        && asks(&text)
        && QUESTION.iter().any(|c| contains_word(&text, c))
        && u.pickup.is_none()
    {
        // The kind just shown, asked about: "the almonds, how long do they keep?".
        intent = "question";
    } else if same_kind && (u.price.is_some() || !u.attributes.is_empty()) && u.pickup.is_none() && !asks(&text) {
        // The kind just shown, narrowed: "컵라면으로 2천원 이하요" after ramen.
        intent = "refine";
        refine = Some(if u.price.is_some() {
            "price"
        } else if u.attributes.contains_key("color") {
            "colour"
        } else {
            "size"
        });
    } else if previous.is_some() && u.category.is_none() && WHICH_STORE.iter().any(|c| text.contains(c)) {
        // "which stores have it in size M?": where the products shown are.
        intent = "availability";
    } else if u.category.is_some()
        && u.price.is_none()
        && (STRONG_STOCK.iter().any(|c| text.contains(c))
            || availability_cues().any(|c| text.contains(c))
            || (u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here) && asks(&text)))
        && ["이 ", "그 ", "the ", "this ", "that "]
            .iter()
            .any(|d| text.starts_with(d) || text.contains(&format!(" {d}")))
    {
        // A product named as one already known, asked about stock: "이 운동화 270 재고 있어요?", "is the robot
        // vacuum in stock online?".
        intent = "availability";
    } else if previous.is_some()
        && u.price.is_none()
        && DEMONSTRATIVES.iter().any(|d| text.starts_with(d))
        // ("is it at gangnam?" asks where it is.)
        && u.pickup.as_ref().is_none_or(|p| p.location_id.is_none() && !p.here)
        && asks(&text)
        && (!availability_cues().any(|c| text.contains(c)) || (u.pickup.is_none() && has_product_words(&rest)))
    {
        // About the product shown: "이거 배터리 오래 가요?", "it folds?" (its battery is no kind to search).
        intent = "question";
        u.category = None;
    } else if previous.is_some()
        && u.price.is_none()
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here)
        && asks(&text)
        && ["the ", "that ", "this "].iter().any(|d| text.starts_with(d))
        && contains_word(&text, "one")
    {
        // One of the products shown, by what sets it apart: "the temp control one at hongdae?".
        intent = "availability";
    } else if previous.is_some()
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && !has_product_words(&rest)
        && (STRONG_STOCK.iter().any(|c| text.contains(c))
            || (u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here || p.today)
                && (availability_cues().any(|c| text.contains(c)) || asks(&text))))
        // A colour or a size said without asking narrows instead ("오늘 픽업 되는 걸로 검정 L").
        && (u.attributes.is_empty() || asks(&text))
    {
        // About the products shown, perhaps in one size or colour: "M 사이즈 강남역점에 있어요?", "size M at
        // gangnam?", "is the M size still in stock?", "can i pick it up here today?".
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
        && ((u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here)
            && (u.category.is_none() || (asks(&text) && STOCK_QUESTION.iter().any(|c| text.contains(c)))))
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
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here)
        && asks(&text)
        && !has_product_words(&rest)
    {
        // "is it at hongdae?": where the products shown (or asked about) are.
        intent = "availability";
    } else if u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && (QUESTION.iter().any(|c| contains_word(&text, c))
            || (previous.is_some()
                && u.pickup.is_none()
                && asks(&text)
                && !ASKS_FOR_MORE.iter().any(|w| contains_word(&text, w))
                && !availability_cues().any(|c| text.contains(c))
                && !BROWSE.iter().any(|c| text.contains(c))))
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
        if u.pickup.as_ref().is_some_and(|p| p.here && p.location_id.is_none() && !p.today && p.within_km.is_none()) {
            u.pickup = None;
        }
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
                || (!w.is_ascii() && w.chars().count() == 1)
                || w.chars().all(|c| matches!(c, 'ㅎ' | 'ㅋ' | 'ㅠ' | 'ㅜ' | '^'))
        })
    {
        u.intent = "smalltalk".into();
    }
    // Thanks or a goodbye with a few words around it ("그럼 그냥 이걸로 할게요 고마워요", "sweet thanks",
    // "감사해요 바로 갈게요"): a friendly word, whatever the other words are.
    if u.intent == "find"
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && text.split_whitespace().count() <= 7
        && THANKS.iter().any(|t| if t.is_ascii() { contains_word(&text, t) } else { text.contains(t) })
    {
        u.intent = "smalltalk".into();
    }
    // A hand-off is about people, not products ("is there a phone number for customer support").
    if u.intent == "handoff" {
        u.category = None;
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
                merged.exclude_brand = u.exclude_brand.clone().or_else(|| prev.brand.clone());
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
            title_words: Default::default(),
        }
    }

    #[test]
    fn the_readme_question() {
        let u = understand("강남역 근처에서 오늘 픽업 가능한 10만원 이하 무선 이어폰", &vocab(), None);
        assert_eq!(u.intent, "find");
        assert_eq!(u.category.as_deref(), Some("electronics/audio"));
        assert_eq!(u.price, Some(PriceBounds { min_minor: None, max_minor: Some(100_000), currency: "KRW".into() }));
        assert_eq!(
            u.pickup,
            Some(Pickup { location_id: Some("loc_gangnam".into()), today: true, ..Default::default() })
        );
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

    /// A small catalog's vocabulary, built as the engine builds it (titles in both languages).
    fn shop() -> Vocabulary {
        let items = [
            ("grocery/fresh", "배추 포기김치 1kg", "Napa Cabbage Kimchi 1 kg"),
            ("grocery/fresh", "총각김치 1kg", "Ponytail Radish Kimchi 1 kg"),
            ("grocery/ramen", "김치라면", "Kimchi Ramyun"),
            ("electronics/home", "스마트 전구", "Smart Bulb"),
            ("electronics/home", "스마트 플러그", "Smart Plug"),
            ("electronics/phones", "노바 워치 44mm", "Nova Watch 44 mm"),
            ("electronics/phones", "아리아 A5 스마트폰", "Aria A5 Smartphone, 128 GB"),
            ("electronics/accessories", "아리아 A5 투명 케이스", "Clear Case for Aria A5"),
            ("electronics/accessories", "아리아 A3 투명 케이스", "Clear Case for Aria A3"),
            ("grocery/snacks", "청포도 젤리", "Green Grape Gummies"),
            ("grocery/beverages", "콜드브루 커피", "Cold Brew Coffee"),
            ("grocery/fresh", "한우 불고기", "Hanwoo Bulgogi"),
        ];
        let mut v = Vocabulary::from_catalog(
            items.iter().map(|i| i.0),
            ["Dasom Confectionery", "Morning Roasters", "Hanwoo House", "Pixelon"],
            [("GANGNAM", vec!["보더리스 강남역점", "Borderless Gangnam Station"])],
        );
        v.learn_from_titles(items.iter().flat_map(|i| [(i.0, i.1), (i.0, i.2)]));
        v.join_synonyms(&[vec!["다솜".into(), "Dasom Confectionery".into()]]);
        v
    }

    #[test]
    fn words_learned_from_the_heads_of_titles() {
        let v = shop();
        let cat = |t: &str| understand(t, &v, None).category;
        // A title's head names its kind, in Korean (its ending too) and in English.
        assert_eq!(cat("김치 2만원 이하").as_deref(), Some("grocery/fresh"), "김치 heads 포기김치 and 총각김치");
        assert_eq!(cat("kimchi please").as_deref(), Some("grocery/fresh"), "Kimchi Ramyun is ramyun");
        assert_eq!(cat("라면").as_deref(), Some("grocery/ramen"));
        // The head at a compound's end wins: 스마트워치 is a watch.
        assert_eq!(cat("스마트워치 보여줘").as_deref(), Some("electronics/phones"));
        // A word that only modifies finds no kind; nor does what follows "for".
        assert_eq!(cat("스마트"), None);
        assert_eq!(cat("aria"), None, "'Clear Case for Aria A5' is a case, not an aria");
        // Of two kinds said together, the second is the head.
        assert_eq!(cat("a phone case for aria a3").as_deref(), Some("electronics/accessories"));
        // One syllable only as a word: 차이 is not tea.
        assert_eq!(cat("노바랑 아리아 차이가 뭐예요?"), None);
    }

    #[test]
    fn brands_as_shoppers_say_them() {
        let v = shop();
        let u = understand("dasom gummies", &v, None);
        assert_eq!(u.brand.as_deref(), Some("Dasom Confectionery"), "a brand's own first word");
        let u = understand("good morning!", &v, None);
        assert_eq!((u.brand, u.intent.as_str()), (None, "smalltalk"), "a greeting is no brand");
        let u = understand("hanwoo bulgogi", &v, None);
        assert_eq!(u.brand, None, "the titles use 'hanwoo' as a word");
        // A brand said to be left out.
        let prev = understand("젤리 보여줘", &v, None);
        let u = understand("다솜 말고 다른 브랜드", &v, Some(&prev));
        assert_eq!((u.intent.as_str(), u.refine.as_deref()), ("refine", Some("other_brand")));
        assert_eq!((u.brand, u.exclude_brand.as_deref()), (None, Some("Dasom Confectionery")));
        let u = understand("a different brand than pixelon", &v, Some(&prev));
        assert_eq!(u.exclude_brand.as_deref(), Some("Pixelon"));
    }

    #[test]
    fn intents_said_in_other_words() {
        let v = shop();
        let prev = understand("노바 워치", &v, None);
        let intent = |t: &str, p: Option<&Understood>| understand(t, &v, p).intent;
        for t in [
            "has my headphones order shipped yet?",
            "order 5580 still says processing",
            "어제 시킨 후드티 언제 도착해요?",
        ] {
            assert_eq!(intent(t, None), "order_status", "{t}");
        }
        // "here": the shopper's store.
        let u = understand("can i pick it up here today?", &v, Some(&prev));
        assert_eq!(u.intent, "availability");
        assert!(u.pickup.as_ref().is_some_and(|p| p.here && p.today), "{u:?}");
        let u = understand("hi there", &v, None);
        assert_eq!((u.intent.as_str(), u.pickup), ("smalltalk", None), "'there' holds no 'here'");
        // A size asked about with a store or in stock: availability, in that size.
        let u = understand("is the M size still in stock?", &v, Some(&prev));
        assert_eq!((u.intent.as_str(), u.attributes.get("size").map(String::as_str)), ("availability", Some("M")));
        let u = understand("M 사이즈 강남역점에 있어요?", &v, Some(&prev));
        assert_eq!(u.intent, "availability");
        // A question about the product shown, and a search said as one.
        assert_eq!(intent("이거 비행기에 들고 탈 수 있어요?", Some(&prev)), "question");
        assert_eq!(intent("세탁기 돌려도 되나요?", Some(&prev)), "question");
        assert_eq!(intent("laptops?", Some(&prev)), "find");
        assert_eq!(intent("can I have another recommendation?", Some(&prev)), "find");
        // Closings in many words, people asked for in many words.
        for t in ["ok fine, thanks", "alright, i'll think about it", "ㅋㅋ 담에 또 올게요", "thx!"] {
            assert_eq!(intent(t, Some(&prev)), "smalltalk", "{t}");
        }
        for t in ["can someone call me back?", "챗봇 말고 진짜 사람이요", "담당자 연결 좀 해주세요"]
        {
            assert_eq!(intent(t, Some(&prev)), "handoff", "{t}");
        }
        // "cheaper than $9" with nothing before is a search with a budget.
        let u = understand("라면 cheaper than $9", &v, None);
        assert_eq!((u.intent.as_str(), u.refine), ("find", None));
    }

    #[test]
    fn follow_ups_that_keep_the_context() {
        let v = shop();
        // The same question about another kind keeps the store.
        let asked = understand("do you have kimchi at gangnam?", &v, None);
        assert_eq!(asked.intent, "availability");
        let u = understand("cool, and 라면?", &v, Some(&asked));
        assert_eq!((u.intent.as_str(), u.category.as_deref()), ("availability", Some("grocery/ramen")));
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("GANGNAM"));
        // The kind just asked about, narrowed: a refinement, not a new request.
        let u = understand("라면으로 2천원 이하요", &v, Some(&understand("라면 있어요?", &v, None)));
        assert_eq!((u.intent.as_str(), u.refine.as_deref()), ("refine", Some("price")));
        // One of those shown, by what sets it apart, at a store.
        let shown = understand("smart bulbs", &v, None);
        assert_eq!(understand("the dimmable one at gangnam?", &v, Some(&shown)).intent, "availability");
        // "there": the store the last turn named.
        let u = understand("and do you have kimchi there", &v, Some(&asked));
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("GANGNAM"));
        // A colour with a question after it: where that one is.
        let u = understand("i'll take the black one, is it at gangnam", &v, Some(&shown));
        assert_eq!(u.intent, "availability");
    }
}
