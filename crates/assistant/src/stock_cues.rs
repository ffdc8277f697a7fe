//! The ways of asking about stock and pickup, in Korean and English: whether something is there, the store the
//! shopper is in, stock asked outright, and asking to collect something.

/// Availability cues that ask whether something is there (not "can I pick up earbuds", which is a search).
pub(crate) const STOCK_QUESTION: &[&str] = &[
    "do you have",
    "any left",
    "남았",
    "pick up the",
    "get the",
    "have the",
    "재고도",
    "있어요",
    "있나요",
    "있어?",
    "있습니까",
    "재고",
    "in stock",
    "available",
    "픽업 돼",
    "픽업돼",
    "픽업되",
    "픽업가능",
    "있을까",
    "픽업 되",
    "픽업 가능",
    "get one at",
    "get it at",
    "pick it up",
    "store have",
    "got any",
    "have it",
    "grab it",
    "shop have",
    "have any",
    "is there any",
    "are there any",
    "any at ",
    "are they at",
    "is it at",
    "are those at",
    "is that at",
    "있으면",
    "있는 데",
    "있는 곳",
    "있음",
    "could i pick",
    "pick those up",
    "can i get those",
    "있나",
    "남아있",
    "남아 있",
    "살 수 있죠",
    "살 수 있나",
    "get one at",
    "get one around",
    "get one near",
    "got it there",
    "have it there",
    "있죠",
    "들어왔",
    // "여기 김치 팔아요?": does the shop sell it (there). ("do you sell backpacks" asks what the shop carries.)
    "팔아요",
    "파나요",
    "팔아?",
    "팔죠",
    "팔고 있",
    "do they have",
    // Polite and indirect: "서면 지점에 … 있을는지요", "있으실까요", "있으려나요".
    "있을는지",
    "있으실까",
    "있으려나",
    // "is hongdae stocking it", "does gangnam stock them".
    "stocking it",
    "stocking them",
    "stocking the",
    // "is the olive one on the shelf at seomyeon", "does hongdae have that one".
    "on the shelf",
    "on the shelves",
    "have that one",
    "have those",
    "have them",
    "stock it",
    "stock them",
    "stock those",
    // Chat forms: "gangnam got em?", "any shop nearby have em", "does hongdae have one".
    "got em",
    "have em",
    "have one",
    "has one",
];

/// Words for the store the shopper is in.
pub(crate) const HERE: &[&str] = &["여기서", "여기에", "여기", "이 매장", "이 지점", "this store", "this shop", "here"];

/// Cues that ask about stock whatever else is said ("is the M size still in stock?").
pub(crate) const STRONG_STOCK: &[&str] = &[
    "in stock",
    "재고",
    "available",
    "남았",
    "any left",
    "still have",
    "sold out",
    "품절",
    "pick it up",
    "pick them up",
    "grab it",
    "get it today",
    "get it at",
    "left at",
    "left in",
    "still left",
    "남아있",
    "남아 있",
];

/// Cues that ask to collect something ("can I pick up …", "받을 수 있어요?"): availability when they name a
/// store or follow products shown, else a search.
pub(crate) const PICKUP_QUESTION: &[&str] = &["can i pick", "can i get it", "받을 수 있", "가져갈 수 있"];

/// Every availability cue: the stock questions and the pickup questions.
pub(crate) fn availability_cues() -> impl Iterator<Item = &'static &'static str> {
    STOCK_QUESTION.iter().chain(PICKUP_QUESTION)
}
