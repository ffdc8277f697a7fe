//! Tests of `understand`: intents, slots and refinements on a small vocabulary.

use super::*;
use crate::price::PriceBounds;

pub(super) fn vocab() -> Vocabulary {
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
    assert_eq!(u.pickup, Some(Pickup { location_id: Some("loc_gangnam".into()), today: true, ..Default::default() }));
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
    assert_eq!((black.intent.as_str(), black.attributes.get("color").map(String::as_str)), ("refine", Some("black")));
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
    assert_eq!((narrowed.intent.as_str(), narrowed.price.as_ref().and_then(|p| p.max_minor)), ("gift", Some(50_000)));
    // Cheaper than the gifts shown, not a kind of gift called "더 싼" (the budget stays).
    for t in ["더 싼 거", "cheaper", "더 비싼 거"] {
        let c = understand(t, &v, Some(&narrowed));
        assert_eq!(c.intent, "refine", "{t}");
        assert!(!c.words.contains('싼') && !c.words.contains("cheap") && !c.words.contains('비'), "{t}: {}", c.words);
        assert_eq!(c.price.as_ref().and_then(|p| p.max_minor), Some(50_000), "{t}");
    }
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
    for t in
        ["has my headphones order shipped yet?", "order 5580 still says processing", "어제 시킨 후드티 언제 도착해요?"]
    {
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
    for t in ["can someone call me back?", "챗봇 말고 진짜 사람이요", "담당자 연결 좀 해주세요"] {
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

#[test]
fn word_families_and_forms_rather_than_phrases() {
    let v = shop();
    let shown = understand("라면 5천원 이하", &v, None);
    let refine = |t: &str| {
        let u = understand(t, &v, Some(&shown));
        (u.intent, u.refine.unwrap_or_default())
    };
    // Cheaper in other words; "비싼 걸로" is dearer even though it holds "싼 걸로".
    for t in ["가격 좀 낮은 걸로는?", "넘 비싸ㅠ 좀 싼 걸로", "hmm those are pricey, anything for less?"]
    {
        assert_eq!(refine(t), ("refine".into(), "cheaper".into()), "{t}");
    }
    assert_eq!(refine("좀 더 비싼 걸로 보여주세요"), ("refine".into(), "pricier".into()));
    for t in ["딴 회사 제품도 있어?", "is there a different maker?", "ok but from some other label"] {
        assert_eq!(refine(t), ("refine".into(), "other_brand".into()), "{t}");
    }
    let intent = |t: &str| understand(t, &v, None).intent;
    for (t, want) in [
        ("transfer me to support pls", "handoff"),
        ("i'd rather speak with an employee", "handoff"),
        ("when is my hoodie arriving", "order_status"),
        ("결제한 지 사흘 됐는데 아직 발송 전인가요?", "order_status"),
        // A place to eat by the form of its word; shares, not stock on a shelf.
        ("강남역 근처 파스타집 추천", "out_of_scope"),
        ("should i buy tesla stock", "out_of_scope"),
        ("how do you say thank you in japanese", "out_of_scope"),
        ("집들이 선물 추천해줘", "gift"),
        ("office gift swap, max $20", "gift"),
        ("can i swap my sneakers for a bigger size", "returns"),
    ] {
        assert_eq!(intent(t), want, "{t}");
    }
    assert_ne!(intent("라면 in stock at gangnam?"), "out_of_scope");
}

#[test]
fn stock_looked_up_at_a_store_and_questions_that_go_on() {
    let v = shop();
    let shown = understand("라면 보여줘", &v, None);
    // Looking up stock at a store is availability, whatever narrows it; asking to be shown is a search.
    for t in ["컵라면으로 강남 재고 봐줘", "강남역점 재고 확인이요", "강남에 있으면 찾으러 갈게요"]
    {
        assert_eq!(understand(t, &v, Some(&shown)).intent, "availability", "{t}");
    }
    assert_eq!(understand("강남 재고 있는 라면 보여줘", &v, None).intent, "find");
    // A stock question about the kind asked for keeps its budget.
    let budget = understand("라면 5천원 이하", &v, None);
    let u = understand("라면 강남역점에 재고 있어요?", &v, Some(&budget));
    assert_eq!((u.intent.as_str(), u.price.and_then(|p| p.max_minor)), ("availability", Some(5000)));
    // After a question about an order, what it held goes on asking; a new request does not.
    let after = |t: &str| understand_after(t, &v, Some(&shown), Some("order_status")).intent;
    assert_eq!(after("it was a pair of loafers"), "order_status");
    assert_eq!(after("also, do you sell kimchi?"), "find");
    assert_eq!(understand_after("and for opened electronics?", &v, None, Some("returns")).intent, "returns");
    assert_eq!(understand("it was a pair of loafers", &v, None).intent, "find");
}

#[test]
fn round_five_forms() {
    let v = shop();
    let u = |t: &str| understand(t, &v, None);
    // Sizes: a watch's 44mm is no size, "size up to large" is L, a chest size next to the garment.
    assert_eq!(u("노바 워치 44mm").attributes.get("size"), None);
    // Food, not colour; 곤색 is navy.
    assert_eq!(u("green tea at gangnam").attributes.get("color"), None);
    // Prices: "tops", "limit", "budget's".
    let max = |t: &str| u(t).price.and_then(|p| p.max_minor);
    assert_eq!(max("gummies 50 bucks tops"), Some(5000));
    assert_eq!(max("secret santa, $20 limit"), Some(2000));
    assert_eq!(max("my budget's $19.99 for gummies"), Some(1999));
    for (t, want) in [
        ("반품 택배비 누가 내요?", "returns"),
        ("받은 밥솥이 고장나서 왔어요", "returns"),
        ("any news on order #40715", "order_status"),
        ("where's my stuff, ordered it tuesday", "order_status"),
        ("i'd like to speak with a manager at the gangnam store", "handoff"),
        ("what's good for a housewarming?", "gift"),
        ("선물용 아니고 제가 먹을 김치", "find"),
        ("any kimchi at gangnam right now", "availability"),
        ("any kimchi near me i can grab today?", "find"),
        ("김치랑 라면 중에 뭐가 더 잘 팔려", "compare"),
        ("yo whats up", "smalltalk"),
        ("k got it", "smalltalk"),
    ] {
        assert_eq!(u(t).intent, want, "{t}");
    }
    // A refinement that lets a colour go; a stock question within the kind shown keeps it and its exclusion.
    let shown = understand("카멜 코트 20만원 이하", &v, None);
    let cheaper = understand("too pricey. something cheaper, any colour", &v, Some(&shown));
    assert_eq!(cheaper.attributes.get("color"), None, "{cheaper:?}");
    let other = understand("다솜 말고 다른 브랜드", &v, Some(&understand("젤리 추천", &v, None)));
    let there = understand("강남역점에 있어요?", &v, Some(&other));
    assert_eq!(there.exclude_brand.as_deref(), Some("Dasom Confectionery"), "{there:?}");
}

#[test]
fn round_six_forms() {
    let v = shop();
    let u = |t: &str| understand(t, &v, None);
    for (t, want) in [
        ("강남역 근처 고기집 추천", "out_of_scope"),
        ("how much is 100 usd in won", "out_of_scope"),
        ("escalate this to a supervisor", "handoff"),
        ("did my kimchi ship yet", "order_status"),
        ("ㅎㅇ", "smalltalk"),
        ("아리아 A5랑 노바 워치 뭐 살까요", "compare"),
        ("check stock for kimchi at gangnam pls", "availability"),
        ("강남역점에 김치 있나", "availability"),
        ("do you guys have kimchi here", "availability"),
    ] {
        assert_eq!(u(t).intent, want, "{t}");
    }
    assert_eq!(u("need kimchi, nothing over 30k won").price.and_then(|p| p.max_minor), Some(30_000));
    assert!(u("any kimchi left at gangnam rn").pickup.is_some_and(|p| p.today));
    // One size from the last; a colour with no store after a stock question narrows.
    let shown = understand("M 사이즈 후드티 보여줘", &v, None);
    let smaller = understand("한 사이즈 작은 건요", &v, Some(&shown));
    assert_eq!(smaller.attributes.get("size").map(String::as_str), Some("S"), "{smaller:?}");
    let asked = understand("김치 강남역점에 있어요?", &v, None);
    let more = understand_after("the 1kg napa one?", &v, Some(&asked), Some("availability"));
    assert_eq!(more.intent, "availability");
    assert_eq!(more.pickup.and_then(|p| p.location_id).as_deref(), Some("GANGNAM"), "still that store");
}

#[test]
fn a_choice_within_the_kind_is_read_by_its_form() {
    use crate::forms::{chooses_within, other_brands_form};
    assert_eq!(chooses_within("온도조절 되는 걸로요").as_deref(), Some("온도조절"));
    assert_eq!(chooses_within("2리터 6병짜리로").as_deref(), Some("2l 6병"));
    assert_eq!(chooses_within("섬유유연제 라벤더향으로 볼게요").as_deref(), Some("섬유유연제 라벤더향"));
    assert_eq!(chooses_within("음 1키로짜리로 바꿀래요 거기 있어요?").as_deref(), Some("1kg"));
    assert_eq!(chooses_within("cold brew specifically").as_deref(), Some("cold brew"));
    assert_eq!(chooses_within("the vanilla latte one?").as_deref(), Some("vanilla latte"));
    assert_eq!(chooses_within("just the steam one").as_deref(), Some("steam"));
    // Words ending in 로 that choose nothing, and plain requests.
    assert_eq!(chooses_within("지금 바로"), None);
    assert_eq!(chooses_within("노트북 파우치 있어요?"), None);
    assert_eq!(chooses_within("show me some coffee"), None);
    assert!(other_brands_form("other kettle brands?") && other_brands_form("다른 전기포트 브랜드는요?"));
    assert!(!other_brands_form("the other one") && !other_brands_form("brand new kettle"));
    assert_eq!(chooses_within("검은색으로").as_deref(), Some("검은색"), "a colour is read before this rule");
}

#[test]
fn round_8_forms() {
    let v = vocab();
    assert_eq!(understand("heyy", &v, None).intent, "smalltalk", "a greeting drawn out");
    assert_eq!(understand("when do my earbuds get here", &v, None).intent, "order_status");
    assert_eq!(understand("how long do i have to send stuff back", &v, None).intent, "returns");
    let shown = understand("sneakers", &v, None);
    let other = understand("other sneaker brands?", &v, Some(&shown));
    assert_eq!((other.intent.as_str(), other.refine.as_deref()), ("refine", Some("other_brand")));
    // A follow-up to a returns question that names nothing to search for goes on with it.
    let u = understand_after("택은 안 뗐어요 근데 영수증이 없어요", &v, None, Some("returns"));
    assert_eq!(u.intent, "returns");
    // The products shown, narrowed and asked about at a store.
    let at = understand("the sneakers in black, 270, at gangnam?", &v, Some(&shown));
    assert_eq!(at.intent, "availability", "{at:?}");
}

#[test]
fn round_9_forms() {
    let v = vocab();
    let shoes = understand("sneakers brown 260", &v, None);
    let later = understand("아 265는 없죠? 그럼 270으로", &v, Some(&shoes));
    assert_eq!(later.attributes.get("size").map(String::as_str), Some("270"), "the later size: {later:?}");
    assert_eq!(crate::forms::chooses_within("256기가로요").as_deref(), Some("256gb"));
    assert_eq!(understand("dad's bday coming up, no clue what to get him", &v, None).intent, "gift");
    let store = understand("gangnam stock?", &v, Some(&shoes));
    assert_ne!(store.intent, "out_of_scope", "stock at a store is no shares: {store:?}");
    assert_eq!(understand("tysm!!", &v, None).intent, "smalltalk");
    let order = understand_after("also need earbuds", &v, None, Some("order_status"));
    assert_eq!(order.intent, "find", "a kind named with 'also' is a new request");
}

#[test]
fn round_11_forms() {
    let v = vocab();
    assert_eq!(crate::forms::chooses_within("spicy beef one").as_deref(), Some("spicy beef"));
    assert_eq!(understand("whats the diff between the sori and voltworks earbuds", &v, None).intent, "compare");
    assert_eq!(understand("cool ill try those on", &v, None).intent, "smalltalk");
}

#[test]
fn round_12_forms() {
    let v = vocab();
    // A kind with a particle and 요 is the kind; verbs ending in 요 are not.
    assert_eq!(crate::matching::content_words("바람막이는요 김치라면으로요 있어요"), vec!["바람막이", "김치라면"]);
    assert_eq!(crate::matching::content_words("시금치도요"), vec!["시금치"]);
    // Another product added to a stock question, at the same store, perhaps with a budget.
    let asked = understand("홍대점에 이어폰 있어요?", &v, None);
    assert_eq!(asked.intent, "availability");
    for text in ["운동화도 같이 있어요?", "and sneakers under 50k won", "ok and sneakers there?", "sneakers as well"]
    {
        let u = understand(text, &v, Some(&asked));
        assert_eq!(u.intent, "availability", "{text}: {u:?}");
        assert_eq!(u.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("loc_hongdae"), "{text}");
    }
    // … and after a search for products to take at a store, another one added is shown there (round 21).
    let here = understand("홍대점에서 살 수 있는 이어폰 보여줘", &v, None);
    let more = understand("운동화도 보고 싶은데", &v, Some(&here));
    assert_eq!(more.intent, "find", "{more:?}");
    assert_eq!(more.pickup.as_ref().and_then(|p| p.location_id.as_deref()), Some("loc_hongdae"));
    assert!(!crate::forms::adds_another("온도 조절 되는 거"), "온도 is no particle 도");
    // Closings that name a store ask nothing; a store said with what waits on it still asks.
    for text in ["홍대점 가서 살게요 ㄱㅅ", "ㅇㅋ 거기서 살게", "thanks, heading there", "네 기다릴게요"]
    {
        assert_eq!(understand(text, &v, Some(&asked)).intent, "smalltalk", "{text}");
    }
    for text in ["홍대점에 있으면 찾으러 갈게요", "강남 픽업으로 할게요"] {
        assert_ne!(understand(text, &v, Some(&asked)).intent, "smalltalk", "{text}");
    }
    // One of those, by name; accessories for a device.
    assert_eq!(crate::forms::chooses_within("그중에 김치라면이요").as_deref(), Some("김치라면"));
    assert_eq!(crate::forms::fits_device("아리아 A3 쓰는데 그거에 맞는 거요").as_deref(), Some("아리아 a3"));
    assert_eq!(crate::forms::fits_device("one that fits my nova 5").as_deref(), Some("nova 5"));
    assert_eq!(crate::forms::fits_device("black earbuds"), None);
    // Two kinds said apart: the later is the head, unless it says what the first is for or counts containers.
    assert_eq!(understand("jeans style sneakers", &v, None).category.as_deref(), Some("apparel/shoes"));
    assert_eq!(understand("earbuds for sneakers shopping", &v, None).category.as_deref(), Some("electronics/audio"));
}

#[test]
fn an_everyday_word_is_no_brand() {
    let v = Vocabulary::from_catalog(
        ["home/cleaning"],
        ["Clean Day", "Dasom Confectionery"],
        Vec::<(&str, Vec<&str>)>::new(),
    );
    let u = understand("is the inner pot easy to clean?", &v, None);
    assert_eq!(u.brand, None, "{u:?}");
    assert_eq!(understand("dasom crackers", &v, None).brand.as_deref(), Some("Dasom Confectionery"));
}

#[test]
fn round_13_forms() {
    let v = vocab();
    // A budget said as the budget is its most.
    let u = understand("아 예산을 10만원으로 줄일게요", &v, None);
    assert_eq!(u.price.as_ref().and_then(|p| p.max_minor), Some(100_000), "{u:?}");
    assert_eq!(u.price.as_ref().and_then(|p| p.min_minor), None, "{u:?}");
    // Whether a store sells a kind asks about stock there; whether it sells a department is browsing.
    assert_eq!(understand("홍대점 이어폰 팔아요?", &v, None).intent, "availability");
    let dept = Vocabulary {
        categories: vec![Term { id: "electronics".into(), words: vec!["전자제품".into()], learned: Vec::new() }],
        ..vocab()
    };
    assert_eq!(understand("홍대점 전자제품도 팔아요?", &dept, None).intent, "find");
    // A Korean size said bare for bottoms, as for tops.
    assert_eq!(understand("청바지 블랙 95", &v, None).attributes.get("size").map(String::as_str), Some("M"));
    // Questions about owning it, not hand-offs or searches.
    let shown = understand("이어폰 보여줘", &v, None);
    assert_eq!(understand("이어폰 블루투스 연결 되나요?", &v, Some(&shown)).intent, "question");
    assert_ne!(understand("블루투스 연결 되나요?", &v, Some(&shown)).intent, "handoff");
    assert_eq!(understand("get me someone from the hongdae store", &v, None).intent, "handoff");
    // Closings: "that's all", and thanks said last after a longer sentence.
    assert_eq!(understand("perfect, thats all", &v, Some(&shown)).intent, "smalltalk");
    assert_eq!(understand("cool ill take the train to hongdae lol thanks", &v, Some(&shown)).intent, "smalltalk");
    // "the 1kg one pls" chooses; "white one?" after a stock question asks the same about it.
    assert_eq!(crate::forms::chooses_within("the 1kg one pls").as_deref(), Some("1kg"));
    let asked = understand("홍대점에 이어폰 있어요?", &v, None);
    assert_eq!(understand_after("white one?", &v, Some(&asked), Some("availability")).intent, "availability");
    assert_eq!(understand_after("white one", &v, Some(&asked), Some("availability")).intent, "refine");
    // A word that starts with a one-syllable filler is still a word ("요가매트" is not "요").
    assert!(crate::matching::has_product_words("요가매트 있어요?"));
    // "ill stick with those" names no kind.
    assert_eq!(understand("fine, ill stick with those. near me today?", &v, Some(&shown)).category, None);
}

#[test]
fn round_14_forms() {
    let v = vocab();
    let shown = understand("이어폰 보여줘", &v, None);
    // Closings that say when they will come.
    for text in [
        "네 퇴근하고 가볼게요",
        "sweet, ill go after work",
        "ok cool ill head over after lunch",
        "alright, good to know",
    ] {
        assert_eq!(understand(text, &v, Some(&shown)).intent, "smalltalk", "{text}");
    }
    // "감이 안 와요" is no parcel that has not come.
    assert_eq!(understand("언니 생일이 다음 주인데 뭘 사줘야 할지 감이 안 와요", &v, None).intent, "gift");
    // "what about Gangnam?" in Korean: a store with its particle is no product word.
    let asked = understand("홍대점에 이어폰 있어요?", &v, None);
    assert_eq!(understand("그럼 강남역점은 어때요", &v, Some(&asked)).intent, "availability");
    // Another product instead, after a stock question.
    assert_eq!(understand("ok sneakers then", &v, Some(&asked)).intent, "availability");
    assert_ne!(understand("ok show me sneakers then", &v, Some(&asked)).intent, "availability");
    // A choice by form after a stock question; asked with "?" it is the same question.
    assert_eq!(crate::forms::chooses_within("the temperature control model").as_deref(), Some("temperature control"));
    assert_ne!(
        understand_after("the sori one specifically", &v, Some(&asked), Some("availability")).intent,
        "availability"
    );
    // "do you sell …" asks what the shop carries.
    assert_eq!(understand("do u sell sneakers", &v, None).intent, "find");
    assert_eq!(understand("lol nice", &v, None).intent, "smalltalk");
    assert_eq!(understand("is it gonna snow in seoul tomorrow", &v, Some(&shown)).intent, "out_of_scope");
}

#[test]
fn round_15_forms() {
    let v = vocab();
    // A choice made and thanks said closes, whatever was chosen; waiting on stock does not.
    let shown = understand("스니커즈 보여줘", &v, None);
    for text in [
        "검정으로 할게요 감사해요",
        "알겠어요 스니커즈만 살게요 ㄳ",
        "never mind, just the sneakers. thx",
        "ok ill grab it there, bye",
    ] {
        assert_eq!(understand(text, &v, Some(&shown)).intent, "smalltalk", "{text}");
    }
    assert_ne!(understand("강남역점에 있으면 살게요 감사해요", &v, Some(&shown)).intent, "smalltalk");
    // Sizes with a copula, and in two words.
    assert_eq!(understand("운동화 280이라", &v, None).attributes.get("size").map(String::as_str), Some("280"));
    let jeans = understand("청바지 보여줘", &v, None);
    assert_eq!(understand("아 L이면 돼요", &v, Some(&jeans)).attributes.get("size").map(String::as_str), Some("L"));
    let xl = understand("olive jeans extra large", &v, None);
    assert_eq!(xl.attributes.get("size").map(String::as_str), Some("XL"), "{xl:?}");
    // Two kinds and which is better; another kind said after a comparison is a request.
    assert_eq!(understand("스니커즈랑 부츠 어떤 게 더 편해요", &v, None).intent, "compare");
    let compared = understand("sneakers or boots for a trip?", &v, None);
    assert_eq!(compared.intent, "compare");
    assert_eq!(understand("ok show me black chelsea boots in 270", &v, Some(&compared)).intent, "find");
    // A store asked whether it has something.
    assert_eq!(understand("does gangnam have sneakers today", &v, None).intent, "availability");
    assert_eq!(understand("can i buy sneakers at hongdae today", &v, None).intent, "availability");
    assert_eq!(understand("강남역점에서 가져갈 수 있는 스니커즈 흰색 250 보여줘", &v, None).intent, "find");
    // A returns answer goes on; something broken is a return.
    let returns = understand("반품 되나요?", &v, None);
    assert_eq!(understand_after("영수증 없으면요?", &v, Some(&returns), Some("returns")).intent, "returns");
    assert_eq!(understand("i bought a rice cooker last week and the lid is broken", &v, None).intent, "returns");
    // A kind the shop may not carry, asked after a stock question, is no narrowing of the last kind.
    let asked = understand("black sneakers at gangnam?", &v, None);
    let beanie = understand_after("and a beanie there?", &v, Some(&asked), Some("availability"));
    assert_eq!((beanie.intent.as_str(), beanie.category.as_deref()), ("availability", None), "{beanie:?}");
    assert_eq!(understand("좋네요 👍", &v, Some(&shown)).intent, "smalltalk");
    assert_eq!(understand("whats the capital of australia", &v, None).intent, "out_of_scope");
}

#[test]
fn round_16_forms() {
    let v = vocab();
    // Another product at the store being asked about, with a budget, "here" or "there".
    let asked = understand("강남역점에 이어폰 있어요?", &v, None);
    let more = understand_after("운동화도 필요한데 10만원 이하로 여기 있어요?", &v, Some(&asked), Some("availability"));
    assert_eq!(more.intent, "availability", "{more:?}");
    assert_eq!(more.price.as_ref().and_then(|p| p.max_minor), Some(100_000));
    // Anything of the kind just asked for, at a store, under a budget.
    let other = understand("other brands of earbuds", &v, None);
    let any = understand_after("anything under 50000 won here?", &v, Some(&other), Some("refine"));
    assert_eq!((any.intent.as_str(), any.category.as_deref()), ("availability", Some("electronics/audio")), "{any:?}");
    // A gift to give someone, said with 줄.
    assert_eq!(understand("어린이날 조카 줄 헤드폰 3~5만원", &v, None).intent, "gift");
    assert_eq!(understand("엄마한테 줄 이어폰", &v, None).intent, "gift");
    assert_ne!(understand("이어폰 한 줄로 보여줘", &v, None).intent, "gift");
    // Who is speaking is no store.
    assert!(understand("flight attendant here, earbuds under 40k won", &v, None).pickup.is_none());
    assert!(understand("is it in stock here, or at gangnam?", &v, None).pickup.is_some());
    // Near the shopper, stock said outright.
    assert_eq!(understand("sneakers available close to me?", &v, None).intent, "availability");
    // Small talk and topics no product is for.
    for text in [
        "hey, quick question",
        "hey, how's it going",
        "awesome, that helps",
        "수고 많으세요",
        "알겠습니다 기다려볼게요",
    ] {
        assert_eq!(understand(text, &v, None).intent, "smalltalk", "{text}");
    }
    assert_eq!(understand("who won the world cup in 2002", &v, None).intent, "out_of_scope");
}

#[test]
fn round_17_forms() {
    let v = vocab();
    // Agreement or thanks after a question about a product is no new question.
    let asked = understand("이 이어폰 방수 돼요?", &v, Some(&understand("이어폰 보여줘", &v, None)));
    for text in ["ㅋㅋ 넵 알겠어요", "넵 알겠어요", "설명 고마워요", "cool, noted"] {
        assert_eq!(understand_after(text, &v, Some(&asked), Some("question")).intent, "smalltalk", "{text}");
    }
    assert_eq!(
        understand_after("고마워요 근데 이거 충전 오래 가나요?", &v, Some(&asked), Some("question")).intent,
        "question"
    );
}

#[test]
fn round_18_forms() {
    let mut v = vocab();
    v.categories.push(Term {
        id: "electronics/accessories".into(),
        words: vec!["보조배터리".into(), "power bank".into()],
        learned: Vec::new(),
    });
    // A home is no eatery; tickets, lotto numbers and lunch are not the shop's to give.
    assert_eq!(understand("신혼집 집들이 선물 이어폰", &v, None).intent, "gift");
    for text in ["give me lotto numbers", "기차표 예매해줘", "pick my lunch for me", "hows the air quality in seoul"]
    {
        assert_eq!(understand(text, &v, None).intent, "out_of_scope", "{text}");
    }
    for text in ["hi there, first time using this", "안녕하세요 처음 써봐요"] {
        assert_eq!(understand(text, &v, None).intent, "smalltalk", "{text}");
    }
    let shown = understand("무선 이어폰 보여줘", &v, None);
    // A question with the store after it; a store asked whether it has it; stock said outright at a store.
    let white = understand("흰색 있어요? 강남점", &v, Some(&shown));
    assert_eq!(
        (white.intent.as_str(), white.attributes.get("color").map(String::as_str)),
        ("availability", Some("white"))
    );
    for text in ["hongdae have earbuds?", "black earbuds available at gangnam"] {
        assert_eq!(understand(text, &v, None).intent, "availability", "{text}");
    }
    // How long delivery takes is about an order; the battery of what was shown is a question about it.
    assert_eq!(understand("how fast is delivery if i order", &v, Some(&shown)).intent, "order_status");
    let battery = understand("배터리 오래 가요?", &v, Some(&shown));
    assert_eq!((battery.intent.as_str(), battery.category.as_deref()), ("question", None));
    assert_eq!(understand("보조배터리 있어요?", &v, None).category.as_deref(), Some("electronics/accessories"));
}

#[test]
fn round_19_forms() {
    let v = vocab();
    // Not a return: a student abroad; not a call for staff: the shopper's own part-time job.
    assert_eq!(understand("교환학생 가는 친구 선물로 이어폰 5만원 이하", &v, None).intent, "gift");
    assert_eq!(understand("exchange student flying home, want earbuds under $50", &v, None).intent, "find");
    assert_eq!(understand("야간 알바 끝나고 들을 이어폰 5만원 이하", &v, None).intent, "find");
    // A product for someone is a request; something for someone asks for an idea.
    assert_eq!(understand("earbuds under 100k won for my dad", &v, None).intent, "find");
    assert_eq!(understand("something for my dad", &v, None).intent, "gift");
    // A colour turned down is not the colour asked for; White Day is no colour.
    let first = understand("무선 이어폰 10만원 미만", &v, None);
    let navy = understand("초록 말고 남색으로요", &v, Some(&first));
    assert_eq!(navy.attributes.get("color").map(String::as_str), Some("navy"));
    let en = understand("black instead of navy", &v, Some(&first));
    assert_eq!(en.attributes.get("color").map(String::as_str), Some("black"));
    let gift = understand("white day gift for my girlfriend, pink earbuds", &v, None);
    assert_eq!((gift.intent.as_str(), gift.attributes.get("color").map(String::as_str)), ("gift", Some("pink")));
    // A request said first, then whether it can be collected, is a search with a pickup.
    let collect = understand("black sneakers 270, can i grab them at gangnam today", &v, None);
    assert_eq!((collect.intent.as_str(), collect.attributes.get("size").map(String::as_str)), ("find", Some("270")));
    assert_eq!(understand("can i pick up the black sneakers at gangnam today?", &v, None).intent, "availability");
    // A share is no size; size L takes no letter of another word.
    let sneakers = understand("운동화 보여줘", &v, None);
    let cotton = understand("are these 100% cotton?", &v, Some(&sneakers));
    assert_eq!((cotton.intent.as_str(), cotton.attributes.get("size")), ("question", None));
    let l = understand("im a landscaper, need jeans, black L", &v, None);
    assert!(l.words.contains("landscaper"), "{l:?}");
    // A question after a word that only answers; somewhere asked after the product.
    let large = understand("ok does gangnam have it in large", &v, Some(&sneakers));
    assert_eq!(large.intent, "availability");
    assert_eq!(understand("black jeans size L, any shop near me have them", &v, None).intent, "availability");
    assert_eq!(
        understand("random q, do you know a good brunch place in hongdae", &v, Some(&sneakers)).intent,
        "out_of_scope"
    );
}
