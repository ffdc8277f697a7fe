//! Talk that asks for no product, in Korean and English: greetings, thanks and goodbyes (and reading a turn as
//! small talk), and requests a shop assistant does not answer (weather, tickets, restaurants, homework …).

use crate::cues::QUESTION;
use crate::forms::closes_with_a_choice;
use crate::matching::{asks, contains_word};
use crate::stock_cues::availability_cues;
use crate::understood::Understood;

/// Greetings, thanks and goodbyes: said alone, they get a friendly word, not a search.
pub(crate) const SMALLTALK: &[&str] = &[
    "ㅎㅇ",
    "coolio",
    // ("안녕하세요 문의드려요", "뭐 좀 물어볼게요", "ok nevermind")
    "문의",
    "물어볼",
    "여쭤",
    "nevermind",
    "never",
    "mind",
    // ("lovely, ta", "hang on, back in a mo", "perfect, ta ever so")
    "ta",
    "ever",
    "lovely",
    "hang on",
    "back in a",
    "brb",
    "one sec",
    "nice",
    "lol",
    "haha",
    "lmao",
    "괜찮네",
    "좋네",
    "awesome",
    "helps",
    "how's",
    "going",
    "quick",
    "question",
    "구경",
    "ㅇㅇ",
    "알겠음",
    "알겠",
    "noted",
    "yo",
    "sup",
    "whats",
    "k",
    "kk",
    "got",
    "좋은",
    "하루",
    "되세요",
    "there",
    "morning",
    "afternoon",
    "evening",
    "helpful",
    "you're",
    "hello",
    "hi",
    "hey",
    "안녕",
    "안녕하세요",
    // (Korean said in Latin letters, and a good morning: "gamsahamnida!", "좋은 아침이에요".)
    "gamsahamnida",
    "kamsahamnida",
    "annyeong",
    "annyeonghaseyo",
    "아침이",
    "yes",
    "yeah",
    "yep",
    "no",
    "nope",
    "sure",
    "sounds",
    "interesting",
    "perfect",
    "nice",
    "good",
    "alright",
    "처음",
    "hope",
    "youre",
    "doing",
    "well",
    "써봐",
    "써 봐",
    "아쉽",
    "아쉬워",
    "thank",
    "anyway",
    "much",
    "lot",
    "you",
    "very",
    "i",
    "ok",
    "okay",
    "bye",
    "cool",
    "see",
    "all",
    "that's",
    "great",
    "아니요",
    "아뇨",
    "됐어요",
    "하이",
    "hiya",
    "heyyo",
    "gotcha",
    "ah",
    "howdy",
    "안뇽",
    "저기요",
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
    "thx",
    "ty",
    "fine",
    "later",
    "now",
    "for",
    "think",
    "i'll",
    "it",
    "about",
    "담에",
    "다음에",
    "또",
    "올게요",
    "볼게요",
    "생각해",
    "알겠",
    "아까",
    "bye",
    "goodbye",
    "ok",
    "okay",
    "great",
    "cool",
];

/// Requests a shop assistant does not answer.
pub(crate) const OUT_OF_SCOPE: &[&str] = &[
    // Cooking, not shopping: "된장찌개 끓이는 법 알려줘", "how do i make doenjang stew".
    "끓이는 법",
    "만드는 법",
    "레시피",
    "recipe",
    "how do i make",
    "how to make",
    "essay",
    "capital of",
    "cover letter",
    "write a",
    "taxi",
    "book me a",
    "place near",
    "president",
    "election",
    "대선",
    "선거",
    "맛집",
    "restaurant",
    "football",
    "soccer",
    "축구",
    "야구",
    "baseball",
    "stock market",
    "stocks",
    "python",
    "script",
    "write me",
    "who won",
    "movie",
    "영화",
    "think about the",
    "날씨",
    "weather",
    // ("unrelated but whats the tide like tomorrow", "내일 강원도 바람 많이 불까요?", "마술 트릭 하나만 알려줄래요?")
    "unrelated but",
    "unrelated question",
    "off topic",
    "tide",
    "forecast",
    "바람 많이",
    "바람 불까",
    "바람 부나",
    "마술 트릭",
    "magic trick",
    "gonna snow",
    "gonna rain",
    "going to snow",
    "going to rain",
    "will it snow",
    "will it rain",
    "눈 와요",
    "비 와요",
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
    "exchange rate",
    "in won",
    "환전",
    "미세먼지",
    "비 와",
    "눈 와",
    "비 온대",
    "비 온다",
    "비 오나",
    "비 올까",
    "눈 온대",
    "눈 올까",
    "rain",
    "sushi",
    "술집",
    "bar near",
    "invest",
    "투자",
    "shares",
    "환율",
    "비트코인",
    "bitcoin",
    "dogecoin",
    "ethereum",
    "이더리움",
    "파이썬",
    "python",
    "how do you say",
    "how do u say",
    "코인",
    "엑셀",
    "excel",
    "solve",
    "crypto",
    "로또",
    "식당",
    "place to eat",
    "bbq place",
    "best bbq",
    "what time is it",
    "bbq near",
    "bbq restaurant",
    "pizza place",
    "lunch spot",
    "dinner spot",
    "headache",
    "두통",
    "감기약",
    "medicine",
    "in japanese",
    "in chinese",
    "in english",
    "how do you say",
    "일본어로",
    "중국어로",
    "영어로",
    "dollar to won",
    "won to dollar",
    "usd to krw",
    "krw to usd",
    "메뉴 추천",
    "점심 메뉴",
    "저녁 메뉴",
    "how do i fix",
    "how to fix",
    "bars around",
    "bars near",
    "pub",
    "파이썬",
    "크롤러",
    "stock price",
    "lotto",
    "기차표",
    "비행기표",
    "train ticket",
    "plane ticket",
    "flight ticket",
    "예매",
    "air quality",
    "공기질",
    "brunch",
    "코스피",
    "코스닥",
    // (A share price: "삼성전자 주가 어때요"; not "맥주가 얼마예요", "소주가 어때요".)
    " 주가 어때",
    " 주가 얼마",
    " 주가 전망",
    "kospi",
    "etf",
    "etfs",
    "score of",
    // ("any cricket scores today?", "is tesla going up this week")
    "scores today",
    "going up this week",
    "euros",
    "explain how",
    "몇 도",
    "수온",
    "기온",
    "running late",
    "subway",
    "지하철",
    "place in",
    "pick my lunch",
    "choose my lunch",
    "what should i eat",
    "뭐 먹을까",
    "뭐 먹지",
];

/// Thanks and goodbyes.
pub(crate) const THANKS: &[&str] = &[
    "고마워",
    "고맙",
    "감사",
    "ㄱㅅ",
    "ㅇㅋ",
    "갈게",
    "할게요",
    "살게",
    "기다릴게",
    "기다려볼게",
    "기다려 볼게",
    "수고 많",
    "heading there",
    "heading over",
    "grabbing it",
    "thanks",
    "thank",
    "thx",
    "ty",
    "bye",
    "cheers",
    "i'll take it",
    "i'll grab it",
    "i'll get it",
    "i'll buy it",
    "i'll take that",
    "i'll go with",
    "got it",
    "좋은 하루",
    "수고하세요",
    "have a good",
    "have a nice",
    "appreciate",
    "tysm",
    "see u",
    "see you",
    "try those on",
    "try them on",
    "try it on",
    "땡큐",
    "가볼게",
    "들를게",
    "들러볼게",
    "입어볼게",
    "good to know",
    "ill go after",
    "i'll go after",
    "ill go there",
    "i'll go there",
    "ill go by",
    "i'll go by",
    "head over",
    "stop by",
    "drop by",
    "swing by",
    "thats all",
    "that's all",
    "that is all",
    "thats it",
    "that's it",
    "그게 다예요",
    "이게 다예요",
];

/// An opening that says a question is coming, with no person or phone asked for ("안녕하세요 문의드려요",
/// "뭐 좀 물어볼게요"): small talk, not a hand-off ("전화로 문의 가능할까요?" still is one).
pub(crate) fn opens_to_ask(text: &str) -> bool {
    const OPENINGS: &[&str] =
        &["문의드려요", "문의드립니다", "문의드릴게요", "문의할게요", "문의 좀 할게요", "문의가 있", "문의 있어요"];
    // (Not when it says whom or what for: "고객센터 문의드립니다", "대량 구매 문의드려요"; "반품 문의드려요" is about
    // returns.)
    const SOMEONE: &[&str] = &[
        "전화",
        "직원",
        "상담",
        "사람",
        "연결",
        "매니저",
        "담당",
        "통화",
        "고객센터",
        "대량",
        "단체",
        "번호",
        "점장",
        "1:1",
    ];
    OPENINGS.iter().any(|w| text.contains(w)) && !SOMEONE.iter().any(|w| text.contains(w))
}

/// A store chosen to collect from, with no thanks said: "강남점에서 찾아갈게요" ("서면점 가서 살게요 ㄱㅅ" closes).
fn collects(text: &str) -> bool {
    ["찾아갈", "찾으러 갈", "찾으러갈"].iter().any(|w| text.contains(w))
        && !["고마", "감사", "ㄱㅅ", "ㄳ", "thank", "수고", "좋은 하루", "땡큐"].iter().any(|w| text.contains(w))
}

/// Reads a turn as small talk when it only greets, thanks or says goodbye, perhaps around a choice made.
pub(crate) fn read_small_talk(u: &mut Understood, text: &str, after_compare: bool) {
    // Said only to greet or thank ("안녕하세요", "네 감사합니다", "ㅎㅎ 알겠어요"): a friendly word, no search.
    // (After a question about a product too: "넵 알겠어요" is no new question; "how much?" still is.)
    if (u.intent == "find"
        || (u.intent == "question" && !text.contains('?') && !QUESTION.iter().any(|c| contains_word(text, c))))
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && !u.words.is_empty()
        // (Nor one of two compared chosen by a word of one syllable: "그럼 큰 걸로 할게요".)
        && !(after_compare
            && crate::conventions::chooses_by_what_it_is(text)
            && u.words.split_whitespace().any(|w| !w.is_ascii() && w.chars().count() == 1))
        // (Not when it asks where or when: "fine, ill stick with those. near me today?".)
        && (u.pickup.as_ref().is_none_or(|p| p.location_id.is_none() && p.within_km.is_none() && !p.today)
            || !asks(text))
        // ("hi there, first time using this": saying it is new to them is small talk too.)
        && ["first time using this", "first time using it", "first time here", "first time"]
            .iter()
            .fold(u.words.clone(), |w, p| w.replace(p, " "))
            .split_whitespace()
            .all(|w| {
            // English words whole ("no" is not "notebook"), Korean ones with their endings ("감사합니다").
            let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
            // A word drawn out ("heyy", "hiii") is the word.
            let drawn = w.chars().last().map(|c| format!("{}{c}", w.trim_end_matches(c))).unwrap_or_default();
            let w = if w.is_ascii() && SMALLTALK.contains(&drawn.as_str()) { drawn.as_str() } else { w };
            SMALLTALK.iter().any(|s| if s.is_ascii() { w == *s } else { w.starts_with(s) })
                || (!w.is_ascii() && w.chars().count() == 1)
                || w.chars().all(|c| matches!(c, 'ㅎ' | 'ㅋ' | 'ㅠ' | 'ㅜ' | '^'))
        })
    {
        u.intent = "smalltalk".into();
    }
    // Thanks or a goodbye with a few words around it ("그럼 그냥 이걸로 할게요 고마워요", "sweet thanks",
    // "감사해요 바로 갈게요"): a friendly word, whatever the other words are.
    // (With a store when it asks nothing: "서면점 가서 살게요 ㄱㅅ", "ㅇㅋ 거기서 살게", "thanks, heading there".)
    if matches!(u.intent.as_str(), "find" | "availability" | "question")
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        // (Longer when it ends with the thanks: "cool ill take the train to busan lol thanks".)
        && (text.split_whitespace().count() <= 7
            || (text.split_whitespace().count() <= 10
                && text.split_whitespace().last().is_some_and(|w| {
                    THANKS.iter().any(|t| w.trim_end_matches(|c: char| !c.is_alphanumeric()).starts_with(t))
                })))
        // (Not when it says what it waits on: "서면점에 있으면 찾으러 갈게요", "강남점 픽업으로 할게요".)
        && (u.pickup.as_ref().is_none_or(|p| p.location_id.is_none())
            || !(asks(text) || availability_cues().any(|c| text.contains(c)) || text.contains("픽업") || collects(text)))
        && (u.intent == "find" || !asks(text))
        // (After two compared, one chosen by what it is, without thanks, is a request: "그럼 큰 걸로 할게요";
        // "great, i'll grab it", "그럼 그걸로 할게요" close.)
        && !(after_compare && crate::conventions::chooses_by_what_it_is(text))
        && THANKS.iter().any(|t| if t.is_ascii() { contains_word(text, t) } else { text.contains(t) })
    {
        u.intent = "smalltalk".into();
    }
    // Done looking, said so: "감사합니다 잘 봤어요", "구경 잘 했어요".
    if matches!(u.intent.as_str(), "find" | "question")
        && u.category.is_none()
        && u.brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && !text.contains('?')
        // ("설명 잘 봤어요 근데 이거 방수 되나요" asks on.)
        && !QUESTION.iter().any(|c| contains_word(text, c))
        && !["근데", "그런데", "but "].iter().any(|w| text.contains(w))
        && ["잘 봤어요", "잘 봤습니다", "잘 보고 가요", "잘 보고 갑니다", "구경 잘 했", "구경 잘했"]
            .iter()
            .any(|w| text.contains(w))
    {
        u.intent = "smalltalk".into();
    }
    // A choice made and thanks said: the conversation closes, whatever was chosen ("그 니트로 할게요 고마워요",
    // "알겠어요 코트만 살게요 ㄳ", "never mind, just the jacket. thx", "ok ill grab it there, bye").
    if matches!(u.intent.as_str(), "find" | "refine" | "availability")
        && u.price.is_none()
        && closes_with_a_choice(text)
    {
        u.intent = "smalltalk".into();
        u.category = None;
        u.brand = None;
        u.refine = None;
        u.words.clear();
    }
}

/// Whether the cue of intent `i` found in `text` is denied or means something else: "선물용 말고" / "not a gift";
/// an exchange student; a part-time job; staff to feed; an opening to ask; a gift with nothing to weigh; a story
/// before a stock question; "감이 안 와요".
pub(crate) fn cue_denied(i: &str, text: &str, u: &Understood, wants_a_product: bool) -> bool {
    use crate::asking_to_see::requests_products;
    use crate::stock_cues::STRONG_STOCK;
    (i == "gift"
        && ["선물용 말고", "선물 말고", "선물용 아니고", "선물 아니고", "not a gift", "not for a gift"]
            .iter()
            .any(|d| text.contains(d)))
        || (i == "returns"
            && ["gift swap", "gift exchange", "secret santa", "교환학생", "교환 학생", "exchange student"]
                .iter()
                .any(|d| text.contains(d)))
        // ("야간 알바 끝나고": the shopper works a part-time job, and asks for no one.)
        || (i == "handoff"
            && ["알바 끝", "알바 하", "알바하", "알바 가", "알바가", "알바생인데", "알바 중", "알바중", "알바 마치"]
                .iter()
                .any(|d| text.contains(d)))
        // ("방탈출 카페 알바생들 간식으로 젤리 여기서 가져갈게요": staff to feed, a product to take, no one to talk to.)
        || (i == "handoff"
            && (wants_a_product || (u.price.is_some() && requests_products(text)))
            && ![
                "연결", "바꿔", "통화", "상담", "얘기", "이야기", "물어", "talk", "speak", "connect", "transfer", "call",
                "chat with", "ask",
            ]
            .iter()
            .any(|d| if d.is_ascii() { contains_word(text, d) } else { text.contains(d) }))
        // ("안녕하세요 문의드려요": an opening to ask, nobody asked for.)
        || (i == "handoff" && opens_to_ask(text))
        // ("작가님한테 줄 선물 뭐가 좋아요?": which gift, with no two things to weigh.)
        || (i == "compare"
            && (text.contains("선물") || contains_word(text, "gift"))
            && !["랑", "하고 ", " or ", " vs ", "versus", "중에", "between"].iter().any(|d| text.contains(d)))
        // ("운동화 사고 싶은데 뭐가 좋아요?": which to buy, with no two things to weigh.)
        || (i == "compare"
            && text.contains("뭐가 좋")
            && ["사고 싶", "사려", "살까", "추천"].iter().any(|d| text.contains(d))
            && !["랑", "하고 ", "과 ", "와 ", " or ", " vs ", "versus", "중에", "둘 중", "차이", "between"]
                .iter()
                .any(|d| text.contains(d)))
        // ("…제습기가 고장 나 있더라고요, 그래서 말인데 16리터짜리 제습기 홍대점에 재고 있나요?": a story, then stock asked.)
        || (i == "returns"
            && u.category.is_some()
            && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some())
            && asks(text)
            && STRONG_STOCK.iter().any(|c| text.contains(c)))
        // ("감이 안 와요": no idea, not a parcel that has not come.)
        || (i == "order_status" && ["감이 안 와", "감이 안와", "감 안 와", "감이 안 오"].iter().any(|d| text.contains(d)))
}

/// Off-topic whatever else is said: a place to eat ("강남역 근처 고기집 추천" names meat, but asks for a
/// restaurant) or money changed ("how much is 100 usd in won").
pub(crate) fn clearly_off_topic(text: &str) -> bool {
    const MONEY: &[&str] = &["in won", "in usd", "in dollars", "exchange rate", "usd to krw", "krw to usd", "환율"];
    // (And a restaurant said as one: "good ramen restaurants near gangnam station?", "강남 라멘 식당".)
    let restaurant =
        ["restaurant", "restaurants", "diner", "spots", "식당", "맛집"].iter().any(|w| contains_word(text, w));
    // (Or asked where a tasty one is: "서면 근처에 맛있는 돼지국밥 어디예요".)
    let where_to_eat = text.contains("맛있는") && text.contains("어디");
    // (Or a good dish near a place: "good pasta near gangnam station?", "강남역 근처 맛있는 파스타".)
    const DISHES: &[&str] = &[
        "bibimbap",
        "naengmyeon",
        "korean bbq",
        "비빔밥",
        "냉면",
        "pasta",
        "pizza",
        "sushi",
        "burger",
        "burgers",
        "steak",
        "brunch",
        "파스타",
        "피자",
        "초밥",
        "햄버거",
        "브런치",
    ];
    let good_dish_near = ["good", "best", "nice", "tasty", "맛있는"].iter().any(|w| contains_word(text, w))
        && ["near", "around", "근처"].iter().any(|w| text.contains(w))
        && DISHES.iter().any(|d| contains_word(text, d));
    let where_to_eat = where_to_eat || good_dish_near;
    let eatery = restaurant
        || where_to_eat
        || text.split(|c: char| !c.is_alphanumeric()).any(|w| {
            w.ends_with('집')
                && w.chars().count() >= 3
                // (A home is no eatery: "신혼집 집들이 선물", "할머니집에 둘".)
                && !["우리", "저희", "자취", "신혼", "시골", "친정", "시댁", "부모님", "할머니", "할아버지", "친구", "이모", "고모", "삼촌", "옆", "어린이"]
                    .iter()
                    .any(|h| w.starts_with(h))
                && !w.contains("집들이")
        });
    // (Topics no product is named for, whatever word of a title they hold: "who won the world cup in 2002" is no
    // ramen cup, "파이썬 for문 설명해 줄래" no snack.)
    // (Or the weather asked for outright: "내일 서핑하기 좋은 파도인지 날씨 알려줘요".)
    const TOPICS: &[&str] = &["who won", "world cup", "python", "css", "파이썬", "노래방", "외우는 법", "날씨 알려"];
    let topic = TOPICS.iter().any(|t| if t.is_ascii() { contains_word(text, t) } else { text.contains(t) });
    eatery || topic || weather_of_a_place(text) || MONEY.iter().any(|m| text.contains(m))
}

/// The weather of a place or a day asked ("how cold does seoul get in december?", "how hot is it in busan"), not
/// what a product does ("how cold does it keep drinks?", "how warm does this jacket get?").
fn weather_of_a_place(text: &str) -> bool {
    ["how cold ", "how hot ", "how warm "].iter().any(|h| {
        text.find(h).is_some_and(|at| {
            let after: Vec<&str> = text[at + h.len()..].split_whitespace().collect();
            match after.as_slice() {
                ["does", what, rest @ ..] => {
                    !["it", "this", "that", "they", "the", "these", "those", "my", "your"].contains(what)
                        && rest.first().is_some_and(|g| g.starts_with("get"))
                }
                ["is", "it", place, ..] => ["in", "outside", "today", "tomorrow", "tonight"].contains(place),
                _ => false,
            }
        })
    })
}
