//! The shopping assistant: one turn of a conversation understood (the `assistant` crate, with the
//! catalog's own words) and answered from product search, live stock and the shopper's orders — every
//! product, price and stock figure read at that moment, never invented — with at most one clarifying
//! question per turn (two in a row at most), conversations that expire and belong to one shopper, and
//! hand-off to staff.

mod context;
pub mod conversations;
mod find;
mod items;
pub mod language_model;
pub mod texts;

use crate::catalog::locations::LocationView;
use crate::catalog::products;
use crate::error::internal;
use crate::{Engine, EngineError, Result};
use assistant::{Understood, Vocabulary};
use conversations::Conversation;
use items::{describe, load_products};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use texts::compare_text;

/// Products one answer shows.
pub const SHOWN: usize = 3;

/// One message from a shopper.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    pub conversation_id: Option<String>,
    pub text: String,
    /// `ko` or `en`: the reply's language when the text does not tell (a number alone).
    pub locale: Option<String>,
    /// The store the shopper chose in the shop.
    pub location_id: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Prices in this currency unless the shopper says dollars or won (default KRW).
    pub currency: Option<String>,
    /// The signed-in shopper, from their session.
    pub customer_id: Option<String>,
    /// The shopper agreed that what they ask may shape their recommendations (logged as searches).
    pub personalize: bool,
    /// Ties a consenting visitor's events together (the storefront's visitor id).
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Reply {
    pub text: String,
    pub locale: String,
}

/// A store's stock of a shown product (the variants that fit what was asked).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StoreStock {
    pub location_id: String,
    pub code: String,
    pub name: String,
    pub available: i64,
    pub pickup_enabled: bool,
}

/// A product in an answer: read from the catalog and stock when the answer was made.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AssistantProduct {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub category: String,
    pub brand: String,
    /// The lowest price of the variants that fit, in the conversation's currency.
    pub price: Option<products::PriceView>,
    /// Where it can be had now, in the reply's language ("보더리스 강남역점 3개, 오늘 픽업 가능").
    pub availability: String,
    /// Units at each store (variants that fit what was asked).
    pub stores: Vec<StoreStock>,
    /// Units the warehouse can ship.
    pub online_available: i64,
    /// Why it fits what was asked.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Question {
    pub text: String,
    /// Answers the shopper can tap (each is understood when sent back as a message).
    pub options: Vec<String>,
}

/// The answer to one message.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Answer {
    pub conversation_id: String,
    pub reply: Reply,
    pub understood: Understood,
    pub products: Vec<AssistantProduct>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    /// `waiting` once the conversation is handed to staff (`none` otherwise).
    pub handoff: String,
}

/// The vocabulary of the served catalog, rebuilt when the index or the locations change.
#[derive(Default)]
pub(crate) struct VocabCache {
    cached: std::sync::Mutex<Option<(String, Arc<Vocabulary>)>>,
}

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// The reply's language: Hangul → Korean, Latin letters → English, neither → the hint.
pub fn reply_locale(text: &str, hint: Option<&str>) -> &'static str {
    if text.chars().any(is_hangul) {
        "ko"
    } else if text.chars().any(|c| c.is_ascii_alphabetic()) || hint == Some("en") {
        "en"
    } else {
        "ko"
    }
}

/// Everything an answer needs to describe products.
pub(crate) struct Ctx<'a> {
    pub(crate) ko: bool,
    pub(crate) currency: &'a str,
    pub(crate) locations: &'a [LocationView],
    /// The turn asks about the products shown, adding nothing to the request that found them.
    pub(crate) about_shown: bool,
}

/// Whether a hit's title (either language) holds a word the shopper said: an English word without its
/// plural "s", a Korean word or its first two syllables (a particle may follow: "우산은").
pub(super) fn title_holds(h: &crate::discovery::product_search::Hit, w: &str) -> bool {
    let (ko, en) = (h.title.ko.to_lowercase(), h.title.en.to_lowercase());
    let w = w.trim_end_matches(|c: char| !c.is_alphanumeric());
    let stem = if w.is_ascii() { w.trim_end_matches('s') } else { w };
    let ko_stem: String = w.chars().take(2).collect();
    // ("1kg" is "1 kg" in a title.)
    let digits = w.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|i| *i > 0);
    let spaced = digits.map(|i| format!("{} {}", &w[..i], &w[i..]));
    (stem.chars().count() >= 2 && (en.contains(stem) || ko.contains(stem)))
        || spaced.is_some_and(|s| en.contains(&s) || ko.contains(&s))
        || (!w.is_ascii() && ko_stem.chars().count() == 2 && ko.contains(&ko_stem))
}

impl Engine {
    /// The catalog's words for the assistant: categories and brands of the served index (with the
    /// seller's search synonyms joined to the category or brand they name), and the pickup stores.
    async fn assistant_vocabulary(&self) -> Result<(Arc<Vocabulary>, Arc<Vec<LocationView>>)> {
        if self.search_served().ix.is_none() {
            self.search_refresh().await?;
        }
        let locations = self.search_locations(None).await?;
        let key = {
            let served = self.search_served();
            let ix = served.ix.as_ref().ok_or_else(|| internal("no search index".into()))?;
            format!("{}:{}:{}:{:p}", ix.built_from, ix.built_at, ix.live(), Arc::as_ptr(&locations))
        };
        let cache = &self.discovery.assistant;
        if let Some((k, v)) = cache.cached.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if *k == key {
                return Ok((v.clone(), locations));
            }
        }
        let synonyms = self.search_synonyms().await?;
        let vocab = {
            let served = self.search_served();
            let ix = served.ix.as_ref().ok_or_else(|| internal("no search index".into()))?;
            let live: Vec<&super::product_search::Doc> =
                ix.docs.iter().enumerate().filter(|(d, _)| !ix.index.is_deleted(*d as u32)).map(|(_, d)| d).collect();
            let mut v = Vocabulary::from_catalog(
                live.iter().map(|d| d.category.as_str()),
                live.iter().map(|d| d.brand.as_str()),
                // Every store (pickup or not: "성수 무인매장에 있어요?" is a fair question), not the warehouse.
                locations
                    .iter()
                    .filter(|l| l.kind != "warehouse")
                    .map(|l| (l.id.as_str(), vec![l.name.ko.as_str(), l.name.en.as_str(), l.code.as_str()])),
            );
            v.learn_from_titles(live.iter().flat_map(|d| {
                [(d.category.as_str(), d.title.ko.as_str()), (d.category.as_str(), d.title.en.as_str())]
            }));
            v.join_synonyms(&synonyms);
            // A word the search finds in titles through the thesaurus counts as a title word ("생수" for
            // "Spring Water"): said as a kind, it stays a search word instead of leaving only the category.
            for group in search::thesaurus::GROUPS {
                if group.iter().any(|w| v.title_words.contains(*w)) {
                    v.title_words.extend(group.iter().map(|w| (*w).to_owned()));
                }
            }
            Arc::new(v)
        };
        *cache.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, vocab.clone()));
        Ok((vocab, locations))
    }

    /// What the assistant understands in one utterance against the served catalog (no conversation).
    pub async fn assistant_understand(&self, text: &str, previous: Option<&Understood>) -> Result<Understood> {
        let (vocab, _) = self.assistant_vocabulary().await?;
        let mut u = assistant::understand(text, &vocab, previous);
        self.assistant_ground(&mut u, false).await?;
        self.assistant_ask_model(text, &mut u).await?;
        Ok(u)
    }

    /// A turn the rules understood nothing in, read by the language model when one is set (small talk, an
    /// off-topic request, an order, a return, a person to talk to); otherwise the rules' reading stands.
    async fn assistant_ask_model(&self, text: &str, u: &mut Understood) -> Result<()> {
        if self.language_model().is_none() || !language_model::understood_nothing(u) {
            return Ok(());
        }
        let unplaced = !self.catalog_holds(&u.words).await?;
        if let Some(intent) = self.assistant_consult(text, u, unplaced).await {
            u.intent = intent;
            u.words.clear();
        }
        Ok(())
    }

    /// Whether a product's title holds one of these words (of the ten best hits for them).
    async fn catalog_holds(&self, words: &str) -> Result<bool> {
        let content = assistant::content_words(words);
        if content.is_empty() {
            return Ok(false);
        }
        let q = crate::discovery::product_search::SearchQuery {
            q: words.chars().take(crate::discovery::product_search::MAX_QUERY_CHARS).collect(),
            currency: "KRW".into(),
            sort: "relevance".into(),
            limit: 10,
            ..Default::default()
        };
        let found = self.search_products(q).await?;
        Ok(found.hits.iter().any(|h| content.iter().any(|w| title_holds(h, w))))
    }

    /// What the catalog says about the words the vocabulary did not place. Of the ten best hits for them,
    /// those whose title holds one of the words (not a description's passing mention: "for laptops" on a
    /// charger) tell the kind when seven in ten agree ("딸기" → produce, "smartwatch" → wearables, whatever
    /// words the seller's titles use), and then a size said as a word is read for that kind ("joggers xl").
    /// (Words that find nothing stay a search that finds nothing: measured on MG-ShopDial, calling them out
    /// of scope turned a third of real shoppers' requests away.)
    async fn assistant_ground(&self, u: &mut Understood, answering: bool) -> Result<()> {
        // (A gift's words name the occasion and the person: "she's into running" is no request for shoes —
        // unless they answer the question what kind: "she's always cold, maybe a puffer?".)
        // (Or a gift said with a colour or a size: "anniversary gift for my wife, a cream knit size m" names the
        // product.)
        // (Or the product named as the gift: "낚시 좋아하는 장인어른 선물로 바람막이 7만원 이하", "a scarf as a gift".)
        let named_as_gift =
            u.intent == "gift" && u.words.split_whitespace().any(|w| matches!(w, "선물로" | "선물로는"));
        let kinds = if answering || (u.intent == "gift" && !u.attributes.is_empty()) || named_as_gift {
            &["find", "compare", "availability", "gift"][..]
        } else {
            &["find", "compare", "availability", "returns"]
        };
        // (A question about a return names its product's kind as a request does: "강남역점에서 산 바람막이 교환
        // 돼요?".)
        // (A department is no kind yet: "joggers under 40k won" answering what kind of clothes.)
        let department = u.category.clone().filter(|c| !c.contains('/'));
        let kinds =
            if department.is_some() { &["find", "compare", "availability", "gift", "refine"][..] } else { kinds };
        if !kinds.contains(&u.intent.as_str())
            || (u.category.is_some() && department.is_none())
            || u.words.trim().is_empty()
        {
            return Ok(());
        }
        // (The part that broke names no kind: "my windbreaker zipper broke" is about the windbreaker.)
        let said = if u.intent == "returns" { assistant::without_broken_parts(&u.words) } else { u.words.clone() };
        if said.trim().is_empty() {
            return Ok(());
        }
        // (Sizes said as words name no kind: "actually medium, they come up big" is no medium zipper bag.)
        let content: Vec<String> = assistant::content_words(&said)
            .into_iter()
            .filter(|w| !matches!(w.as_str(), "small" | "medium" | "large" | "big"))
            .collect();
        let q = crate::discovery::product_search::SearchQuery {
            // Sizes said as words are no search words ("windbreaker large").
            // (At most the search's 200 characters.)
            q: said
                .split_whitespace()
                // ("actually medium, they come up big": how it fits, no Big Cup ramen.)
                .filter(|w| !matches!(*w, "small" | "medium" | "large" | "big" | "xs" | "s" | "m" | "l" | "xl" | "xxl"))
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(crate::discovery::product_search::MAX_QUERY_CHARS)
                .collect(),
            category: department,
            brand: u.brand.clone(),
            currency: "KRW".into(),
            sort: "relevance".into(),
            limit: 10,
            ..Default::default()
        };
        let found = self.search_products(q).await?;
        // (A kind the shop does not carry, asked for, names no kind of the hits: "laptop sleeve?" is no shirt.)
        if find::misses_a_kind(&said, &found.hits) {
            return Ok(());
        }
        let titled = |h: &&crate::discovery::product_search::Hit| content.iter().any(|w| title_holds(h, w));
        let titled: Vec<&crate::discovery::product_search::Hit> = found.hits.iter().filter(titled).collect();
        if titled.is_empty() {
            return Ok(());
        }
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for h in &titled {
            *by.entry(h.category.as_str()).or_default() += 1;
        }
        // (No kind holds most of them: the word fewest titles hold names the kind when all of those are of one —
        // "something sweet, maybe yakgwa" is the honey cookies' kind, whatever else is sweet, and "a short puffer,
        // ivory" the puffer jacket's, whatever else is short; "a gift for a housewarming party" names no speaker,
        // and a model's name or number names no kind: "노바 5 256기가 있어요?".)
        let model = u.words.split_whitespace().any(|w| w.chars().any(|c| c.is_ascii_digit()));
        let mut rarest: Option<(usize, &str)> = None;
        for w in &content {
            let holding: Vec<&str> = titled.iter().filter(|h| title_holds(h, w)).map(|h| h.category.as_str()).collect();
            if holding.first().is_some_and(|c| holding.iter().all(|x| x == c))
                && rarest.is_none_or(|(n, _)| holding.len() < n)
            {
                rarest = Some((holding.len(), holding[0]));
            }
        }
        let most = by.iter().max_by_key(|(_, n)| **n).filter(|(_, n)| **n * 10 >= titled.len() * 7);
        if let Some(c) = most.map(|(c, _)| *c).or(rarest.filter(|_| content.len() > 1 && !model).map(|(_, c)| c)) {
            if !c.is_empty() {
                u.category = Some(c.to_owned());
                if !u.attributes.contains_key("size") {
                    if let Some((size, rest)) = assistant::size_for_kind(&u.words, c) {
                        u.attributes.insert("size".into(), size);
                        u.words = rest;
                    }
                }
            }
        }
        Ok(())
    }

    /// Answers one message of a conversation (a new one when no id is given) and stores the turn.
    pub async fn assistant_message(&self, turn: Turn) -> Result<Answer> {
        let text = turn.text.trim().to_owned();
        if text.is_empty() {
            return Err(EngineError::invalid("empty_message", "the message is empty; type what you are looking for"));
        }
        if text.chars().count() > conversations::MAX_TEXT {
            return Err(EngineError::invalid(
                "message_too_long",
                format!("a message is at most {} characters", conversations::MAX_TEXT),
            ));
        }
        if let Some(l) = turn.locale.as_deref() {
            if !matches!(l, "ko" | "en") {
                return Err(EngineError::invalid("invalid_locale", "`locale` is `ko` or `en`"));
            }
        }
        let currency = turn.currency.clone().unwrap_or_else(|| "KRW".into());
        if !matches!(currency.as_str(), "KRW" | "USD") {
            return Err(EngineError::invalid("invalid_currency", "`currency` is `KRW` or `USD`"));
        }
        match (turn.lat, turn.lon) {
            (None, None) => {}
            (Some(lat), Some(lon)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => {}
            _ => {
                return Err(EngineError::invalid(
                    "invalid_position",
                    "`lat` and `lon` come together: latitude −90…90 and longitude −180…180",
                ))
            }
        }
        let (vocab, locations) = self.assistant_vocabulary().await?;
        let location_id = match turn.location_id.as_deref() {
            None => None,
            Some(l) => Some(
                locations
                    .iter()
                    .find(|x| x.id == l || x.code.eq_ignore_ascii_case(l))
                    .map(|x| x.id.clone())
                    .ok_or_else(|| EngineError::not_found("location", l))?,
            ),
        };
        let now = self.now();
        let mut conv = match turn.conversation_id.as_deref() {
            Some(id) => {
                let (id, c) = (id.to_owned(), turn.customer_id.clone());
                self.db.read(move |tx| conversations::load(tx, &id, c.as_deref(), now)).await?
            }
            None => conversations::fresh(turn.customer_id.as_deref(), location_id.as_deref(), "ko"),
        };
        let locale = reply_locale(&text, turn.locale.as_deref().or(Some(conv.locale.as_str())));
        conv.locale = locale.to_owned();
        if location_id.is_some() {
            conv.location_id = location_id.clone();
        }
        if conv.turns >= conversations::MAX_TURNS {
            return Err(EngineError::conflict(
                "conversation_full",
                format!("a conversation has at most {} messages; start a new one", conversations::MAX_TURNS),
            ));
        }

        let (previous, mentioned) = context::read_after(&conv.state, &text);
        let mut u = assistant::understand_after(&text, &vocab, previous.as_ref(), conv.state.last_intent.as_deref());
        if mentioned {
            // (Another kind named is a request of its own: "im a barber, show me black joggers in medium" after a
            // sweatshirt's refund.)
            let mut fresh = assistant::understand_after(&text, &vocab, None, conv.state.last_intent.as_deref());
            self.assistant_ground(&mut fresh, false).await?;
            if fresh.category.is_some() && fresh.category != previous.as_ref().and_then(|p| p.category.clone()) {
                u = fresh;
            } else if u.intent == "refine" {
                // (Nothing was shown of a product only mentioned: a change to it asks for it — "then show me the
                // same in large, grey" after a return of joggers.)
                u.intent = "find".into();
                u.refine = None;
            }
        }
        // An answer to "what kind?" is no question about a product shown ("등산 좋아하셔서 바람막이?" after a
        // gift's question; "does it turn yellow over time?" after "any colour?" still is one).
        if conv.state.asked.as_deref() == Some("category") && u.intent == "question" {
            u.intent = "find".into();
        }
        self.assistant_ground(&mut u, conv.state.asked.is_some()).await?;
        // A kind named that is not the one being narrowed starts a new request ("그럼 바람막이 올리브 M" after a
        // lantern the shop does not carry, "ok then a windbreaker, black, large" after sneakers): the kind is
        // read from the catalog's titles when the vocabulary does not know the word.
        // (Only when the shopper says they switch: "그럼", "then", "actually", "instead"…, or when the last
        // request had no kind to narrow: "비 오면 바람막이 하나 사야겠다 네이비 XL" after a weather question.)
        let lowered = text.to_lowercase();
        let switches = ["그럼", "then", "actually", "아니다", "instead", "대신", "차라리", "rather", "also", "plus"]
            .iter()
            .any(|w| lowered.contains(w))
            // ("and some grey joggers medium to match" after sweatshirts.)
            || lowered.starts_with("and ")
            || conv.state.last.as_ref().is_some_and(|l| l.category.is_none() && l.brand.is_none());
        if switches && u.intent == "refine" && matches!(u.refine.as_deref(), Some("colour" | "size" | "price")) {
            let mut fresh = assistant::understand(&text, &vocab, None);
            if fresh.intent == "find" && !fresh.words.trim().is_empty() {
                self.assistant_ground(&mut fresh, false).await?;
                let last_kind = conv.state.last.as_ref().and_then(|l| l.category.clone());
                if fresh.category.is_some() && fresh.category != last_kind {
                    u = fresh;
                }
            }
        }
        // The turn read against the conversation: going back, a store for the last request, a choice within
        // its kind, a stock question about it.
        let (mut u, about_shown) = self.in_context(&text, u, &conv.state).await?;
        // A brand left out found nothing ("소리오디오 말고" when every earbud is Sori Audio): a refinement that
        // does not say it again lets it go ("그럼 아까 그거 흰색으로", "ok fine, black then").
        // (A stock question too: "알겠어요 그럼 그 제습기 강남역점에 있나요?".)
        if matches!(u.intent.as_str(), "refine" | "availability")
            && u.refine.as_deref() != Some("other_brand")
            && conv.state.last_empty
            && conv.state.last.as_ref().is_some_and(|l| l.refine.as_deref() == Some("other_brand"))
        {
            u.exclude_brand = None;
        }
        // "여기", "here": the store the shopper chose.
        if let Some(p) = u.pickup.as_mut().filter(|p| p.here) {
            if let Some(l) = location_id.clone().or_else(|| conv.location_id.clone()) {
                p.location_id = Some(l);
                p.here = false;
            }
        }
        // An answer to the question just asked narrows the last request rather than starting over.
        // (Which store: "i'm by gangnam station actually" answers it, whatever else it seems to ask.)
        let answers_store = conv.state.asked.as_deref() == Some("store")
            && u.pickup.as_ref().is_some_and(|p| p.location_id.is_some() || p.here)
            && u.category.is_none()
            && u.brand.is_none();
        if conv.state.asked.is_some() && (u.intent == "find" || answers_store) {
            if let Some(prev) = conv.state.last.clone() {
                let mut merged = prev;
                // (The store asked for, after products one can pick up somewhere were shown: stock there — "i'm by
                // gangnam station actually" after power banks near me.)
                merged.intent =
                    if answers_store && !conv.state.shown.is_empty() { "availability" } else { "find" }.into();
                merged.refine = None;
                if u.category.is_some() {
                    merged.category = u.category.clone();
                }
                if u.brand.is_some() {
                    merged.brand = u.brand.clone();
                }
                if u.price.is_some() {
                    merged.price = u.price.clone();
                }
                merged.attributes.extend(u.attributes.clone());
                if u.pickup.is_some() {
                    merged.pickup = u.pickup.clone();
                }
                if !u.words.is_empty() && !answers_store {
                    merged.words = u.words.clone();
                }
                u = merged;
            }
        }
        // Prices in the currency the shopper named, else the one this conversation has used, else the page's.
        let said_currency = match (&u.price, conv.state.currency.as_str()) {
            (Some(p), _) => p.currency.clone(),
            (None, "KRW" | "USD") if turn.currency.is_none() => conv.state.currency.clone(),
            _ => currency.clone(),
        };
        // What the rules could not read at all, the language model may (when one is set).
        if !about_shown {
            self.assistant_ask_model(&text, &mut u).await?;
        }
        let ctx = Ctx { ko: locale == "ko", currency: &said_currency, locations: &locations, about_shown };
        let mut answer = self.answer(&turn, &mut conv, &mut u, &ctx, location_id.as_deref()).await?;
        answer.understood = u.clone();
        conv.state.last_intent = Some(u.intent.clone());
        self.remember_mentions(&mut conv.state, &u).await?;

        // Learns from what consenting shoppers ask: a search in the interaction log.
        if turn.personalize && matches!(u.intent.as_str(), "find" | "refine" | "gift") {
            let query =
                [u.category.as_deref().map(|c| texts::category(c, ctx.ko)), u.brand.clone(), Some(u.words.clone())]
                    .into_iter()
                    .flatten()
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
            if !query.is_empty() {
                let ev = super::recommendations::ShopperEvent {
                    kind: "search".into(),
                    product_id: None,
                    query: Some(query.chars().take(200).collect()),
                    location_id: conv.location_id.clone(),
                    device: None,
                };
                if let Err(e) =
                    self.record_shopper_events(vec![ev], turn.customer_id.clone(), turn.session_id.clone()).await
                {
                    tracing::warn!(error = %e, "assistant: could not log the search");
                }
            }
        }

        let body = serde_json::json!({
            "products": answer.products.iter().map(|p| serde_json::json!({
                "id": p.id, "handle": p.handle, "title": p.title, "price": p.price, "availability": p.availability,
                "reason": p.reason,
            })).collect::<Vec<_>>(),
            "question": answer.question,
            "intent": u.intent,
        });
        answer.conversation_id = conv.id.clone();
        answer.handoff = conv.handoff.clone();
        let reply_text = answer.reply.text.clone();
        let hand_off = u.intent == "handoff";
        self.db
            .write(move |tx| {
                conversations::save_turn(tx, &conv, &text, &reply_text, &body, now)?;
                if hand_off {
                    conversations::hand_off(tx, &conv.id, now)?;
                }
                Ok::<(), EngineError>(())
            })
            .await?;
        if hand_off {
            answer.handoff = "waiting".into();
        }
        Ok(answer)
    }

    /// The answer for an understood turn; updates the conversation's state.
    async fn answer(
        &self,
        turn: &Turn,
        conv: &mut Conversation,
        u: &mut Understood,
        ctx: &Ctx<'_>,
        chosen_store: Option<&str>,
    ) -> Result<Answer> {
        let ko = ctx.ko;
        let say = |k: &str, e: &str| if ko { k.to_owned() } else { e.to_owned() };
        let mut out = Answer {
            conversation_id: String::new(),
            reply: Reply { text: String::new(), locale: if ko { "ko" } else { "en" }.into() },
            understood: Understood::default(),
            products: Vec::new(),
            question: None,
            handoff: "none".into(),
        };
        let intent = u.intent.clone();
        let asked_before = conv.state.questions_in_row;
        conv.state.asked = None;
        conv.state.questions_in_row = 0;
        match intent.as_str() {
            "out_of_scope" => out.reply.text = say(texts::OUT_OF_SCOPE_KO, texts::OUT_OF_SCOPE_EN),
            "smalltalk" => out.reply.text = say(texts::SMALLTALK_KO, texts::SMALLTALK_EN),
            "returns" => out.reply.text = say(texts::RETURNS_KO, texts::RETURNS_EN),
            "question" => self.question_answer(conv, u, ctx, chosen_store, &turn.text, &mut out).await?,
            "handoff" => out.reply.text = say(texts::HANDOFF_KO, texts::HANDOFF_EN),
            "order_status" => out.reply.text = self.order_status_text(turn.customer_id.as_deref(), ko).await?,
            "compare" => {
                let ids: Vec<String> = conv.state.shown.iter().take(2).map(|s| s.id.clone()).collect();
                if ids.len() < 2 && u.category.is_none() && u.brand.is_none() {
                    out.reply.text = say(
                        "비교할 상품을 먼저 찾아 볼까요? 어떤 상품을 보고 계세요?",
                        "Let's find the products first: what are you comparing?",
                    );
                } else if ids.len() >= 2 {
                    let loaded = self.db.read(move |tx| load_products(tx, &ids)).await?;
                    let asked = BTreeMap::new();
                    out.products =
                        loaded.iter().filter_map(|l| describe(l, ctx, &asked, None, u, "compare")).collect::<Vec<_>>();
                    out.reply.text = compare_text(&out.products, ko);
                } else {
                    // A compare request naming a kind of product: show the two best to compare, with what was
                    // asked of that kind before ("후드티랑 맨투맨 뭐가 나아요?" after grey hoodies in L).
                    if let Some(last) = conv.state.last.as_ref().filter(|l| l.category == u.category) {
                        for (k, v) in &last.attributes {
                            u.attributes.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                        if u.price.is_none() {
                            u.price = last.price.clone();
                        }
                    }
                    self.search_answer(conv, u, ctx, chosen_store, turn, &mut out, asked_before, 2).await?;
                }
            }
            // (A kind of its own the shop may not carry is no question about the products shown: "and a beanie
            // there?" after a jacket is looked for there.)
            "availability"
                if ((u.category.is_none() && u.brand.is_none() && !assistant::names_other_kind(&u.words))
                    || ctx.about_shown)
                    && !conv.state.shown.is_empty() =>
            {
                self.availability_answer(conv, u, ctx, chosen_store, turn, &mut out).await?;
            }
            _ => {
                self.search_answer(conv, u, ctx, chosen_store, turn, &mut out, asked_before, SHOWN).await?;
            }
        }
        Ok(out)
    }

    async fn order_status_text(&self, customer_id: Option<&str>, ko: bool) -> Result<String> {
        let Some(customer) = customer_id else {
            return Ok(if ko {
                "로그인하시면 주문 상태를 알려 드릴게요. 비회원 주문은 주문 확인 메일의 링크에서 볼 수 있어요.".into()
            } else {
                "Sign in and I'll tell you where your orders are. Guest orders can be followed from the link in the order email.".into()
            });
        };
        let orders = self
            .orders(crate::sales::orders::OrderQuery {
                limit: 3,
                customer_id: Some(customer.to_owned()),
                ..Default::default()
            })
            .await?;
        if orders.is_empty() {
            return Ok(if ko {
                "아직 주문하신 내역이 없어요.".into()
            } else {
                "You have no orders yet.".into()
            });
        }
        let lines: Vec<String> = orders
            .iter()
            .map(|o| {
                let what = o
                    .lines
                    .first()
                    .map(|l| if ko { l.title.ko.clone() } else { l.title.en.clone() })
                    .unwrap_or_default();
                let more = o.lines.len().saturating_sub(1);
                let what = match (more, ko) {
                    (0, _) => what,
                    (n, true) => format!("{what} 외 {n}개"),
                    (n, false) => format!("{what} and {n} more"),
                };
                let status = texts::order_status(&o.status, &o.fulfillment_type, ko);
                let total = texts::money(o.total.amount_minor, &o.total.currency, ko);
                format!("· {} ({what}, {total}): {status}", o.id)
            })
            .collect();
        Ok(if ko {
            format!("최근 주문이에요.\n{}", lines.join("\n"))
        } else {
            format!("Your latest orders:\n{}", lines.join("\n"))
        })
    }
}

impl Engine {
    /// A conversation as its shopper reads it (their own, or an anonymous one whose id they hold).
    pub async fn assistant_conversation(
        &self,
        id: &str,
        customer_id: Option<&str>,
    ) -> Result<conversations::ConversationView> {
        let (id, c, now) = (id.to_owned(), customer_id.map(str::to_owned), self.now());
        self.db
            .read(move |tx| {
                conversations::load(tx, &id, c.as_deref(), now)?;
                conversations::view(tx, &id)
            })
            .await
    }

    /// Conversations handed to staff at `location_id` (all for owners).
    pub async fn assistant_handoffs(&self, location_id: Option<&str>) -> Result<Vec<conversations::HandoffView>> {
        let (l, now) = (location_id.map(str::to_owned), self.now());
        self.db.read(move |tx| conversations::handoffs(tx, l.as_deref(), now)).await
    }

    /// A handed-off conversation for staff (checked against their location).
    pub async fn assistant_handoff(
        &self,
        id: &str,
        location_id: Option<&str>,
    ) -> Result<conversations::ConversationView> {
        let (id, l) = (id.to_owned(), location_id.map(str::to_owned));
        let v = self.db.read(move |tx| conversations::view(tx, &id)).await?;
        if v.handoff == "none" || l.is_some_and(|l| v.location_id.as_deref().is_some_and(|x| x != l)) {
            return Err(EngineError::not_found("conversation", v.id));
        }
        Ok(v)
    }

    /// Staff answer a handed-off conversation; the shopper sees it in their chat.
    pub async fn assistant_staff_reply(
        &self,
        principal: &crate::platform::auth::Principal,
        id: &str,
        text: &str,
    ) -> Result<()> {
        let text = text.trim().to_owned();
        if text.is_empty() || text.chars().count() > conversations::MAX_TEXT {
            return Err(EngineError::invalid(
                "invalid_message",
                format!("a reply is 1–{} characters", conversations::MAX_TEXT),
            ));
        }
        self.assistant_handoff(id, principal.location()).await?;
        let (id, who, now) = (id.to_owned(), principal.key_id().to_owned(), self.now());
        self.db.write(move |tx| conversations::staff_reply(tx, &id, &who, &text, now)).await
    }

    /// Staff close a handed-off conversation.
    pub async fn assistant_close(&self, principal: &crate::platform::auth::Principal, id: &str) -> Result<()> {
        self.assistant_handoff(id, principal.location()).await?;
        let id = id.to_owned();
        self.db.write(move |tx| conversations::close(tx, &id)).await
    }
}
