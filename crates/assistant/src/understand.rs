//! One utterance understood: the shopper's intent (find, refine, compare, availability, order status,
//! returns, gift, hand-off to staff, out of scope) and the slots a search needs — category, brand, price
//! bounds, colour and size, where to pick up — from the catalog's own words (`Vocabulary`, supplied by the
//! engine), in Korean or English, with the previous turn's slots carried into a refinement ("더 싼 거",
//! "검은색으로", "in black", "다른 브랜드는?").

use crate::asking_to_see::*;
use crate::cues::*;
use crate::forms::*;
use crate::matching::*;
use crate::price;
use crate::shown_questions::about_the_product_shown;
pub use crate::understood::{Pickup, Understood};
pub use crate::vocabulary::{Term, Vocabulary};
use crate::words::*;

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
    "does that",
    "does this",
    "is that",
    "is this",
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

/// Understands one utterance; `previous` is the last turn's understanding (for refinements).
pub fn understand(utterance: &str, vocab: &Vocabulary, previous: Option<&Understood>) -> Understood {
    understand_after(utterance, vocab, previous, None)
}

/// As [`understand`], knowing the intent of the turn just before: a question about an order or about returns
/// goes on in a follow-up that names no cue ("it was a pair of loafers", "and for opened electronics?").
pub fn understand_after(
    utterance: &str,
    vocab: &Vocabulary,
    previous: Option<&Understood>,
    last_intent: Option<&str>,
) -> Understood {
    let text = lower(utterance.trim());
    let mut rest = text.clone();
    // Sayings whose words would name a kind: "ill stick with those" (no stick vacuum).
    for saying in ["stick with those", "stick with that", "stick with them", "stick with it", "stick with these"] {
        cut(&mut rest, saying);
    }
    // Sizes said in two words are one ("extra" alone would go as a cue word: "worth the extra").
    for (said, size) in
        [("extra large", " xl "), ("extra-large", " xl "), ("extra small", " xs "), ("extra-small", " xs ")]
    {
        if let Some(i) = rest.find(said) {
            rest.replace_range(i..i + said.len(), size);
        }
    }
    let mut u = Understood { intent: "find".into(), ..Default::default() };

    if let Some(p) = price::find(&rest) {
        u.price = Some(p.bounds.clone());
        // (A budget for several is each one's share: "2 of them, 50k won max for both" → 25,000 each.)
        if let (Some(n), Some(b)) = (crate::budget::items_sharing_budget(&text), u.price.as_mut()) {
            b.min_minor = b.min_minor.map(|m| m / n);
            b.max_minor = b.max_minor.map(|m| m / n);
        }
        rest.replace_range(p.start..p.end, " ");
    }
    let mut first_size = None;
    if let Some((s, said)) = size(&rest) {
        let s = letter_size(&s).map_or(s, str::to_owned);
        u.attributes.insert("size".into(), s);
        cut(&mut rest, &said);
        first_size = text.find(&said);
        // Two sizes said: the later is the one asked for ("아 265는 없죠? 그럼 270으로").
        if let Some((s, said)) = size(&rest) {
            let s = letter_size(&s).map_or(s, str::to_owned);
            u.attributes.insert("size".into(), s);
            cut(&mut rest, &said);
        }
    }
    // The longest colour word said wins ("light blue" over "blue"), not one turned down ("초록 말고 남색").
    let said: Vec<(&str, &str)> = COLOURS
        .iter()
        .flat_map(|(id, words)| words.iter().map(move |w| (*id, *w)))
        .filter(|(_, w)| colour_word(&rest, w))
        .collect();
    let (denied, wanted): (Vec<_>, Vec<_>) = said.into_iter().partition(|(_, w)| colour_denied(&rest, w));
    if let Some((id, w)) = wanted.into_iter().max_by_key(|(_, w)| w.chars().count()) {
        u.attributes.insert("color".into(), id.into());
        cut(&mut rest, w);
        for (_, d) in denied {
            cut(&mut rest, d);
        }
    }
    if let Some((t, w)) = best_term(&rest, &vocab.stores) {
        u.pickup = Some(Pickup { location_id: Some(t.id.clone()), ..Default::default() });
        cut(&mut rest, &w);
    }
    let near_me =
        ["내 주변", "가까운", "근처 매장", "근처에서", "근처에", "near me", "nearby", "close to me", "close by"]
            .iter()
            .any(|w| text.contains(w));
    let today = ["오늘", "today", "지금 바로", "right now"].iter().any(|w| text.contains(w))
        || contains_word(&text, "rn")
        // ("speaker i can collect at hongdae tonight"; "beef bulgogi for dinner tonight" says when it is eaten.)
        || (contains_word(&text, "tonight")
            && ["collect", "pick up", "grab", "hold", "get it", "at"].iter().any(|w| contains_word(&text, w)));
    // (Not who is speaking: "flight attendant here, power bank no more than 40k won".)
    // (A question is none: "any chelsea boots here, 260?".)
    let introduces = text.find(" here,").is_some_and(|i| text[..i].split_whitespace().count() <= 3)
        && text.matches("here").count() == 1
        && !text.contains('?')
        && !["any ", "got ", "is ", "are ", "do ", "does ", "can "].iter().any(|q| text.starts_with(q));
    // (Not a parcel that has not come: "they're still not here".)
    let here = HERE.iter().any(|w| contains_word(&text, w))
        && !introduces
        && !["still not here", "not here yet", "aren't here", "isn't here"].iter().any(|w| text.contains(w));
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
            cut(&mut rest, "거기서");
            cut(&mut rest, "거기");
        }
    }
    if let Some((t, w)) = best_term(&rest, &vocab.brands) {
        // "다솜 말고", "other than sori audio", "not pixelon": a brand to leave out.
        let said_not = brand_left_out(&text, &w);
        if said_not {
            u.exclude_brand = Some(t.id.clone());
        } else {
            u.brand = Some(t.id.clone());
        }
        cut(&mut rest, &w);
    }
    // "공기청정기 말고 제습기요": the kind said before 말고 is not what is asked for.
    let mut corrected = false;
    if let Some(at) = rest.find(" 말고") {
        let not = rest[..at].split_whitespace().last().unwrap_or_default().to_owned();
        if !not.is_empty()
            && kind_term(&not, &vocab.categories).is_some()
            && kind_term(&rest[at..], &vocab.categories).is_some()
        {
            cut(&mut rest, &format!("{not} 말고"));
            corrected = true;
        }
    }
    if let Some((t, w)) = kind_term(&rest, &vocab.categories) {
        u.category = Some(t.id.clone());
        let singular = w.strip_suffix('s').filter(|_| w.is_ascii()).unwrap_or(&w);
        // (A Korean kind that ends a title's word stays a search word: "김치" of "포기김치", so that "여기 김치
        // 팔아요?" finds kimchi, not the fresh food most bought.)
        // (The term's learned words are those heads, so no title word is scanned.)
        let heads_a_title = !w.is_ascii() && t.learned.iter().any(|l| lower(l) == w);
        // (Nor a kind of two words that titles hold word by word: "power banks", "rice cooker".)
        let titled_words = singular.contains(' ')
            && singular
                .split(' ')
                .all(|p| vocab.title_words.contains(p) || vocab.title_words.contains(&format!("{p}s")));
        if !(vocab.title_words.contains(&w) || vocab.title_words.contains(singular) || heads_a_title || titled_words) {
            cut(&mut rest, &w);
        }
    }
    crate::matching::cream_for_clothes(&mut u, &mut rest);
    {
        // A size said bare for the kind; when a size was said before it, the later one is asked for.
        let kind = u.category.as_deref().or(previous.and_then(|p| p.category.as_deref()));
        let kind = kind.map(|k| k.rsplit('/').next().unwrap_or(k));
        let mut tries = 0;
        while let Some((s, said)) = kind.and_then(|k| bare_size(&rest, k)).filter(|_| tries < 3) {
            tries += 1;
            let later = first_size.is_none_or(|f| text.rfind(&said).is_some_and(|at| at > f));
            if u.attributes.contains_key("size") && !later {
                break;
            }
            u.attributes.insert("size".into(), s);
            cut(&mut rest, &said);
            first_size = text.rfind(&said);
        }
    }

    // "한 사이즈 작은 건요": one size from the last.
    if !u.attributes.contains_key("size") {
        if let Some(s) = size_step(&text, previous) {
            u.attributes.insert("size".into(), s);
        }
    }

    // The intent: explicit cues first, then a refinement of the last turn, availability, find.
    // ("gangnam stock?" is stock at a store, not shares.)
    let off_topic = (OUT_OF_SCOPE.iter().any(|w| contains_word(&text, w))
        || (off_topic_by_form(&text) && u.pickup.as_ref().is_none_or(|p| p.location_id.is_none())))
        && !asks_after_an_order(&text);
    // The kind the last request was about, named again.
    let same_kind = previous.is_some_and(|p| {
        p.category.is_some()
            && p.category == u.category
            && matches!(p.intent.as_str(), "find" | "refine" | "availability" | "gift")
    });
    let no_slots = u.category.is_none() && u.brand.is_none() && u.price.is_none();
    let mut intent: &'static str = "find";
    let mut refine: Option<&'static str> = None;
    // (A product asked for with what it must be, or to collect, is a request whatever place it is for: "kimchi for
    // our restaurant's family meal, to grab here", "한복집 일 끝나고 입을 베이지 오버핏 티셔츠 L 사이즈".)
    // (A colour or a size said names a product too, whatever kind the engine will read: "어린이집 바깥 놀이 때 입을
    // 바람막이 올리브 S 7만원 이하".)
    let wants_a_product = (u.category.is_some() || (!u.attributes.is_empty() && has_product_words(&rest)))
        && (!u.attributes.is_empty()
            || u.price.is_some()
            || ["grab", "pick up", "pickup", "가져갈", "픽업", "살래", "사려"].iter().any(|w| text.contains(w)));
    if (off_topic && no_slots) || (crate::talk_cues::clearly_off_topic(&text) && !wants_a_product) {
        intent = "out_of_scope";
    } else if let Some((i, _)) = INTENTS.iter().find(|(i, cues)| {
        let denied = crate::talk_cues::cue_denied(i, &text, &u, wants_a_product);
        // (A product for someone is a request: "smartphone under 700k won for my dad"; "something for my
        // dad" asks for an idea. A wedding planner, photographer or band is who it is for.)
        let weak = |c: &str| {
            (c.starts_with("for my ") && (u.category.is_some() || u.brand.is_some()))
                || (c == "wedding"
                    && ["planner", "photographer", "band", "singer", "dj", "videographer", "florist", "venue"]
                        .iter()
                        .any(|j| text.contains(&format!("wedding {j}"))))
        };
        !denied
            && (cues.iter().any(|c| text.contains(c) && !(*i == "gift" && weak(c)))
                || (*i == "order_status" && asks_after_an_order(&text))
                || (*i == "returns" && bought_broken(&text))
                || (*i == "gift" && given_to_someone(&text)))
    }) {
        intent = i;
    } else if (contains_word(&text, "or") && ["which", "better", "?"].iter().any(|w| text.contains(w)))
        // ("and $20 or less?" bounds a price; "plastic bottles or something else?" weighs nothing named.)
        && ![
            "or less", "or more", "or under", "or below", "or above", "or cheaper", "or so", "or something", "or some",
            "or anything", "or other", "or whatever",
        ]
        .iter()
        .any(|w| contains_word(&text, w))
        // ("is it actually waterproof or just water resistant?" asks about the product shown.)
        && !["is it ", "does it ", "is this ", "does this ", "are they ", "do they "].iter().any(|d| text.starts_with(d))
        && (u.category.is_some() || u.brand.is_some() || previous.is_some() || has_product_words(&rest))
        // (Two colours weighed are a comparison too: "oatmeal or grey - which one".)
        && (u.attributes.is_empty()
            || (contains_word(&text, "which")
                && COLOURS.iter().filter(|(_, ws)| ws.iter().any(|w| contains_word(&text, w))).count() >= 2))
        && !contains_word(&text, "either")
    {
        // "nova 5 plus or flip 5, which one?", "chinos or joggers for work?".
        intent = "compare";
    } else if (text.contains("중에")
        // ("초음파 가습기랑 가열식 가습기 어떤 게 좋아요", "조거팬츠랑 카고바지 어떤 게 더 편해요".)
        || ["뭐 살까", "뭘 살까", "뭐 사지", "뭐가 낫", "어떤 게 낫", "어떤 게 더", "어떤게 더", "어떤 게 좋", "어떤게 좋", "어느 게", "어느 쪽"]
            .iter()
            .any(|w| text.contains(w)))
        && ["랑 ", "이랑", "하고 ", "과 ", "와 ", "랑"].iter().any(|w| text.contains(w))
        && (u.category.is_some() || has_product_words(&rest))
    {
        // "패딩조끼랑 바람막이 중에 가을에 뭐 입지": two kinds, one to choose.
        intent = "compare";
    } else if let Some((how, _)) = REFINE
        .iter()
        .find(|(how, cues)| cues.iter().any(|c| said_cue(&text, c)) || (*how == "other_brand" && other_brands_form(&text)))
        .filter(|_| previous.is_some() || u.category.is_none())
        // "does the cheaper one mop too?" points at a product shown; it asks nothing new ("show me the cheaper
        // ones" asks for them).
        .filter(|_| !((asks(&text) || chooses_one(&text)) && crate::shown_questions::points_at_one_shown(&text)))
        // (After two compared, the kind named in a colour or a size chooses: "i'll go with the windbreaker in olive".)
        .or_else(|| u.exclude_brand.as_ref().and(REFINE.iter().find(|(h, _)| *h == "other_brand")))
    {
        // ("ramen multipack cheaper than $9" with nothing before is a search with a budget.)
        intent = "refine";
        refine = Some(how);
    } else if previous.is_some()
        && u.category.is_none()
        && u.price.is_some()
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
        && asks(&text)
        && ["아까", "earlier"].iter().any(|w| text.contains(w))
        && STOCK_QUESTION.iter().any(|c| text.contains(c))
    {
        // The request as it was before, asked about at a store: "그럼 아까 5만원 이하 거 강남역점에 있어요?".
        intent = "availability";
    } else if (u.category.is_some()
        // (Or words the engine will place, said of that store: "and grab a black windbreaker in large from there".)
        || (has_product_words(&rest) && (contains_word(&text, "there") || text.contains("거기"))))
        && u.price.is_none()
        && previous.and_then(|p| p.pickup.as_ref()).is_some_and(|p| p.location_id.is_some())
        && u.pickup.as_ref().is_none_or(|p| {
            p.location_id.is_none() || p.location_id == previous.and_then(|p| p.pickup.as_ref()?.location_id.clone())
        })
        && ((previous.is_some_and(|p| p.intent == "find")
            && (adds_another(&text) || text.starts_with("and "))
            && !asks(&text))
            || ((requests_products(&text) || text.contains("찾고 있")) && adds_another(&text))
            || crate::conventions::also_asks_to_be_shown(&text, previous))
    {
        // Another product to take from the store the last request was for, asked to be shown rather than asked
        // about: "and tofu too" after eggs to pick up here, "탄산수도 같이 살래요", "거기서 가져갈 전기포트도 보여줘".
        intent = "find";
        if u.pickup.as_ref().is_none_or(|p| p.location_id.is_none()) {
            u.pickup = previous.and_then(|p| p.pickup.clone());
        }
        // (Of the same kind, within the budget said for it.)
        if let Some(p) = previous.filter(|p| p.category == u.category) {
            u.price = p.price.clone();
        }
    } else if (u.category.is_some()
        // (Or words the engine will place, said of the store just asked about: "ok also black joggers in medium
        // there".)
        || (has_product_words(&rest) && (contains_word(&text, "there") || text.contains("거기")) && adds_another(&text))
        // (Or asked on with "and": "and joggers?" after sweatshirts here.)
        // ("and the navy one in medium?" narrows the one under discussion.)
        || (has_product_words(&rest) && text.starts_with("and ") && asks(&text) && u.attributes.is_empty()))
        && (u.pickup.is_none()
            // ("청소기도 필요한데 30만원 이하로 여기 있어요?": here is the store being asked about.)
            || u.pickup.as_ref().is_some_and(|p| p.here && p.location_id.is_none())
            || u.pickup.as_ref().and_then(|p| p.location_id.as_ref())
                == previous.and_then(|p| p.pickup.as_ref()).and_then(|p| p.location_id.as_ref()))
        && (previous.is_some_and(|p| p.intent == "availability" && p.pickup.is_some())
            // (Another product added at the store the last request was for: "and a garment steamer too" after
            // microwaves here under 150k won, "아 가습기도 보고 싶은데" after kettles to buy here today.)
            || (previous.is_some_and(|p| {
                matches!(p.intent.as_str(), "find" | "refine") && p.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
            }) && (adds_another(&text)
                // ("what about eggs?" after chicken breast to take from here.)
                || (asks(&text) && ["what about ", "how about "].iter().any(|w| text.starts_with(w))))))
        // (Perhaps with a budget when it asks about stock or adds to it, perhaps "there": "거기 3천원 이하 우유도
        // 있나요", "and chicken breast under 15k won"; a budget said otherwise narrows: "큰컵으로 2천원
        // 이하짜리는요?".)
        && (u.price.is_none() || STOCK_QUESTION.iter().any(|c| text.contains(c)) || adds_another(&text))
        // ("plus some garlic" adds to the question without asking again; "ok cherry tomatoes then" asks it
        // instead.)
        && (asks(&text)
            || adds_another(&text)
            || instead_after_a_stock_question(&text, previous)
            || ["plus ", "also "].iter().any(|w| text.starts_with(w))
            || ["도요", "도?"].iter().any(|w| text.trim_end_matches(['.', '!', '~']).ends_with(w)))
        && (["and", "what about", "how about", "plus", "also", "too", "as well"].iter().any(|w| contains_word(&text, w))
            || adds_another(&text)
            || instead_after_a_stock_question(&text, previous)
            || ["got ", "any ", "have you got"].iter().any(|w| text.starts_with(w))
            || ["는요", "은요", "도 있", "도요", "도 하나", "도 주세요"].iter().any(|w| text.contains(w)))
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
    } else if let Some(i) = continues(last_intent, &text, &u, &rest) {
        intent = i;
    } else if let Some(kind) = previous
        .filter(|p| p.category.is_some() && u.category.is_none() && u.brand.is_none())
        .filter(|_| ["anything ", "any "].iter().any(|o| text.starts_with(o)) && asks(&text))
        .filter(|_| u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here))
        .and_then(|p| p.category.clone())
    {
        // Anything of the kind just asked for, at a store, perhaps under a budget: "anything under 1500 won
        // here?" after other brands of cup noodles.
        intent = "availability";
        u.category = Some(kind);
    } else if checks_stock_at_a_store(&text, &u) || asks_if_a_store_has(&text, &rest, &u) {
        // Stock looked up at a store, whatever else narrows it: "ㅇㅋ 그럼 조끼 M으로 강남 재고 봐줘",
        // "오븐형으로 서면점 재고", "서면점에 있으면 찾으러 갈게요".
        intent = "availability";
    } else if asks_at_a_store_after(&text, &u, previous, same_kind) {
        // The products just shown, narrowed and asked about at a store: "the puffer in navy, medium, at
        // seomyeon?", "ivory in small, can i grab it at gangnam?".
        intent = "availability";
    } else if same_kind
        && (u.price.is_some() || !u.attributes.is_empty())
        && u.pickup.is_none()
        // (Or asked after a detour, coming back to the request before it: "스피커 초록색 있나요" after an order
        // question keeps the speakers' budget.)
        && (!asks(&text)
            || u.price.is_some()
            || matches!(last_intent, Some("order_status" | "returns" | "out_of_scope" | "smalltalk")))
        // (After two compared, the kind named with a colour or a size chooses: "i'll go with the vest, size M".)
        && !(last_intent == Some("compare") && u.price.is_none() && chooses_one(&text))
        // (Another product of the kind added: "almonds under $10 too" after seaweed snacks.)
        && !(["too", "as well", "also"].iter().any(|w| contains_word(&text, w)) && has_product_words(&rest))
        // (Going back to a kind shown earlier asks for it again: "ok go back to the white tees" after sweatshirts.)
        && !(crate::conventions::goes_back_to_a_kind(&text)
            && (u.category.is_some() || has_product_words(&rest))
            && u.price.is_none())
    {
        // The kind just shown, narrowed: "컵라면으로 2천원 이하요" after ramen.
        intent = "refine";
        refine = Some(if u.price.is_some() {
            "price"
        } else if u.attributes.contains_key("color") {
            "colour"
        } else {
            "size"
        });
    } else if u.price.is_none()
        && STRONG_STOCK.iter().any(|c| text.contains(c))
        && ["that one", "this one", "those", "these", "그거", "이거", "저거"].iter().any(|d| text.contains(d))
    {
        // Stock of a product pointed at: "is that one sold out online?", "any of those in stock close to me?".
        intent = "availability";
    } else if previous.is_some() && u.category.is_none() && WHICH_STORE.iter().any(|c| text.contains(c)) {
        // "which stores have it in size M?": where the products shown are.
        intent = "availability";
    } else if u.category.is_some()
        && u.price.is_none()
        && (STRONG_STOCK.iter().any(|c| text.contains(c))
            || availability_cues().any(|c| text.contains(c))
            || (u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here) && asks(&text)))
        && ["이 ", "그 ", "the ", "this ", "that "].iter().any(|d| {
            text.starts_with(d) || (text.contains(&format!(" {d}")) && !(*d == "that " && relative_that(&text)))
        })
    {
        // A product named as one already known, asked about stock: "이 운동화 270 재고 있어요?", "is the robot
        // vacuum in stock online?".
        intent = "availability";
    } else if previous.is_some()
        && u.price.is_none()
        && DEMONSTRATIVES.iter().any(|d| text.starts_with(d))
        // ("그거 색깔 초록 있어요?" asks for it in green: a refinement.)
        && u.attributes.is_empty()
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
        && ((asks(&text) && contains_word(&text, "one")) || ["one at ", "ones at "].iter().any(|d| text.contains(d)))
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
        // (After two kinds compared, a kind named with a colour is a request: "ok show me khaki chinos in large".)
        && !((previous.is_some_and(|p| p.intent == "compare")
            || (last_intent == Some("compare") && u.price.is_none() && chooses_one(&text)))
            && has_product_words(&rest))
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
        // ("강남역점에서 가져갈 수 있는 캔버스화 흰색 250 보여줘" asks to be shown, whatever the kind's word.)
        && !((u.category.is_some() || has_product_words(&rest)) && requests_products(&text))
        && ((u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here)
            && (u.category.is_none() || (asks(&text) && STOCK_QUESTION.iter().any(|c| text.contains(c)))))
            // (Near the shopper, stock said outright: "eggs available close to me?".)
            || (u.pickup.as_ref().is_some_and(|p| p.within_km.is_some())
                && asks(&text)
                && STRONG_STOCK.iter().any(|c| text.contains(c)))
            || (u.category.is_none() && u.brand.is_none() && !has_product_words(&rest)))
    {
        intent = "availability";
    } else if previous.is_some()
        && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.today || p.within_km.is_some())
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && (!has_product_words(&rest) || (asks(&text) && text.split_whitespace().count() <= 4))
    {
        // "what about Gangnam?", "near Hongdae today?", "2 pack at hongdae?" after products were shown.
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
        // ("가격은 상관없어요 편한 걸로요" lets the budget go; "price doesn't matter, is it waterproof?" asks.)
        && (text.contains('?') || !crate::budget::lets_go_of_the_budget(&text))
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
    // Whether the shop sells a whole department is browsing, not stock ("여기 먹을 거도 팔아요?"; "여기 김치
    // 팔아요?" asks about stock).
    if intent == "availability"
        && u.category.as_deref().is_some_and(|c| !c.contains('/'))
        && ["팔아", "파나요", "팔죠", "팔고 있", "sell"].iter().any(|w| text.contains(w))
    {
        intent = "find";
    }
    if intent == "availability"
        && (u.category.is_some() || u.brand.is_some() || has_product_words(&rest))
        && collects_what_was_asked(&text)
    {
        intent = "find";
    }
    // A question about the product shown, in words that seemed to ask for another ("배터리 오래 가요?").
    if let Some(slots_go) = about_the_product_shown(intent, &text, &u, previous.is_some()) {
        intent = "question";
        refine = None;
        u.category = None;
        if slots_go {
            u.attributes.clear();
        }
    }
    // (A kind the shop may not carry, named, is asked for, not asked about: "also do you sell leg warmers?".)
    if intent == "question"
        && (names_other_kind(&text)
            || ["do you sell", "do you carry", "do you guys sell"].iter().any(|w| text.contains(w)))
        && ["sell", "carry", "팔아", "파나요", "취급"].iter().any(|w| text.contains(w))
    {
        intent = "find";
    }
    // A turn that reads as a refinement yet narrows nothing shown (see `refinement_is_other`).
    if intent == "refine" {
        if let Some(other) = refinement_is_other(&text, &u, corrected || previous.is_none()) {
            intent = other;
            refine = None;
        }
    }
    // The budget let go of: "actually price doesn't matter", "예산 상관없이 보여주세요".
    // (Not when it asks more: "anything better? price doesn't matter", "no budget then, are they at gangnam?".)
    if intent == "find"
        && previous.is_some_and(|p| u.category.is_none() || u.category == p.category)
        && u.price.is_none()
        && crate::budget::lets_go_of_the_budget(&text)
    {
        (intent, refine) = ("refine", Some("price"));
    }
    u.intent = intent.to_owned();
    u.refine = refine.map(str::to_owned);

    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | ',' | '.' | '~'))
        .filter(|w| !w.is_empty() && !STOP.contains(w) && *w != "도")
        .map(without_also)
        .filter(|w| {
            !REFINE
                .iter()
                .chain(INTENTS.iter())
                .any(|(_, cues)| cues.iter().any(|c| c.contains(*w) && w.chars().count() > 1))
        })
        .collect();
    u.words = words.join(" ");

    // "what do you have?": everything, so that the answer can ask what kind.
    // (Not with a kind named that the shop may not carry: "목도리 추천해줘" is answered about scarves; nor with a
    // thing named before "추천해줘": "요가매트 추천해주세요" asks for yoga mats, while what it is for alone, "입을 거 좀
    // 추천해줘요", asks what kind.)
    let names_something = u.words.split_whitespace().any(|w| !w.starts_with("추천") && !says_a_use(w));
    let browse = BROWSE.iter().any(|c| text.contains(c) && !(c.starts_with("추천") && names_something))
        && (crate::words::other_kinds_only_for_a_purpose(&text) || !crate::words::names_other_kind(&u.words));
    if u.intent == "find" && u.category.is_none() && u.brand.is_none() && browse {
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
    // Greetings, thanks and goodbyes, said alone or around a choice made: small talk.
    read_small_talk(&mut u, &text, last_intent == Some("compare"));
    crate::conventions::chosen_of_two(&mut u, &text, previous, last_intent);
    // A hand-off is about people, not products ("is there a phone number for customer support").
    if u.intent == "handoff" {
        u.category = None;
    }
    // Nothing to search for in small talk or an off-topic request: no slots ("오늘 날씨").
    if matches!(u.intent.as_str(), "smalltalk" | "out_of_scope") {
        u.pickup = None;
        u.attributes.clear();
    }
    // (Nor a kind in it: "파이썬 숙제 좀 도와줘" is no snack.)
    if u.intent == "out_of_scope" {
        u.category = None;
        u.brand = None;
    }

    // A gift request goes on being one while the shopper narrows it ("엄마요, 5만원 이하로").
    // Until it knows what kind of gift; after that, narrowing it is a refinement like any other.
    let gift_going_on = previous.is_some_and(|p| p.intent == "gift" && p.category.is_none())
        && matches!(u.intent.as_str(), "find" | "refine");
    if gift_going_on && u.category.is_none() {
        let mut merged = previous.cloned().unwrap_or_default();
        // (The words said now, for the engine to read a kind from: "maybe a puffer?"; "더 싼 거" is a price.)
        let by_price = u.intent == "refine" && matches!(u.refine.as_deref(), Some("cheaper" | "pricier"));
        if !u.words.is_empty() && !by_price {
            merged.words = u.words.clone();
        }
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
        // (A colour or a size alone narrows the gifts shown: "she likes pink"; so does a price direction.)
        let narrows = matches!(u.refine.as_deref(), Some("colour" | "size")) && u.price.is_none() || by_price;
        if u.intent == "refine" && narrows {
            merged.intent = "refine".into();
            merged.refine = u.refine.clone();
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
    // A stock question about the kind just asked for keeps that request's budget and attributes ("the air
    // fryer sounds good, which one is in stock at seomyeon" after "she loves cooking, under 150k won").
    if let Some(prev) = previous.filter(|p| {
        u.intent == "availability"
            && matches!(p.intent.as_str(), "find" | "refine" | "gift" | "availability")
            && (u.category.is_none() || p.category.is_none() || u.category == p.category)
    }) {
        // Another product added, whose kind the engine will read, is asked about at the same store and nothing
        // more: "ok also black joggers in medium there" after slides, "and canned lattes" after cold brew.
        let another = u.category.is_none() && adds_another(&text) && has_product_words(&rest);
        if another {
            if u.pickup.is_none() && prev.intent == "availability" {
                u.pickup = prev.pickup.clone();
            }
            return u;
        }
        if u.price.is_none() {
            u.price = prev.price.clone();
        }
        // "the 6 cup one at gangnam?", "the namsan ones at gangnam then": something within the kind just shown.
        // (Not a kind of its own the shop may not carry: "and a beanie there?" after a jacket.)
        let other_kind = names_other_kind(&rest);
        if u.category.is_none()
            && !other_kind
            && (u.brand.is_some() || has_product_words(&rest) || !u.attributes.is_empty())
        {
            u.category = prev.category.clone();
        }
        if u.brand.is_none() && u.exclude_brand.is_none() {
            u.exclude_brand = prev.exclude_brand.clone();
        }
        // "what about the 12 roll one" after asking about Gangnam: still there.
        if u.pickup.is_none() && prev.intent == "availability" {
            u.pickup = prev.pickup.clone();
        }
        for (k, v) in &prev.attributes {
            u.attributes.entry(k.clone()).or_insert_with(|| v.clone());
        }
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
            // "something cheaper, any colour", "사이즈 상관없어요": what the shopper lets go of.
            for (key, said) in [
                ("color", &["any colour", "any color", "아무 색", "색상 상관", "색 상관", "색깔 상관"][..]),
                ("size", &["any size", "사이즈 상관", "사이즈는 상관"]),
            ] {
                if said.iter().any(|w| text.contains(w)) && !u.attributes.contains_key(key) {
                    merged.attributes.remove(key);
                }
            }
            if ["any brand", "브랜드 상관", "브랜드는 상관"].iter().any(|w| text.contains(w)) && u.brand.is_none()
            {
                merged.brand = None;
            }
            if u.price.is_none() && crate::budget::lets_go_of_the_budget(&text) {
                (merged.price, merged.words) = (None, prev.words.clone());
            }
            return merged;
        }
    }
    u
}

#[cfg(test)]
#[path = "understand_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "understand_later_tests.rs"]
mod later_tests;
