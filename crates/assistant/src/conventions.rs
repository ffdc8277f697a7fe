//! The dialogue moves with two fair readings, read the one way the evaluation README's "Dialogue conventions"
//! write down: "also" after a stock question, going back to a kind, one of two compared chosen.

use crate::forms::{chooses_one, closes_with_a_choice};
use crate::matching::{asks, contains_word};
use crate::stock_cues::availability_cues;
use crate::understood::Understood;

/// After a stock question, "also" with no question asks to be shown ("also eggs", "i also need eggs"); "and
/// milk?", "plus some garlic", "also radish kimchi?", "also are the jeans in stock", "also what about the
/// jeans" and "also eggs there" keep asking.
pub(crate) fn also_asks_to_be_shown(text: &str, previous: Option<&Understood>) -> bool {
    previous.is_some_and(|p| p.intent == "availability")
        && contains_word(text, "also")
        && !["and ", "plus "].iter().any(|w| text.starts_with(w))
        && !asks(text)
        && !["there", "here", "stock", "available", "what about", "how about", "are the", "is the"]
            .iter()
            .any(|w| contains_word(text, w))
        && !availability_cues().any(|c| text.contains(c))
}

/// Going back to a kind shown before, said as going back ("ok go back to the white tees", "back to the
/// sneakers"), not a place gone back to ("navy chinos for going back to the office").
pub(crate) fn goes_back_to_a_kind(text: &str) -> bool {
    !text.contains("going back")
        && (text.starts_with("back to ")
            || ["go back to ", "ok back to ", ", back to ", "then back to ", "actually back to "]
                .iter()
                .any(|w| text.contains(w)))
}

/// One of two compared chosen by what it is ("그럼 큰 걸로 할게요", "i'll go with the bigger one"), not "it" or
/// "that" taken ("great, i'll grab it", "그럼 그걸로 할게요", "그 걸로 할게요"), nor a way to pay or to get it
/// ("카드로 할게요", "그럼 온라인으로 할게요"), nor with thanks that close.
pub(crate) fn chooses_by_what_it_is(text: &str) -> bool {
    chooses_one(text)
        && !closes_with_a_choice(text)
        && !contains_word(text, "it")
        && ![
            "그걸",
            "이걸",
            "저걸",
            "그거",
            "이거",
            "저거",
            "그 걸",
            "이 걸",
            "저 걸",
            "그 거",
            "이 거",
            "저 거",
            "온라인",
            "카드",
            "현금",
            "배송",
            "택배",
            "픽업",
            "다음에",
            "나중에",
            "online",
            "card",
            "cash",
            "delivery",
            "later",
        ]
        .iter()
        .any(|w| text.contains(w))
}

/// One of two compared, chosen by what it is with no kind named ("그럼 큰 걸로 할게요"): of the kind compared;
/// with the request's words when its own are only a word of one syllable ("큰"), its own otherwise ("ok i'll
/// take the aria a5").
pub(crate) fn chosen_of_two(u: &mut Understood, text: &str, previous: Option<&Understood>, last_intent: Option<&str>) {
    if last_intent != Some("compare") || u.intent != "find" || u.category.is_some() || !chooses_by_what_it_is(text) {
        return;
    }
    let Some(p) = previous else { return };
    u.category = p.category.clone();
    if u.words.split_whitespace().all(|w| !w.is_ascii() && w.chars().count() == 1) {
        u.words = p.words.clone();
    }
}
