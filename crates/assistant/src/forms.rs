//! Intents told by the form of what is said and by the turn before it: a place to eat or money changed
//! (off-topic whatever else is said), stock looked up at a store, a question whether a store has something,
//! a cue not hidden in another word (비싼 holds 싼), a size one step from the
//! last, a question about an order, returns or stock going on in a follow-up, and a choice of one type
//! within the kind just shown.

use crate::asking_to_see::*;
use crate::cues::*;
use crate::matching::*;
use crate::understood::Understood;

/// Off-topic by the form of a word rather than a cue: a company's shares ("should i buy tesla stock"), not
/// stock on a shelf ("in stock at gangnam"). (Places to eat are `talk_cues::clearly_off_topic`.)
pub(crate) fn off_topic_by_form(text: &str) -> bool {
    contains_word(text, "stock")
        && ![
            "in stock",
            "out of stock",
            "stock at",
            "stock in",
            "stock near",
            "stock here",
            "stock online",
            "stock close",
            "stock check",
            "check stock",
            "stock today",
            "any stock",
            "have stock",
            "stock for",
        ]
        .iter()
        .any(|p| text.contains(p))
}

/// Stock looked up at a named store or the shopper's own, not a request to be shown products there: "재고"
/// said without "재고 있는 …" (products in stock) and without a verb asking to be shown or recommended.
pub(crate) fn checks_stock_at_a_store(text: &str, u: &Understood) -> bool {
    // (Or near the shopper, stock said outright: "근처 매장에 계란 재고 있는지 봐줘요".)
    let at_store = u.pickup.as_ref().is_some_and(|p| {
        p.location_id.is_some()
            || p.here
            || (p.within_km.is_some() && (text.contains("재고") || text.contains("있는지")))
    });
    let stock = (text.contains("재고") && !text.contains("재고 있는 ") && !text.contains("재고있는 "))
        || [
            "있으면 찾으러",
            "있으면 사러",
            "있으면 갈게",
            "any at ",
            "got one",
            "got any",
            "have one in",
            // ("서면점 사운드바 있는지 확인 부탁드려요")
            "있는지 확인",
            "있는지 궁금",
            "있는지 봐",
            "있는지 알려",
        ]
            .iter()
            .any(|c| text.contains(c))
        // ("check seomyeon stock", "pink mouse available at gangnam")
        || contains_word(text, "stock")
        || contains_word(text, "available")
        // ("홍대점에 M 있는 걸로요": the ones there; "홍대에서 살 수 있는 걸로 알려주세요" asks for products to buy.)
        || (["있는 걸로", "있는 거로", "있는걸로"].iter().any(|c| text.contains(c)) && !text.contains("수 있는"));
    at_store && u.price.is_none() && stock && !asks_to_be_shown(text)
}

/// A cue said in the text; a cue for "cheap" (싼) is not the end of "dear" (비싼: "좀 더 비싼 걸로").
pub(crate) fn said_cue(text: &str, cue: &str) -> bool {
    if cue.starts_with('싼') {
        return text.match_indices(cue).any(|(i, _)| !text[..i].ends_with('비'));
    }
    text.contains(cue)
}

/// The question about an order or returns just asked, going on: what the order held ("it was a pair of
/// loafers"), or the same question about something else ("and for opened electronics?", "매장에 가져가도 되나요?").
pub(crate) fn continues(last_intent: Option<&str>, text: &str, u: &Understood, rest: &str) -> Option<&'static str> {
    const SHOW: &[&str] = &[
        "보여",
        "추천",
        "찾아",
        "팔아",
        "파나요",
        "볼게요",
        "볼래요",
        "show",
        "recommend",
        "find me",
        "looking for",
        "sell",
    ];
    const ON: &[&str] = &[
        "it was",
        "it's a",
        "they were",
        "it is a",
        "이었",
        "였어요",
        "였는데",
        "였고",
        "인데요",
        "and ",
        "what about",
        "how about",
        "also",
        "도 되나",
        "도 돼",
        "는요",
        "은요",
        // ("영수증 없으면요?" after a returns answer.)
        "면요",
        "가져가도",
        "if ",
        "그럼",
        "the one for",
        "the one from",
    ];
    // After a stock question, the same question about one of those or something else there: "the 1kg napa
    // one?", "what about the 12 roll one", "any canned lattes there too?", "white, at gangnam?".
    const SAME_QUESTION: &[&str] =
        &["the ", "what about", "how about", "and ", "any ", "there too", "거기도", "도 있", "는요", "은요"];
    // (A colour or a size asked with no store narrows instead: "버건디도 같은 사이즈로 있나", "M은 없어요?".)
    // "white one?" after a stock question asks the same about the white one (said without asking, "white one"
    // narrows).
    let one_asked = {
        let t = text.trim_end();
        (t.ends_with(" one?") || t.ends_with(" ones?")) && t.split_whitespace().count() <= 3 && !u.attributes.is_empty()
    };
    if last_intent == Some("availability") && u.price.is_none() && u.category.is_none() && one_asked {
        return Some("availability");
    }
    // ("the 1kg one pls", "the temperature control model", "the 10 cup one specifically" choose; "the 1kg napa
    // one?" asks.)
    let chooses = !asks(text) && !text.contains(" at ") && chooses_within(text).is_some();
    if last_intent == Some("availability")
        && !chooses
        && u.price.is_none()
        && (u.attributes.is_empty() || u.pickup.is_some())
        && !SHOW.iter().any(|c| text.contains(c))
        && (SAME_QUESTION.iter().any(|c| text.starts_with(c) || (c.len() > 5 && text.contains(c)))
            || (asks(text) && text.split_whitespace().count() <= 4 && !u.attributes.is_empty()))
    {
        return Some("availability");
    }
    let intent = match last_intent? {
        "order_status" => "order_status",
        "returns" => "returns",
        _ => return None,
    };
    // ("그럼 연청으로 주세요" after a returns answer asks for a colour of what was shown.)
    if !u.attributes.is_empty()
        && ["로 주세요", "으로 주세요", "걸로 주세요"].iter().any(|c| text.contains(c))
        && !text.contains("바꿔")
    {
        return None;
    }
    // (Another product added is a request: "and some canned lattes too, 3 of them" after an order question.)
    // ("they were too small" says how it was.)
    let adds = text.match_indices("too").any(|(i, _)| {
        (i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric()))
            && text[i + 3..].chars().next().is_none_or(|c| matches!(c, ',' | '.' | '!' | '?'))
    });
    if adds || text.contains("as well") {
        return None;
    }
    // ("그럼 260 러닝화 강남역점에 있어요?" asks about stock instead.)
    let about_stock = (u.category.is_some() && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here))
        || availability_cues().any(|c| text.contains(c));
    // ("also need dish soap" after an order question adds a request: naming a kind, "also" alone does not go
    // on; "and for opened electronics?" does.)
    // (Or words the engine will place, with a colour or a size: "also, joggers in grey size M"; "also, the black
    // one in size M has a hole in the sleeve" says what was bought.)
    let names_a_kind = u.category.is_some()
        || (!u.attributes.is_empty()
            && has_product_words(rest)
            && !["the ", "my ", "mine", " it", " has ", " had ", " was ", " were "].iter().any(|w| text.contains(w)));
    if names_a_kind && !ON.iter().filter(|c| **c != "also").any(|c| text.contains(c)) {
        return None;
    }
    // A follow-up that names nothing to search for goes on too: "택은 안 뗐어요 근데 영수증이 없어요".
    let names_nothing = u.category.is_none()
        && u.brand.is_none()
        && u.attributes.is_empty()
        && u.pickup.is_none()
        && text.split_whitespace().count() >= 3
        && !THANKS.iter().any(|t| if t.is_ascii() { contains_word(text, t) } else { text.contains(t) });
    (u.price.is_none()
        && !about_stock
        && !SHOW.iter().any(|c| text.contains(c))
        && (names_nothing || ON.iter().any(|c| text.contains(c))))
    .then_some(intent)
}

/// A question whether a store has a kind or a brand ("any kimchi at seomyeon right now", "is the cold brew at
/// seomyeon", "그럼 무드서울 걸로 M 사이즈 서면점 있나요"), not a request for products one can pick up
/// ("서면점에서 오늘 픽업 가능한 라면 있어요?").
pub(crate) fn asks_if_a_store_has(text: &str, rest: &str, u: &Understood) -> bool {
    const OPENS: &[&str] = &[
        "any ",
        "got ",
        "is the ",
        "are the ",
        "have you got",
        "do you have",
        "do you guys have",
        "do u have",
        "check stock",
        "stock for",
        // ("does gangnam have greek yogurt today", "can i buy a robot vacuum at seomyeon today")
        "does ",
        "can i buy",
        "can i grab",
        "can i get a",
    ];
    // (Online is a place too: "온라인으로 숏패딩 네이비 L 재고 있어요?".)
    let somewhere = u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here || p.within_km.is_some())
        || text.contains("온라인")
        || contains_word(text, "online");
    somewhere
        && (u.category.is_some() || u.brand.is_some() || has_product_words(rest))
        // (A budget too when another product is added or anything is asked for: "공기청정기도 하나 필요한데 20만원
        // 미만으로 이 매장에 있어요?", "anything under 1500 won here?".)
        // (Or a store named and asked in Korean whether it has the kind under a budget: "홍대점에 10만원 이하
        // 에어프라이어 있어요?".)
        && (u.price.is_none()
            || adds_another(text)
            || asks_a_store_under_a_budget(text, u))
        && !requests_products(text)
        && (OPENS.iter().any(|w| opening(text).starts_with(w) || (w.contains("stock") && text.contains(w)))
            || (asks(text) && text.contains("the ") && contains_word(text, "one"))
            || (asks(text)
                && STOCK_QUESTION.iter().any(|c| text.contains(c))
                && (u.brand.is_some() || !text.is_ascii()))
            // (Stock named outright: "is there a humidifier in stock near me", "… sold out online".)
            || (asks(text) && ["in stock", "sold out", "any left", "품절", "재고 있", "남아 있", "남아있"].iter().any(|c| text.contains(c)))
            // (A kind and a store, asked: "3kg kimchi at seomyeon?", "grey joggers xl still at hongdae?",
            // "gangnam got an air purifier right now?".)
            || (text.is_ascii() && asks(text) && (ends_at_a_store(text) || [" still at ", " got a", " got an "].iter().any(|c| text.contains(c))))
            // (Somewhere asked after the product: "navy chinos size L, any shop near me have them".)
            || [" have them", " have those", " has them", " got them"].iter().any(|c| text.contains(c))
            // (A store asked whether it has it: "seongsu go have cup noodles?", "hongdae has the kettle?"; "can i
            // have …" asks for it.)
            || (text.is_ascii()
                && asks(text)
                && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
                && ["have", "has", "carry", "carries"].iter().any(|v| contains_word(text, v))
                && !["can i have", "could i have", "may i have", "i'd have", "id have"].iter().any(|c| text.contains(c))))
}

/// A request said first, then whether it can be collected: "kids headphones lavender, can i collect them at
/// seomyeon", "need pork belly, can i pick some up here" (a search with a pickup, not a stock question about
/// something shown: "that air fryer, can i pick it up near me today" is one).
pub(crate) fn collects_what_was_asked(text: &str) -> bool {
    let Some((before, after)) = text.rsplit_once(", ") else { return false };
    // (Pointing is said in the product's own phrase, not in what it is for: "ok back to the rice cooker" points,
    // "greek yogurt for the break room" does not.)
    let clause = before.rsplit(", ").next().unwrap_or(before);
    let head = clause.split(" for ").next().unwrap_or(clause);
    let points =
        ["the", "that", "this", "those", "these"].iter().any(|d| contains_word(head, d)) || head.contains("back to");
    // ("ok a microwave then, to grab at hongdae": to take away, said after it.)
    let to_take =
        ["to grab", "to pick up", "to collect", "grabbing it", "picking it up"].iter().any(|t| after.starts_with(t));
    !points
        && (to_take
            || (["can i ", "could i "].iter().any(|c| after.starts_with(c))
                && ["grab", "collect", "pick", "get"].iter().any(|v| after.contains(v))
                && ["them", "one", "some", "it"].iter().any(|o| contains_word(after, o))))
}

/// One size up or down from the size asked before ("한 사이즈 작은 건요", "one size bigger", "a size up").
pub(crate) fn size_step(text: &str, previous: Option<&Understood>) -> Option<String> {
    let up = ["사이즈 큰", "치수 큰", "size up", "size bigger", "size larger"];
    let down = ["사이즈 작은", "치수 작은", "size down", "size smaller"];
    let step: i32 = if up.iter().any(|w| text.contains(w)) {
        1
    } else if down.iter().any(|w| text.contains(w)) {
        -1
    } else {
        return None;
    };
    let size = previous?.attributes.get("size")?;
    if let Ok(mm) = size.parse::<i32>() {
        return Some((mm + 5 * step).to_string());
    }
    const LETTERS: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];
    let i = LETTERS.iter().position(|l| l == size)? as i32 + step;
    LETTERS.get(usize::try_from(i).ok()?).map(|l| (*l).to_owned())
}

/// Words that choose one type or format within the kind just shown, by their form: a Korean choice ending
/// ("온도조절 되는 걸로요", "2리터 6병짜리로", "섬유유연제 라벤더향으로 볼게요") or an English one ("cold brew
/// specifically", "just the steam one", "the 10 cup one"). Returns the words without the marker, for the
/// search; the engine checks that titles of that kind hold them.
pub fn chooses_within(text: &str) -> Option<String> {
    // Words that end in 로 without choosing: "지금 바로", "새로 나온", "프로".
    const NOT: &[&str] =
        &["바로", "새로", "따로", "서로", "프로", "주로", "별로", "그대로", "대로", "정말로", "실제로"];
    const THEN: &[&str] = &[
        "볼게요",
        "볼래",
        "볼래요",
        "할게요",
        "할래",
        "할래요",
        "주세요",
        "줘",
        "줘요",
        "보여줘",
        "보여주세요",
        "해주세요",
        "해줘",
    ];
    let text = text.trim().trim_end_matches(|c: char| !c.is_alphanumeric());
    let words: Vec<&str> = text.split_whitespace().collect();
    let choice = |w: &str| {
        let w = w.trim_end_matches('요');
        w.ends_with('로') && w.chars().count() >= 2 && !NOT.iter().any(|n| w.ends_with(n))
    };
    // The choice, then perhaps a verb and a stock question: "음 1키로짜리로 바꿀래요 거기 있어요?".
    const AFTER: &[&str] = &[
        "바꿀래요",
        "바꿀게요",
        "바꿀래",
        "바꿔주세요",
        "바꿔줘",
        "바꿔요",
        "거기",
        "여기",
        "있어요",
        "있나요",
        "있죠",
        "있을까요",
    ];
    // (Or a store to collect it at: "맨투맨으로 볼게요 홍대점 픽업".)
    let store = |w: &str| {
        w == "픽업"
            || (w.chars().count() >= 3 && ["점", "점에서", "점에"].iter().any(|e| w.ends_with(e)) && !w.contains("로"))
    };
    let mut end = words.len();
    while end > 0 && (THEN.contains(&words[end - 1]) || AFTER.contains(&words[end - 1]) || store(words[end - 1])) {
        end -= 1;
    }
    let ko = (end > 0 && choice(words[end - 1])).then(|| end - 1);
    if let Some(at) = ko {
        // "6병짜리" is the 6-bottle one; "2리터" is 2L as titles write it.
        let plain = |w: &str| {
            let w = w.strip_suffix("짜리").unwrap_or(w);
            [("리터", "l"), ("키로", "kg"), ("킬로", "kg"), ("그램", "g"), ("기가", "gb"), ("테라", "tb")]
                .iter()
                .find_map(|(k, e)| {
                    w.strip_suffix(k)
                        .filter(|n| n.chars().all(|c| c.is_ascii_digit() || c == '.') && !n.is_empty())
                        .map(|n| format!("{n}{e}"))
                })
                .unwrap_or_else(|| w.to_owned())
        };
        // (A lone syllable is a filler: "음", "아".)
        let mut kept: Vec<String> = words[..at].iter().filter(|w| w.chars().count() > 1).map(|w| plain(w)).collect();
        let last = words[at].trim_end_matches('요');
        let stem = ["걸로", "거로", "것으로", "으로", "로"].iter().find_map(|s| last.strip_suffix(s)).unwrap_or(last);
        // ("온도조절 되는 걸로": the choice is the words before "되는 걸로".)
        if !stem.is_empty() {
            kept.push(plain(stem));
        }
        while kept.last().is_some_and(|w| ["되는", "있는", "하는", "된"].contains(&w.as_str())) {
            kept.pop();
        }
        return (!kept.is_empty()).then(|| kept.join(" "));
    }
    // "그중에 김치라면이요": one of those, by name.
    if let Some(rest) = ["그중에", "그 중에", "그중", "그 중"].iter().find_map(|o| text.strip_prefix(o)) {
        let kept: Vec<String> = rest
            .split_whitespace()
            .map(|w| noun_before_yo(w).map_or(w, |n| n).trim_end_matches('요').to_owned())
            .filter(|w| {
                w.chars().count() > 1 && !["있어", "있나", "보여줘", "주세", "있는"].iter().any(|v| w.starts_with(v))
            })
            .collect();
        if !kept.is_empty() && kept.len() <= 3 {
            return Some(kept.join(" "));
        }
    }
    let lowered = text.to_lowercase();
    // ("the 1kg one pls": the choice, asked politely.)
    let lowered = ["pls", "please", "plz"]
        .iter()
        .find_map(|p| lowered.strip_suffix(p).map(|l| l.trim_end_matches([' ', ',']).to_owned()))
        .unwrap_or(lowered);
    let marked = contains_word(&lowered, "specifically")
        || contains_word(&lowered, "only")
        || lowered.starts_with("just the ")
        || (lowered.starts_with("the ")
            && [" one", " ones", " model", " kind", " version", " type"].iter().any(|e| lowered.ends_with(e)))
        // ("spicy beef one": a few words and "one".)
        || (lowered.split_whitespace().count() <= 4 && (lowered.ends_with(" one") || lowered.ends_with(" ones")));
    marked
        .then(|| {
            lowered
                .split_whitespace()
                .filter(|w| {
                    ![
                        "specifically",
                        "only",
                        "just",
                        "the",
                        "one",
                        "ones",
                        "please",
                        "pls",
                        "model",
                        "kind",
                        "version",
                        "type",
                    ]
                    .contains(w)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|w| !w.is_empty())
}

/// Another brand asked for with the kind in between: "other kettle brands?", "다른 전기포트 브랜드는요?".
pub(crate) fn other_brands_form(text: &str) -> bool {
    (contains_word(text, "other") || contains_word(text, "different"))
        && ["brand", "brands", "maker", "makers"].iter().any(|w| contains_word(text, w))
        || (text.contains("다른 ") || text.contains("딴 ")) && text.contains("브랜드")
}

/// The kind just shown (or nothing new), narrowed by a colour, a size or its words, and asked about at a
/// store: "the puffer in navy, medium, at seomyeon?", "그거 오트밀 XL로 홍대점에 있어요?". Not a request to be
/// shown products one can take there, and not a budget (a budget narrows the request).
pub(crate) fn asks_at_a_store_after(
    text: &str,
    u: &Understood,
    previous: Option<&Understood>,
    same_kind: bool,
) -> bool {
    previous.is_some_and(|p| matches!(p.intent.as_str(), "find" | "refine" | "availability" | "gift"))
        && u.price.is_none()
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here)
        && (u.category.is_none() || same_kind)
        // (Or said without asking, ending at a store: "lime flavour, at seomyeon", "then black at seomyeon".)
        && (asks(text) || (text.is_ascii() && ends_at_a_store(text) && (same_kind || u.category.is_none())))
        && !requests_products(text)
        && !asks_to_be_shown(text)
}

/// The text after the words that open a turn without saying anything ("ok and do you have kimchi there" opens
/// with "do you have").
fn opening(text: &str) -> &str {
    const OPENERS: &[&str] = &[
        "ok",
        "okay",
        "and",
        "so",
        "then",
        "cool",
        "um",
        "hmm",
        "oh",
        "alright",
        "great",
        "nice",
        "meanwhile",
        "btw",
        "anyway",
        "also",
    ];
    let mut t = text.trim_start();
    loop {
        let word = t.split(|c: char| c.is_whitespace() || c == ',').next().unwrap_or("");
        if word.is_empty() || !OPENERS.contains(&word) {
            return t;
        }
        t = t[word.len()..].trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    }
}

/// Whether an English question ends by naming where: "… at seomyeon?" (the store is the last word).
fn ends_at_a_store(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| c == '?' || c.is_whitespace());
    let mut words = t.rsplit(' ');
    // ("sparkling water here?")
    let last = words.next();
    last == Some("here") || (last.is_some() && words.next() == Some("at"))
}

/// Words that end in 도 without the particle ("정도", "온도", "포도", "골전도", "당도"), and 도 that concedes
/// ("그래도").
const NOT_ALSO: &[&str] = &[
    "정도",
    "골전도",
    "온도",
    "포도",
    "속도",
    "용도",
    "강도",
    "습도",
    "각도",
    "밀도",
    "당도",
    "염도",
    "농도",
    "순도",
    "한도",
    "난도",
    "만족도",
    "그래도",
    "아무래도",
    "라도",
];

/// A Korean word without the particle 도 ("전기포트도" → "전기포트"), when two syllables are left.
pub(crate) fn without_also(w: &str) -> &str {
    w.strip_suffix('도')
        .filter(|n| {
            n.chars().count() >= 2 && n.chars().all(|c| !c.is_ascii()) && !NOT_ALSO.iter().any(|x| w.ends_with(x))
        })
        .unwrap_or(w)
}

/// Whether the shopper adds another product to the one they asked about ("케이스도 같이 있어요?", "삼겹살 …
/// 있으면 같이 살게요", "paper towels as well", "and chicken breast under 15k won", "is there milk here too"):
/// "too", "as well", "also", "plus", a turn opening with "and", 같이, or a word with the particle 도.
pub(crate) fn adds_another(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| !c.is_alphanumeric());
    ["too", "as well", "also", "plus"].iter().any(|w| contains_word(t, w))
        // ("ok and cup ramen under 1500 won there?")
        || contains_word(&t[..t.len() - opening(t).len()], "and")
        || t.contains("같이")
        || t.split_whitespace().any(|w| {
            let w = w.trim_end_matches(|c: char| !c.is_alphanumeric()).trim_end_matches('요');
            without_also(w) != w
        })
}

/// The device an accessory is asked for ("아리아 A3 쓰는데 그거에 맞는 거요", "노바 5용으로", "one that fits my nova
/// 5", "compatible with the aria a5"): its words, for the accessories of that kind to be narrowed to.
pub fn fits_device(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    let before = |cue: &str| t.find(cue).map(|i| t[..i].to_owned());
    let after = |cue: &str| t.find(cue).map(|i| t[i + cue.len()..].to_owned());
    const EN: &[&str] = &[
        "fits my ",
        "fit my ",
        "fits the ",
        "for my ",
        "compatible with my ",
        "compatible with the ",
        "compatible with ",
    ];
    let device = before(" 쓰는데")
        .or_else(|| before(" 쓰고 있는데"))
        .filter(|_| t.contains("맞는"))
        .or_else(|| before("에 맞는"))
        .or_else(|| before("용으로"))
        .or_else(|| EN.iter().find_map(|c| after(c)))?;
    let words: Vec<&str> = device
        .split_whitespace()
        .filter(|w| !["그거", "제", "내", "저", "지금", "폰", "phone", "the", "my", "i", "use", "have"].contains(w))
        .collect();
    (!words.is_empty() && words.len() <= 3).then(|| words.join(" "))
}

/// Another product said instead, after a stock question ("ok cherry tomatoes then", "그럼 방울토마토"): the same
/// question about it, unless it asks to be shown products.
pub(crate) fn instead_after_a_stock_question(text: &str, previous: Option<&Understood>) -> bool {
    previous.is_some_and(|p| p.intent == "availability" && p.pickup.is_some())
        && (contains_word(text, "then") || text.starts_with("그럼 "))
        && !asks_to_be_shown(text)
}

/// A choice made and thanks or a goodbye said, asking nothing: "그 니트로 할게요 고마워요", "검정으로 할게요 감사해요",
/// "never mind, just the jacket. thx", "ok ill grab it there, bye".
pub(crate) fn closes_with_a_choice(text: &str) -> bool {
    const THANKS: &[&str] = &[
        "고마워",
        "고맙",
        "감사",
        "ㄱㅅ",
        "ㄳ",
        "땡큐",
        "thanks",
        "thank",
        "thx",
        "ty",
        "tysm",
        "bye",
        "cheers",
        "appreciate",
    ];
    const CHOICE: &[&str] = &[
        "할게",
        "살게",
        "할께",
        "살께",
        "just the",
        "ill take",
        "i'll take",
        "ill grab",
        "i'll grab",
        "ill get",
        "i'll get",
        "go with",
        "ill buy",
        "i'll buy",
    ];
    THANKS.iter().any(|t| if t.is_ascii() { contains_word(text, t) } else { text.contains(t) })
        && CHOICE.iter().any(|c| text.contains(c))
        && !asks(text)
        // (A short closing: "… i think i'll take one of the filofax planner please" after a long talk buys.)
        && text.split_whitespace().count() <= 8
        // (Not when it waits on stock: "강남역점에 있으면 살게요 감사해요".)
        && !text.contains("있으면")
        && !contains_word(text, "if")
}

/// A choice said: "i'll go with the vest", "그럼 차콜 코트로 할게요", "ok i'll take the cheaper one".
pub(crate) fn chooses_one(text: &str) -> bool {
    [
        "go with",
        "i'll take",
        "ill take",
        "i'll get",
        "ill get",
        "i'll grab",
        "take the",
        "로 할게",
        "로 할께",
        "걸로 할",
        "로 살게",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// A store named and asked in Korean whether it has a kind under a budget ("홍대점에 10만원 이하 에어프라이어
/// 있어요?"), not asked to recommend or show ("홍대점 10만원 이하 이어폰 추천해 주실 수 있어요?").
fn asks_a_store_under_a_budget(text: &str, u: &Understood) -> bool {
    !text.is_ascii()
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
        && ["있어요?", "있나요?", "있을까요?"].iter().any(|c| text.trim_end().ends_with(c))
        && !["추천", "알려", "골라", "보여", "찾아"].iter().any(|w| text.contains(w))
}

/// Something bought that broke: a return ("i bought a rice cooker last week and the lid is broken", "지난주에 산
/// 밥솥 뚜껑이 깨졌어요"), not a new one wanted because the old one broke ("as mine is broken, i need a new phone").
pub(crate) fn bought_broken(text: &str) -> bool {
    const BROKE: &[&str] = &[
        "broken",
        "broke",
        "stopped working",
        "doesn't work",
        "not working",
        "cracked",
        "고장",
        "깨졌",
        "깨져",
        "안 돼요",
        "작동 안",
    ];
    const BOUGHT: &[&str] =
        &["i bought", "i ordered", "i got", "purchased", "received", "산 ", "샀는데", "구매한", "주문한", "받은"];
    BROKE.iter().any(|b| text.contains(b)) && BOUGHT.iter().any(|b| text.contains(b))
}

/// Something to give a person, said with 줄 ("to give"): "어린이날 조카 줄 헤드폰", "엄마한테 줄 거".
pub(crate) fn given_to_someone(text: &str) -> bool {
    const PEOPLE: &[&str] = &[
        "조카",
        "엄마",
        "아빠",
        "부모님",
        "동생",
        "언니",
        "누나",
        "오빠",
        "형",
        "친구",
        "아들",
        "딸",
        "여친",
        "남친",
        "여자친구",
        "남자친구",
        "와이프",
        "아내",
        "남편",
        "할머니",
        "할아버지",
        "선생님",
        "동료",
        "상사",
        "후배",
        "선배",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).any(|w| {
        w[1] == "줄"
            && (PEOPLE
                .iter()
                .any(|p| w[0] == *p || w[0].strip_suffix("한테").or_else(|| w[0].strip_suffix("에게")) == Some(p))
                || w[0].ends_with("한테")
                || w[0].ends_with("에게"))
    })
}

/// Whether "that" after a noun only begins what the noun does: "snacks that arent too sweet" points at nothing
/// shown.
pub(crate) fn relative_that(text: &str) -> bool {
    const VERBS: &[&str] = &[
        "are", "arent", "aren't", "is", "isnt", "isn't", "was", "were", "has", "have", "can", "cant", "can't", "will",
        "wont", "won't", "would", "do", "does", "doesnt", "doesn't", "dont", "don't", "taste", "tastes", "fit", "fits",
        "go", "goes", "work", "works", "last", "lasts", "look", "looks", "feel", "feels", "keep", "keeps", "stay",
        "stays",
    ];
    !text.starts_with("that ")
        && text.split(" that ").skip(1).all(|after| after.split_whitespace().next().is_some_and(|w| VERBS.contains(&w)))
}

/// What a turn that reads as a refinement is instead, when it narrows nothing shown: a request of its own when the
/// kind is said again after something else ("ok forget that, the slides again, in black"), when it corrects the
/// kind, or when nothing came before it (`fresh`: "sign painter, need a top under 60k won, no hangang basics"); a
/// stock question when it goes back and asks stock at a store outright ("ok back to the under-$40 ones, white 270,
/// in stock at gangnam?").
pub(crate) fn refinement_is_other(text: &str, u: &Understood, fresh: bool) -> Option<&'static str> {
    let again = u.category.is_some()
        && (["forget that", "forget it", "again"].iter().any(|w| contains_word(text, w)) || text.contains("다시 "))
        && !["cheaper", "pricier", "더 싼", "더 비싼"].iter().any(|w| text.contains(w));
    if again || fresh {
        return Some("find");
    }
    let stock_at_a_store = u.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
        && asks(text)
        && ["back to", "아까", "go back"].iter().any(|w| text.contains(w))
        && crate::stock_cues::STRONG_STOCK.iter().any(|c| text.contains(c));
    stock_at_a_store.then_some("availability")
}
