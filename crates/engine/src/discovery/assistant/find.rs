//! Answers that search: find, refine, gift and availability, with the slots, live stock and pickup filters,
//! relative refinements ("더 싼 거") from what was shown, and the one clarifying question a broad request gets.

use super::conversations::{Conversation, Shown};
use super::items::{describe, load_products, titles};
use super::texts::search_text;
use super::{texts, Answer, Ctx, Question, Turn, SHOWN};
use crate::catalog::locations::LocationView;
use crate::discovery::product_search::{SearchQuery, SearchView};
use crate::{Engine, Result};
use assistant::{PriceBounds, Understood};
use std::collections::BTreeMap;

/// A request matching more products than this is broad enough to ask about.
const BROAD: usize = 8;
/// Hits read to filter (another brand, variants in stock) before showing [`SHOWN`].
const CANDIDATES: usize = 40;

impl Engine {
    /// "얼마예요?", "how much is the second one?": about a product just shown (the first, or the one named by
    /// its place), answered from the catalog and stock: its price, where it is, its options, what it is.
    pub(super) async fn question_answer(
        &self,
        conv: &mut Conversation,
        u: &mut Understood,
        ctx: &Ctx<'_>,
        chosen_store: Option<&str>,
        text: &str,
        out: &mut Answer,
    ) -> Result<()> {
        let ko = ctx.ko;
        if conv.state.shown.is_empty() {
            out.reply.text = if ko {
                "어떤 상품이 궁금하세요? 상품 종류나 이름을 말씀해 주시면 찾아 드릴게요.".into()
            } else {
                "Which product would you like to know about? Tell me what you're looking for and I'll find it.".into()
            };
            return Ok(());
        }
        let lower = text.to_lowercase();
        let place = [
            (&["첫 번째", "첫번째", "first", "1st"][..], 0usize),
            (&["두 번째", "두번째", "second", "2nd"][..], 1),
            (&["세 번째", "세번째", "third", "3rd"][..], 2),
        ]
        .iter()
        .find(|(words, _)| words.iter().any(|w| lower.contains(w)))
        .map(|(_, i)| *i)
        .or_else(|| ["마지막", "last"].iter().any(|w| lower.contains(w)).then(|| conv.state.shown.len() - 1))
        .unwrap_or(0)
        .min(conv.state.shown.len() - 1);
        let id = vec![conv.state.shown[place].id.clone()];
        let loaded = self.db.read(move |tx| load_products(tx, &id)).await?;
        let asked = conv.state.last.as_ref().map(|l| l.attributes.clone()).unwrap_or_default();
        let plain = Understood::default();
        // The answer is about the variants asked for before: say so in what was understood.
        u.attributes = asked.clone();
        let Some(l) = loaded.first() else {
            out.reply.text = if ko {
                "그 상품은 지금 판매하지 않아요.".into()
            } else {
                "That product is no longer sold.".into()
            };
            return Ok(());
        };
        let Some(p) = describe(l, ctx, &asked, chosen_store, &plain, "question")
            .or_else(|| describe(l, ctx, &BTreeMap::new(), chosen_store, &plain, "question"))
        else {
            return Ok(());
        };
        let mut options: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for v in &l.product.variants {
            for (k, val) in &v.attributes {
                let shown = if k == "color" { texts::colour(val, ko) } else { val.to_string() };
                let list = options.entry(k.as_str()).or_default();
                if !list.contains(&shown) {
                    list.push(shown);
                }
            }
        }
        let mut text = format!("{}: ", p.title);
        if let Some(price) = &p.price {
            text.push_str(&texts::money(price.amount_minor, &price.currency, ko));
            text.push_str(". ");
        }
        text.push_str(&p.availability);
        text.push('.');
        for (k, vals) in &options {
            let name = match (*k, ko) {
                ("color", true) => "색상",
                ("color", false) => "colours",
                ("size", true) => "사이즈",
                ("size", false) => "sizes",
                (other, _) => other,
            };
            text.push_str(&format!(" {name}: {}.", vals.join(", ")));
        }
        let description = if ko { &l.product.description.ko } else { &l.product.description.en };
        if let Some(first) =
            description.split_inclusive(['.', '!', '?']).next().map(str::trim).filter(|d| !d.is_empty())
        {
            text.push(' ');
            text.push_str(first);
        }
        out.reply.text = text;
        out.products = vec![p];
        Ok(())
    }

    /// "강남역점에 있어요?" about the products just shown: where each is in stock, and in-stock
    /// alternatives at the asked store when none of them is.
    pub(super) async fn availability_answer(
        &self,
        conv: &mut Conversation,
        u: &mut Understood,
        ctx: &Ctx<'_>,
        chosen_store: Option<&str>,
        turn: &Turn,
        out: &mut Answer,
    ) -> Result<()> {
        let ko = ctx.ko;
        let store = u.pickup.as_ref().and_then(|p| p.location_id.clone()).or_else(|| chosen_store.map(str::to_owned));
        let ids: Vec<String> = conv.state.shown.iter().map(|s| s.id.clone()).collect();
        if ids.is_empty() {
            out.reply.text = if ko {
                "어떤 상품의 재고를 알아볼까요? 상품 이름이나 종류를 말씀해 주세요.".into()
            } else {
                "Which product should I check? Tell me its name or the kind of product.".into()
            };
            return Ok(());
        }
        let loaded = self.db.read(move |tx| load_products(tx, &ids)).await?;
        // The answer is about the last request's products: say so in what was understood.
        if let Some(last) = &conv.state.last {
            if u.category.is_none() {
                u.category = last.category.clone();
            }
            if u.brand.is_none() {
                u.brand = last.brand.clone();
            }
            if u.price.is_none() {
                u.price = last.price.clone();
            }
            if u.attributes.is_empty() {
                u.attributes = last.attributes.clone();
            }
        }
        let asked = u.attributes.clone();
        let store_name = |id: &str| {
            ctx.locations.iter().find(|l| l.id == id).map(|l| if ko { l.name.ko.clone() } else { l.name.en.clone() })
        };
        let mut there = Vec::new();
        let mut not_there = Vec::new();
        // (A budget said now leaves out what is over it: "예산 5만원으로 줄이면 거기도 되나요".)
        let budget = u.price.clone().filter(|p| conv.state.last.as_ref().is_none_or(|l| l.price.as_ref() != Some(p)));
        let mut over_budget = false;
        for l in &loaded {
            let Some(p) = describe(l, ctx, &asked, store.as_deref(), u, "availability") else { continue };
            if let (Some(b), Some(price)) = (&budget, &p.price) {
                if b.min_minor.is_some_and(|m| price.amount_minor < m)
                    || b.max_minor.is_some_and(|m| price.amount_minor > m)
                {
                    over_budget = true;
                    continue;
                }
            }
            match &store {
                Some(s) if p.stores.iter().any(|x| &x.location_id == s && x.available > 0) => there.push(p),
                Some(_) => not_there.push(p),
                None if p.stores.iter().any(|x| x.available > 0 && x.pickup_enabled) => there.push(p),
                None => not_there.push(p),
            }
        }
        let name = store.as_deref().and_then(store_name);
        let mut text = match (&name, there.is_empty()) {
            (Some(n), false) if ko => format!("{n}에 지금 있어요: {}.", titles(&there)),
            (Some(n), false) => format!("In stock at {n} now: {}.", titles(&there)),
            (None, false) if ko => format!("지금 매장에서 픽업할 수 있어요: {}.", titles(&there)),
            (None, false) => format!("Available for pickup now: {}.", titles(&there)),
            _ => String::new(),
        };
        if there.is_empty() && not_there.is_empty() && over_budget {
            text = if ko {
                "보여드린 상품 중에 그 예산에 맞는 건 없어요.".into()
            } else {
                "None of the products shown fits that budget.".into()
            };
        } else if there.is_empty() && not_there.is_empty() {
            // None of the products shown comes in what was asked ("in camel, size S").
            let asked_for = asked.values().cloned().collect::<Vec<_>>().join(", ");
            text = if ko {
                format!("보여드린 상품 중에 {asked_for}(으)로 나오는 건 없어요. 다른 색이나 사이즈를 말씀해 주세요.")
            } else {
                format!("None of the products shown comes in {asked_for}. Try another colour or size.")
            };
        }
        if !not_there.is_empty() {
            let gone = titles(&not_there);
            let eun = domain::text::particle(&gone, "은", "는", "은(는)");
            text.push_str(&match (&name, ko) {
                (Some(n), true) => format!(" {gone}{eun} {n}에 지금 없어요."),
                (Some(n), false) => format!(" {gone}: not at {n} right now."),
                (None, true) => format!(" {gone}{eun} 지금 매장 재고가 없어요."),
                (None, false) => format!(" {gone}: no store has it right now."),
            });
        }
        out.products = there;
        if out.products.is_empty() {
            if let (Some(s), Some(last)) = (store.clone(), conv.state.last.clone()) {
                // None of them is there: what of the same request is.
                let mut alt = last;
                alt.pickup = Some(assistant::Pickup { location_id: Some(s), today: true, ..Default::default() });
                // (In what was asked now: "검정도 서면에 250 있나요" after brown boots is black ones there; within the
                // budget said now.)
                alt.attributes = asked.clone();
                if budget.is_some() {
                    alt.price = budget.clone();
                }
                let mut alt_out = out.clone();
                // The conversation remembers the alternatives only when there are some.
                let saved = conv.state.clone();
                self.search_answer(conv, &mut alt, ctx, chosen_store, turn, &mut alt_out, 2, SHOWN).await?;
                if alt_out.products.is_empty() {
                    conv.state = saved;
                } else {
                    out.products = alt_out.products;
                    text.push_str(if ko {
                        " 대신 그 매장에 있는 비슷한 상품이에요."
                    } else {
                        " Similar ones that are there:"
                    });
                }
            }
        } else {
            conv.state.shown = out
                .products
                .iter()
                .map(|p| Shown {
                    id: p.id.clone(),
                    price_minor: p.price.as_ref().map(|x| x.amount_minor),
                    brand: p.brand.clone(),
                })
                .collect();
        }
        // The request goes on at the store asked about: "there", "what about the 12 roll one", "M은 없어요?".
        if let (Some(s), Some(last)) = (store.as_ref().filter(|_| u.pickup.is_some()), conv.state.last.as_mut()) {
            last.intent = "availability".into();
            last.refine = None;
            last.attributes = asked.clone();
            let today = u.pickup.as_ref().is_some_and(|p| p.today);
            last.pickup = Some(assistant::Pickup { location_id: Some(s.clone()), today, ..Default::default() });
        }
        out.reply.text = text.trim().to_owned();
        Ok(())
    }

    /// Find, refine, gift and availability with a product kind: search with the slots, live stock and pickup
    /// filters; a question when the request is broad.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn search_answer(
        &self,
        conv: &mut Conversation,
        u: &mut Understood,
        ctx: &Ctx<'_>,
        chosen_store: Option<&str>,
        turn: &Turn,
        out: &mut Answer,
        asked_before: u8,
        show: usize,
    ) -> Result<()> {
        let ko = ctx.ko;
        // "Another brand" than the one shown when the request named none.
        if u.refine.as_deref() == Some("other_brand") && u.exclude_brand.is_none() {
            u.exclude_brand = conv.state.shown.first().map(|s| s.brand.clone()).filter(|b| !b.is_empty());
        }
        // Relative refinements become bounds from the first product shown (the one the shopper looks at).
        let first_price = conv.state.shown.first().and_then(|s| s.price_minor);
        let same_currency = conv.state.currency == ctx.currency;
        match (u.refine.as_deref(), first_price) {
            (Some("cheaper"), Some(first)) if same_currency => {
                let p = u.price.get_or_insert(PriceBounds {
                    min_minor: None,
                    max_minor: None,
                    currency: ctx.currency.into(),
                });
                p.max_minor = Some(first - 1);
                p.min_minor = None;
            }
            (Some("pricier"), Some(first)) if same_currency => {
                let p = u.price.get_or_insert(PriceBounds {
                    min_minor: None,
                    max_minor: None,
                    currency: ctx.currency.into(),
                });
                p.min_minor = Some(first + 1);
                p.max_minor = None;
            }
            _ => {}
        }

        // Where: a named store, near the shopper, or "today" at the store they chose.
        let pickup = u.pickup.clone().unwrap_or_default();
        let mut in_stock_at = pickup.location_id.clone();
        let mut asks_store = false;
        let mut near = None;
        if in_stock_at.is_none() && (pickup.within_km.is_some() || pickup.today || pickup.here) {
            match (turn.lat, turn.lon, chosen_store) {
                (Some(lat), Some(lon), _) => near = Some((lat, lon, pickup.within_km.unwrap_or(5) as f64)),
                (_, _, Some(s)) => in_stock_at = Some(s.to_owned()),
                _ if asked_before < 2 => {
                    // Ask which store, showing what some store has for pickup now.
                    let stores: Vec<&LocationView> = ctx.locations.iter().filter(|l| l.pickup_enabled).collect();
                    asks_store = true;
                    out.question = Some(Question {
                        text: if ko {
                            "어느 매장에서 픽업하시겠어요?".into()
                        } else {
                            "Which store would you like to pick up from?".into()
                        },
                        options: stores
                            .iter()
                            .map(|l| if ko { l.name.ko.clone() } else { l.name.en.clone() })
                            .collect(),
                    });
                    conv.state.asked = Some("store".into());
                    conv.state.questions_in_row = asked_before + 1;
                }
                _ => {}
            }
        }

        let mut attributes: Vec<(String, String)> = u.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        attributes.sort();
        // A gift request's words name the occasion or the person, not the product — except those the titles of its
        // kind hold, said in answer to what kind ("something sweet, maybe yakgwa"; "a gift for a housewarming
        // party" is no party speaker).
        let gift_words =
            match u.category.as_deref().filter(|k| u.intent == "gift" && k.contains('/') && asked_before > 0) {
                Some(kind) => self.held_in_kind(&assistant::content_words(&u.words), kind).await?.join(" "),
                None => String::new(),
            };
        let mut q = SearchQuery {
            q: if u.intent == "gift" {
                gift_words.clone()
            } else {
                u.words.chars().take(crate::discovery::product_search::MAX_QUERY_CHARS).collect()
            },
            category: u.category.clone(),
            brand: u.brand.clone(),
            attributes,
            currency: ctx.currency.to_owned(),
            price_min: u.price.as_ref().and_then(|p| p.min_minor),
            price_max: u.price.as_ref().and_then(|p| p.max_minor),
            in_stock_at: in_stock_at.clone(),
            pickup_near: near,
            sort: if (u.intent == "gift" && gift_words.is_empty()) || (u.words.is_empty() && u.category.is_some()) {
                "popular"
            } else {
                "relevance"
            }
            .into(),
            limit: CANDIDATES,
            offset: 0,
        };
        let stores_wanted: Option<Vec<String>> = match (&in_stock_at, near) {
            (Some(s), _) => Some(vec![s.clone()]),
            // (Which store is not known yet: any store one can pick up from.)
            (None, None) if asks_store => {
                Some(ctx.locations.iter().filter(|l| l.pickup_enabled).map(|l| l.id.clone()).collect())
            }
            (None, Some((lat, lon, r))) => Some(
                ctx.locations
                    .iter()
                    .filter(|l| {
                        l.pickup_enabled
                            && l.lat
                                .zip(l.lon)
                                .is_some_and(|p| crate::discovery::product_search::km((lat, lon), p) <= r)
                    })
                    .map(|l| l.id.clone())
                    .collect(),
            ),
            _ => None,
        };
        let exclude = u.exclude_brand.clone();
        let asked = u.attributes.clone();
        // A bound made from the product shown ("cheaper ones?") and only carried into this turn is no budget the
        // shopper said: it goes when nothing else fits ("brown in 250" after cheaper than the brown loafers).
        let mut relative_carried = conv
            .state
            .last
            .as_ref()
            .is_some_and(|l| matches!(l.refine.as_deref(), Some("cheaper" | "pricier")) && l.price == u.price)
            && !matches!(u.refine.as_deref(), Some("cheaper" | "pricier" | "price"))
            && u.price.is_some();
        let mut kind_not_carried: bool;
        // The words were let go of so that the request's other conditions could show something: the reply
        // must not call those products by the words, and says that nothing matched them ("후드티 5만원 이하" when
        // the hoodie costs more shows other tops under 50,000 won, saying so).
        let mut words_dropped: Option<String> = None;
        let (found, products) = loop {
            let found = self.search_products(q.clone()).await?;
            // When some titles hold every word said ("a5"), the hits whose titles hold none of them came
            // from a description's or a colour's passing match (a sky-blue shirt for "A5 하늘색"): left out.
            let content = assistant::content_words(&q.q);
            // Per hit: (its title holds one of the words, it holds all of them).
            let holds: Vec<(bool, bool)> = found
                .hits
                .iter()
                .map(|h| {
                    let each: Vec<bool> = content.iter().map(|w| super::title_holds(h, w)).collect();
                    (each.iter().any(|x| *x), each.iter().all(|x| *x))
                })
                .collect();
            let precise = !content.is_empty() && holds.iter().any(|(_, all)| *all);
            // A kind of product named that no title is ("laptops?", "노트북 있어요?"): the shop does not carry
            // it, whatever descriptions mention it ("a charger for laptops").
            // (A title holding another word of the kind's group holds the kind: "시계" finds "Nova Watch".)
            // (Or asked whether the shop sells it, when no title holds any of its words: "do you sell swim goggles?".)
            let asks_carried =
                ["do you sell", "do you carry", "you guys sell"].iter().any(|w| turn.text.to_lowercase().contains(w));
            let not_carried = q.category.is_none()
                && q.brand.is_none()
                && ((asks_carried && !content.is_empty() && !holds.iter().any(|(any, _)| *any))
                    // (Not where something goes: "책상 위에 두기 좋은 거".)
                    || (content.iter().enumerate().any(|(i, w)| {
                        names_a_kind(w)
                            && !content.get(i + 1).is_some_and(|n| assistant::PLACE_WORDS.contains(&n.as_str()))
                    })
                        && !found.hits.iter().any(|h| content.iter().any(|w| title_holds_kind(h, w))))
                    || misses_a_kind(&q.q, &found.hits));
            // A department asked for with words no title holds ("show me clothes for long shifts driving a
            // train"): the words say what it is for, so the department's products (and the question what kind).
            // (Nor a kind at all, when only descriptions hold the words: "what would you recommend for someone who
            // coaches crossfit" gets the question what kind, not the air purifiers whose text says "coach".)
            if u.intent == "find"
                && (u.category.as_deref().is_some_and(|c| !c.contains('/'))
                    || (u.category.is_none()
                        && u.brand.is_none()
                        && !q.q.is_empty()
                        && !found.hits.is_empty()
                        && !not_carried))
                && !content.is_empty()
                && !holds.iter().any(|(any, _)| *any)
            {
                q.q.clear();
                q.sort = "popular".into();
                continue;
            }
            kind_not_carried = not_carried;
            let ids: Vec<String> = found
                .hits
                .iter()
                .zip(&holds)
                .filter(|(_, (any, _))| (!precise || *any) && !not_carried)
                .map(|(h, _)| h)
                .filter(|h| exclude.as_deref().is_none_or(|b| !h.brand.eq_ignore_ascii_case(b)))
                .map(|h| h.product_id.clone())
                .collect();
            // Live: the products as they are now, dropping any whose fitting variants are not where asked.
            let loaded = self.db.read(move |tx| load_products(tx, &ids)).await?;
            let mut products = Vec::new();
            for l in &loaded {
                let Some(p) = describe(l, ctx, &asked, in_stock_at.as_deref(), u, "find") else { continue };
                if let Some(want) = &stores_wanted {
                    if !p.stores.iter().any(|s| want.contains(&s.location_id) && s.available > 0) {
                        continue;
                    }
                }
                if let Some(b) = &u.price {
                    let Some(price) = &p.price else { continue };
                    if b.min_minor.is_some_and(|m| price.amount_minor < m)
                        || b.max_minor.is_some_and(|m| price.amount_minor > m)
                    {
                        continue;
                    }
                }
                products.push(p);
                if products.len() == show {
                    break;
                }
            }
            // Words said around the slots ("좀", "편한", the "jeans" of the last turn when another brand is
            // asked for) must not empty a request the slots carry: once more without them.
            // (Not when the words name a kind the shop does not carry: "leather wallet up to $50" is answered so,
            // not with whatever costs under $50.)
            // (Nor when a store is asked whether it has a type the kind's titles hold: "홍대점에 10만원 이하
            // 에어프라이어 있어요?" is answered that none is there, not with other appliances.)
            let asks_for_a_type = products.is_empty() && u.intent == "availability" && u.refine.is_none() && {
                let typed: Vec<String> = content.iter().filter(|w| names_a_kind(w)).cloned().collect();
                match q.category.as_deref().filter(|k| k.contains('/') && !typed.is_empty()) {
                    Some(kind) => !self.held_in_kind(&typed, kind).await?.is_empty(),
                    None => false,
                }
            };
            if products.is_empty()
                && !q.q.is_empty()
                && !not_carried
                && !asks_for_a_type
                && (q.category.is_some() || q.brand.is_some() || q.price_min.is_some() || q.price_max.is_some())
            {
                words_dropped = Some(content.join(" "));
                q.q.clear();
                q.sort = "popular".into();
                continue;
            }
            if products.is_empty() && relative_carried {
                relative_carried = false;
                u.price = None;
                q.price_min = None;
                q.price_max = None;
                continue;
            }
            break (found, products);
        };
        let total = found.total;

        // A broad request: ask about what splits the results best (at most two questions in a row).
        if total > BROAD && asked_before < 2 && !asks_store && matches!(u.intent.as_str(), "find" | "gift") {
            if let Some((facet, question)) = clarify(&found, u, ko) {
                out.question = Some(question);
                conv.state.asked = Some(facet);
                conv.state.questions_in_row = asked_before + 1;
            }
        }

        out.reply.text = if asks_store {
            texts::which_store_text(products.len(), out.question.as_ref(), ctx.ko)
        } else if let Some(said) = words_dropped.as_deref().filter(|_| !products.is_empty()) {
            let without = Understood { words: String::new(), ..u.clone() };
            let rest = search_text(&without, &products, total, ctx, stores_wanted.as_deref(), out.question.as_ref());
            texts::words_unmatched_text(said, &rest, ctx.ko)
        } else {
            search_text(u, &products, total, ctx, stores_wanted.as_deref(), out.question.as_ref())
        };
        if kind_not_carried && products.is_empty() {
            let said = assistant::content_words(&u.words).join(" ");
            out.reply.text = if ctx.ko {
                let eun = domain::text::particle(&said, "은", "는", "은(는)");
                format!("죄송해요, '{said}'{eun} 저희가 취급하지 않는 상품이에요. 다른 상품을 찾아 드릴까요?")
            } else {
                format!("Sorry, we don't carry '{said}'. Can I find you something else?")
            };
        }
        // (A kind the shop does not carry leaves the request before it standing: "ok back to the tees, size small"
        // after "also do you sell leg warmers?" narrows the tees.)
        conv.state.last_not_carried = kind_not_carried && products.is_empty();
        if !(kind_not_carried && products.is_empty() && conv.state.last.is_some()) {
            conv.state.last = Some(u.clone());
            conv.state.last_empty = products.is_empty();
        }
        conv.state.remember(u);
        conv.state.currency = ctx.currency.to_owned();
        if !products.is_empty() {
            conv.state.shown = products
                .iter()
                .map(|p| Shown {
                    id: p.id.clone(),
                    price_minor: p.price.as_ref().map(|x| x.amount_minor),
                    brand: p.brand.clone(),
                })
                .collect();
        }
        out.products = products;
        Ok(())
    }
}

/// The facet that splits the results best (the most even spread over its values), as a question.
fn clarify(found: &SearchView, u: &Understood, ko: bool) -> Option<(String, Question)> {
    let entropy = |m: &BTreeMap<String, usize>| {
        let n: usize = m.values().sum();
        if m.len() < 2 || n == 0 {
            return 0.0;
        }
        -m.values().map(|&c| c as f64 / n as f64).map(|p| p * p.ln()).sum::<f64>()
    };
    let mut candidates: Vec<(&str, &BTreeMap<String, usize>)> = Vec::new();
    // A department ("apparel") is not yet a kind of product.
    let kind_known = u.category.as_deref().is_some_and(|c| c.contains('/'));
    if !kind_known {
        candidates.extend(found.facets.get("category").map(|m| ("category", m)));
    }
    if u.brand.is_none() && kind_known {
        candidates.extend(found.facets.get("brand").map(|m| ("brand", m)));
    }
    if !u.attributes.contains_key("color") && kind_known {
        candidates.extend(found.facets.get("attributes.color").map(|m| ("color", m)));
    }
    // Categories first when unknown: nobody chooses a brand before knowing what they want.
    let (facet, values) = if !kind_known {
        candidates.into_iter().find(|(f, _)| *f == "category")?
    } else {
        candidates.into_iter().max_by(|a, b| entropy(a.1).total_cmp(&entropy(b.1)))?
    };
    // Two kinds of product are always worth asking about; brands and colours only when they split well.
    if values.len() < 2 || (facet != "category" && entropy(values) < 0.5) {
        return None;
    }
    let mut top: Vec<(&String, &usize)> = values.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let options: Vec<String> = top
        .iter()
        .take(4)
        .map(|(v, _)| match facet {
            "category" => texts::category(v, ko),
            "color" => texts::colour(v, ko),
            _ => (*v).clone(),
        })
        .collect();
    let text = match (facet, ko) {
        ("category", true) => "어떤 종류를 찾으세요?",
        ("category", false) => "What kind of product are you after?",
        ("brand", true) => "좋아하는 브랜드가 있으세요?",
        ("brand", false) => "Any brand you prefer?",
        (_, true) => "원하시는 색상이 있으세요?",
        (_, false) => "Any colour you'd like?",
    };
    Some((facet.to_owned(), Question { text: text.into(), options }))
}

/// Whether `k`, a word of a list, is the word said (in either number: "laptops", "watches").
fn same_word(k: &str, w: &str) -> bool {
    let plural = |end: &str| w.strip_suffix(end).filter(|s| w.is_ascii() && s.len() > 2);
    k.eq_ignore_ascii_case(w) || [plural("s"), plural("es")].into_iter().flatten().any(|s| k.eq_ignore_ascii_case(s))
}

/// A word that names a kind of product (the shop thesaurus' and other common kinds), said in any number.
fn names_a_kind(w: &str) -> bool {
    assistant::OTHER_KINDS
        .iter()
        .chain(search::thesaurus::GROUPS.iter().flat_map(|g| g.iter()))
        .any(|k| same_word(k, w))
}

/// A kind the shop may not carry, said as what is asked for (not what it is for: "charger for laptops",
/// "노트북용"), that no hit's title holds: "laptop sleeve?", "회사 노트북 가방 있어요?" ask for a laptop's bag, not for
/// long-sleeve shirts or zipper bags.
pub(super) fn misses_a_kind(words: &str, hits: &[crate::discovery::product_search::Hit]) -> bool {
    let said: Vec<&str> = words.split_whitespace().collect();
    said.iter().enumerate().any(|(i, raw)| {
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
        // (Also past an article: "wet wipes for the perfume studio".)
        let before = |k: usize| i >= k && ["for", "with", "fits"].contains(&said[i - k].to_lowercase().as_str());
        let article = i > 0
            && ["the", "a", "an", "my", "our", "his", "her", "their"].contains(&said[i - 1].to_lowercase().as_str());
        let purpose = before(1) || (article && before(2));
        // (Nor what is done with it: "windbreaker small for bike commuting", "자전거 탈 때 입을 바람막이".)
        // (Nor where it goes: "책상 위에 두기 좋은 거".)
        let used = said.get(i + 1).is_some_and(|n| uses(n) || assistant::PLACE_WORDS.contains(n));
        // (A kind of two words: "hair dryers", "board game".)
        let two = said.get(i + 1).map(|n| n.trim_matches(|c: char| !c.is_alphanumeric())).is_some_and(|n| {
            assistant::names_other_kind_pair(&w, n) && !hits.iter().any(|h| super::title_holds(h, &format!("{w} {n}")))
        });
        !purpose
            && !w.ends_with('용')
            && (two
                || (!used
                    // (A Korean kind with its particle: "목도리도".)
                    && assistant::OTHER_KINDS.iter().any(|k| same_word(k, &w) || (!k.is_ascii() && w.starts_with(k)))
                    && !hits.iter().any(|h| title_holds_kind(h, &w))))
    })
}

/// A word that says what is done with the thing before it: an English "-ing" ("bike commuting") or a Korean
/// verb made to describe ("자전거 탈 때", "캠핑 갈 때", "강아지 산책시키는").
fn uses(w: &str) -> bool {
    let w = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    if w.is_ascii() {
        return w.len() > 4 && w.ends_with("ing");
    }
    let Some(last) = w.chars().last() else { return false };
    // A final ㄹ (탈, 갈, 쓸, 넣을) or 는 (타는, 가는).
    let final_rieul = matches!(last, '\u{AC00}'..='\u{D7A3}') && (last as u32 - 0xAC00) % 28 == 8;
    (final_rieul && w.chars().count() <= 2) || (last == '는' && w.chars().count() <= 4)
}

/// Whether a hit's title holds the kind a word names: the word, or another word of its thesaurus group
/// ("시계" and "Nova Watch 44 mm").
fn title_holds_kind(h: &crate::discovery::product_search::Hit, w: &str) -> bool {
    super::title_holds(h, w)
        || search::thesaurus::GROUPS
            .iter()
            .filter(|g| g.iter().any(|k| same_word(k, w)))
            .any(|g| g.iter().any(|k| super::title_holds(h, k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(ko: &str, en: &str) -> crate::discovery::product_search::Hit {
        crate::discovery::product_search::Hit {
            product_id: "p".into(),
            handle: "p".into(),
            title: catalog_io::Localized { ko: ko.into(), en: en.into() },
            category: "electronics/phones".into(),
            brand: "Pixelon".into(),
            price: None,
            score: 1.0,
            available_at: Vec::new(),
        }
    }

    #[test]
    fn a_kind_is_carried_when_a_title_names_it_in_any_word_of_its_group() {
        let watch = hit("노바 워치 44mm", "Nova Watch 44 mm");
        assert!(names_a_kind("시계") && title_holds_kind(&watch, "시계"), "시계 is a watch");
        assert!(title_holds_kind(&watch, "watches"));
        let charger = hit("USB-C 고속 충전기 65W", "USB-C Fast Charger 65 W GaN");
        assert!(names_a_kind("laptops") && !title_holds_kind(&charger, "laptops"), "a charger is no laptop");
        assert!(!names_a_kind("hiking"), "a use is no kind");
        assert!(misses_a_kind("laptop sleeve", &[]) && misses_a_kind("회사 노트북 가방", &[]));
        assert!(!misses_a_kind("windbreaker small bike commuting", &[]), "a bike is what it is for");
        assert!(!misses_a_kind("자전거 탈 때 입을 바람막이", &[]));
        assert!(uses("탈") && uses("가는") && !uses("가방") && !uses("sleeve") && !uses("ring"));
    }
}
