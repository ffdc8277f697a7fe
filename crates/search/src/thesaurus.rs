//! The shop's own everyday vocabulary, Korean ↔ English, applied beside every seller's synonym list: the
//! words shoppers type for what catalogs title otherwise ("운동화" for 스니커즈, "청바지" for 데님 팬츠,
//! "earbuds" for 이어폰). A Korean word finds every word of its group; an English word finds only the
//! group's Korean words, so English-only catalogs rank exactly as without it.

/// Groups of words for one kind of product. Korean words first, then English. Words of one syllable are
/// left out (too many other words contain them), and so are words catalogs mostly use to say what a product
/// goes with rather than what it is ("laptop": chargers "for laptops" are not laptops; the index holds
/// English descriptions).
pub const GROUPS: &[&[&str]] = &[
    // Shoes
    &["운동화", "스니커즈", "스니커", "러닝화", "런닝화", "sneakers", "sneaker", "trainers"],
    &["신발", "슈즈", "shoes", "footwear"],
    &["샌들", "sandals"],
    &["슬리퍼", "slippers"],
    &["부츠", "워커", "boots"],
    // Clothing
    &["청바지", "데님", "진바지", "jeans", "denim"],
    &["바지", "팬츠", "슬랙스", "pants", "trousers", "slacks"],
    &["반바지", "숏팬츠", "shorts"],
    &["치마", "스커트", "skirt"],
    &["원피스", "드레스", "dress"],
    &["티셔츠", "반팔티", "긴팔티", "tee", "t-shirt"],
    &["셔츠", "남방", "shirt"],
    &["맨투맨", "스웨트셔츠", "sweatshirt"],
    &["후드티", "후드", "후디", "hoodie"],
    &["니트", "스웨터", "sweater", "knit"],
    &["가디건", "카디건", "cardigan"],
    &["자켓", "재킷", "점퍼", "jacket"],
    &["코트", "coat"],
    &["패딩", "다운자켓", "puffer", "padded"],
    &["양말", "socks"],
    &["모자", "캡모자", "볼캡", "cap", "hat"],
    &["레깅스", "leggings"],
    &["속옷", "underwear"],
    &["잠옷", "파자마", "pajamas"],
    &["장갑", "gloves"],
    &["목도리", "머플러", "스카프", "scarf", "muffler"],
    &["선글라스", "sunglasses"],
    &["우산", "umbrella"],
    // Bags
    &["가방", "백팩", "배낭", "bag", "backpack"],
    &["지갑", "wallet"],
    // Electronics
    &["이어폰", "이어버드", "무선이어폰", "earphones", "earbuds"],
    &["노캔", "노이즈캔슬링", "noise-cancelling", "noise-canceling"],
    &["헤드폰", "헤드셋", "headphones", "headset"],
    &["스피커", "speaker"],
    &["충전기", "어댑터", "charger", "adapter"],
    &["보조배터리", "powerbank"],
    &["케이블", "충전선", "cable"],
    &["태블릿", "tablet"],
    &["휴대폰", "핸드폰", "스마트폰", "smartphone", "phone"],
    &["키보드", "keyboard"],
    &["마우스", "mouse"],
    &["모니터", "monitor"],
    &["스마트워치", "시계", "smartwatch", "watch"],
    &["카메라", "camera"],
    // Home appliances and household goods
    &["에어프라이어", "airfryer", "fryer"],
    &["밥솥", "전기밥솥", "cooker"],
    &["전기포트", "주전자", "kettle"],
    &["청소기", "vacuum"],
    &["선풍기", "fan"],
    &["가습기", "humidifier"],
    &["휴지", "화장지", "두루마리", "tissue"],
    &["세제", "detergent"],
    &["샴푸", "shampoo"],
    &["치약", "toothpaste"],
    &["칫솔", "toothbrush"],
    &["수건", "타월", "towel"],
    &["이불", "blanket", "duvet"],
    &["베개", "pillow"],
    &["텀블러", "tumbler"],
    &["머그", "머그컵", "mug"],
    // Food
    &["커피", "coffee"],
    &["라면", "ramen", "noodles"],
    &["생수", "water"],
    &["우유", "milk"],
    &["계란", "달걀", "유정란", "eggs"],
    &["과자", "스낵", "snack", "snacks"],
    &["초콜릿", "초콜렛", "chocolate"],
    &["감귤", "tangerines", "tangerine", "mandarins", "mandarin"],
    &["딸기", "strawberries", "strawberry", "strawbs"],
    &["물티슈", "wipes"],
];

/// Whether a word is written in Hangul (and so expands to its whole group).
pub fn is_korean(word: &str) -> bool {
    word.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_group_pairs_korean_with_english_and_no_word_is_one_syllable() {
        for g in super::GROUPS {
            assert!(g.iter().any(|w| super::is_korean(w)) && g.iter().any(|w| !super::is_korean(w)), "{g:?}");
            for w in *g {
                assert!(!(super::is_korean(w) && w.chars().count() < 2), "{w}");
            }
        }
    }
}
