//! Asking to be shown products or to take them ("보여주세요", "i can pick up", "볼 수 있을까요"), told apart from
//! pointing at products already shown ("what you showed me", "아까 보여주신 거").

/// Verbs that ask to be shown or recommended products (so not a stock question).
const ASKS_TO_BE_SHOWN: &[&str] = &["보여", "추천", "찾아", "show", "recommend", "find me", "look for"];

/// Whether `text` asks to be shown or recommended products; what was shown, pointed at ("back to what you
/// showed me first - on the shelf here?", "아까 보여주신 거 재고 있어요?"), asks for nothing.
pub(crate) fn asks_to_be_shown(text: &str) -> bool {
    let said = without_shown(text);
    ASKS_TO_BE_SHOWN.iter().any(|c| said.contains(c))
}

/// `text` without the words that point at products already shown ("showed", "보여주신 거"); a wish said in
/// the past form ("보여주셨으면 해요") stays.
pub(crate) fn without_shown(text: &str) -> String {
    const SHOWN: &[&str] = &["showed", "shown", "보여준", "보여주신", "보여줬", "보여주셨"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for w in SHOWN {
            if let Some(after) = rest.strip_prefix(w) {
                if !after.starts_with("으면") && !after.starts_with('다') {
                    out.push(' ');
                    rest = after;
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A request for products one can take ("픽업 가능한 라면 있어요?", "any hoodies near hongdae i can grab today?"),
/// not a question whether a store has them.
pub fn requests_products(text: &str) -> bool {
    let text = without_shown(text);
    [
        "픽업 가능한",
        "픽업할 수 있는",
        "픽업 되는",
        "받을 수 있는",
        "살 수 있는",
        "가져갈 수 있는",
        "i can",
        "to pick up",
        "보여",
        "show",
        // ("ok back to the slides, ill pick up at gangnam")
        "ill pick up at",
        "i'll pick up at",
    ]
    .iter()
    .any(|w| text.contains(w))
        // ("음료수도 같이 볼게요 여기서 픽업으로"; "신어 볼게요", "생각해 볼게요" try on or think it over.)
        || (["볼게요", "볼래요"].iter().any(|w| text.contains(w))
            && !["어 볼", "아 볼", "해 볼", "어볼", "아볼", "해볼"].iter().any(|w| text.contains(w)))
        // ("섬유유연제도 볼 수 있을까요" asks to see them too; "입어 볼 수 있어요?" to try one on, "홍대점 가서 실물 볼 수
        // 있어요?" whether the store has one to see.)
        || (["도 볼 수 있", "좀 볼 수 있"].iter().any(|w| text.contains(w))
            && !["실물", "직접", "가서", "매장에서"].iter().any(|w| text.contains(w)))
}
