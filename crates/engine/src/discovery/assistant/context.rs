//! The turn read against the conversation so far: going back to an earlier request, a store said for the
//! last one, one type chosen within its kind, and a stock question about it — each checked against the
//! catalog's titles of that kind.

use super::conversations::State;
use super::title_holds;
use crate::{Engine, Result};
use assistant::{Pickup, Understood};

/// The request a turn is read after, and whether it is a product only mentioned: the last request, or, right
/// after a question about an order or a return that named a product, that product ("then show me the same in
/// large, grey" after "bought joggers in m, too tight, can i swap?"); with the store the conversation named
/// last when the turn says "there" / "거기" and that request has none ("ok and do you have kimchi there" after
/// "is my pickup at seomyeon ready").
pub(super) fn read_after(state: &State, text: &str) -> (Option<Understood>, bool) {
    // (Only with no request of its own before it, or said to be the same: after a request, a question about a
    // return is an aside — "흰색으로 할게요" after slippers, then a sandal's return, is the slippers in white.)
    let lowered = text.to_lowercase();
    let same = lowered.split(|c: char| !c.is_alphanumeric()).any(|w| w == "same")
        || ["같은 걸", "같은 거", "똑같은"].iter().any(|w| lowered.contains(w));
    let mention = state.mentioned.clone().filter(|_| {
        matches!(state.last_intent.as_deref(), Some("returns" | "order_status")) && (state.last.is_none() || same)
    });
    let mentioned = mention.is_some();
    let mut previous = mention.or_else(|| state.last.clone());
    let storeless = previous.as_ref().is_none_or(|p| p.pickup.as_ref().is_none_or(|p| p.location_id.is_none()));
    if let Some(store) = state.last_store.clone().filter(|_| storeless && says_there(text)) {
        let p = previous.get_or_insert_with(|| Understood { intent: "find".into(), ..Default::default() });
        p.pickup = Some(Pickup { location_id: Some(store), ..Default::default() });
    }
    (previous, mentioned)
}

/// `earlier` with what this turn said over it: its colour and size, and its budget and store when it said them.
fn said_over(mut earlier: Understood, u: &Understood) -> Understood {
    earlier.attributes.extend(u.attributes.clone());
    if u.price.is_some() {
        earlier.price = u.price.clone();
    }
    if u.pickup.is_some() {
        earlier.pickup = u.pickup.clone();
    }
    earlier
}

/// The words of a kind's name in Korean and English ("earphones", "headphones", "이어폰", "헤드폰").
fn kind_names(kind: &str) -> Vec<String> {
    [super::texts::category(kind, true), super::texts::category(kind, false)]
        .iter()
        .flat_map(|n| n.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `text` points at a place with "there" / "거기" ("do you have kimchi there", "거기 우유도 있어요?"),
/// not "is there …", "there is …" or "hi there".
fn says_there(text: &str) -> bool {
    let lowered = text.to_lowercase();
    if lowered.contains("거기") {
        return true;
    }
    let words: Vec<&str> =
        lowered.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).collect();
    words.iter().enumerate().any(|(i, w)| {
        *w == "there"
            && !i
                .checked_sub(1)
                .is_some_and(|p| matches!(words[p], "is" | "are" | "was" | "were" | "hi" | "hey" | "hello"))
            && !words.get(i + 1).is_some_and(|n| matches!(*n, "is" | "are" | "was" | "were" | "isn't" | "aren't"))
    })
}

impl Engine {
    /// What this turn leaves for the next: the store it named, and the product a question about an order or a
    /// return named, read as a request of its kind (only the kind, a brand and the words its titles hold: the
    /// size that did not fit and the words of the complaint are no request).
    pub(super) async fn remember_mentions(&self, state: &mut State, u: &Understood) -> Result<()> {
        if let Some(store) = u.pickup.as_ref().and_then(|p| p.location_id.clone()) {
            state.last_store = Some(store);
        }
        state.mentioned = None;
        if !matches!(u.intent.as_str(), "returns" | "order_status") {
            return Ok(());
        }
        let mut m = Understood { intent: "find".into(), ..u.clone() };
        m.refine = None;
        m.pickup = None;
        self.assistant_ground(&mut m, false).await?;
        let Some(kind) = m.category.clone().filter(|c| c.contains('/')) else { return Ok(()) };
        let words = self.held_in_kind(&assistant::content_words(&m.words), &kind).await?;
        state.mentioned = Some(Understood {
            intent: "find".into(),
            category: Some(kind),
            brand: m.brand,
            words: words.join(" "),
            ..Default::default()
        });
        Ok(())
    }

    /// `u` as meant after the conversation so far, and whether it asks about the products shown (adding
    /// nothing to the request that found them).
    pub(super) async fn in_context(&self, text: &str, mut u: Understood, state: &State) -> Result<(Understood, bool)> {
        // Going back to an earlier request of another kind ("아까 그 셔츠 홍대점에 있어요?" after shorts, "back
        // to the kettles"): its slots again, with what this turn adds.
        let said = text.to_lowercase();
        let back = ["아까", "앞에서", "처음에", "earlier", "go back", "back to", "the first", "previous", "original"]
            .iter()
            .any(|w| said.contains(w));
        let last_kind = state.last.as_ref().and_then(|l| l.category.clone());
        // (Named by its kind, or by a word its kind's titles hold and the last kind's do not: "아까 치노는
        // 서면점은요?", "and the chinos at seomyeon?" after shirts — "the chinos" points back by itself.)
        let said_words = assistant::content_words(&u.words);
        let pointed = said.starts_with("the ") || said.contains(" the ") || said.contains("그 ");
        // (What was shown first, named by no other kind than the last: "back to what you showed me first",
        // "처음에 보여주신 거" — the conversation's first request.)
        // (Not the first of the products shown: "the first one you showed me, does it come in L?".)
        let first_shown =
            ["showed me first", "showed first", "shown first", "first thing you showed", "first you showed"]
                .iter()
                .any(|w| said.contains(w))
                || ["처음에 보여", "처음 보여", "맨 처음에 보여", "제일 처음 보여"].iter().any(|w| said.contains(w));
        let mut found = state
            .requests
            .first()
            .filter(|r| first_shown && u.category == last_kind && r.category.is_some() && r.category != last_kind);
        // (Whether the last kind's titles hold the words is asked once, and only when an earlier request waits.)
        let by_words = (back || pointed) && !said_words.is_empty();
        let mut held_in_last: Option<bool> = None;
        let first_found = found.is_some();
        for r in state.requests.iter().rev().filter(|r| !first_found && r.category != last_kind) {
            if back && u.category.is_some() && r.category == u.category {
                found = Some(r);
                break;
            }
            let Some(kind) = r.category.as_deref().filter(|_| by_words) else { continue };
            if held_in_last.is_none() {
                held_in_last = Some(match last_kind.as_deref() {
                    Some(last) => !self.held_in_kind(&said_words, last).await?.is_empty(),
                    None => false,
                });
            }
            if held_in_last == Some(true) {
                break;
            }
            if !self.held_in_kind(&said_words, kind).await?.is_empty() {
                found = Some(r);
                break;
            }
        }
        // (Back to the request still standing, by its kind, after one the shop could not answer: "ok back to the
        // slides, ill pick up at gangnam" after "do you sell scrubs" keeps the slides' colour and size.)
        // (It stays the refinement it is: "ok back to the tees, size small" narrows them.)
        let same_kind =
            found.is_none() && back && state.last_not_carried && u.category.is_some() && u.category == last_kind;
        if same_kind {
            found = state.last.as_ref();
        }
        if let Some(earlier) = found {
            let mut restored = earlier.clone();
            restored.intent = if u.intent == "refine" && !same_kind { "find".into() } else { u.intent.clone() };
            restored.refine = if same_kind { u.refine.clone() } else { None };
            // (Read as the last request's turn, it holds the last request's colour, size and budget; only what
            // differs from them was said: "the first thing you showed me, is it at hongdae?" after grey
            // hoodies is no grey kettle.)
            if first_found {
                if let Some(last) = state.last.as_ref() {
                    // (A store stays, as it does for any new request.)
                    u.attributes.retain(|k, v| last.attributes.get(k) != Some(v));
                    u.price = u.price.clone().filter(|p| last.price.as_ref() != Some(p));
                }
            }
            u = said_over(restored, &u);
        }
        // A store said for the request just made, in words no title of its kind holds: that request there —
        // products to take ("홍대에서 살 수 있는 걸로 알려주세요" after chargers) or a stock question ("at hongdae
        // pls"); near the shopper or today, asked, a question about the products shown ("fine, ill stick with
        // those. near me today?").
        let mut about_shown = false;
        let somewhere = u
            .pickup
            .as_ref()
            .is_some_and(|p| p.location_id.is_some() || ((p.today || p.within_km.is_some()) && assistant::asks(text)));
        if let Some(last) = state.last.clone().filter(|l| {
            u.intent == "find"
                && u.category.is_none()
                && u.brand.is_none()
                && somewhere
                && l.category.is_some()
                // (Or after a question about one of them: "3키로짜리 얼마예요?" then "오늘 저녁에 들러서 가져갈 수
                // 있어요?".)
                && matches!(state.last_intent.as_deref(), Some("find" | "refine" | "availability" | "question"))
        }) {
            let kind = last.category.clone().unwrap_or_default();
            if self.held_in_kind(&assistant::content_words(&u.words), &kind).await?.is_empty() {
                let at_store = u.pickup.as_ref().is_some_and(|p| p.location_id.is_some());
                let mut merged = last;
                merged.intent =
                    if at_store && assistant::requests_products(text) { "find" } else { "availability" }.into();
                merged.refine = None;
                merged.pickup = u.pickup.clone();
                merged.attributes.extend(u.attributes.clone());
                if u.price.is_some() {
                    merged.price = u.price.clone();
                }
                about_shown = !at_store && u.attributes.is_empty() && u.price.is_none();
                u = merged;
            }
        }
        // One of two just compared, chosen by a word of the comparison, whatever kind other words seem to name
        // ("러닝할 때 쓸 거면 골전도겠네요 검정 있어요?" after bone-conduction and open earbuds: no running shoes).
        if let Some(chosen) = self.chosen_of_compared(text, &u, state).await? {
            u = chosen;
        }
        // One type or format within the kind just shown ("온도조절 되는 걸로요", "cold brew specifically",
        // "2리터 6병짜리로" after water at Seomyeon): the last request narrowed to it, when titles of that kind
        // hold the words (otherwise a new request: "우산으로" after coffee).
        if let Some(narrowed) = self.narrowed(text, &u, state).await? {
            u = narrowed;
        }
        // One of the products shown, by words its kind's titles hold though they seemed to name another kind, asked
        // about at a store: "the 10 cup one, at seomyeon?" after rice cookers (not the ramen big cups).
        if let Some(last) = state.last.as_ref().filter(|l| {
            u.intent == "availability" && l.category.is_some() && u.category.is_some() && u.category != l.category
        }) {
            // (The words before the store: "the 6 cup one at gangnam?".)
            let said = text.trim_end_matches(['?', '.', '!', ' ']).to_lowercase();
            let said = said.split(" at ").next().unwrap_or_default().trim_end_matches([',', ' ']).to_owned();
            let one = said.starts_with("the ") && (said.ends_with(" one") || said.ends_with(" ones"));
            if let Some(words) = assistant::chooses_within(&said).filter(|_| one) {
                let kind = last.category.clone().unwrap_or_default();
                let held = self.held_in_kind(&assistant::content_words(&words), &kind).await?;
                if !held.is_empty() {
                    let mut merged = last.clone();
                    merged.intent = "availability".into();
                    merged.refine = None;
                    merged.words = held.join(" ");
                    if u.pickup.is_some() {
                        merged.pickup = u.pickup.clone();
                    }
                    merged.attributes.extend(u.attributes.clone());
                    u = merged;
                }
            }
        }
        // A stock question about the request just made, in words no title of its kind holds ("서면점 재고 확인
        // 부탁해요" after 3 kg napa kimchi, "fine, the gaon one. at gangnam?" after kettles): that request's
        // words; and with nothing new said, it asks about the products shown.
        if let Some(last) =
            state.last.as_ref().filter(|l| u.intent == "availability" && l.category.is_some() && !about_shown)
        {
            let kind = last.category.clone().unwrap_or_default();
            // (Not a kind of its own the shop may not carry: "and a beanie there?" after a jacket.)
            if u.category.as_deref().is_none_or(|c| c == kind)
                && !assistant::names_other_kind(&u.words)
                && self.held_in_kind(&assistant::content_words(&u.words), &kind).await?.is_empty()
            {
                u.words = last.words.clone();
                // (Its kind too, for when nothing was shown: "서면점은 있나요" after light-blue jeans in XL that
                // Hongdae did not have; or when what was shown was an older request's: "seomyeon then?" after a pink
                // mouse Hongdae did not have, not the gifts shown before it.)
                if u.category.is_none() && (state.shown.is_empty() || state.last_empty) {
                    u.category = last.category.clone();
                }
                about_shown = u.brand.as_ref().is_none_or(|b| last.brand.as_ref() == Some(b))
                    && u.attributes.iter().all(|(k, v)| last.attributes.get(k) == Some(v))
                    && u.price == last.price;
            }
        }
        // A type within the kind just shown, asked about at a store, is of the brand shown when that brand has
        // it ("fine, the big cups then, there?" after one brand's bibim noodles).
        if let Some(last) = state.last.as_ref().filter(|l| {
            u.intent == "availability"
                && u.brand.is_none()
                && u.exclude_brand.is_none()
                && l.brand.is_some()
                && l.category.is_some()
                && u.category == l.category
        }) {
            let kind = last.category.clone().unwrap_or_default();
            let words = assistant::content_words(&u.words);
            if !words.is_empty() && !self.held_in(&words, &kind, last.brand.as_deref()).await?.is_empty() {
                u.brand = last.brand.clone();
            }
        }
        // (Nothing was shown for a request that found nothing: the products still listed are an older request's —
        // "seomyeon then?" after a pink mouse Hongdae did not have asks for it at Seomyeon, not for the gifts
        // shown before.)
        Ok((u, about_shown && !state.last_empty))
    }

    /// After two products of one kind were compared, the one a turn chooses by a word the comparison said, when
    /// its other words seemed to name another kind: the compared request narrowed to that word.
    async fn chosen_of_compared(&self, text: &str, u: &Understood, state: &State) -> Result<Option<Understood>> {
        let Some(last) = state.last.as_ref().filter(|_| state.last_intent.as_deref() == Some("compare")) else {
            return Ok(None);
        };
        let Some(kind) = last.category.clone() else { return Ok(None) };
        if u.category.as_ref().is_none_or(|c| *c == kind)
            || u.brand.is_some()
            || !matches!(u.intent.as_str(), "find" | "availability" | "refine")
        {
            return Ok(None);
        }
        let said = text.to_lowercase();
        let names = kind_names(&kind);
        let words: Vec<String> = assistant::content_words(&last.words)
            .into_iter()
            .filter(|w| w.chars().count() >= 2 && !names.contains(w))
            .filter(|w| if w.is_ascii() { assistant::contains_word(&said, w) } else { said.contains(w.as_str()) })
            .collect();
        let mut held = self.held_in_kind(&words, &kind).await?;
        // (Not a word the other kind's titles hold too: "and running shoes in 270?" after earbuds compared for
        // running asks for shoes.)
        if let Some(other) = u.category.as_deref() {
            let theirs = self.held_in_kind(&held, other).await?;
            held.retain(|w| !theirs.contains(w));
        }
        if held.is_empty() {
            return Ok(None);
        }
        let mut merged = last.clone();
        merged.intent = if u.intent == "availability" { "availability" } else { "find" }.into();
        merged.refine = None;
        merged.words = held.join(" ");
        Ok(Some(said_over(merged, u)))
    }

    /// The last request narrowed to one type or format of its kind, when `text` chooses one by its form and
    /// titles of that kind hold its words (see [`assistant::chooses_within`]).
    async fn narrowed(&self, text: &str, u: &Understood, state: &State) -> Result<Option<Understood>> {
        let Some(last) = state.last.as_ref() else { return Ok(None) };
        let Some(kind) = last.category.clone() else { return Ok(None) };
        // (After two products compared, a kind named outright is a request of its own: "오픈형 이어폰 흰색으로
        // 볼게요" after open and bone-conduction earbuds; one of the two chosen, within the kind compared, keeps
        // what was asked of it: "맨투맨으로 볼게요 홍대점 픽업" after grey hoodies in L, then hoodies and
        // sweatshirts compared.)
        let compared = state.last_intent.as_deref() == Some("compare");
        if compared && u.category.as_ref().is_some_and(|c| *c != kind) {
            return Ok(None);
        }
        // (A stock question chooses only when it says it changes: "1키로짜리로 바꿀래요 거기 있어요?".)
        let changes = text.contains("바꿀") || text.contains("바꿔");
        if !(matches!(u.intent.as_str(), "find" | "question") || (u.intent == "availability" && changes))
            || u.brand.is_some()
            || u.exclude_brand.is_some()
            || !matches!(
                state.last_intent.as_deref(),
                Some("find" | "refine" | "availability" | "gift" | "question" | "compare")
            )
        {
            return Ok(None);
        }
        // (Whatever kind the words seemed to name alone: "spicy beef one" after ramen is the ramen, not the
        // beef bulgogi — the choice is within what was shown when its titles hold the words.)
        // (Accessories for a device, by the device's words: "아리아 A3 쓰는데 그거에 맞는 거요" after phone cases.)
        let device = assistant::fits_device(text);
        let Some(words) = device.clone().or_else(|| assistant::chooses_within(text)) else { return Ok(None) };
        // (Only a kind the words seemed to name is overridden, and only by "… one" or a device; another kind named
        // outright is a new request: "이거랑 입을 셔츠도 화이트 S로" after chinos.)
        let said = text.trim_end_matches(['?', '.', '!']).to_lowercase();
        let one = said.split_whitespace().any(|w| matches!(w, "one" | "ones" | "model" | "kind" | "version"))
            || device.is_some();
        if u.category.as_ref().is_some_and(|c| *c != kind) && !one {
            return Ok(None);
        }
        // The words left after the slots (a colour or a size said is no type: "화이트 S로").
        let left = assistant::content_words(&u.words);
        let chosen: Vec<String> = assistant::content_words(&words)
            .into_iter()
            .filter(|w| {
                // (Amounts are normalised — "2리터" is "2l" — so they stay.)
                device.is_some()
                    || w.chars().any(|c| c.is_ascii_digit())
                    || left.iter().any(|l| l.starts_with(w.as_str()) || w.starts_with(l.as_str()))
            })
            .collect();
        let held = self.held_in_kind(&chosen, &kind).await?;
        if held.is_empty() {
            return Ok(None);
        }
        // (The kind's own name is no type within it: "과자 강남역점 픽업 되는 걸로 보여줘" after another brand's
        // snacks asks for that request again, at Gangnam.)
        let names = kind_names(&kind);
        let again = held.iter().all(|w| names.iter().any(|n| n == w || n.trim_end_matches('s') == w));
        let mut merged = last.clone();
        if again || compared {
            merged.intent = "find".into();
            merged.refine = None;
        } else {
            merged.intent = "refine".into();
            merged.refine = Some("type".into());
            merged.words = held.join(" ");
        }
        Ok(Some(said_over(merged, u)))
    }

    /// The words some title of `kind` holds, searched word by word: a search holds every word it is given,
    /// and "2리터" is no title's word ("2L").
    pub(super) async fn held_in_kind(&self, words: &[String], kind: &str) -> Result<Vec<String>> {
        self.held_in(words, kind, None).await
    }

    /// As [`Self::held_in_kind`], among one brand's products of the kind.
    async fn held_in(&self, words: &[String], kind: &str, brand: Option<&str>) -> Result<Vec<String>> {
        let mut held = Vec::new();
        for w in words.iter().take(4) {
            let q = crate::discovery::product_search::SearchQuery {
                q: w.chars().take(crate::discovery::product_search::MAX_QUERY_CHARS).collect(),
                category: Some(kind.to_owned()),
                brand: brand.map(str::to_owned),
                currency: "KRW".into(),
                sort: "relevance".into(),
                limit: 10,
                ..Default::default()
            };
            if self.search_products(q).await?.hits.iter().any(|h| title_holds(h, w)) {
                held.push(w.clone());
            }
        }
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn there_points_at_a_place_only_when_it_names_one() {
        for t in ["ok and do you have kimchi there", "any joggers there?", "거기 우유도 있어요?", "there, in black?"]
        {
            assert!(super::says_there(t), "{t}");
        }
        for t in ["is there a cheaper one", "hi there!", "there is a stain on it", "are there any in black"] {
            assert!(!super::says_there(t), "{t}");
        }
    }
}
