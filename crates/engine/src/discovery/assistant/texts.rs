//! What the assistant says, in Korean and English: category and colour names, prices, and the sentences of
//! each kind of answer. Every figure in a sentence comes from the caller (read from the catalog and stock
//! at that moment); nothing here invents one.

use super::{AssistantProduct, Ctx, Question};
use assistant::Understood;

/// A category path's name for shoppers (its leaf), in the reply's language.
pub fn category(path: &str, ko: bool) -> String {
    let leaf = path.rsplit('/').next().unwrap_or(path);
    let (k, e) = match leaf {
        "audio" => ("이어폰·헤드폰", "earphones & headphones"),
        "phones" => ("휴대폰", "phones"),
        "accessories" => ("충전기·케이블 같은 액세서리", "chargers & accessories"),
        "home" => ("생활가전", "home appliances"),
        "shoes" => ("운동화", "shoes"),
        "bottoms" => ("바지", "trousers & jeans"),
        "tops" => ("상의", "tops"),
        "outerwear" => ("아우터", "outerwear"),
        "ramen" => ("라면", "ramen"),
        "snacks" => ("과자", "snacks"),
        "beverages" => ("음료", "drinks"),
        "fresh" => ("신선식품", "fresh food"),
        "household" => ("생활용품", "household goods"),
        "apparel" => ("의류", "clothing"),
        "electronics" => ("전자제품", "electronics"),
        "grocery" => ("식품", "groceries"),
        other => (other, other),
    };
    if ko { k } else { e }.to_owned()
}

/// A colour value's name.
pub fn colour(value: &str, ko: bool) -> String {
    let k = match value {
        "black" => "블랙",
        "white" => "화이트",
        "navy" => "네이비",
        "grey" => "그레이",
        "red" => "레드",
        "blue" => "블루",
        "beige" => "베이지",
        "pink" => "핑크",
        "silver" => "실버",
        "green" => "그린",
        "brown" => "브라운",
        "ivory" => "아이보리",
        "khaki" => "카키",
        "cream" => "크림색",
        "charcoal" => "차콜",
        "camel" => "카멜",
        "burgundy" => "버건디",
        "indigo" => "인디고",
        "olive" => "올리브",
        "oatmeal" => "오트밀",
        "sky-blue" => "하늘색",
        "light-blue" => "연청",
        "lavender" => "라벤더",
        other => other,
    };
    if ko {
        k.to_owned()
    } else {
        value.replace('-', " ")
    }
}

/// An amount as shoppers read it: "12,900원" / "₩12,900", "$24.99".
pub fn money(minor: i64, currency: &str, ko: bool) -> String {
    match currency {
        "KRW" if ko => format!("{}원", domain::money::format_krw(minor)),
        "KRW" => format!("₩{}", domain::money::format_krw(minor)),
        "USD" => format!("${}.{:02}", minor / 100, minor % 100),
        other => format!("{minor} {other}"),
    }
}

/// A price bound said back: "10만원 이하" style, from the bound the shopper gave.
pub fn bounds(b: &assistant::PriceBounds, ko: bool) -> String {
    let m = |v: i64| money(v, &b.currency, ko);
    match (b.min_minor, b.max_minor) {
        (Some(lo), Some(hi)) if ko => format!("{}~{}", m(lo), m(hi)),
        (Some(lo), Some(hi)) => format!("{}–{}", m(lo), m(hi)),
        (None, Some(hi)) if ko => format!("{} 이하", m(hi)),
        (None, Some(hi)) => format!("up to {}", m(hi)),
        (Some(lo), None) if ko => format!("{} 이상", m(lo)),
        (Some(lo), None) => format!("from {}", m(lo)),
        (None, None) => String::new(),
    }
}

/// An order status in words.
pub fn order_status(status: &str, fulfillment: &str, ko: bool) -> &'static str {
    // The order states of `domain::OrderStatus`; "placed" says nothing of payment (it may be paid at pickup).
    match (status, fulfillment, ko) {
        ("placed", "pickup", true) => "매장에서 준비 중이에요",
        ("placed", "pickup", false) => "being prepared at the store",
        ("placed", _, true) => "주문을 받아 출고를 준비하고 있어요",
        ("placed", _, false) => "received and being prepared for shipping",
        ("ready_for_pickup", _, true) => "매장에서 찾아가실 수 있어요",
        ("ready_for_pickup", _, false) => "ready to collect at the store",
        ("shipped", _, true) => "배송 중이에요",
        ("shipped", _, false) => "on its way",
        ("picked_up" | "completed", _, true) => "받으신 주문이에요",
        ("picked_up" | "completed", _, false) => "collected or bought",
        ("cancelled", _, true) => "취소된 주문이에요",
        ("cancelled", _, false) => "cancelled",
        ("expired", _, true) => "찾아가지 않아 만료된 주문이에요",
        ("expired", _, false) => "expired (not collected in time)",
        (_, _, true) => "처리 중이에요",
        (_, _, false) => "in progress",
    }
}

pub const RETURNS_KO: &str =
    "반품은 온라인 주문이든 매장 구매든 가까운 어느 매장에서나 할 수 있어요. 주문번호(또는 영수증)와 \
     상품을 가져오시면 결제하신 수단으로 환불해 드리고, 원하시면 적립금으로 받으실 수도 있어요. 되팔 수 없는 상태의 \
     상품은 직원이 확인해요.";
pub const RETURNS_EN: &str =
    "You can return anything, bought online or in a store, at any of our stores. Bring the item \
     and your order number (or receipt): the refund goes back to how you paid, or to store credit if you prefer. \
     Staff check items that cannot be resold.";

pub const HANDOFF_KO: &str =
    "직원에게 대화를 넘겼어요. 이 창에서 직원의 답을 기다려 주세요. 매장 영업시간에는 보통 몇 분 안에 답해 드려요.";
pub const HANDOFF_EN: &str =
    "I've passed this conversation to our staff. Their answer will appear here; during store hours it usually takes a few minutes.";

pub const OUT_OF_SCOPE_KO: &str =
    "죄송해요, 그건 제가 도와드릴 수 없어요. 저는 상품 찾기, 재고와 픽업, 주문과 반품을 도와드려요. \
     예: \"강남역점에서 오늘 픽업할 수 있는 10만원 이하 무선 이어폰\"";
pub const OUT_OF_SCOPE_EN: &str =
    "Sorry, I can't help with that. I can find products, check stock and pickup, and help \
     with orders and returns. Try: \"wireless earbuds I can pick up today at Gangnam\".";

pub const SMALLTALK_KO: &str =
    "안녕하세요! 찾으시는 상품이나 예산, 픽업하실 매장을 말씀해 주세요. 예: \"5만원대 운동화\", \
     \"홍대점에 있는 블랙 후드티\"";
pub const SMALLTALK_EN: &str =
    "Hello! Tell me what you're looking for, your budget or the store you'd like to pick up \
     from. For example: \"black hoodie at Hongdae\" or \"sneakers size 270\".";

pub const FULL_KO: &str = "대화가 길어졌어요. 새 대화로 다시 물어봐 주세요.";
pub const FULL_EN: &str = "This conversation has grown long; please start a new one.";

/// The reply when the shopper wants to pick up near them and no store is known yet: what some store has now,
/// and the question which store.
pub(super) fn which_store_text(shown: usize, question: Option<&Question>, ko: bool) -> String {
    let q = question.map(|q| q.text.as_str()).unwrap_or_default();
    match (shown, ko) {
        (0, true) => format!("지금 매장에서 픽업할 수 있는 상품을 찾지 못했어요. {q}"),
        (0, false) => format!("I found none that a store has for pickup right now. {q}"),
        (n, true) => format!("오늘 저희 매장 중 한 곳 이상에서 픽업할 수 있는 상품 {n}개예요. {q}"),
        (n, false) => format!("{n} you can pick up today at one of our stores. {q}"),
    }
}

/// The reply when the words said matched nothing under the request's other conditions (a budget, a store, a
/// kind) and other products that meet those are shown instead: says so before `rest`, which describes them.
pub(super) fn words_unmatched_text(said: &str, rest: &str, ko: bool) -> String {
    if said.is_empty() {
        return rest.to_owned();
    }
    if ko {
        format!("'{said}'에 꼭 맞는 상품은 없어서, 나머지 조건에 맞는 다른 상품을 보여 드려요. {rest}")
    } else {
        format!("Nothing matched '{said}', so here are other products that meet the rest of what you asked. {rest}")
    }
}

pub(super) fn search_text(
    u: &Understood,
    products: &[AssistantProduct],
    total: usize,
    ctx: &Ctx<'_>,
    stores: Option<&[String]>,
    question: Option<&Question>,
) -> String {
    let ko = ctx.ko;
    let mut what: Vec<String> = Vec::new();
    if let Some(b) = &u.brand {
        what.push(b.clone());
    }
    if let Some(c) = u.attributes.get("color") {
        what.push(colour(c, ko));
    }
    if let Some(c) = &u.category {
        what.push(category(c, ko));
    } else if !u.words.is_empty() {
        what.push(format!("'{}'", u.words));
    }
    let what = if what.is_empty() {
        if ko {
            "상품".to_owned()
        } else {
            "products".to_owned()
        }
    } else {
        what.join(" ")
    };
    let price = u.price.as_ref().map(|b| bounds(b, ko)).filter(|s| !s.is_empty());
    let place = stores.and_then(|s| match s {
        [one] => {
            ctx.locations.iter().find(|l| &l.id == one).map(|l| if ko { l.name.ko.clone() } else { l.name.en.clone() })
        }
        [] => None,
        _ => Some(if ko { "가까운 매장".to_owned() } else { "a store near you".to_owned() }),
    });
    // The particles that follow the kind ("운동화는", "상품은"; "운동화예요", "상품이에요").
    let (eun, ieyo) = (
        domain::text::particle(&what, "은", "는", "은(는)"),
        domain::text::particle(&what, "이에요", "예요", "이에요"),
    );
    let mut s = if products.is_empty() {
        let mut t = match (&price, &place, ko) {
            (Some(p), Some(pl), true) => format!("{pl}에 지금 있는 {p} {what}{eun} 찾지 못했어요."),
            (None, Some(pl), true) => format!("{pl}에 지금 있는 {what}{eun} 찾지 못했어요."),
            (Some(p), None, true) => format!("{p} {what}{eun} 찾지 못했어요."),
            (None, None, true) => format!("{what}{eun} 찾지 못했어요."),
            (Some(p), Some(pl), false) => format!("I found no {what} {p} in stock at {pl} right now."),
            (None, Some(pl), false) => format!("I found no {what} in stock at {pl} right now."),
            (Some(p), None, false) => format!("I found no {what} {p}."),
            (None, None, false) => format!("I found no {what}."),
        };
        t.push_str(match (u.refine.as_deref(), ko) {
            (Some("cheaper"), true) => " 앞서 보여 드린 것이 가장 저렴해요.",
            (Some("cheaper"), false) => " What I showed is the cheapest.",
            (Some("pricier"), true) => " 앞서 보여 드린 것이 가장 비싼 제품이에요.",
            (Some("pricier"), false) => " What I showed is the most expensive.",
            (Some("other_brand"), true) => " 이 조건에서는 다른 브랜드 상품이 없어요.",
            (Some("other_brand"), false) => " No other brand has them with these conditions.",
            (_, true) => " 조건을 줄이거나 다른 매장을 말씀해 주세요.",
            (_, false) => " Try fewer conditions or another store.",
        });
        t
    } else {
        let n = products.len();
        match (&price, &place, ko) {
            (Some(p), Some(pl), true) => format!("{pl}에서 오늘 픽업할 수 있는 {p} {what}{ieyo} ({total}개 중 {n}개)."),
            (None, Some(pl), true) => format!("{pl}에서 오늘 픽업할 수 있는 {what}{ieyo} ({total}개 중 {n}개)."),
            (Some(p), None, true) => format!("{p} {what}{ieyo} ({total}개 중 {n}개)."),
            (None, None, true) => format!("{what}{ieyo} ({total}개 중 {n}개)."),
            (Some(p), Some(pl), false) => {
                format!("Here are {what} {p} you can pick up today at {pl} ({n} of {total}).")
            }
            (None, Some(pl), false) => format!("Here are {what} you can pick up today at {pl} ({n} of {total})."),
            (Some(p), None, false) => format!("Here are {what} {p} ({n} of {total})."),
            (None, None, false) => format!("Here are {what} ({n} of {total})."),
        }
    };
    if let Some(q) = question {
        s.push(' ');
        s.push_str(&q.text);
    }
    s
}

pub(super) fn compare_text(ps: &[AssistantProduct], ko: bool) -> String {
    let [a, b] = ps else {
        return if ko {
            "비교할 두 상품을 다시 찾아 주세요.".into()
        } else {
            "Please find the two products again.".into()
        };
    };
    let price = |p: &AssistantProduct| p.price.as_ref().map(|x| money(x.amount_minor, &x.currency, ko));
    let mut s = String::new();
    match (a.price.as_ref(), b.price.as_ref()) {
        (Some(x), Some(y)) if x.currency == y.currency => {
            let (cheap, dear) = if x.amount_minor <= y.amount_minor { (a, b) } else { (b, a) };
            let diff = (x.amount_minor - y.amount_minor).abs();
            let d = money(diff, &x.currency, ko);
            s = if diff == 0 {
                if ko {
                    format!("{}와(과) {}는 같은 값({})이에요.", a.title, b.title, price(a).unwrap_or_default())
                } else {
                    format!("{} and {} cost the same ({}).", a.title, b.title, price(a).unwrap_or_default())
                }
            } else if ko {
                format!(
                    "{}({})가 {}({})보다 {d} 저렴해요.",
                    cheap.title,
                    price(cheap).unwrap_or_default(),
                    dear.title,
                    price(dear).unwrap_or_default()
                )
            } else {
                format!(
                    "{} ({}) is {d} cheaper than {} ({}).",
                    cheap.title,
                    price(cheap).unwrap_or_default(),
                    dear.title,
                    price(dear).unwrap_or_default()
                )
            };
        }
        _ => {}
    }
    for p in [a, b] {
        s.push_str(&format!(" {}: {}.", p.title, p.availability));
    }
    s.trim().to_owned()
}
