//! One utterance understood: the shopper's intent (find, refine, compare, availability, order status,
//! returns, gift, hand-off to staff, out of scope) and the slots a search needs — category, brand, price
//! bounds, colour and size, where to pick up — from the catalog's own words (`Vocabulary`, supplied by the
//! engine), in Korean or English, with the previous turn's slots carried into a refinement ("더 싼 거",
//! "검은색으로", "in black", "다른 브랜드는?").

use crate::price::{self, PriceBounds};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something the catalog names, with the words shoppers use for it (any language, any case).
#[derive(Debug, Clone, Default)]
pub struct Term {
    /// What the engine filters by: a category path, a brand as written in the catalog, a location id.
    pub id: String,
    pub words: Vec<String>,
}

/// The catalog's words: categories (taxonomy and search synonyms), brands, stores.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub categories: Vec<Term>,
    pub brands: Vec<Term>,
    pub stores: Vec<Term>,
}

/// Words shoppers use for common category leaves (the last part of a category path), Korean and English;
/// the engine adds the catalog's own names and the search synonyms.
const CATEGORY_WORDS: &[(&str, &[&str])] = &[
    (
        "audio",
        &[
            "무선 이어폰",
            "블루투스 이어폰",
            "이어폰",
            "이어버드",
            "헤드폰",
            "헤드셋",
            "스피커",
            "earbuds",
            "earphones",
            "headphones",
            "headset",
            "speaker",
        ],
    ),
    ("phones", &["휴대폰", "핸드폰", "스마트폰", "폰", "smartphone", "phone"]),
    (
        "accessories",
        &["충전기", "보조배터리", "케이블", "키보드", "마우스", "charger", "power bank", "cable", "keyboard", "mouse"],
    ),
    (
        "home",
        &["생활가전", "청소기", "밥솥", "에어프라이어", "가전", "vacuum", "rice cooker", "air fryer", "appliance"],
    ),
    ("shoes", &["운동화", "스니커즈", "신발", "러닝화", "sneakers", "shoes", "running shoes", "trainers"]),
    ("bottoms", &["청바지", "바지", "데님", "슬랙스", "jeans", "trousers", "pants", "denim"]),
    (
        "tops",
        &["티셔츠", "셔츠", "후드티", "맨투맨", "니트", "상의", "t-shirt", "shirt", "hoodie", "sweatshirt", "top"],
    ),
    ("outerwear", &["자켓", "재킷", "코트", "패딩", "점퍼", "아우터", "jacket", "coat", "parka", "outerwear"]),
    ("ramen", &["라면", "컵라면", "ramen", "ramyun", "noodles"]),
    ("snacks", &["과자", "간식", "스낵", "snack", "snacks", "chips"]),
    ("beverages", &["음료", "음료수", "주스", "커피", "차", "drink", "drinks", "juice", "coffee", "tea"]),
    ("fresh", &["신선식품", "과일", "채소", "고기", "fresh", "fruit", "vegetables", "meat"]),
    ("household", &["생활용품", "세제", "휴지", "household", "detergent", "tissue"]),
];

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
            v.categories.push(Term { id: c.to_owned(), words });
        }
        let mut seen = std::collections::BTreeSet::new();
        for b in brands {
            if !b.is_empty() && seen.insert(b.to_owned()) {
                v.brands.push(Term { id: b.to_owned(), words: vec![b.to_owned()] });
            }
        }
        for (id, names) in stores {
            let mut words = Vec::new();
            for n in names {
                words.push(n.to_owned());
                // The shop's own name in front of a branch ("보더리스 강남역점", "Borderless Gangnam Station").
                if let Some((_, branch)) = n.split_once(' ') {
                    words.push(branch.to_owned());
                    let short = branch.trim_end_matches('점').trim_end_matches(" Station").trim_end_matches(" store");
                    words.push(short.to_owned());
                    if let Some(s) = short.strip_suffix('역') {
                        words.push(s.to_owned());
                    }
                }
            }
            words.retain(|w| w.chars().count() >= 2);
            v.stores.push(Term { id: id.to_owned(), words });
        }
        v
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

/// Colours as the catalog stores them (`color` attribute) and as shoppers say them.
const COLOURS: &[(&str, &[&str])] = &[
    ("black", &["블랙", "검은색", "검정색", "검정", "검은", "까만", "black"]),
    ("white", &["화이트", "흰색", "하얀색", "하얀", "white"]),
    ("navy", &["네이비", "남색", "navy"]),
    ("grey", &["그레이", "회색", "grey", "gray"]),
    ("red", &["레드", "빨간색", "빨간", "빨강", "red"]),
    ("blue", &["블루", "파란색", "파란", "파랑", "blue"]),
    ("beige", &["베이지", "beige"]),
    ("pink", &["핑크", "분홍색", "분홍", "pink"]),
    ("silver", &["실버", "은색", "silver"]),
    ("green", &["그린", "초록색", "초록", "녹색", "green"]),
    ("brown", &["브라운", "갈색", "brown"]),
    ("ivory", &["아이보리", "ivory"]),
    ("khaki", &["카키", "khaki"]),
    ("cream", &["크림색", "cream"]),
    ("charcoal", &["차콜", "charcoal"]),
    ("olive", &["올리브", "olive"]),
    ("oatmeal", &["오트밀", "oatmeal"]),
    ("sky-blue", &["스카이블루", "스카이 블루", "하늘색", "sky blue", "sky-blue"]),
    ("light-blue", &["라이트블루", "연청", "연한 파란색", "light blue", "light-blue"]),
    ("lavender", &["라벤더", "연보라", "보라색", "lavender", "purple"]),
    ("camel", &["카멜", "camel"]),
    ("burgundy", &["버건디", "burgundy"]),
    ("indigo", &["인디고", "indigo"]),
];

/// Intent cues, checked in this order (the first that matches wins).
const INTENTS: &[(&str, &[&str])] = &[
    (
        "handoff",
        &[
            "직원",
            "상담원",
            "상담사",
            "사람이랑",
            "사람과",
            "사람한테",
            "매니저",
            "human",
            "agent",
            "staff",
            "representative",
            "real person",
        ],
    ),
    (
        "order_status",
        &[
            "내 주문",
            "주문 언제",
            "주문한 거",
            "주문 상태",
            "배송 언제",
            "언제 와",
            "배송 조회",
            "택배",
            "where is my order",
            "my order",
            "order status",
            "track my",
            "when will my",
        ],
    ),
    ("returns", &["반품", "환불", "교환", "return", "refund", "exchange"]),
    (
        "compare",
        &[
            "비교",
            "차이",
            "뭐가 나아",
            "어떤 게 나아",
            "어느 게 나아",
            " vs ",
            "versus",
            "compare",
            "difference",
            "which is better",
        ],
    ),
    ("gift", &["선물", "생일", "기념일", "집들이", "gift", "present", "birthday", "anniversary"]),
];

const REFINE: &[(&str, &[&str])] = &[
    ("cheaper", &["더 싼", "더 저렴", "싼 거", "저렴한 거", "cheaper", "less expensive", "lower price", "budget"]),
    ("pricier", &["더 비싼", "고급", "more expensive", "premium", "higher end"]),
    ("other_brand", &["다른 브랜드", "딴 브랜드", "other brand", "another brand", "different brand"]),
];

/// Greetings, thanks and goodbyes: said alone, they get a friendly word, not a search.
const SMALLTALK: &[&str] = &[
    "안녕",
    "안녕하세요",
    "하이",
    "반가워",
    "감사",
    "고마워",
    "고맙",
    "수고",
    "잘 있어",
    "또 올게",
    "네",
    "넵",
    "응",
    "좋아요",
    "알겠어요",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank you",
    "bye",
    "goodbye",
    "ok",
    "okay",
    "great",
    "cool",
];

/// Requests a shop assistant does not answer.
const OUT_OF_SCOPE: &[&str] = &[
    "날씨",
    "weather",
    "농담",
    "joke",
    "뉴스",
    "news",
    "주식",
    "정치",
    "politics",
    "숙제",
    "homework",
    "번역",
    "translate",
    "코딩",
    "lottery",
    "로또",
];

const AVAILABILITY: &[&str] = &[
    "있어요",
    "있나요",
    "있어?",
    "있습니까",
    "재고",
    "in stock",
    "available",
    "can i pick",
    "pick it up",
    "픽업 돼",
    "픽업 되",
];

/// Words that carry no search meaning (requests, particles said alone, fillers).
const STOP: &[&str] = &[
    "보여줘",
    "보여주세요",
    "찾아줘",
    "찾아주세요",
    "추천해줘",
    "추천해주세요",
    "추천",
    "있어요",
    "있나요",
    "주세요",
    "좀",
    "그리고",
    "오늘",
    "픽업",
    "가능한",
    "가능",
    "근처에서",
    "근처",
    "근처의",
    "매장",
    "거",
    "것",
    "제품",
    "상품",
    "please",
    "show",
    "me",
    "find",
    "i",
    "want",
    "need",
    "a",
    "an",
    "the",
    "some",
    "for",
    "with",
    "today",
    "pickup",
    "pick",
    "up",
    "near",
    "in",
    "at",
    "can",
    "get",
    "looking",
    "recommend",
    "any",
    "that",
    "is",
    "are",
];

fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// The longest term whose word appears in `text` (Korean: as a substring; Latin: as a whole word).
fn best_term<'a>(text: &str, terms: &'a [Term]) -> Option<(&'a Term, String)> {
    let mut best: Option<(&Term, String)> = None;
    for t in terms {
        for w in &t.words {
            let w = lower(w);
            if w.is_empty() || !contains_word(text, &w) {
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
        let after = text[i + w.len()..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric());
        before && after
    })
}

/// Removes the first occurrence of `w` (and a Korean particle stuck to it).
fn cut(text: &mut String, w: &str) {
    if let Some(i) = text.find(w) {
        let mut end = i + w.len();
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
        let stripped = clean.trim_end_matches(['은', '는', '이', '가', '을', '를', '로', '으']);
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
        u.attributes.insert("size".into(), s);
        cut(&mut rest, &said);
    }
    'colour: for (id, words) in COLOURS {
        for w in *words {
            if contains_word(&rest, w) {
                u.attributes.insert("color".into(), (*id).into());
                cut(&mut rest, w);
                break 'colour;
            }
        }
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

    // The intent: explicit cues first, then a refinement of the last turn, availability, find.
    let off_topic = OUT_OF_SCOPE.iter().any(|w| contains_word(&text, w));
    let no_slots = u.category.is_none() && u.brand.is_none() && u.price.is_none();
    let mut intent: &'static str = "find";
    let mut refine: Option<&'static str> = None;
    if off_topic && no_slots {
        intent = "out_of_scope";
    } else if let Some((i, _)) = INTENTS.iter().find(|(_, cues)| cues.iter().any(|c| text.contains(c))) {
        intent = i;
    } else if let Some((how, _)) = REFINE.iter().find(|(_, cues)| cues.iter().any(|c| text.contains(c))) {
        intent = "refine";
        refine = Some(how);
    } else if previous.is_some()
        && u.category.is_none()
        && u.brand.is_none()
        && (u.attributes.contains_key("color") || u.attributes.contains_key("size") || u.price.is_some())
    {
        intent = "refine";
        refine = Some(if u.attributes.contains_key("color") {
            "colour"
        } else if u.attributes.contains_key("size") {
            "size"
        } else {
            "price"
        });
    } else if AVAILABILITY.iter().any(|c| text.contains(c)) && u.price.is_none() && u.category.is_none() {
        intent = "availability";
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
            }
            if u.pickup.is_some() {
                merged.pickup = u.pickup.clone();
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
        let t = |id: &str, words: &[&str]| Term { id: id.into(), words: words.iter().map(|w| w.to_string()).collect() };
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
        assert_eq!(v.categories.len(), 2);
        let u = understand("can I pick up sori audio earbuds at gangnam today", &v, None);
        assert_eq!(u.category.as_deref(), Some("electronics/audio"));
        assert_eq!(u.brand.as_deref(), Some("Sori Audio"));
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("GANGNAM"));
        let u = understand("강남 매장에 운동화 있어요?", &v, None);
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("GANGNAM"));
        assert_eq!(u.category.as_deref(), Some("apparel/shoes"));
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
