//! Demo data: a believable, deterministic Korean omnichannel retailer (locations, a bilingual catalog of
//! apparel, grocery and electronics, an uneven stock spread and a few customers), built in memory with no I/O.

use domain::stock::gtin_check_digit;
use engine::catalog::locations::{Address, LocationInput};
use engine::catalog::products::{PriceInput, ProductInput, VariantInput};
use std::collections::BTreeMap;

/// Units of one SKU at one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStock {
    pub sku: String,
    pub location_code: String,
    pub quantity: i64,
}

/// A customer account to create for the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    pub email: String,
    pub phone: String,
    pub name: String,
    pub locale: String,
    pub password: String,
}

/// The password every demo customer gets.
pub const DEMO_PASSWORD: &str = "borderless-demo";
/// The console password of the demo's staff accounts.
pub const DEMO_STAFF_PASSWORD: &str = "borderless-demo";

/// The demo's console accounts: (email, name, role, location code, locale).
pub const DEMO_STAFF: &[(&str, &str, &str, Option<&str>, &str)] = &[
    ("owner@example.com", "김대표 (Owner)", "owner", None, "ko"),
    ("gangnam.staff@example.com", "박지은 (Gangnam)", "associate", Some(GANGNAM), "ko"),
];

pub const WAREHOUSE: &str = "WH-ICHEON";
pub const GANGNAM: &str = "GANGNAM";
pub const HONGDAE: &str = "HONGDAE";
pub const SEOMYEON: &str = "SEOMYEON";
pub const CASHIERLESS: &str = "GO-SEONGSU";

// ---------------------------------------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn location(
    code: &str,
    name_ko: &str,
    name_en: &str,
    kind: &str,
    (line1, line2, city, region, postal_code): (&str, &str, &str, &str, &str),
    (lat, lon): (f64, f64),
    pickup_enabled: bool,
    ships: bool,
) -> LocationInput {
    LocationInput {
        code: code.into(),
        name_ko: name_ko.into(),
        name_en: name_en.into(),
        kind: kind.into(),
        address: Address {
            line1: line1.into(),
            line2: line2.into(),
            city: city.into(),
            region: region.into(),
            postal_code: postal_code.into(),
            country: "KR".into(),
            ..Default::default()
        },
        lat: Some(lat),
        lon: Some(lon),
        pickup_enabled,
        ships,
        time_zone: Some("Asia/Seoul".into()),
    }
}

/// The five demo locations: the online warehouse, three stores and one cashierless store.
pub fn locations() -> Vec<LocationInput> {
    vec![
        location(
            WAREHOUSE,
            "이천 풀필먼트 센터",
            "Icheon Fulfillment Center",
            "warehouse",
            ("마장면 덕평로 811", "B동 2층", "이천시", "경기도", "17385"),
            (37.2482, 127.3669),
            false,
            true,
        ),
        location(
            GANGNAM,
            "보더리스 강남역점",
            "Borderless Gangnam Station",
            "store",
            ("강남대로 396", "1층", "강남구", "서울특별시", "06232"),
            (37.4979, 127.0276),
            true,
            true,
        ),
        location(
            HONGDAE,
            "보더리스 홍대점",
            "Borderless Hongdae",
            "store",
            ("양화로 160", "1–2층", "마포구", "서울특별시", "04050"),
            (37.5563, 126.9236),
            true,
            true,
        ),
        location(
            SEOMYEON,
            "보더리스 부산 서면점",
            "Borderless Busan Seomyeon",
            "store",
            ("중앙대로 692", "1층", "부산진구", "부산광역시", "47285"),
            (35.1577, 129.0590),
            true,
            true,
        ),
        location(
            CASHIERLESS,
            "보더리스 GO 성수",
            "Borderless GO Seongsu",
            "cashierless",
            ("연무장길 41", "1층", "성동구", "서울특별시", "04782"),
            (37.5445, 127.0557),
            false,
            false,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------------------
// Catalog word lists
// ---------------------------------------------------------------------------------------------------------

/// Colours: attribute value, SKU code, Korean, English.
const COLOURS: &[(&str, &str, &str, &str)] = &[
    ("black", "BLK", "블랙", "Black"),
    ("white", "WHT", "화이트", "White"),
    ("grey", "GRY", "그레이", "Grey"),
    ("navy", "NVY", "네이비", "Navy"),
    ("beige", "BEG", "베이지", "Beige"),
    ("khaki", "KHK", "카키", "Khaki"),
    ("oatmeal", "OAT", "오트밀", "Oatmeal"),
    ("burgundy", "BUR", "버건디", "Burgundy"),
    ("cream", "CRM", "크림", "Cream"),
    ("charcoal", "CHC", "차콜", "Charcoal"),
    ("light-blue", "LBL", "라이트블루", "Light Blue"),
    ("indigo", "IND", "인디고", "Indigo"),
    ("olive", "OLV", "올리브", "Olive"),
    ("ivory", "IVR", "아이보리", "Ivory"),
    ("camel", "CML", "카멜", "Camel"),
    ("brown", "BRN", "브라운", "Brown"),
    ("sky-blue", "SKY", "스카이블루", "Sky Blue"),
    ("pink", "PNK", "핑크", "Pink"),
    ("silver", "SLV", "실버", "Silver"),
    ("green", "GRN", "그린", "Green"),
    ("lavender", "LAV", "라벤더", "Lavender"),
];

fn colour(key: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    *COLOURS.iter().find(|c| c.0 == key).unwrap_or_else(|| panic!("demo colour `{key}` is not in COLOURS"))
}

const CLOTHING_SIZES: &[&str] = &["S", "M", "L", "XL"];
const SHOE_SIZES: &[&str] = &["240", "250", "260", "270", "280"];

/// A garment: one product per colour, one variant per size.
struct Garment {
    cat: &'static str,
    code: &'static str,
    vendor: &'static str,
    ko: &'static str,
    en: &'static str,
    desc_ko: &'static str,
    desc_en: &'static str,
    krw: i64,
    usd: i64,
    weight_g: i64,
    colours: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
const fn g(
    cat: &'static str,
    code: &'static str,
    vendor: &'static str,
    ko: &'static str,
    en: &'static str,
    krw: i64,
    usd: i64,
    weight_g: i64,
    colours: &'static [&'static str],
    desc_ko: &'static str,
    desc_en: &'static str,
) -> Garment {
    Garment { cat, code, vendor, ko, en, desc_ko, desc_en, krw, usd, weight_g, colours }
}

const TOPS: &str = "apparel/tops";
const BOTTOMS: &str = "apparel/bottoms";
const OUTER: &str = "apparel/outerwear";
const SHOES: &str = "apparel/shoes";

const GARMENTS: &[Garment] = &[
    g(
        TOPS,
        "TEE-OVR",
        "Hangang Basics",
        "오버핏 코튼 티셔츠",
        "Oversized Cotton T-Shirt",
        29_000,
        2499,
        220,
        &["black", "white", "grey", "navy", "beige"],
        "도톰한 20수 면으로 만든 여유로운 핏의 반팔 티셔츠입니다.",
        "A relaxed-fit short-sleeve tee in heavyweight cotton.",
    ),
    g(
        TOPS,
        "TEE-CRW",
        "Hangang Basics",
        "베이직 크루넥 티셔츠",
        "Basic Crew-Neck T-Shirt",
        19_900,
        1799,
        180,
        &["black", "white", "grey", "khaki"],
        "매일 입기 좋은 부드러운 코튼 기본 티셔츠입니다.",
        "A soft everyday cotton tee with a classic fit.",
    ),
    g(
        TOPS,
        "TEE-LSV",
        "Hangang Basics",
        "롱슬리브 티셔츠",
        "Long-Sleeve T-Shirt",
        25_900,
        2199,
        240,
        &["black", "white", "navy"],
        "간절기엔 단독으로, 겨울엔 이너로 입기 좋은 긴팔 티셔츠입니다.",
        "A long-sleeve tee to wear alone in spring or layered in winter.",
    ),
    g(
        TOPS,
        "SHT-OXF",
        "Mood Seoul",
        "옥스퍼드 버튼다운 셔츠",
        "Oxford Button-Down Shirt",
        45_000,
        3999,
        300,
        &["white", "sky-blue", "pink"],
        "탄탄한 옥스퍼드 원단의 클래식 버튼다운 셔츠입니다.",
        "A classic button-down shirt in sturdy oxford cloth.",
    ),
    g(
        TOPS,
        "SHT-LIN",
        "Mood Seoul",
        "린넨 셔츠",
        "Linen Shirt",
        49_000,
        4299,
        230,
        &["white", "beige", "navy"],
        "한여름에도 시원한 린넨 100% 셔츠입니다.",
        "A breathable 100% linen shirt for hot days.",
    ),
    g(
        TOPS,
        "SWT-CRW",
        "Hangang Basics",
        "기모 맨투맨",
        "Brushed Fleece Sweatshirt",
        39_000,
        3499,
        550,
        &["grey", "navy", "black", "oatmeal"],
        "안감을 기모 처리해 따뜻한 크루넥 맨투맨입니다.",
        "A warm crew-neck sweatshirt with a brushed fleece lining.",
    ),
    g(
        TOPS,
        "HOD-PUL",
        "Hangang Basics",
        "풀오버 후드티",
        "Pullover Hoodie",
        59_000,
        4999,
        650,
        &["black", "grey", "navy", "burgundy"],
        "캥거루 포켓이 달린 도톰한 후드티입니다.",
        "A heavyweight hoodie with a kangaroo pocket.",
    ),
    g(
        TOPS,
        "KNT-CBL",
        "Mood Seoul",
        "케이블 니트 스웨터",
        "Cable-Knit Sweater",
        69_000,
        5999,
        480,
        &["cream", "navy", "charcoal"],
        "울 혼방 원사로 짠 클래식 꽈배기 니트입니다.",
        "A classic cable-knit sweater in a wool-blend yarn.",
    ),
    g(
        BOTTOMS,
        "DNM-WID",
        "Mood Seoul",
        "와이드 데님 팬츠",
        "Wide-Leg Denim Jeans",
        59_000,
        5499,
        700,
        &["light-blue", "indigo", "black"],
        "여유로운 와이드 핏의 논스트레치 데님입니다.",
        "Non-stretch denim in a relaxed wide-leg fit.",
    ),
    g(
        BOTTOMS,
        "CHN-SLM",
        "Mood Seoul",
        "슬림 치노 팬츠",
        "Slim Chino Pants",
        45_000,
        3999,
        450,
        &["beige", "khaki", "navy", "black"],
        "출근룩에도 잘 어울리는 스트레치 치노 팬츠입니다.",
        "Stretch chinos smart enough for the office.",
    ),
    g(
        BOTTOMS,
        "JOG-SWT",
        "Hangang Basics",
        "조거 팬츠",
        "Jogger Sweatpants",
        35_000,
        2999,
        420,
        &["grey", "black", "navy"],
        "밑단 밴딩으로 편안한 트레이닝 조거 팬츠입니다.",
        "Comfortable sweatpants with ribbed cuffs.",
    ),
    g(
        BOTTOMS,
        "CRG-NYL",
        "Namsan Outdoor",
        "나일론 카고 팬츠",
        "Nylon Cargo Pants",
        55_000,
        4799,
        400,
        &["black", "khaki", "olive"],
        "가볍고 빨리 마르는 나일론 카고 팬츠입니다.",
        "Light, quick-drying nylon cargo pants.",
    ),
    g(
        BOTTOMS,
        "SRT-LIN",
        "Mood Seoul",
        "린넨 반바지",
        "Linen Shorts",
        32_000,
        2799,
        230,
        &["beige", "white", "navy"],
        "허리 밴딩이 편안한 시원한 린넨 반바지입니다.",
        "Cool linen shorts with an elastic waist.",
    ),
    g(
        OUTER,
        "VST-PAD",
        "Namsan Outdoor",
        "경량 패딩 조끼",
        "Lightweight Padded Vest",
        49_000,
        4499,
        300,
        &["black", "navy", "khaki"],
        "가볍게 걸치기 좋은 경량 충전재 조끼입니다.",
        "A light insulated vest for easy layering.",
    ),
    g(
        OUTER,
        "JKT-PUF",
        "Namsan Outdoor",
        "숏 패딩 점퍼",
        "Short Puffer Jacket",
        129_000,
        10999,
        900,
        &["black", "ivory", "navy"],
        "덕다운 충전재로 따뜻한 숏 기장 패딩입니다.",
        "A warm, cropped duck-down puffer jacket.",
    ),
    g(
        OUTER,
        "COT-WOL",
        "Mood Seoul",
        "울 블렌드 코트",
        "Wool-Blend Overcoat",
        219_000,
        18900,
        1500,
        &["camel", "charcoal", "black"],
        "울 70% 혼방의 클래식 싱글 코트입니다.",
        "A classic single-breasted coat in a 70% wool blend.",
    ),
    g(
        OUTER,
        "JKT-WND",
        "Namsan Outdoor",
        "바람막이 재킷",
        "Windbreaker Jacket",
        69_000,
        5999,
        350,
        &["black", "olive", "navy"],
        "생활 방수가 되는 가벼운 바람막이입니다.",
        "A lightweight, water-resistant windbreaker.",
    ),
    g(
        OUTER,
        "JKT-DNM",
        "Mood Seoul",
        "데님 트러커 재킷",
        "Denim Trucker Jacket",
        79_000,
        6999,
        850,
        &["indigo", "light-blue"],
        "사계절 활용도 높은 클래식 데님 재킷입니다.",
        "A classic denim jacket for every season.",
    ),
    g(
        SHOES,
        "SNK-CNV",
        "Stride Lab",
        "캔버스 로우탑 스니커즈",
        "Canvas Low-Top Sneakers",
        59_000,
        4999,
        750,
        &["white", "black", "navy"],
        "어디에나 잘 어울리는 기본 캔버스 스니커즈입니다.",
        "Everyday canvas sneakers that go with everything.",
    ),
    g(
        SHOES,
        "RUN-LGT",
        "Stride Lab",
        "경량 러닝화",
        "Lightweight Running Shoes",
        99_000,
        8499,
        560,
        &["black", "white", "grey"],
        "쿠션감 좋은 미드솔의 데일리 러닝화입니다.",
        "Daily running shoes with a cushioned midsole.",
    ),
    g(
        SHOES,
        "LOF-LTH",
        "Stride Lab",
        "가죽 페니 로퍼",
        "Leather Penny Loafers",
        129_000,
        10999,
        900,
        &["black", "brown"],
        "부드러운 소가죽으로 만든 클래식 페니 로퍼입니다.",
        "Classic penny loafers in soft cowhide leather.",
    ),
    g(
        SHOES,
        "SLD-EVA",
        "Stride Lab",
        "슬라이드 샌들",
        "Slide Sandals",
        29_000,
        2499,
        400,
        &["black", "white", "beige"],
        "가볍고 물에 강한 EVA 소재의 슬리퍼입니다.",
        "Light, water-friendly EVA slides.",
    ),
    g(
        SHOES,
        "BOT-CHL",
        "Stride Lab",
        "스웨이드 첼시 부츠",
        "Suede Chelsea Boots",
        149_000,
        12900,
        1100,
        &["brown", "black"],
        "양옆 밴딩으로 신고 벗기 편한 스웨이드 첼시 부츠입니다.",
        "Suede Chelsea boots with elastic side panels.",
    ),
];

/// One option of a [`Line`]: fills the `{}` in the line's titles; non-zero numbers override the line's.
struct Opt {
    code: &'static str,
    ko: &'static str,
    en: &'static str,
    krw: i64,
    usd: i64,
    weight_g: i64,
}

const fn o(code: &'static str, ko: &'static str, en: &'static str) -> Opt {
    Opt { code, ko, en, krw: 0, usd: 0, weight_g: 0 }
}

const fn op(code: &'static str, ko: &'static str, en: &'static str, krw: i64, usd: i64, weight_g: i64) -> Opt {
    Opt { code, ko, en, krw, usd, weight_g }
}

/// The single, empty option of a line that is one product.
const ONE: &[Opt] = &[o("", "", "")];

/// A product line: one product per option; one variant, or one per colour.
struct Line {
    cat: &'static str,
    code: &'static str,
    vendor: &'static str,
    /// Titles with `{}` where the option's words go.
    ko: &'static str,
    en: &'static str,
    desc_ko: &'static str,
    desc_en: &'static str,
    krw: i64,
    /// USD cents; 0 = not sold cross-border.
    usd: i64,
    weight_g: i64,
    opts: &'static [Opt],
    colours: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
const fn l(
    cat: &'static str,
    code: &'static str,
    vendor: &'static str,
    ko: &'static str,
    en: &'static str,
    krw: i64,
    usd: i64,
    weight_g: i64,
    opts: &'static [Opt],
    colours: &'static [&'static str],
    desc_ko: &'static str,
    desc_en: &'static str,
) -> Line {
    Line { cat, code, vendor, ko, en, desc_ko, desc_en, krw, usd, weight_g, opts, colours }
}

const SNACKS: &str = "grocery/snacks";
const BEVERAGES: &str = "grocery/beverages";
const RAMEN: &str = "grocery/ramen";
const FRESH: &str = "grocery/fresh";
const HOUSEHOLD: &str = "grocery/household";
const AUDIO: &str = "electronics/audio";
const ACCESSORIES: &str = "electronics/accessories";
const PHONES: &str = "electronics/phones";
const HOME: &str = "electronics/home";

const NONE: &[&str] = &[];

const GROCERY: &[Line] = &[
    // Snacks
    l(
        SNACKS,
        "CHP",
        "Dasom Confectionery",
        "{} 감자칩 60g",
        "{} Potato Chips 60 g",
        1_800,
        0,
        70,
        &[
            o("ORG", "오리지널", "Original"),
            o("HBT", "허니버터", "Honey Butter"),
            o("SEA", "김맛", "Seaweed"),
            o("SCO", "사워크림 어니언", "Sour Cream & Onion"),
            o("BBQ", "바비큐", "Barbecue"),
        ],
        NONE,
        "얇게 썰어 바삭하게 튀긴 국산 감자칩입니다.",
        "Thin-sliced, crispy chips made from Korean potatoes.",
    ),
    l(
        SNACKS,
        "SHR",
        "Dasom Confectionery",
        "{} 새우맛 과자 90g",
        "{} Shrimp Crackers 90 g",
        1_500,
        0,
        100,
        &[o("ORG", "오리지널", "Original"), o("HOT", "매운", "Spicy")],
        NONE,
        "진짜 새우를 넣어 고소한 국민 과자입니다.",
        "A classic Korean snack made with real shrimp.",
    ),
    l(
        SNACKS,
        "MPI",
        "Dasom Confectionery",
        "{} 마시멜로 파이 12입",
        "{} Marshmallow Pie 12-pack",
        5_400,
        0,
        420,
        &[o("CHO", "초코", "Chocolate"), o("BAN", "바나나", "Banana"), o("STR", "딸기", "Strawberry")],
        NONE,
        "부드러운 마시멜로를 채운 한입 크기 파이입니다.",
        "Soft cakes filled with marshmallow, a lunchbox classic.",
    ),
    l(
        SNACKS,
        "SWD",
        "Hanbit Foods",
        "{} 김스낵 10봉",
        "{} Roasted Seaweed Snack 10-pack",
        6_900,
        899,
        80,
        &[o("SAL", "천일염", "Sea Salt"), o("WAS", "와사비", "Wasabi"), o("OLV", "올리브유", "Olive Oil")],
        NONE,
        "바삭하게 구운 도시락 김으로 간식이나 반찬에 좋습니다.",
        "Crispy roasted seaweed sheets for snacking or with rice.",
    ),
    l(
        SNACKS,
        "RCK",
        "Hanbit Foods",
        "{} 쌀과자 180g",
        "{} Rice Crackers 180 g",
        3_200,
        0,
        200,
        &[o("ORG", "고소한", "Original"), o("SWT", "달콤한", "Sweet"), o("BRN", "현미", "Brown Rice")],
        NONE,
        "국산 쌀로 구워 담백한 쌀과자입니다.",
        "Light crackers baked from Korean rice.",
    ),
    l(
        SNACKS,
        "ALM",
        "Hanbit Foods",
        "{} 아몬드 210g",
        "{} Almonds 210 g",
        8_900,
        999,
        240,
        &[
            o("HBT", "허니버터", "Honey Butter"),
            o("WAS", "와사비맛", "Wasabi"),
            o("TTK", "떡볶이맛", "Tteokbokki"),
            o("CRN", "군옥수수맛", "Grilled Corn"),
        ],
        NONE,
        "한국 여행 기념품으로 인기 있는 시즈닝 아몬드입니다.",
        "Seasoned almonds, a favourite souvenir from Korea.",
    ),
    l(
        SNACKS,
        "GUM",
        "Dasom Confectionery",
        "{} 젤리 200g",
        "{} Gummies 200 g",
        2_800,
        0,
        220,
        &[o("PEA", "복숭아", "Peach"), o("GRP", "청포도", "Green Grape"), o("COL", "콜라", "Cola")],
        NONE,
        "쫀득한 식감의 과일 젤리입니다.",
        "Chewy fruit gummies.",
    ),
    l(
        SNACKS,
        "YKG",
        "Hanbit Foods",
        "전통 미니 약과 400g",
        "Traditional Mini Yakgwa Honey Cookies 400 g",
        7_900,
        0,
        430,
        ONE,
        NONE,
        "꿀과 참기름으로 만든 쫀득한 전통 과자입니다.",
        "Chewy Korean honey cookies made with sesame oil.",
    ),
    // Beverages
    l(
        BEVERAGES,
        "WTR",
        "Jeju Spring",
        "제주 화산암반수 {}",
        "Jeju Volcanic Spring Water {}",
        1_200,
        0,
        2_100,
        &[
            op("2L", "2L", "2 L", 1_200, 0, 2_100),
            op("2LX6", "2L × 6병", "2 L × 6", 6_900, 0, 12_700),
            op("500X20", "500ml × 20병", "500 ml × 20", 9_900, 0, 10_800),
        ],
        NONE,
        "제주 화산암반층에서 길어 올린 미네랄 생수입니다.",
        "Mineral water drawn from Jeju's volcanic bedrock.",
    ),
    l(
        BEVERAGES,
        "SPK",
        "Jeju Spring",
        "{} 탄산수 500ml",
        "{} Sparkling Water 500 ml",
        1_000,
        0,
        540,
        &[
            o("PLN", "플레인", "Plain"),
            o("LMN", "레몬", "Lemon"),
            o("LIM", "라임", "Lime"),
            o("GRF", "자몽", "Grapefruit"),
            o("GRP", "청포도", "Green Grape"),
        ],
        NONE,
        "당과 칼로리 없이 상쾌한 탄산수입니다.",
        "Refreshing sparkling water with no sugar or calories.",
    ),
    l(
        BEVERAGES,
        "TEA",
        "Hanbit Foods",
        "{} 1.5L",
        "{} 1.5 L",
        2_500,
        0,
        1_600,
        &[
            o("BAR", "보리차", "Roasted Barley Tea"),
            o("CRN", "옥수수수염차", "Corn Silk Tea"),
            o("GRN", "녹차", "Green Tea"),
        ],
        NONE,
        "카페인 걱정 없이 물처럼 마시는 구수한 차입니다.",
        "A mellow everyday tea to drink like water.",
    ),
    l(
        BEVERAGES,
        "CAN",
        "Morning Roasters",
        "{} 캔커피 240ml",
        "{} Canned Coffee 240 ml",
        1_500,
        0,
        270,
        &[
            o("AME", "아메리카노", "Americano"),
            o("LAT", "카페라떼", "Caffe Latte"),
            o("VAN", "바닐라라떼", "Vanilla Latte"),
        ],
        NONE,
        "바로 마시는 시원한 캔커피입니다.",
        "Ready-to-drink coffee, best served cold.",
    ),
    l(
        BEVERAGES,
        "CBR",
        "Morning Roasters",
        "콜드브루 커피 원액 500ml",
        "Cold Brew Coffee Concentrate 500 ml",
        12_900,
        0,
        620,
        ONE,
        NONE,
        "물이나 우유에 타 마시는 콜드브루 원액입니다.",
        "Cold brew concentrate to mix with water or milk.",
    ),
    l(
        BEVERAGES,
        "TRD",
        "Hanbit Foods",
        "{} 1.5L",
        "{} 1.5 L",
        3_900,
        0,
        1_600,
        &[o("SIK", "전통 식혜", "Sikhye Sweet Rice Drink"), o("SJG", "수정과", "Sujeonggwa Cinnamon Punch")],
        NONE,
        "전통 방식으로 달인 우리 음료입니다.",
        "A traditional Korean drink brewed the old way.",
    ),
    l(
        BEVERAGES,
        "JUC",
        "Jeju Spring",
        "제주 {} 주스 1L",
        "Jeju {} Juice 1 L",
        4_900,
        0,
        1_100,
        &[o("TAN", "감귤", "Tangerine"), o("HAL", "한라봉", "Hallabong Orange"), o("CAR", "당근", "Carrot")],
        NONE,
        "제주산 원물을 착즙한 100% 주스입니다.",
        "100% pressed juice from Jeju produce.",
    ),
    // Fresh (never sold cross-border)
    l(
        FRESH,
        "TNG",
        "Jeju Farm",
        "제주 감귤 2kg",
        "Jeju Tangerines 2 kg",
        15_900,
        0,
        2_100,
        ONE,
        NONE,
        "새콤달콤한 제주 노지 감귤입니다.",
        "Sweet and tangy open-field Jeju tangerines.",
    ),
    l(
        FRESH,
        "APL",
        "Hanbit Fresh Market",
        "부사 사과 1.5kg",
        "Fuji Apples 1.5 kg",
        14_900,
        0,
        1_600,
        ONE,
        NONE,
        "아삭하고 달콤한 경북 부사 사과입니다.",
        "Crisp, sweet Fuji apples from Gyeongbuk.",
    ),
    l(
        FRESH,
        "PER",
        "Hanbit Fresh Market",
        "나주 배 3입",
        "Naju Pears, 3 pcs",
        16_900,
        0,
        2_000,
        ONE,
        NONE,
        "과즙이 풍부한 나주 신고배입니다.",
        "Juicy Korean pears from Naju.",
    ),
    l(
        FRESH,
        "STB",
        "Hanbit Fresh Market",
        "설향 딸기 500g",
        "Seolhyang Strawberries 500 g",
        12_900,
        0,
        600,
        ONE,
        NONE,
        "향이 진하고 달콤한 국산 설향 딸기입니다.",
        "Fragrant, sweet Korean Seolhyang strawberries.",
    ),
    l(
        FRESH,
        "TOM",
        "Hanbit Fresh Market",
        "대추방울토마토 750g",
        "Date Cherry Tomatoes 750 g",
        8_900,
        0,
        800,
        ONE,
        NONE,
        "한입에 먹기 좋은 달콤한 대추방울토마토입니다.",
        "Sweet, bite-sized date tomatoes.",
    ),
    l(
        FRESH,
        "MLN",
        "Hanbit Fresh Market",
        "성주 참외 1.2kg",
        "Seongju Korean Melons 1.2 kg",
        13_900,
        0,
        1_300,
        ONE,
        NONE,
        "아삭하고 시원한 성주 참외입니다.",
        "Crisp, refreshing Korean melons from Seongju.",
    ),
    l(
        FRESH,
        "GRL",
        "Hanbit Fresh Market",
        "국산 깐마늘 300g",
        "Korean Peeled Garlic 300 g",
        5_900,
        0,
        320,
        ONE,
        NONE,
        "바로 요리에 쓰는 국산 깐마늘입니다.",
        "Peeled Korean garlic, ready to cook.",
    ),
    l(
        FRESH,
        "SPN",
        "Hanbit Fresh Market",
        "유기농 시금치 300g",
        "Organic Spinach 300 g",
        3_900,
        0,
        320,
        ONE,
        NONE,
        "무침과 국에 좋은 유기농 시금치입니다.",
        "Organic spinach for namul and soups.",
    ),
    l(
        FRESH,
        "BLG",
        "Hanwoo House",
        "한우 불고기 300g",
        "Hanwoo Beef Bulgogi 300 g",
        24_900,
        0,
        330,
        ONE,
        NONE,
        "1등급 한우를 얇게 썰어 불고기용으로 준비했습니다.",
        "Thin-sliced grade-1 Hanwoo beef for bulgogi.",
    ),
    l(
        FRESH,
        "PBL",
        "Hanwoo House",
        "한돈 삼겹살 500g",
        "Korean Pork Belly 500 g",
        16_900,
        0,
        530,
        ONE,
        NONE,
        "구이용으로 두툼하게 썬 국내산 삼겹살입니다.",
        "Thick-cut Korean pork belly for grilling.",
    ),
    l(
        FRESH,
        "CKB",
        "Hanwoo House",
        "무항생제 닭가슴살 1kg",
        "Antibiotic-Free Chicken Breast 1 kg",
        12_900,
        0,
        1_050,
        ONE,
        NONE,
        "무항생제 인증 국내산 닭가슴살입니다.",
        "Certified antibiotic-free Korean chicken breast.",
    ),
    l(
        FRESH,
        "EGG",
        "Hanbit Fresh Market",
        "동물복지 유정란 15구",
        "Free-Range Eggs 15-pack",
        8_900,
        0,
        950,
        ONE,
        NONE,
        "동물복지 농장에서 낳은 신선한 유정란입니다.",
        "Fresh eggs from an animal-welfare certified farm.",
    ),
    l(
        FRESH,
        "MLK",
        "Hanbit Fresh Market",
        "1등급 우유 900ml",
        "Grade-A Fresh Milk 900 ml",
        2_900,
        0,
        960,
        ONE,
        NONE,
        "1등급 원유로 만든 신선한 우유입니다.",
        "Fresh milk from grade-A raw milk.",
    ),
    l(
        FRESH,
        "TOF",
        "Hanbit Fresh Market",
        "국산콩 두부 300g",
        "Korean Soybean Tofu 300 g",
        2_300,
        0,
        330,
        ONE,
        NONE,
        "국산 콩으로 만든 고소한 부침용 두부입니다.",
        "Firm tofu made from Korean soybeans.",
    ),
    l(
        FRESH,
        "KMC",
        "Hanbit Fresh Market",
        "배추 포기김치 {}",
        "Napa Cabbage Kimchi {}",
        14_900,
        0,
        1_050,
        &[op("1KG", "1kg", "1 kg", 14_900, 0, 1_050), op("3KG", "3kg", "3 kg", 34_900, 0, 3_100)],
        NONE,
        "국산 배추와 고춧가루로 담근 포기김치입니다.",
        "Whole-cabbage kimchi made with Korean napa and chili.",
    ),
    l(
        FRESH,
        "KKD",
        "Hanbit Fresh Market",
        "총각김치 1kg",
        "Ponytail Radish Kimchi 1 kg",
        15_900,
        0,
        1_050,
        ONE,
        NONE,
        "아삭한 총각무로 담근 김치입니다.",
        "Crunchy kimchi made with young ponytail radishes.",
    ),
    l(
        FRESH,
        "YGT",
        "Hanbit Fresh Market",
        "플레인 그릭요거트 450g",
        "Plain Greek Yogurt 450 g",
        8_900,
        0,
        480,
        ONE,
        NONE,
        "꾸덕하고 진한 무가당 그릭요거트입니다.",
        "Thick, unsweetened Greek yogurt.",
    ),
    // Household
    l(
        HOUSEHOLD,
        "DSH",
        "Clean Day",
        "{} 주방세제 750ml",
        "{} Dish Soap 750 ml",
        4_900,
        0,
        820,
        &[o("LMN", "레몬", "Lemon"), o("GRF", "자몽", "Grapefruit"), o("UNS", "무향", "Unscented")],
        NONE,
        "1종 세척제로 과일과 채소도 씻을 수 있는 주방세제입니다.",
        "Food-safe dish soap that also washes fruit and vegetables.",
    ),
    l(
        HOUSEHOLD,
        "LDR",
        "Clean Day",
        "고농축 액체 세탁세제 {}",
        "Concentrated Liquid Laundry Detergent {}",
        12_900,
        0,
        3_200,
        &[op("3L", "3L", "3 L", 12_900, 0, 3_200), op("RF2L", "리필 2L", "Refill 2 L", 8_900, 0, 2_100)],
        NONE,
        "찬물에도 잘 녹는 고농축 액체 세제입니다.",
        "Concentrated detergent that works in cold water.",
    ),
    l(
        HOUSEHOLD,
        "SFT",
        "Clean Day",
        "{} 섬유유연제 2.5L",
        "{} Fabric Softener 2.5 L",
        9_900,
        0,
        2_700,
        &[o("COT", "코튼", "Cotton"), o("LAV", "라벤더", "Lavender"), o("BAB", "베이비파우더", "Baby Powder")],
        NONE,
        "은은한 향이 오래가는 섬유유연제입니다.",
        "Fabric softener with a long-lasting, gentle scent.",
    ),
    l(
        HOUSEHOLD,
        "TPR",
        "Clean Day",
        "3겹 천연펄프 화장지 {}",
        "3-Ply Pulp Toilet Paper {}",
        19_900,
        0,
        4_200,
        &[op("30R", "30롤", "30 Rolls", 19_900, 0, 4_200), op("12R", "12롤", "12 Rolls", 8_900, 0, 1_700)],
        NONE,
        "도톰하고 부드러운 3겹 천연펄프 화장지입니다.",
        "Soft, thick 3-ply toilet paper from virgin pulp.",
    ),
    l(
        HOUSEHOLD,
        "WIP",
        "Clean Day",
        "캡형 물티슈 100매 10팩",
        "Wet Wipes 100 Sheets, 10-pack",
        12_900,
        0,
        5_800,
        ONE,
        NONE,
        "정제수 99%의 도톰한 캡형 물티슈입니다.",
        "Thick wet wipes made with 99% purified water.",
    ),
    l(
        HOUSEHOLD,
        "KTW",
        "Clean Day",
        "천연펄프 키친타월 6롤",
        "Kitchen Paper Towels, 6 Rolls",
        7_900,
        0,
        1_200,
        ONE,
        NONE,
        "물기와 기름을 잘 흡수하는 키친타월입니다.",
        "Absorbent paper towels for spills and oil.",
    ),
    l(
        HOUSEHOLD,
        "ZIP",
        "Clean Day",
        "이중 지퍼백 {}",
        "Double-Seal Zipper Bags, {}",
        4_900,
        0,
        300,
        &[op("M50", "중형 50매", "Medium 50", 4_900, 0, 300), op("L30", "대형 30매", "Large 30", 5_500, 0, 350)],
        NONE,
        "이중 지퍼로 새지 않는 냉동 보관용 지퍼백입니다.",
        "Leak-proof double-seal bags for the freezer.",
    ),
    l(
        HOUSEHOLD,
        "SPG",
        "Clean Day",
        "천연 수세미 3입",
        "Natural Dish Sponges 3-pack",
        3_900,
        0,
        60,
        ONE,
        NONE,
        "미세플라스틱 걱정 없는 천연 소재 수세미입니다.",
        "Plant-fibre sponges that shed no microplastics.",
    ),
    l(
        HOUSEHOLD,
        "HWS",
        "Clean Day",
        "{} 핸드워시 500ml",
        "{} Hand Wash 500 ml",
        5_900,
        0,
        560,
        &[o("ALO", "알로에", "Aloe"), o("PEA", "복숭아", "Peach")],
        NONE,
        "거품이 풍성하고 촉촉한 핸드워시입니다.",
        "A rich-lathering, moisturising hand wash.",
    ),
];

/// A ramen kind: code, Korean, English, vendor, multipack KRW, multipack USD cents, Korean and English description.
type RamenKind = (&'static str, &'static str, &'static str, &'static str, i64, i64, &'static str, &'static str);

const RAMEN_KINDS: &[RamenKind] = &[
    (
        "SBF",
        "얼큰 소고기라면",
        "Spicy Beef Ramyun",
        "Hanbit Foods",
        4_500,
        899,
        "진한 소고기 국물에 칼칼한 고추를 더한 라면입니다.",
        "Rich beef broth with a clean chili kick.",
    ),
    (
        "JJA",
        "짜장라면",
        "Black Bean Jjajang Ramyun",
        "Hanbit Foods",
        5_200,
        999,
        "춘장을 볶아 만든 진한 짜장 소스의 볶음면입니다.",
        "Noodles in a rich roasted black-bean sauce.",
    ),
    (
        "JJP",
        "해물 짬뽕라면",
        "Seafood Jjamppong Ramyun",
        "Gold Noodle",
        5_400,
        999,
        "불맛 나는 해물 짬뽕 국물 라면입니다.",
        "Smoky, spicy seafood noodle soup.",
    ),
    (
        "HCK",
        "매운 치킨 볶음면",
        "Fiery Chicken Stir-Fry Noodles",
        "Gold Noodle",
        5_900,
        1099,
        "도전 욕구를 부르는 아주 매운 볶음면입니다.",
        "Seriously spicy stir-fried noodles.",
    ),
    (
        "SGL",
        "사골 곰탕면",
        "Beef Bone Broth Ramyun",
        "Hanbit Foods",
        4_800,
        899,
        "오래 우린 사골의 뽀얀 국물 라면입니다.",
        "Milky, slow-simmered beef bone broth.",
    ),
    (
        "KIM",
        "김치라면",
        "Kimchi Ramyun",
        "Hanbit Foods",
        4_300,
        849,
        "잘 익은 김치로 시원하게 끓인 라면입니다.",
        "Tangy noodle soup with well-fermented kimchi.",
    ),
    (
        "BIB",
        "비빔면",
        "Sweet & Spicy Bibim Noodles",
        "Gold Noodle",
        4_900,
        899,
        "차갑게 비벼 먹는 새콤달콤 비빔면입니다.",
        "Cold noodles tossed in a sweet and spicy sauce.",
    ),
    (
        "UDN",
        "가쓰오 우동",
        "Bonito Udon",
        "Gold Noodle",
        6_500,
        1199,
        "쫄깃한 면발과 가쓰오 국물의 우동입니다.",
        "Chewy noodles in a smoky bonito broth.",
    ),
];

/// Ramen formats: code, Korean, English, weight.
const RAMEN_FORMATS: &[(&str, &str, &str, i64)] = &[
    ("MP5", "멀티팩 5입", "Multipack 5-pack", 600),
    ("CUP", "큰컵", "Big Cup", 120),
    ("BOX", "1박스 40입", "Box of 40", 4_900),
];

/// Phone models used by the case and screen-protector lines.
const PHONE_OPTS: &[Opt] = &[
    o("N5", "노바 5", "Nova 5"),
    o("N5P", "노바 5 플러스", "Nova 5 Plus"),
    o("A3", "아리아 A3", "Aria A3"),
    o("A5", "아리아 A5", "Aria A5"),
];

const ELECTRONICS: &[Line] = &[
    // Audio
    l(
        AUDIO,
        "EAR-ANC",
        "Sori Audio",
        "무선 노이즈캔슬링 이어폰 {}",
        "Wireless Noise-Cancelling Earbuds {}",
        139_000,
        10999,
        58,
        &[
            op("LT", "라이트", "Lite", 89_000, 6999, 55),
            op("STD", "", "", 139_000, 10999, 58),
            op("PRO", "프로", "Pro", 189_000, 14999, 60),
        ],
        &["black", "white"],
        "주변 소음을 줄여 주는 액티브 노이즈캔슬링 무선 이어폰입니다.",
        "True wireless earbuds with active noise cancelling.",
    ),
    l(
        AUDIO,
        "EAR-OPN",
        "Sori Audio",
        "오픈형 무선 이어폰",
        "Open-Ear Wireless Earbuds",
        99_000,
        7999,
        58,
        ONE,
        &["black", "white"],
        "귀를 막지 않아 오래 써도 편안한 오픈형 이어폰입니다.",
        "Open-ear earbuds that stay comfortable all day.",
    ),
    l(
        AUDIO,
        "HPH-ANC",
        "Sori Audio",
        "무선 노이즈캔슬링 헤드폰 {}",
        "Wireless Noise-Cancelling Headphones {}",
        199_000,
        15999,
        260,
        &[op("STD", "", "", 199_000, 15999, 260), op("PRO", "프로", "Pro", 259_000, 19999, 280)],
        &["black", "silver", "navy"],
        "최대 40시간 재생되는 오버이어 노이즈캔슬링 헤드폰입니다.",
        "Over-ear noise-cancelling headphones with up to 40 hours of play.",
    ),
    l(
        AUDIO,
        "SPK-BT",
        "Sori Audio",
        "휴대용 블루투스 스피커 {}",
        "Portable Bluetooth Speaker {}",
        89_000,
        6999,
        560,
        &[
            op("MINI", "미니", "Mini", 49_000, 3999, 300),
            op("STD", "", "", 89_000, 6999, 560),
            op("PARTY", "파티", "Party", 219_000, 17999, 2_900),
        ],
        &["black", "navy", "green"],
        "IP67 방수를 지원하는 휴대용 스피커입니다.",
        "An IP67 waterproof speaker to take anywhere.",
    ),
    l(
        AUDIO,
        "EAR-USBC",
        "Sori Audio",
        "USB-C 유선 이어폰",
        "USB-C Wired Earphones",
        19_000,
        1499,
        20,
        ONE,
        &["black", "white"],
        "마이크와 리모컨이 달린 USB-C 유선 이어폰입니다.",
        "USB-C earphones with an in-line mic and remote.",
    ),
    l(
        AUDIO,
        "TRN-BT",
        "Sori Audio",
        "블루투스 턴테이블",
        "Bluetooth Turntable",
        239_000,
        18999,
        3_800,
        ONE,
        NONE,
        "LP를 블루투스 스피커로 들을 수 있는 턴테이블입니다.",
        "A record player that streams vinyl to Bluetooth speakers.",
    ),
    l(
        AUDIO,
        "SBR-21",
        "Sori Audio",
        "2.1채널 사운드바",
        "2.1-Channel Soundbar",
        299_000,
        23999,
        4_200,
        ONE,
        NONE,
        "무선 서브우퍼가 포함된 TV용 사운드바입니다.",
        "A TV soundbar with a wireless subwoofer.",
    ),
    l(
        AUDIO,
        "HPH-KID",
        "Sori Audio",
        "볼륨 제한 어린이 헤드폰",
        "Volume-Limited Kids' Headphones",
        39_000,
        2999,
        180,
        ONE,
        &["pink", "sky-blue", "lavender"],
        "최대 85dB로 볼륨을 제한해 아이 귀를 보호합니다.",
        "Caps volume at 85 dB to protect young ears.",
    ),
    l(
        AUDIO,
        "EAR-BON",
        "Sori Audio",
        "골전도 이어폰",
        "Bone-Conduction Headphones",
        129_000,
        9999,
        30,
        ONE,
        &["black", "grey"],
        "러닝 중에도 주변 소리를 들을 수 있는 골전도 이어폰입니다.",
        "Hear your surroundings while you run.",
    ),
    // Accessories
    l(
        ACCESSORIES,
        "CHG",
        "VoltWorks",
        "USB-C 고속 충전기 {}",
        "USB-C Fast Charger {}",
        19_000,
        1499,
        60,
        &[
            op("20W", "20W", "20 W", 19_000, 1499, 60),
            op("35W", "35W 듀얼", "35 W Dual-Port", 29_000, 2299, 80),
            op("65W", "65W GaN", "65 W GaN", 45_000, 3499, 120),
            op("100W", "100W GaN 4포트", "100 W GaN 4-Port", 69_000, 5499, 210),
        ],
        NONE,
        "휴대폰과 노트북을 빠르게 충전하는 PD 충전기입니다.",
        "A USB Power Delivery charger for phones and laptops.",
    ),
    l(
        ACCESSORIES,
        "CBL-CC",
        "VoltWorks",
        "USB-C to C 고속 케이블 {}",
        "USB-C to USB-C Fast Cable {}",
        9_900,
        799,
        30,
        &[op("1M", "1m", "1 m", 9_900, 799, 30), op("2M", "2m", "2 m", 12_900, 999, 45)],
        NONE,
        "60W 고속 충전을 지원하는 패브릭 케이블입니다.",
        "A braided cable rated for 60 W fast charging.",
    ),
    l(
        ACCESSORIES,
        "CBL-CL",
        "VoltWorks",
        "USB-C to 라이트닝 케이블 1m",
        "USB-C to Lightning Cable 1 m",
        15_900,
        1299,
        30,
        ONE,
        NONE,
        "MFi 인증 USB-C to 라이트닝 케이블입니다.",
        "An MFi-certified USB-C to Lightning cable.",
    ),
    l(
        ACCESSORIES,
        "PWB",
        "VoltWorks",
        "보조배터리 {}",
        "Power Bank {}",
        29_000,
        2299,
        210,
        &[
            op("10K", "10000mAh", "10000 mAh", 29_000, 2299, 210),
            op("20K", "20000mAh 고속충전", "20000 mAh Fast-Charging", 49_000, 3799, 360),
            op("MAG5K", "5000mAh 마그네틱", "5000 mAh Magnetic", 39_000, 2999, 130),
        ],
        &["black", "white"],
        "기내 반입이 가능한 휴대용 보조배터리입니다.",
        "A portable battery that is fine for carry-on luggage.",
    ),
    l(
        ACCESSORIES,
        "WCS-3IN1",
        "VoltWorks",
        "3in1 무선 충전 스탠드",
        "3-in-1 Wireless Charging Stand",
        79_000,
        5999,
        420,
        ONE,
        NONE,
        "휴대폰, 이어폰, 워치를 한 번에 충전합니다.",
        "Charges a phone, earbuds and a watch at once.",
    ),
    l(
        ACCESSORIES,
        "WCP-15W",
        "VoltWorks",
        "15W 무선 충전 패드",
        "15 W Wireless Charging Pad",
        25_000,
        1999,
        90,
        ONE,
        NONE,
        "올려두기만 하면 충전되는 슬림 무선 충전 패드입니다.",
        "A slim pad: put your phone down and it charges.",
    ),
    l(
        ACCESSORIES,
        "CASE-CLR",
        "VoltWorks",
        "{} 투명 케이스",
        "Clear Case for {}",
        15_900,
        1299,
        35,
        PHONE_OPTS,
        NONE,
        "누렇게 변하지 않는 투명 범퍼 케이스입니다.",
        "A clear bumper case that resists yellowing.",
    ),
    l(
        ACCESSORIES,
        "GLS",
        "VoltWorks",
        "{} 강화유리 보호필름 2매",
        "Tempered Glass Screen Protector for {}, 2-pack",
        12_900,
        999,
        40,
        PHONE_OPTS,
        NONE,
        "가이드 프레임으로 쉽게 붙이는 9H 강화유리 필름입니다.",
        "9H tempered glass with an easy-align frame.",
    ),
    l(
        ACCESSORIES,
        "MNT-CAR",
        "VoltWorks",
        "차량용 송풍구 거치대",
        "Car Vent Phone Mount",
        19_900,
        1599,
        110,
        ONE,
        NONE,
        "한 손으로 끼우고 빼는 차량용 송풍구 거치대입니다.",
        "A one-handed phone mount for car air vents.",
    ),
    l(
        ACCESSORIES,
        "KBD-BT",
        "VoltWorks",
        "{} 블루투스 키보드",
        "{} Bluetooth Keyboard",
        59_000,
        4499,
        380,
        &[op("CMP", "콤팩트", "Compact", 59_000, 4499, 380), op("FULL", "풀사이즈", "Full-Size", 69_000, 5499, 560)],
        &["black", "white"],
        "기기 3대를 전환하며 쓰는 한/영 블루투스 키보드입니다.",
        "A Korean/English keyboard that switches between three devices.",
    ),
    l(
        ACCESSORIES,
        "MSE-SIL",
        "VoltWorks",
        "저소음 무선 마우스",
        "Silent Wireless Mouse",
        25_000,
        1999,
        80,
        ONE,
        &["black", "white", "pink"],
        "클릭 소리가 거의 없는 저소음 무선 마우스입니다.",
        "A wireless mouse with near-silent clicks.",
    ),
    // Phones and wearables
    l(
        PHONES,
        "NOVA5",
        "Pixelon",
        "노바 5 스마트폰 {}",
        "Nova 5 Smartphone, {}",
        999_000,
        79900,
        190,
        &[op("128", "128GB", "128 GB", 999_000, 79900, 190), op("256", "256GB", "256 GB", 1_149_000, 89900, 190)],
        &["black", "silver", "lavender"],
        "6.2인치 OLED와 5천만 화소 카메라를 갖춘 5G 스마트폰입니다.",
        "A 5G phone with a 6.2-inch OLED and a 50 MP camera.",
    ),
    l(
        PHONES,
        "NOVA5P",
        "Pixelon",
        "노바 5 플러스 스마트폰 {}",
        "Nova 5 Plus Smartphone, {}",
        1_349_000,
        99900,
        221,
        &[op("256", "256GB", "256 GB", 1_349_000, 99900, 221), op("512", "512GB", "512 GB", 1_549_000, 114900, 221)],
        &["black", "silver", "green"],
        "6.7인치 대화면과 5배 망원 카메라의 플래그십 스마트폰입니다.",
        "A flagship with a 6.7-inch screen and 5x telephoto camera.",
    ),
    l(
        PHONES,
        "ARIA-A3",
        "Pixelon",
        "아리아 A3 스마트폰 {}",
        "Aria A3 Smartphone, {}",
        399_000,
        29900,
        195,
        &[op("128", "128GB", "128 GB", 399_000, 29900, 195)],
        &["black", "white"],
        "이틀 가는 배터리의 실속형 스마트폰입니다.",
        "A value phone with a two-day battery.",
    ),
    l(
        PHONES,
        "ARIA-A5",
        "Pixelon",
        "아리아 A5 스마트폰 {}",
        "Aria A5 Smartphone, {}",
        549_000,
        42900,
        200,
        &[op("128", "128GB", "128 GB", 549_000, 42900, 200), op("256", "256GB", "256 GB", 619_000, 47900, 200)],
        &["black", "white", "sky-blue"],
        "120Hz 화면과 방수 기능을 갖춘 중급 스마트폰입니다.",
        "A mid-range phone with a 120 Hz screen and water resistance.",
    ),
    l(
        PHONES,
        "FLIP5",
        "Pixelon",
        "노바 플립 5 폴더블폰 {}",
        "Nova Flip 5 Foldable Phone, {}",
        1_399_000,
        104900,
        187,
        &[op("256", "256GB", "256 GB", 1_399_000, 104900, 187)],
        &["lavender", "black"],
        "주머니에 쏙 들어가는 플립형 폴더블폰입니다.",
        "A flip foldable that fits in any pocket.",
    ),
    l(
        PHONES,
        "WATCH",
        "Pixelon",
        "노바 워치 {}",
        "Nova Watch {}",
        299_000,
        22900,
        30,
        &[op("40", "40mm", "40 mm", 299_000, 22900, 30), op("44", "44mm", "44 mm", 329_000, 24900, 34)],
        &["black", "silver"],
        "심박수와 수면을 측정하는 스마트워치입니다.",
        "A smartwatch that tracks heart rate and sleep.",
    ),
    l(
        PHONES,
        "TAB11",
        "Pixelon",
        "노바 탭 11 태블릿 {}",
        "Nova Tab 11 Tablet, {}",
        599_000,
        44900,
        500,
        &[
            op("W128", "Wi-Fi 128GB", "Wi-Fi 128 GB", 599_000, 44900, 500),
            op("5G256", "5G 256GB", "5G 256 GB", 849_000, 64900, 505),
        ],
        &["grey", "silver"],
        "11인치 화면에 펜을 지원하는 태블릿입니다.",
        "An 11-inch tablet with stylus support.",
    ),
    // Home appliances
    l(
        HOME,
        "VAC-STK",
        "Gaon Home",
        "무선 청소기 {}",
        "Cordless Stick Vacuum {}",
        299_000,
        22900,
        2_600,
        &[op("STD", "", "", 299_000, 22900, 2_600), op("PRO", "프로", "Pro", 499_000, 37900, 2_900)],
        NONE,
        "한 번 충전으로 최대 60분 청소하는 무선 청소기입니다.",
        "A cordless vacuum with up to 60 minutes per charge.",
    ),
    l(
        HOME,
        "VAC-RBT",
        "Gaon Home",
        "로봇청소기 {}",
        "Robot Vacuum {}",
        399_000,
        30900,
        3_500,
        &[
            op("R5", "R5", "R5", 399_000, 30900, 3_500),
            op("R7", "R7 물걸레 겸용", "R7 with Mop Pads", 699_000, 53900, 4_100),
        ],
        NONE,
        "라이다 센서로 집 구조를 기억하는 로봇청소기입니다.",
        "A lidar robot vacuum that maps your home.",
    ),
    l(
        HOME,
        "AIR-PUR",
        "Gaon Home",
        "{} 공기청정기",
        "{} Air Purifier",
        159_000,
        11900,
        4_500,
        &[op("CMP", "소형", "Compact", 159_000, 11900, 4_500), op("LRG", "대형", "Large-Room", 349_000, 26900, 9_800)],
        NONE,
        "H13 헤파 필터로 초미세먼지를 걸러 줍니다.",
        "An H13 HEPA filter catches fine dust.",
    ),
    l(
        HOME,
        "KTL",
        "Gaon Home",
        "{} 전기포트 1.7L",
        "{} Electric Kettle 1.7 L",
        39_000,
        2999,
        1_200,
        &[
            op("STN", "스테인리스", "Stainless Steel", 39_000, 2999, 1_200),
            op("TMP", "온도조절", "Temperature-Control", 59_000, 4499, 1_300),
        ],
        NONE,
        "물때 걱정 없는 통스테인리스 내부의 전기포트입니다.",
        "A kettle with a seamless stainless-steel interior.",
    ),
    l(
        HOME,
        "FRY",
        "Gaon Home",
        "에어프라이어 {}",
        "Air Fryer {}",
        89_000,
        6999,
        4_800,
        &[
            op("55L", "5.5L", "5.5 L", 89_000, 6999, 4_800),
            op("OV12", "오븐형 12L", "12 L Oven-Style", 149_000, 11499, 7_500),
        ],
        NONE,
        "기름 없이 바삭하게 조리하는 에어프라이어입니다.",
        "Crisps food with little or no oil.",
    ),
    l(
        HOME,
        "RCK-IH",
        "Gaon Home",
        "IH 전기압력밥솥 {}",
        "IH Electric Pressure Rice Cooker, {}",
        259_000,
        19900,
        5_200,
        &[op("6", "6인용", "6-Cup", 259_000, 19900, 5_200), op("10", "10인용", "10-Cup", 329_000, 24900, 6_800)],
        NONE,
        "IH 압력으로 찰진 밥을 짓는 전기밥솥입니다.",
        "Induction pressure cooking for perfectly sticky rice.",
    ),
    l(
        HOME,
        "HUM",
        "Gaon Home",
        "{} 가습기",
        "{} Humidifier",
        49_000,
        3999,
        1_400,
        &[op("ULT", "초음파", "Ultrasonic", 49_000, 3999, 1_400), op("STM", "가열식", "Steam", 79_000, 5999, 2_100)],
        NONE,
        "세척이 쉬운 통세척 구조의 가습기입니다.",
        "A humidifier with an easy-to-clean open tank.",
    ),
    l(
        HOME,
        "FAN-CIR",
        "Gaon Home",
        "저소음 서큘레이터",
        "Quiet Air Circulator Fan",
        69_000,
        5499,
        2_800,
        ONE,
        &["white", "grey"],
        "BLDC 모터로 조용하고 전기료가 적게 드는 서큘레이터입니다.",
        "A quiet, efficient circulator with a BLDC motor.",
    ),
    l(
        HOME,
        "BLB",
        "Gaon Home",
        "스마트 LED 전구 {}",
        "Smart LED Bulb, {}",
        12_900,
        999,
        60,
        &[op("1", "1개", "Single", 12_900, 999, 60), op("4P", "4개입", "4-pack", 39_900, 2999, 250)],
        NONE,
        "앱과 음성으로 밝기와 색을 바꾸는 스마트 전구입니다.",
        "Change brightness and colour by app or voice.",
    ),
    l(
        HOME,
        "PLG",
        "Gaon Home",
        "Wi-Fi 스마트 플러그 {}",
        "Wi-Fi Smart Plug, {}",
        14_900,
        1199,
        80,
        &[op("1", "1개", "Single", 14_900, 1199, 80), op("2P", "2개입", "2-pack", 25_900, 1999, 170)],
        NONE,
        "전력 사용량을 확인하고 예약 끄기를 할 수 있는 스마트 플러그입니다.",
        "Schedule power and see energy use from your phone.",
    ),
    l(
        HOME,
        "DHM",
        "Gaon Home",
        "제습기 16L",
        "16 L Dehumidifier",
        289_000,
        21900,
        13_500,
        ONE,
        NONE,
        "장마철 빨래 건조에 좋은 16L 제습기입니다.",
        "A 16 L dehumidifier that also dries laundry.",
    ),
    l(
        HOME,
        "MWO",
        "Gaon Home",
        "전자레인지 23L",
        "23 L Microwave Oven",
        129_000,
        9900,
        12_000,
        ONE,
        NONE,
        "버튼 하나로 데우는 심플한 전자레인지입니다.",
        "A simple one-touch microwave.",
    ),
    l(
        HOME,
        "STM-HND",
        "Gaon Home",
        "핸디형 스팀다리미",
        "Handheld Garment Steamer",
        59_000,
        4499,
        1_100,
        ONE,
        NONE,
        "옷을 건 채로 주름을 펴는 핸디형 스팀다리미입니다.",
        "Removes wrinkles from hanging clothes.",
    ),
];

// ---------------------------------------------------------------------------------------------------------
// Catalog assembly
// ---------------------------------------------------------------------------------------------------------

/// Rounds won to the nearest 100.
fn round100(krw: i64) -> i64 {
    (krw + 50) / 100 * 100
}

/// Fills `{}` in a title template and tidies the spacing an empty option leaves.
fn fill(template: &str, word: &str) -> String {
    let s = template.replacen("{}", word, 1);
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.trim_end_matches([',', ' ']).replace(" ,", ",")
}

/// A handle from an English title: lowercase a–z, 0–9 and single dashes.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    out.chars().take(120).collect::<String>().trim_end_matches('-').to_owned()
}

fn sku(parts: &[&str]) -> String {
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("-")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Hands out GTIN-13s: `880` (GS1 Korea), a four-digit company number per vendor and a running item number.
struct Gtins {
    next: u32,
}

impl Gtins {
    fn next(&mut self, vendor: &str) -> String {
        self.next += 1;
        let company = 1000 + fnv1a(vendor.as_bytes()) % 9000;
        let body = format!("880{company:04}{:05}", self.next);
        let check = gtin_check_digit(&body);
        format!("{body}{check}")
    }
}

fn prices(krw: i64, usd: i64) -> Vec<PriceInput> {
    let mut v = vec![PriceInput { currency: "KRW".into(), amount_minor: round100(krw) }];
    if usd > 0 {
        v.push(PriceInput { currency: "USD".into(), amount_minor: usd });
    }
    v
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn garment_products(gtins: &mut Gtins, out: &mut Vec<ProductInput>) {
    for gm in GARMENTS {
        let shoes = gm.cat == SHOES;
        for key in gm.colours {
            let (value, ccode, cko, cen) = colour(key);
            let sizes = if shoes { SHOE_SIZES } else { CLOTHING_SIZES };
            let variants = sizes
                .iter()
                .enumerate()
                .map(|(i, size)| {
                    let weight_g = if shoes {
                        gm.weight_g + (i as i64 - 2) * 30
                    } else {
                        gm.weight_g * (90 + 10 * i as i64) / 100
                    };
                    VariantInput {
                        sku: sku(&[gm.code, ccode, size]),
                        gtin: Some(gtins.next(gm.vendor)),
                        weight_g,
                        attributes: attrs(&[("size", size), ("color", value)]),
                        prices: prices(gm.krw, gm.usd),
                    }
                })
                .collect();
            let en = format!("{}, {cen}", gm.en);
            let size_ko = if shoes { "사이즈 240–280mm." } else { "사이즈 S–XL." };
            let size_en = if shoes { "Sizes 240–280 mm." } else { "Sizes S–XL." };
            out.push(ProductInput {
                handle: slug(&en),
                title_ko: format!("{} {cko}", gm.ko),
                title_en: en,
                description_ko: format!("{} 색상: {cko}. {size_ko}", gm.desc_ko),
                description_en: format!("{} Colour: {cen}. {size_en}", gm.desc_en),
                category: gm.cat.into(),
                vendor: gm.vendor.into(),
                status: None,
                variants,
            });
        }
    }
}

fn line_products(lines: &[Line], gtins: &mut Gtins, out: &mut Vec<ProductInput>) {
    for ln in lines {
        for opt in ln.opts {
            let krw = if opt.krw > 0 { opt.krw } else { ln.krw };
            let usd = if opt.usd > 0 { opt.usd } else { ln.usd };
            let weight_g = if opt.weight_g > 0 { opt.weight_g } else { ln.weight_g };
            let variants = if ln.colours.is_empty() {
                vec![VariantInput {
                    sku: sku(&[ln.code, opt.code]),
                    gtin: Some(gtins.next(ln.vendor)),
                    weight_g,
                    attributes: BTreeMap::new(),
                    prices: prices(krw, usd),
                }]
            } else {
                ln.colours
                    .iter()
                    .map(|key| {
                        let (value, ccode, _, _) = colour(key);
                        VariantInput {
                            sku: sku(&[ln.code, opt.code, ccode]),
                            gtin: Some(gtins.next(ln.vendor)),
                            weight_g,
                            attributes: attrs(&[("color", value)]),
                            prices: prices(krw, usd),
                        }
                    })
                    .collect()
            };
            let en = fill(ln.en, opt.en);
            out.push(ProductInput {
                handle: slug(&en),
                title_ko: fill(ln.ko, opt.ko),
                title_en: en,
                description_ko: ln.desc_ko.into(),
                description_en: ln.desc_en.into(),
                category: ln.cat.into(),
                vendor: ln.vendor.into(),
                status: None,
                variants,
            });
        }
    }
}

fn ramen_products(gtins: &mut Gtins, out: &mut Vec<ProductInput>) {
    for &(code, ko, en, vendor, mp_krw, mp_usd, desc_ko, desc_en) in RAMEN_KINDS {
        for &(fcode, fko, fen, weight_g) in RAMEN_FORMATS {
            let (krw, usd) = match fcode {
                "MP5" => (mp_krw, mp_usd),
                "CUP" => (round100(mp_krw * 13 / 50), 0),
                // Boxes are too heavy to ship abroad at a sensible price; only multipacks cross borders.
                _ => (round100(mp_krw * 8 * 9 / 10), 0),
            };
            let title_en = format!("{en} {fen}");
            out.push(ProductInput {
                handle: slug(&title_en),
                title_ko: format!("{ko} {fko}"),
                title_en,
                description_ko: desc_ko.into(),
                description_en: desc_en.into(),
                category: RAMEN.into(),
                vendor: vendor.into(),
                status: None,
                variants: vec![VariantInput {
                    sku: sku(&["RMN", code, fcode]),
                    gtin: Some(gtins.next(vendor)),
                    weight_g,
                    attributes: BTreeMap::new(),
                    prices: prices(krw, usd),
                }],
            });
        }
    }
}

/// The seller's search synonyms the demo starts with: its brands' Korean names, so that shoppers (and the
/// assistant) find "소리오디오" as Sori Audio.
pub fn synonyms() -> Vec<Vec<String>> {
    [
        &["Sori Audio", "소리오디오", "소리 오디오"][..],
        &["VoltWorks", "볼트웍스"],
        &["Stride Lab", "스트라이드랩", "스트라이드 랩"],
        &["Pixelon", "픽셀론"],
        &["Mood Seoul", "무드서울", "무드 서울"],
        &["Namsan Outdoor", "남산아웃도어", "남산 아웃도어"],
        &["Hangang Basics", "한강베이직스", "한강 베이직스"],
        &["Gaon Home", "가온홈", "가온 홈"],
        &["Clean Day", "클린데이", "클린 데이"],
        &["Dasom Confectionery", "다솜제과", "다솜"],
        &["Gold Noodle", "골드누들", "골드 누들"],
        &["Hanbit Foods", "한빛식품", "한빛 식품"],
        &["Hanbit Fresh Market", "한빛신선마켓", "한빛 신선마켓"],
        &["Hanwoo House", "한우하우스", "한우 하우스"],
        &["Jeju Farm", "제주팜", "제주 팜"],
        &["Jeju Spring", "제주스프링", "제주 스프링"],
        &["Morning Roasters", "모닝로스터스", "모닝 로스터스"],
    ]
    .iter()
    .map(|g| g.iter().map(|w| w.to_string()).collect())
    .collect()
}

/// The demo catalog: apparel, grocery and electronics, in a fixed order.
pub fn products() -> Vec<ProductInput> {
    let mut gtins = Gtins { next: 0 };
    let mut out = Vec::with_capacity(256);
    garment_products(&mut gtins, &mut out);
    line_products(GROCERY, &mut gtins, &mut out);
    ramen_products(&mut gtins, &mut out);
    line_products(ELECTRONICS, &mut gtins, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------------------
// Stock
// ---------------------------------------------------------------------------------------------------------

/// splitmix64: a tiny, well-mixed deterministic generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(sku: &str, location: &str) -> Self {
        SplitMix64(fnv1a(sku.as_bytes()) ^ fnv1a(location.as_bytes()).rotate_left(17))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// Accessories the cashierless store carries next to its groceries.
const GRAB_AND_GO_ACCESSORIES: &[&str] = &["CHG-20W", "CBL-CC-1M", "CBL-CL", "PWB-10K-BLK", "PWB-10K-WHT"];

/// Deterministic, uneven stock for the given products: most units in the warehouse, fewer (sometimes none) in
/// each store, and groceries plus a few accessories in the cashierless store. Only positive quantities.
pub fn stock(products: &[ProductInput]) -> Vec<DemoStock> {
    let mut out = Vec::new();
    let mut push = |sku: &str, location: &str, quantity: i64| {
        if quantity > 0 {
            out.push(DemoStock { sku: sku.to_owned(), location_code: location.to_owned(), quantity });
        }
    };
    for p in products {
        let cat = p.category.as_str();
        let grocery = cat.starts_with("grocery/");
        for v in &p.variants {
            let sku = v.sku.as_str();

            let mut r = SplitMix64::new(sku, WAREHOUSE);
            let wh = match cat {
                PHONES => r.range(20, 80),
                HOME => r.range(20, 120),
                FRESH => r.range(20, 150),
                _ => r.range(20, 300),
            };
            push(sku, WAREHOUSE, wh);

            // Stores: Hongdae sells out most often and skews to apparel and gadgets; Busan carries more
            // groceries and fewer coats; Gangnam is the best-stocked.
            for (store, zero_pct, max) in [(GANGNAM, 15, 25), (HONGDAE, 35, 20), (SEOMYEON, 25, 25)] {
                let mut r = SplitMix64::new(sku, store);
                let mut max = max;
                if store == SEOMYEON && cat == OUTER {
                    max = 8;
                }
                if store == HONGDAE && grocery {
                    max = 10;
                }
                if matches!(cat, PHONES | HOME) {
                    max = max.min(6);
                }
                let q = if r.chance(zero_pct) { 0 } else { r.range(1, max) };
                push(sku, store, q);
            }

            let grab_and_go = (grocery && !sku.ends_with("-BOX")) || GRAB_AND_GO_ACCESSORIES.contains(&sku);
            if grab_and_go {
                let mut r = SplitMix64::new(sku, CASHIERLESS);
                push(sku, CASHIERLESS, r.range(5, 40));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------------------------

/// Five demo shoppers; all use the password [`DEMO_PASSWORD`].
pub fn customers() -> Vec<DemoCustomer> {
    [
        ("minji.kim@example.com", "010-2345-6789", "김민지 (Minji Kim)", "ko"),
        ("junho.lee@example.com", "010-3456-7812", "이준호 (Junho Lee)", "ko"),
        ("seoyeon.park@example.com", "010-4821-3390", "박서연 (Seoyeon Park)", "ko"),
        ("daniel.choi@example.com", "010-5174-2046", "최다니엘 (Daniel Choi)", "en"),
        ("emily.johnson@example.com", "010-7712-0583", "에밀리 존슨 (Emily Johnson)", "en"),
    ]
    .into_iter()
    .map(|(email, phone, name, locale)| DemoCustomer {
        email: email.into(),
        phone: phone.into(),
        name: name.into(),
        locale: locale.into(),
        password: DEMO_PASSWORD.into(),
    })
    .collect()
}

/// The shoppers who walk through the live cashierless store (GO-SEONGSU): accounts of their own, so that
/// their entry holds never touch the wallets of the members the README's walk-throughs use.
pub fn store_visitors() -> Vec<DemoCustomer> {
    (1..=8)
        .map(|i| DemoCustomer {
            email: format!("visitor{i}@seongsu.example.com"),
            phone: format!("010-9000-{:04}", 1000 + i),
            name: format!("성수 방문객 {i} (Seongsu visitor {i})"),
            locale: if i % 2 == 0 { "en" } else { "ko" }.into(),
            password: DEMO_PASSWORD.into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn all_variants(ps: &[ProductInput]) -> impl Iterator<Item = (&ProductInput, &VariantInput)> {
        ps.iter().flat_map(|p| p.variants.iter().map(move |v| (p, v)))
    }

    #[test]
    fn catalog_is_large_and_valid() {
        let ps = products();
        assert!(ps.len() >= 200, "only {} products", ps.len());
        for p in &ps {
            if let Err(e) = engine::catalog::products::validate(p.clone()) {
                panic!("product `{}` is invalid: {e}", p.handle);
            }
            assert!(p.status.is_none());
            assert!(!p.vendor.is_empty() && !p.description_ko.is_empty() && !p.description_en.is_empty());
        }
    }

    #[test]
    fn handles_skus_and_gtins_are_unique_and_well_formed() {
        let ps = products();
        let mut handles = HashSet::new();
        for p in &ps {
            assert!(p.handle.len() <= 120 && !p.handle.is_empty());
            assert!(p.handle.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{}", p.handle);
            assert!(handles.insert(p.handle.clone()), "duplicate handle {}", p.handle);
        }
        let mut skus = HashSet::new();
        let mut gtins = HashSet::new();
        for (_, v) in all_variants(&ps) {
            assert!(v.sku.len() <= 64);
            assert!(v.sku.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'), "{}", v.sku);
            assert!(skus.insert(v.sku.clone()), "duplicate SKU {}", v.sku);
            let g = v.gtin.clone().expect("every demo variant has a GTIN");
            assert_eq!(g.len(), 13);
            assert!(g.starts_with("880"));
            domain::stock::validate_gtin(&g).unwrap();
            assert!(gtins.insert(g.clone()), "duplicate GTIN {g}");
        }
    }

    #[test]
    fn categories_and_prices_are_realistic() {
        let ps = products();
        for top in ["apparel/", "grocery/", "electronics/"] {
            let n = ps.iter().filter(|p| p.category.starts_with(top)).count();
            assert!(n >= 40, "{top} has only {n} products");
        }
        let with_usd =
            ps.iter().filter(|p| p.variants.iter().all(|v| v.prices.iter().any(|x| x.currency == "USD"))).count();
        let share = with_usd * 100 / ps.len();
        assert!((55..=68).contains(&share), "{share}% of products have a USD price");
        for p in &ps {
            let cross_border = p.category.starts_with("apparel/") || p.category.starts_with("electronics/");
            for v in &p.variants {
                let krw = v.prices.iter().find(|x| x.currency == "KRW").expect("KRW price").amount_minor;
                assert!(krw > 0 && krw % 100 == 0, "{} costs {krw} won", v.sku);
                let usd = v.prices.iter().any(|x| x.currency == "USD");
                if cross_border {
                    assert!(usd, "{} lacks a USD price", v.sku);
                }
                if p.category == FRESH {
                    assert!(!usd, "fresh {} has a USD price", v.sku);
                }
                assert!(v.weight_g > 0);
                if p.category.starts_with("apparel/") {
                    assert!(v.attributes.contains_key("size") && v.attributes.contains_key("color"));
                }
            }
        }
        let tee = all_variants(&ps).find(|(_, v)| v.sku == "TEE-OVR-BLK-M").expect("TEE-OVR-BLK-M").1;
        assert_eq!(tee.attributes.get("color").map(String::as_str), Some("black"));
        assert_eq!(tee.attributes.get("size").map(String::as_str), Some("M"));
    }

    #[test]
    fn locations_are_the_five_demo_sites() {
        let locs = locations();
        assert_eq!(locs.len(), 5);
        let kinds: Vec<_> = locs.iter().map(|l| l.kind.as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "store").count(), 3);
        assert_eq!(kinds.iter().filter(|k| **k == "warehouse").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "cashierless").count(), 1);
        for l in &locs {
            assert_eq!(l.address.country, "KR");
            assert!(l.lat.is_some() && l.lon.is_some());
            assert_eq!(l.pickup_enabled, l.kind == "store");
        }
    }

    #[test]
    fn stock_is_deterministic_uneven_and_at_known_locations() {
        let ps = products();
        let rows = stock(&ps);
        assert_eq!(rows, stock(&ps));
        let codes: HashSet<String> = locations().into_iter().map(|l| l.code).collect();
        let cat_of: HashMap<&str, &str> =
            all_variants(&ps).map(|(p, v)| (v.sku.as_str(), p.category.as_str())).collect();
        let mut have = HashSet::new();
        for r in &rows {
            assert!(codes.contains(&r.location_code), "unknown location {}", r.location_code);
            assert!(r.quantity > 0);
            assert!(have.insert((r.sku.clone(), r.location_code.clone())), "duplicate row");
            let cat = cat_of[r.sku.as_str()];
            match r.location_code.as_str() {
                WAREHOUSE => assert!((20..=300).contains(&r.quantity)),
                CASHIERLESS => {
                    assert!((5..=40).contains(&r.quantity));
                    assert!(cat.starts_with("grocery/") || cat == ACCESSORIES, "{} at GO", r.sku);
                }
                _ => assert!((1..=25).contains(&r.quantity)),
            }
        }
        let skus: Vec<&str> = cat_of.keys().copied().collect();
        for s in &skus {
            assert!(have.contains(&(s.to_string(), WAREHOUSE.to_string())), "{s} missing from the warehouse");
        }
        let missing = |store: &str| skus.iter().filter(|s| !have.contains(&(s.to_string(), store.to_string()))).count();
        assert!(missing(HONGDAE) > 0, "something must be out of stock at Hongdae");
        assert!(missing(GANGNAM) > 0 && missing(SEOMYEON) > 0);
        assert!(rows.iter().any(|r| r.location_code == CASHIERLESS && cat_of[r.sku.as_str()] == ACCESSORIES));
        let busan: Vec<_> = rows.iter().filter(|r| r.location_code == SEOMYEON).map(|r| (&r.sku, r.quantity)).collect();
        let gangnam: Vec<_> =
            rows.iter().filter(|r| r.location_code == GANGNAM).map(|r| (&r.sku, r.quantity)).collect();
        assert_ne!(busan, gangnam);
    }

    #[test]
    fn customers_are_bilingual() {
        let cs = customers();
        assert_eq!(cs.len(), 5);
        for c in &cs {
            assert!(c.email.ends_with("@example.com"));
            assert!(domain::text::email(&c.email).is_ok() && domain::text::phone(&c.phone).is_ok());
            assert!(c.phone.starts_with("010-"));
            assert!(matches!(c.locale.as_str(), "ko" | "en"));
            assert_eq!(c.password, "borderless-demo");
            assert!(c.name.contains('(') && c.name.contains(')'));
        }
    }
}
