//! Reading an utterance's words: where a catalog word stands (whole English words, Korean words with their
//! particles, compound heads), what to cut once a slot is read, sizes said with or without a unit, and the
//! forms of asking (a question, an order's status, a request for more).

use crate::cues::*;
use crate::vocabulary::Term;
use crate::words::*;

/// The words of a request that could name a product: not fillers, asking words, numbers, predicates
/// ("팔아요", "돼"), single syllables ("한 판"), or laughter ("ㅋㅋ", "lol").
pub fn content_words(words: &str) -> Vec<String> {
    words
        .split(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | ',' | '.' | '~'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| w.chars().count() > 1 && !w.chars().all(|c| c.is_ascii_digit()))
        // A kind with a particle and 요 is the kind ("바람막이는요", "김치라면으로요", "시금치도요"); other words
        // that end in 요 are verbs ("있어요").
        .map(|w| noun_before_yo(&w).map(str::to_owned).unwrap_or(w))
        .filter(|w| w.chars().count() > 1)
        .filter(|w| !STOP.contains(&w.as_str()) && !FILLERS.contains(&w.as_str()))
        .filter(|w| !["요", "나", "까", "니", "다", "돼", "되", "죠"].iter().any(|e| w.ends_with(e)))
        .filter(|w| !w.chars().all(|c| matches!(c, 'ㅋ' | 'ㅎ' | 'ㅠ' | 'ㅜ' | '^')))
        .filter(|w| !matches!(w.as_str(), "lol" | "haha" | "lmao" | "omg" | "when" | "will" | "back"))
        .collect()
}

/// A question about a return without the part that broke: "my windbreaker zipper broke" asks about the
/// windbreaker, not zipper bags ("지퍼가 고장난 바람막이", "the strap on my watch snapped").
pub fn without_broken_parts(words: &str) -> String {
    const EN: [&str; 16] = [
        "zipper",
        "zippers",
        "zip",
        "button",
        "buttons",
        "strap",
        "straps",
        "sole",
        "soles",
        "seam",
        "seams",
        "stitching",
        "lace",
        "laces",
        "hinge",
        "buckle",
    ];
    const KO: [&str; 5] = ["지퍼", "단추", "밑창", "솔기", "박음질"];
    words
        .split_whitespace()
        .filter(|w| {
            let lower = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            // (A part with a particle, "지퍼가"; "지퍼백" is the product.)
            let part = |k: &&str| {
                lower
                    .strip_prefix(*k)
                    .is_some_and(|p| ["", "가", "이", "는", "은", "를", "을", "도", "만", "쪽"].contains(&p))
            };
            !EN.contains(&lower.as_str()) && !KO.iter().any(part)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The noun of a word that ends in a particle and 요 ("바람막이는요" → "바람막이", "김치라면으로요" →
/// "김치라면"), when at least two syllables are left.
pub(crate) fn noun_before_yo(w: &str) -> Option<&str> {
    ["으로요", "는요", "은요", "도요", "로요", "이요"]
        .iter()
        .find_map(|e| w.strip_suffix(e))
        .filter(|n| n.chars().count() >= 2 && n.chars().all(|c| !c.is_ascii()))
}

/// A size said alone once the kind is known ("joggers xl" after the search found they are bottoms): the
/// size and the words without it.
pub fn size_for_kind(words: &str, category: &str) -> Option<(String, String)> {
    let (s, said) = bare_size(words, category.rsplit('/').next().unwrap_or(category))?;
    let mut rest = words.to_owned();
    cut(&mut rest, &said);
    Some((s, rest.split_whitespace().collect::<Vec<_>>().join(" ")))
}

/// Whether the shopper asks after an order of theirs in words no cue lists: an order, a parcel or a pickup
/// with "my" or a number, or with what happens to orders ("has my headphones order shipped yet?", "order 5580
/// still says processing", "is my pickup ready?", "택배 아직이에요?", "주문한 이어폰 언제 도착해요?").
pub(crate) fn asks_after_an_order(text: &str) -> bool {
    const THING: &[&str] = &["order", "orders", "package", "parcel", "delivery", "shipment", "pickup"];
    const HAPPENS: &[&str] = &[
        "shipped",
        "ship",
        "delivered",
        "deliver",
        "arrive",
        "arrived",
        "processing",
        "status",
        "ready",
        "track",
        "tracking",
        "late",
        "cancel",
        "cancelled",
        "dispatched",
        "coming",
        "eta",
    ];
    let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    let english = words.iter().enumerate().any(|(i, w)| {
        THING.contains(w)
            && (words[..i].contains(&"my")
                || words.get(i + 1).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
                || words.iter().any(|h| HAPPENS.contains(h)))
    }) && !words.iter().any(|w| matches!(*w, "can" | "could") && text.contains(" pick"));
    const KO_THING: &[&str] = &["주문", "배송", "택배", "내 픽업", "제 픽업", "시킨", "시켰"];
    const KO_HAPPENS: &[&str] = &[
        "언제", "어디", "됐", "됬", "안 와", "안와", "안 왔", "안왔", "도착", "상태", "준비", "출발", "조회", "늦",
        "아직", "취소",
    ];
    let korean = KO_THING.iter().any(|t| text.contains(t)) && KO_HAPPENS.iter().any(|h| text.contains(h));
    // Something of mine on its way: "when do my earbuds get here", "when will my shoes arrive".
    let mine_coming = text.starts_with("when ")
        && words.contains(&"my")
        && ["get here", "arrive", "be here", "show up", "come"].iter().any(|h| text.contains(h));
    english || korean || mine_coming
}

/// A question that asks for more products, not about the one shown ("can I have another recommendation?").
pub(crate) const ASKS_FOR_MORE: &[&str] = &[
    "recommend",
    "recommendation",
    "suggest",
    "suggestion",
    "another",
    "other",
    "others",
    "similar",
    "something",
    "anything",
    "show",
    "looking for",
    "want",
    "추천",
    "다른",
    "비슷한",
    "또 있",
    "더 있",
];

/// Whether the words are a question ("세탁기 돌려도 되나요?", "does it fold?").
pub fn asks(text: &str) -> bool {
    let t = text.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '.' | '!' | '~'));
    // "laptops?" is a search said as a question; a question has a verb (two words at least).
    if t.ends_with('?') && t.split_whitespace().count() >= 2 {
        return true;
    }
    // A question with a word or two after it ("흰색 있어요? 강남점", "in stock? at gangnam") asks.
    if let Some(q) = t.rfind('?').filter(|q| q + 1 < t.len()) {
        if t[q + 1..].split_whitespace().count() <= 2 && asks(&t[..=q]) {
            return true;
        }
    }
    let t = t.trim_end_matches('?');
    const KO: &[&str] = &[
        "나요",
        "나여",
        "에요",
        "예요",
        "까요",
        "까여",
        "돼요",
        "되요",
        "가요",
        "죠",
        "는지",
        // (Polite and indirect: "있을는지요", "있으려나요".)
        "는지요",
        "려나",
        "ㄴ가요",
        "습니까",
        "어요",
        "아요",
        "있나",
        "없나",
        // ("강남역점 오늘 감자칩 있을까": …ㄹ까 asks.)
        "을까",
        "ㄹ까",
        "있을까",
        "없을까",
        // ("전기포트 오늘 서면점 픽업 되나")
        "되나",
        "돼나",
        "어때요",
        "어때",
    ];
    const EN: &[&str] = &["is", "are", "does", "do", "can", "will", "would", "should", "how", "what", "which", "could"];
    // English asks at the start of any clause: "i'll take the black one, is it at gangnam", "ok and do you
    // have kimchi there".
    const CLAUSE: &[&str] =
        &["do you", "does it", "is it", "is there", "are there", "are they", "do they", "can i", "could i", "got any"];
    // (After a word that only answers, a verb asks: "ok does gangnam have it in large"; "ok what about a
    // windbreaker then" asks for one.)
    const AUX: &[&str] = &["is", "are", "does", "do", "can", "will", "would", "should", "could"];
    const FIRST: &[&str] =
        &["ok", "okay", "ok,", "okay,", "so", "and", "alright", "alright,", "hmm", "hmm,", "oh", "oh,", "well,"];
    KO.iter().any(|e| t.ends_with(e))
        || t.split_whitespace().next().is_some_and(|w| EN.contains(&w))
        || (t.split_whitespace().next().is_some_and(|w| FIRST.contains(&w))
            && t.split_whitespace().find(|w| !FIRST.contains(w)).is_some_and(|w| AUX.contains(&w)))
        || CLAUSE.iter().any(|c| contains_word(t, c))
}

/// Whether what is left after the slots still names a product ("사운드바 있어요?"), not only fillers.
pub(crate) fn has_product_words(rest: &str) -> bool {
    rest.split(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | ',' | '.' | '~'))
        .filter(|w| !w.is_empty() && !STOP.contains(w))
        .any(|w| {
            // (A one-syllable filler only as a word of its own: "요가매트" is no "요".)
            !availability_cues().any(|a| a.contains(w) || w.starts_with(a.trim_end_matches('?')))
                && !FILLERS.iter().any(|f| w.starts_with(f) && (f.chars().count() > 1 || w == *f))
        })
}

/// The longest term whose word appears in `text` (Korean: as a substring; Latin: as a whole word).
pub(crate) fn best_term<'a>(text: &str, terms: &'a [Term]) -> Option<(&'a Term, String)> {
    term_in(text, terms, false)
}

/// The kind named: as [`best_term`], and of two kinds said apart, the later (the head of the phrase).
pub(crate) fn kind_term<'a>(text: &str, terms: &'a [Term]) -> Option<(&'a Term, String)> {
    term_in(text, terms, true)
}

/// Whether `w` is said only inside a kind of [`crate::words::OTHER_KINDS`]: a learned ending inside one word
/// ("선크림"), or any term as the last of two words ("sleeping pads").
fn inside_another_kind(text: &str, w: &str, learned: bool) -> bool {
    let tokens: Vec<&str> = text.split_whitespace().map(|t| t.trim_matches(|c: char| !c.is_alphanumeric())).collect();
    tokens.iter().enumerate().any(|(i, tok)| {
        tok.contains(w)
            && ((learned && crate::words::names_other_kind(tok))
                || (i > 0 && crate::words::names_other_kind_pair(tokens[i - 1], tok)))
    })
}

/// Whether a fruit is said as the flavour of what follows it ("the strawberry ones", "strawberry jam"), not as
/// the fruit ("strawberry punnet", "strawberry for a cake").
pub(crate) fn a_flavour(text: &str, fruit: &str) -> bool {
    const FRUIT_FOLLOWS: &[&str] = &[
        "punnet", "punnets", "box", "boxes", "pack", "packs", "please", "pls", "for", "to", "in", "at", "from",
        "under", "below", "over", "around", "and", "or", "near", "today", "here", "there", "with", "kg", "g", "is",
        "are",
    ];
    let tokens: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect();
    // (A number or a Korean word after it is no flavour: "strawberry 500g", "strawberry 2 packs", "strawberry 있어요?".)
    tokens.windows(2).any(|p| {
        p[0] == fruit
            && !FRUIT_FOLLOWS.contains(&p[1].as_str())
            && p[1].chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    })
}

fn term_in<'a>(text: &str, terms: &'a [Term], heads: bool) -> Option<(&'a Term, String)> {
    let mut best: Option<(&Term, String)> = None;
    let mut found: Vec<(&Term, String)> = Vec::new();
    for t in terms {
        let curated = t.words.iter().map(|w| (w, false));
        for (w, learned) in curated.chain(t.learned.iter().map(|w| (w, true))) {
            let w = lower(w);
            if w.is_empty()
                || !(if learned {
                    (starts_word(text, &w) || ends_word(text, &w)) && !as_a_verb(text, &w)
                } else if !w.is_ascii() && w.chars().count() == 1 {
                    // One syllable ("차", "폰") only as a word of its own: "차이" is no tea.
                    syllable_word(text, &w)
                } else {
                    contains_word(text, &w)
                })
            {
                continue;
            }
            // A word inside a kind the shop may not carry names nothing: "선크림" is no 크림 (cream-coloured)
            // knit, "sleeping pads" no charging pad.
            if inside_another_kind(text, &w, learned) || (w == "strawberry" && a_flavour(text, &w)) {
                continue;
            }
            // A number of cups is a size ("the 10 cup one": a rice cooker's), not a cup of something.
            if ["cup", "cups"].contains(&w.as_str()) && measured(text, &w) {
                continue;
            }
            if best.as_ref().is_none_or(|(_, b)| w.chars().count() > b.chars().count()) {
                best = Some((t, w.clone()));
            }
            found.push((t, w));
        }
    }
    // Two kinds named apart: the later is the head ("kimchi flavour ramyun", "노트북 파우치"), unless
    // it only says what the first is for ("earbuds for running").
    // (Close together, and not a pack or a container: "rice cooker 10 cup", "almonds, 2 or 3 bags", "snacks
    // gift box" name the first.)
    if let Some((b, bw)) = best.as_ref().filter(|_| heads) {
        const CONTAINERS: &[&str] = &[
            "cup", "cups", "box", "boxes", "bag", "bags", "pack", "packs", "bottle", "bottles", "roll", "rolls", "set",
        ];
        let purpose = [" for ", " with ", " to ", "용 "].iter().filter_map(|p| text.find(p)).min();
        let span = |w: &str| text.find(w).map(|i| (i, i + w.len()));
        let later = found
            .iter()
            .filter(|(t, w)| t.id != b.id && !CONTAINERS.contains(&w.as_str()))
            .filter_map(|(t, w)| span(w).map(|s| (t, w, s)))
            // (Not a word inside another one said: "무선 이어폰" holds "이어폰".)
            .filter(|(_, w, (a, z))| {
                !found.iter().any(|(_, o)| o.len() > w.len() && span(o).is_some_and(|(c, d)| c <= *a && *z <= d))
            })
            .filter(|(_, _, (a, _))| purpose.is_none_or(|p| *a < p))
            .filter(|(_, _, (a, _))| {
                span(bw).is_some_and(|(_, e)| {
                    e <= *a && {
                        let between = &text[e..*a];
                        !between.contains(',')
                            && !between.chars().any(|c| c.is_ascii_digit())
                            && between.split_whitespace().count() <= 2
                    }
                })
            })
            .max_by_key(|(_, w, (a, _))| (*a, w.len()));
        if let Some((t, w, _)) = later {
            return Some((t, w.clone()));
        }
        // The longest said only after "for": the kind before it is the one asked for ("earbuds for running").
        if let Some(p) = purpose.filter(|p| span(bw).is_some_and(|(a, _)| a > *p)) {
            let before = found
                .iter()
                .filter_map(|(t, w)| span(w).map(|s| (t, w, s)))
                .filter(|(_, _, (a, z))| *z <= p && *a < p)
                .max_by_key(|(_, w, (a, _))| (*a, w.len()));
            if let Some((t, w, _)) = before {
                return Some((t, w.clone()));
            }
        }
    }
    // The head of a compound said in two words is the second: "phone case", "데님 자켓", "아이폰 케이스".
    if let Some((_, b)) = &best {
        if let Some(i) = text.find(b.as_str()) {
            let after = text[i + b.len()..].trim_start_matches(|c: char| c.is_whitespace() || c == '-');
            if after.len() < text.len() - i - b.len() {
                if let Some(head) =
                    found.iter().filter(|(_, w)| after.starts_with(w.as_str())).max_by_key(|(_, w)| w.len())
                {
                    return Some(head.clone());
                }
            }
        }
    }
    best
}

pub fn contains_word(text: &str, w: &str) -> bool {
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
pub(crate) fn starts_word(text: &str, w: &str) -> bool {
    if w.is_ascii() {
        return contains_word(text, w);
    }
    text.match_indices(w).any(|(i, _)| text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
}

/// Whether Korean `w` is said only as a verb's stem: "충전하면", "충전돼요" (charging, not a charger).
fn as_a_verb(text: &str, w: &str) -> bool {
    !w.is_ascii()
        && text.match_indices(w).all(|(i, _)| {
            let after = &text[i + w.len()..];
            ["하", "해", "했", "할", "한 ", "되", "돼", "됐", "된", "될"].iter().any(|v| after.starts_with(v))
        })
}

/// Whether Korean `w` ends a word (the head of a compound: "워치" in "스마트워치"), a particle may follow.
pub(crate) fn ends_word(text: &str, w: &str) -> bool {
    if w.is_ascii() {
        return false;
    }
    text.match_indices(w).any(|(i, _)| {
        let after = &text[i + w.len()..];
        after.chars().next().is_none_or(|c| !c.is_alphanumeric())
            || PARTICLES.iter().any(|p| {
                // (A particle, perhaps with 요: "바람막이는요".)
                after
                    .strip_prefix(p)
                    .map(|a| a.strip_prefix('요').unwrap_or(a))
                    .is_some_and(|a| a.chars().next().is_none_or(|c| !c.is_alphanumeric()))
            })
    })
}

pub(crate) const PARTICLES: &[&str] = &[
    "은", "는", "이", "가", "을", "를", "로", "으로", "의", "에", "에서", "도", "요", "좀", "만", "이요", "이랑", "랑",
];

/// A one-syllable Korean word standing alone, perhaps with a particle that cannot start a longer word.
pub(crate) fn syllable_word(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = &text[i + w.len()..];
        let ends = after.chars().next().is_none_or(|c| !c.is_alphanumeric())
            || ["는", "를", "도", "로", "요", "랑", "만", "좀"]
                .iter()
                .any(|p| after.strip_prefix(p).is_some_and(|a| a.chars().next().is_none_or(|c| !c.is_alphanumeric())));
        before && ends
    })
}

/// A colour turned down: "초록 말고 남색으로요", "black instead of navy", "not the navy".
pub(crate) fn colour_denied(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        let after = text[i + w.len()..].trim_start_matches('색').trim_start();
        let before = text[..i].trim_end();
        ["말고", "아니고", "빼고"].iter().any(|d| after.starts_with(d))
            || (w.is_ascii()
                && ["instead of", "not", "not the", "rather than"]
                    .iter()
                    .any(|d| before.strip_suffix(d).is_some_and(|b| b.is_empty() || b.ends_with([' ', ',']))))
    })
}

/// "크림" alone is the colour only of clothes ("크림 니트 L"; "선크림", "크림 치즈" and a face cream are not).
pub(crate) fn cream_for_clothes(u: &mut crate::Understood, rest: &mut String) {
    // (Not a shoe cream, "운동화 크림", nor a cream turned down: "크림 말고 다른 색".)
    if !u.attributes.contains_key("color")
        && u.category.as_deref().is_some_and(|c| c.starts_with("apparel") && c != "apparel/shoes")
        && colour_word(rest, "크림")
        && !colour_denied(rest, "크림")
    {
        u.attributes.insert("color".into(), "cream".into());
        cut(rest, "크림");
    }
}

/// A Korean colour word standing alone: at a word's start and followed by the word's end, a particle or
/// 색 ("블루투스" is not blue).
pub(crate) fn colour_word(text: &str, w: &str) -> bool {
    // "green tea", "black bean", "red wine": a drink or a food, not a colour.
    if [
        "green tea",
        "black tea",
        "black bean",
        "red wine",
        "white wine",
        "brown rice",
        "black sesame",
        "olive oil",
        "lavender fabric",
        "lavender scent",
        "lavender-scented",
        "white day",
    ]
    .iter()
    .any(|f| f.starts_with(w) && contains_word(text, f))
    {
        return false;
    }
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

/// Whether an English word stands right after a number ("10 cup", "10-cup").
fn measured(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].trim_end_matches([' ', '-']);
        before.len() < i && before.chars().next_back().is_some_and(|c| c.is_ascii_digit())
    })
}

/// Removes the first occurrence of `w` (and a Korean particle stuck to it).
pub(crate) fn cut(text: &mut String, w: &str) {
    // An English word where it stands whole (perhaps plural) before anywhere: size "l" is not the start of
    // "landscaper".
    let whole = |i: usize| {
        let after = text[i + w.len()..].trim_start_matches("es").trim_start_matches('s');
        text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric())
            && after.chars().next().is_none_or(|c| !c.is_ascii_alphanumeric())
    };
    let at = if w.is_ascii() { text.match_indices(w).map(|(i, _)| i).find(|&i| whole(i)) } else { None };
    if let Some(i) = at.or_else(|| text.find(w)) {
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

/// Removes `w` where it is a whole word (English) or anywhere (Korean), with a particle stuck to it.
pub(crate) fn cut_word(text: &mut String, w: &str) {
    if !w.is_ascii() {
        return cut(text, w);
    }
    let at = text.match_indices(w).map(|(i, _)| i).find(|&i| {
        text[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric())
            && text[i + w.len()..].chars().next().is_none_or(|c| !c.is_ascii_alphanumeric())
    });
    if let Some(i) = at {
        text.replace_range(i..i + w.len(), " ");
    }
}

/// A size said with its unit: "270mm", "270 사이즈", "95사이즈", "L 사이즈", "사이즈 M", "size L".
pub(crate) fn size(text: &str) -> Option<(String, String)> {
    let short = |t: &str| !t.is_empty() && t.len() <= 3 && t.chars().all(|c| c.is_ascii_alphanumeric());
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for (i, t) in tokens.iter().enumerate() {
        let clean = t.trim_end_matches(['?', '.', ',', '!']);
        // A shoe length in millimetres ("270mm"; "44mm" is a watch's case, not a size).
        let shoe = |n: &&str| n.parse::<u32>().is_ok_and(|n| (200..=320).contains(&n));
        if let Some(n) = clean.strip_suffix("mm").filter(shoe) {
            return Some((n.to_owned(), t.to_string()));
        }
        let stripped = clean.trim_end_matches(['은', '는', '이', '가', '을', '를', '로', '으', '요', '도']);
        if let Some(n) = stripped.strip_suffix("사이즈").filter(|n| short(n)) {
            return Some((n.to_uppercase(), t.to_string()));
        }
        if stripped == "사이즈" || clean == "size" {
            // "M 사이즈", "the M size"; a letter or a number only ("in size" is not a size).
            let letterish = |p: &&str| {
                short(p) && (p.chars().all(|c| c.is_ascii_digit()) || letter_size_word(&p.to_ascii_lowercase()))
            };
            if let Some(prev) =
                i.checked_sub(1).map(|p| tokens[p]).filter(|p| short(p) && (stripped == "사이즈" || letterish(p)))
            {
                return Some((prev.to_uppercase(), format!("{prev} {t}")));
            }
            if let Some(next) = tokens.get(i + 1) {
                let n = next.trim_end_matches(['?', '.', ',', '!']);
                // ("size up to large": "up" is no size.)
                if short(n) && (n.chars().any(|c| c.is_ascii_digit()) || letter_size_word(&n.to_ascii_lowercase())) {
                    return Some((n.to_uppercase(), format!("{t} {next}")));
                }
            }
        }
    }
    None
}

pub(crate) fn letter_size_word(p: &str) -> bool {
    matches!(p, "xs" | "s" | "m" | "l" | "xl" | "xxl")
}

/// Korean clothing sizes said as chest numbers ("95 사이즈") to the catalog's letters.
pub(crate) fn letter_size(n: &str) -> Option<&'static str> {
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
pub(crate) fn bare_size(text: &str, leaf: &str) -> Option<(String, String)> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for (i, t) in tokens.iter().enumerate() {
        // ("100% cotton" is a share, not a size.)
        if t.contains('%') || tokens.get(i + 1).is_some_and(|n| ["percent", "퍼센트", "프로"].contains(n)) {
            continue;
        }
        let clean = t.trim_matches(|c: char| !c.is_alphanumeric());
        // (With a particle or a copula: "280이라", "L이면 돼요".)
        let clean = clean.trim_end_matches(['은', '는', '이', '가', '을', '를', '로', '으', '요', '도', '라', '면']);
        match leaf {
            "shoes" => {
                if let Ok(n) = clean.parse::<u32>() {
                    if (220..=300).contains(&n) && n % 5 == 0 {
                        return Some((n.to_string(), t.to_string()));
                    }
                }
            }
            "tops" | "bottoms" | "outerwear" => {
                // A Korean size said next to the garment ("하늘색 셔츠 95", "카고바지 올리브 95": 85–110 in fives); a
                // waist ("청바지 30") is none.
                if let Some(l) = letter_size(clean).filter(|_| clean.len() >= 2) {
                    return Some((l.into(), t.to_string()));
                }
                let word = match clean {
                    "xs" | "s" | "m" | "l" | "xl" | "xxl" => Some(clean.to_uppercase()),
                    "small" | "스몰" => Some("S".into()),
                    "medium" | "미디엄" | "미듐" | "미디움" => Some("M".into()),
                    "라지" => Some("L".into()),
                    "엑스라지" | "엑라" => Some("XL".into()),
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

/// Whether the brand said as `w` in `text` is one to leave out: "다솜 말고", "other than sori audio", "not pixelon",
/// "nothing from mood seoul", "anything that isn't pixelon?", or others asked for ("only pixelon? nothing else?").
pub(crate) fn brand_left_out(text: &str, w: &str) -> bool {
    text.find(w).is_some_and(|i| {
        let after = text[i + w.len()..].trim_start();
        let before = text[..i].trim_end();
        [
            "말고",
            "빼고",
            "제외",
            "아닌",
            "는 말고",
            "은 말고",
            "거 말고",
            "꺼 말고",
            "것 말고",
            "제품 말고",
            "alternatives",
            "alternative",
        ]
        .iter()
        .any(|n| after.starts_with(n))
            || [
                "other than",
                "than",
                "besides",
                "except",
                "not",
                "no",
                "not from",
                "not by",
                "nothing by",
                "not made by",
                "instead of",
                "apart from",
                "anything but",
                // ("nothing from mood seoul", "anything that isn't pixelon?", "id rather avoid dasom")
                "nothing from",
                "isn't",
                "isnt",
                "avoid",
                "not into",
            ]
            .iter()
            .any(|n| before.ends_with(n))
            // ("only pixelon? nothing else?", "다 소리오디오밖에 없어요?": others asked for.)
            || (["nothing else", "anything else", "no other", "밖에 없", "뿐이에요", "뿐인가"].iter().any(|n| after.contains(n))
                && before.split_whitespace().count() <= 2)
    })
}

/// A Korean word that says what something is for, ending in a final ㄹ ("입을", "먹을", "쓸"), not a thing.
pub(crate) fn says_a_use(w: &str) -> bool {
    w.chars().last().is_some_and(|c| ('가'..='힣').contains(&c) && (c as u32 - 0xAC00) % 28 == 8)
}
