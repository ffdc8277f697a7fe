//! Questions about a product already shown, told apart from the requests they resemble: its battery, what it
//! costs to run, what comes with it, what it does ("does it pack down small?" names no size).

use crate::matching::{asks, contains_word};
use crate::stock_cues::availability_cues;
use crate::understood::Understood;

/// Whether `text`, first read as `intent` after an earlier turn, asks about the product shown instead: `None`
/// when it does not; otherwise whether the colour and size read in it go too (said of what the product does or
/// holds, they are none).
pub(crate) fn about_the_product_shown(intent: &str, text: &str, u: &Understood, after_a_turn: bool) -> Option<bool> {
    if !after_a_turn || u.price.is_some() || u.pickup.is_some() {
        return None;
    }
    // "배터리 오래 가요?" after products were shown asks about their battery, not for a power bank; "how many
    // cups does one bottle make?" about what the bottle makes.
    if intent == "find"
        && asks(text)
        && ((text.contains("배터리") && !text.contains("보조"))
            || contains_word(text, "battery")
            // (What it costs to run: "전기요금 많이 나와요?" after humidifiers.)
            || ["전기요금", "전기세", "전기 요금", "electricity bill", "power bill"].iter().any(|w| text.contains(w))
            || ["how many ", "how long "].iter().any(|w| text.starts_with(w)))
        && !availability_cues().any(|c| text.contains(c))
    {
        return Some(false);
    }
    // "이 제습기 몇 리터예요?": how much or how many of something the product pointed at has or holds.
    if intent == "find"
        && asks(text)
        && ["이 ", "그 ", "저 "].iter().any(|d| text.starts_with(d))
        && ["몇 ", "얼마나"].iter().any(|w| text.contains(w))
        // (Not a store's hours: "그 매장 몇 시까지 해요?".)
        && (text.contains("몇 시간") || !text.contains("몇 시"))
        && !["매장", "영업"].iter().any(|w| text.contains(w))
        && !availability_cues().any(|c| text.contains(c))
    {
        return Some(true);
    }
    // (Of the product shown: pointed at, or no kind named — "유통기한 긴 두부 있어요?" asks for tofu.)
    let pointed = ["그거", "이거", "저거", "그건", "이건", " it", "they", "this one", "that one", "these", "those"]
        .iter()
        .any(|w| text.contains(w))
        || u.category.is_none();
    // What the product shown keeps or holds, asked of it, read first as the intents it resembles: how long it keeps
    // ("그거 유통기한 얼마나 남았어요?", not whether any is left), what comes with it ("펜도 같이 들어 있어요?", "does it
    // come with a case?").
    const ABOUT_IT: &[(&[&str], &[&str])] = &[
        (
            &["find", "availability"],
            &["유통기한", "소비기한", "expiry", "expiration", "best before", "use by", "shelf life"],
        ),
        (&["find", "refine"], &["들어 있", "들어있", "포함돼", "포함되", "included", "come with", "comes with"]),
        // (Whether it may fly: "비행기에 들고 탈 수 있어요?" after power banks; not a request for something to use
        // on board, "기내에서 쓸 목베개 있어요?", nor for carry-on suitcases.)
        (
            &["find"],
            &[
                "비행기에 들고 탈 수",
                "비행기에 들고 타도",
                "비행기에 가지고 탈 수",
                "비행기에 가지고 타도",
                "기내 반입",
                "기내반입",
                "it on a plane",
                "it on the plane",
                "this on a plane",
                "this on the plane",
                "them on a plane",
                "them on the plane",
                "as a carry-on",
                "in my carry-on",
                "in hand luggage",
                "기내에 들고",
                "기내에 가지고",
                "these on a plane",
                "these on the plane",
                "allowed on the plane",
                "allowed on a plane",
            ],
        ),
    ];
    if pointed
        && asks(text)
        && ABOUT_IT.iter().any(|(intents, words)| intents.contains(&intent) && words.iter().any(|w| text.contains(w)))
    {
        return Some(true);
    }
    // "does it pack down small?": what the product shown does, not a size ("does it come in small?" is one).
    if intent == "refine"
        && ["does it ", "does this ", "will it "].iter().any(|w| text.starts_with(w))
        && !["in", "have", "come", "fit"].iter().any(|w| contains_word(text, w))
    {
        return Some(true);
    }
    None
}

/// "the cheaper one", "the pricier one" said of one product shown (not "the cheaper ones", asked for).
pub(crate) fn points_at_one_shown(text: &str) -> bool {
    ["the cheaper one", "the pricier one", "the more expensive one"]
        .iter()
        .any(|p| text.match_indices(p).any(|(i, _)| !text[i + p.len()..].starts_with('s')))
}

#[cfg(test)]
mod tests {
    use super::about_the_product_shown;
    use crate::understood::Understood;

    #[test]
    fn questions_about_the_product_shown() {
        let u = Understood::default();
        assert_eq!(about_the_product_shown("find", "배터리 오래 가요?", &u, true), Some(false));
        assert_eq!(about_the_product_shown("find", "펜도 같이 들어 있어요?", &u, true), Some(true));
        assert_eq!(about_the_product_shown("refine", "does it pack down small?", &u, true), Some(true));
        assert_eq!(about_the_product_shown("find", "비행기에 들고 탈 수 있어요?", &u, true), Some(true));
        assert!(super::points_at_one_shown("does the cheaper one mop too?"));
        assert!(!super::points_at_one_shown("show me the cheaper ones"));
        // A size asked for, a first turn, or a budget said: no question.
        assert_eq!(about_the_product_shown("refine", "does it come in small?", &u, true), None);
        assert_eq!(about_the_product_shown("find", "배터리 오래 가요?", &u, false), None);
        let bounds = crate::price::PriceBounds { min_minor: None, max_minor: Some(50_000), currency: "KRW".into() };
        let priced = Understood { price: Some(bounds), ..Default::default() };
        assert_eq!(about_the_product_shown("find", "how many cups under 50k won", &priced, true), None);
    }
}
