//! `borderless assistant eval`: the shopping assistant measured on the committed, labelled set
//! (`crates/assistant/eval`): understanding of single utterances (intent, slots, price bounds) and
//! multi-turn dialogues answered end to end by the engine over the demo retailer, with every reply checked
//! for a product, price or stock figure that differs from the catalog and stock (grounding).

use anyhow::{bail, Context, Result};
use engine::discovery::assistant::{Answer, Turn};
use engine::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

#[derive(Deserialize)]
struct Utterance {
    text: String,
    previous: Option<String>,
    intent: String,
    category: Option<String>,
    brand: Option<String>,
    exclude_brand: Option<String>,
    price: Option<Value>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    pickup: Option<Value>,
    refine: Option<String>,
}

#[derive(Deserialize)]
struct Dialogue {
    id: String,
    location_id: Option<String>,
    turns: Vec<DialogueTurn>,
}

#[derive(Deserialize)]
struct DialogueTurn {
    text: String,
    #[serde(default)]
    expect: Expect,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Expect {
    intent: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    not_brand: Option<String>,
    max_minor: Option<i64>,
    min_minor: Option<i64>,
    currency: Option<String>,
    color: Option<String>,
    size: Option<String>,
    available_at: Option<String>,
    #[serde(default)]
    cheaper: bool,
    #[serde(default)]
    pricier: bool,
    min_products: Option<usize>,
    #[serde(default)]
    none: bool,
    #[serde(default)]
    question: bool,
    #[serde(default)]
    handoff: bool,
}

/// The figures `assistant eval` prints last.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub utterances: usize,
    pub dialogues: usize,
    pub turns: usize,
    pub price_exact: f64,
    pub slot_exact: f64,
    pub intent_accuracy: f64,
    pub dialogue_success: f64,
    pub grounding_violations: usize,
    pub p99_ms: f64,
    /// With a language model: how often it was asked about a turn the rules could not read, and taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<engine::discovery::assistant::language_model::Consulted>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {}: the set is a directory with utterances.jsonl and dialogues.jsonl (crates/assistant/eval)",
            path.display()
        )
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect()
}

/// Runs the evaluation against a fresh demo retailer in a temporary directory. `verbose` prints every
/// miss and every dialogue turn as understood to stderr (the first 40 misses are printed anyway).
/// With `embeddings` (an OpenAI-compatible endpoint), search is semantic too: the demo's products are
/// embedded before the first turn.
pub async fn run(set: &Path, verbose: bool, embeddings: Option<&str>, llm: Option<&str>) -> Result<Report> {
    let utterances: Vec<Utterance> = read_jsonl(&set.join("utterances.jsonl"))?;
    let dialogues: Vec<Dialogue> = read_jsonl(&set.join("dialogues.jsonl"))?;
    if utterances.is_empty() || dialogues.is_empty() {
        bail!("the set at {} has no utterances or no dialogues", set.display());
    }
    let dir = std::env::temp_dir().join(format!("borderless-assistant-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = node::app::AppConfig { data_dir: dir.clone(), ..Default::default() };
    let db = tokio::task::spawn_blocking(move || node::app::open_db(&cfg)).await??;
    let engine = Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
    crate::demo::seed(&engine).await.context("seeding the demo retailer")?;
    engine.search_refresh().await?;
    engine.search_stock_refresh().await?;
    if let Some(url) = embeddings {
        let model = node::embeddings::OpenAiEmbeddings::new(
            url,
            "multilingual-e5-small",
            None,
            std::time::Duration::from_secs(60),
        )?;
        engine.set_embedder(std::sync::Arc::new(model), std::time::Duration::from_secs(30));
        let n = engine.search_embed_refresh().await?;
        eprintln!("semantic search on: {n} products embedded");
    }
    with_language_model(&engine, llm)?;
    let report = evaluate(&engine, &utterances, &dialogues, verbose).await;
    let _ = std::fs::remove_dir_all(&dir);
    report
}

/// With `llm` (an OpenAI-compatible chat-completions endpoint), the assistant asks it about turns its rules
/// cannot read; each turn waits up to 30 s for it (a measurement, not a shopper).
fn with_language_model(engine: &Engine, llm: Option<&str>) -> Result<()> {
    if let Some(url) = llm {
        let m = node::chat_model::OpenAiChat::new(url, "local", None, std::time::Duration::from_secs(30))
            .map_err(|e| anyhow::anyhow!(e))?;
        eprintln!("language model on: {}", m.url());
        engine.set_language_model(std::sync::Arc::new(m), std::time::Duration::from_secs(30));
    }
    Ok(())
}

/// What the engine understands in one utterance against the demo retailer (seeded in a temporary
/// directory): the API's `understood` object, with stores shown by their code (GANGNAM) rather than id.
pub async fn parse(text: &str) -> Result<assistant::Understood> {
    let dir = std::env::temp_dir().join(format!("borderless-assistant-parse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = node::app::AppConfig { data_dir: dir.clone(), ..Default::default() };
    let db = tokio::task::spawn_blocking(move || node::app::open_db(&cfg)).await??;
    let engine = Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
    let understood = async {
        crate::demo::seed(&engine).await.context("seeding the demo retailer")?;
        engine.search_refresh().await?;
        let mut u = engine.assistant_understand(text, None).await?;
        let locations = engine.locations().await?;
        if let Some(p) = u.pickup.as_mut() {
            if let Some(l) = locations.iter().find(|l| Some(&l.id) == p.location_id.as_ref()) {
                p.location_id = Some(l.code.clone());
            }
        }
        anyhow::Ok(u)
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    understood
}

async fn evaluate(engine: &Engine, utterances: &[Utterance], dialogues: &[Dialogue], verbose: bool) -> Result<Report> {
    let locations = engine.locations().await?;
    let code_to_id: HashMap<String, String> = locations.iter().map(|l| (l.code.clone(), l.id.clone())).collect();
    let id_to_code: HashMap<String, String> = locations.iter().map(|l| (l.id.clone(), l.code.clone())).collect();
    let mut misses = 0usize;
    let mut miss = |what: String| {
        misses += 1;
        if verbose || misses <= 40 {
            eprintln!("miss: {what}");
        }
    };

    // Utterances: understanding alone.
    let (mut price_ok, mut slots_ok, mut intent_ok) = (0, 0, 0);
    for u in utterances {
        let prev = match &u.previous {
            Some(p) => Some(engine.assistant_understand(p, None).await?),
            None => None,
        };
        let got = engine.assistant_understand(&u.text, prev.as_ref()).await?;
        let got_price = got.price.as_ref().map(|p| serde_json::to_value(p).unwrap_or(Value::Null));
        let want_price = u.price.as_ref().map(|p| {
            let mut p = p.clone();
            if let Some(o) = p.as_object_mut() {
                o.retain(|_, v| !v.is_null());
            }
            p
        });
        let price_match = got_price == want_price;
        price_ok += price_match as usize;
        let pickup_got = got.pickup.as_ref().map(|p| {
            json!({"location_id": p.location_id.as_ref().map(|id| id_to_code.get(id).cloned().unwrap_or(id.clone())),
                   "within_km": p.within_km, "today": p.today})
        });
        let pickup_want = u.pickup.as_ref().filter(|p| !p.is_null()).map(|p| {
            json!({"location_id": p["location_id"], "within_km": p["within_km"],
                   "today": p["today"].as_bool().unwrap_or(false)})
        });
        let slots = [
            ("category", got.category == u.category),
            ("brand", got.brand == u.brand),
            ("exclude_brand", got.exclude_brand == u.exclude_brand),
            ("attributes", got.attributes == u.attributes),
            ("pickup", pickup_got == pickup_want),
            ("refine", got.refine == u.refine),
        ];
        let slot_match = slots.iter().all(|s| s.1);
        slots_ok += slot_match as usize;
        intent_ok += (got.intent == u.intent) as usize;
        if !(price_match && slot_match && got.intent == u.intent) {
            let wrong: Vec<&str> = slots.iter().filter(|s| !s.1).map(|s| s.0).collect();
            miss(format!(
                "{:?}: intent {} (want {}), price {} (want {}), slots wrong {:?}: {}",
                u.text,
                got.intent,
                u.intent,
                got_price.map_or("null".into(), |v| v.to_string()),
                want_price.map_or("null".into(), |v| v.to_string()),
                wrong,
                serde_json::to_string(&got).unwrap_or_default()
            ));
        }
    }

    // Dialogues: the whole assistant, each turn checked against its constraints and for grounding.
    let mut succeeded = 0;
    let mut violations = 0;
    let mut latencies = Vec::new();
    let mut turns = 0;
    for d in dialogues {
        let mut conversation: Option<String> = None;
        let mut previous: Option<Answer> = None;
        let mut ok = true;
        for (i, t) in d.turns.iter().enumerate() {
            turns += 1;
            let started = Instant::now();
            let a = engine
                .assistant_message(Turn {
                    conversation_id: conversation.clone(),
                    text: t.text.clone(),
                    location_id: d.location_id.clone(),
                    ..Default::default()
                })
                .await
                .with_context(|| format!("dialogue {} turn {}", d.id, i + 1))?;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            conversation = Some(a.conversation_id.clone());
            if verbose {
                // Every turn as understood, for following a dialogue step by step.
                eprintln!(
                    "turn: {} {} {:?} → {} → {:?}",
                    d.id,
                    i + 1,
                    t.text,
                    serde_json::to_string(&a.understood).unwrap_or_default(),
                    a.products.iter().map(|p| p.title.as_str()).collect::<Vec<_>>()
                );
            }
            for v in grounding(engine, &a).await? {
                violations += 1;
                miss(format!("GROUNDING {} turn {}: {v}", d.id, i + 1));
            }
            let problems = check(engine, &t.expect, &a, previous.as_ref(), &code_to_id).await?;
            if !problems.is_empty() {
                ok = false;
                miss(format!(
                    "{} turn {} {:?}: {} — got intent {}, {} products {:?}, question {:?}, reply {:?}",
                    d.id,
                    i + 1,
                    t.text,
                    problems.join("; "),
                    a.understood.intent,
                    a.products.len(),
                    a.products.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(),
                    a.question.as_ref().map(|q| q.text.as_str()),
                    a.reply.text
                ));
            }
            if !a.products.is_empty() {
                previous = Some(a);
            }
        }
        succeeded += ok as usize;
    }
    latencies.sort_by(f64::total_cmp);
    let p99 =
        latencies.get(((latencies.len() as f64 * 0.99).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    let n = utterances.len() as f64;
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    Ok(Report {
        utterances: utterances.len(),
        dialogues: dialogues.len(),
        turns,
        price_exact: round(price_ok as f64 / n),
        slot_exact: round(slots_ok as f64 / n),
        intent_accuracy: round(intent_ok as f64 / n),
        dialogue_success: round(succeeded as f64 / dialogues.len() as f64),
        grounding_violations: violations,
        p99_ms: (p99 * 100.0).round() / 100.0,
        model: engine.language_model().map(|_| engine.language_model_consulted()),
    })
}

/// What a turn's answer breaks of its expectations (empty when it meets them all).
async fn check(
    engine: &Engine,
    e: &Expect,
    a: &Answer,
    previous: Option<&Answer>,
    code_to_id: &HashMap<String, String>,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(i) = &e.intent {
        if &a.understood.intent != i {
            out.push(format!("intent {} ≠ {i}", a.understood.intent));
        }
    }
    let searching = matches!(e.intent.as_deref().unwrap_or(a.understood.intent.as_str()), "find" | "refine" | "gift");
    let min = e.min_products.unwrap_or(if searching && !e.none && !e.question { 1 } else { 0 });
    if a.products.len() < min {
        out.push(format!("{} products < {min}", a.products.len()));
    }
    if e.none && !a.products.is_empty() {
        out.push("products shown where none fit".into());
    }
    if e.question && a.question.is_none() {
        out.push("no clarifying question".into());
    }
    if e.handoff && a.handoff != "waiting" {
        out.push("not handed off".into());
    }
    let first_before = previous.and_then(|p| p.products.first()).and_then(|p| p.price.as_ref()).map(|p| p.amount_minor);
    for p in &a.products {
        let full = engine.product_with_availability(&p.id).await?;
        let variants = &full.product.variants;
        if e.category.as_ref().is_some_and(|c| &p.category != c) {
            out.push(format!("{}: category {}", p.title, p.category));
        }
        if e.brand.as_ref().is_some_and(|b| &p.brand != b) {
            out.push(format!("{}: brand {}", p.title, p.brand));
        }
        if e.not_brand.as_ref().is_some_and(|b| &p.brand == b) {
            out.push(format!("{}: brand {} was excluded", p.title, p.brand));
        }
        if e.max_minor.is_some() || e.min_minor.is_some() {
            let cur = e.currency.as_deref().unwrap_or("KRW");
            match p.price.as_ref().filter(|x| x.currency == cur) {
                None => out.push(format!("{}: no price in {cur}", p.title)),
                Some(x) => {
                    if e.max_minor.is_some_and(|m| x.amount_minor > m)
                        || e.min_minor.is_some_and(|m| x.amount_minor < m)
                    {
                        out.push(format!("{}: price {} outside the bounds", p.title, x.amount_minor));
                    }
                }
            }
        }
        for (k, want) in [("color", &e.color), ("size", &e.size)] {
            if let Some(w) = want {
                if !variants.iter().any(|v| v.attributes.get(k).is_some_and(|x| x.eq_ignore_ascii_case(w))) {
                    out.push(format!("{}: no {k} {w}", p.title));
                }
            }
        }
        if let Some(code) = &e.available_at {
            let id = code_to_id.get(code).cloned().unwrap_or_default();
            if !p.stores.iter().any(|s| s.location_id == id && s.available > 0) {
                out.push(format!("{}: not available at {code}", p.title));
            }
        }
        let price = p.price.as_ref().map(|x| x.amount_minor);
        if e.cheaper && !matches!((price, first_before), (Some(x), Some(f)) if x < f) {
            out.push(format!("{}: not cheaper than the first product shown before", p.title));
        }
        if e.pricier && !matches!((price, first_before), (Some(x), Some(f)) if x > f) {
            out.push(format!("{}: not pricier than the first product shown before", p.title));
        }
    }
    Ok(out)
}

/// Every product, price and stock figure of an answer against the catalog and stock now: the price is the
/// lowest of the variants that fit what was asked (or of all), each store's units are those variants' units
/// there, and every amount of money in the reply's text is a shown price or a bound the shopper said.
async fn grounding(engine: &Engine, a: &Answer) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut prices_shown = Vec::new();
    for p in &a.products {
        let full = match engine.product_with_availability(&p.id).await {
            Ok(f) => f,
            Err(_) => {
                out.push(format!("{} ({}) is not an active product", p.title, p.id));
                continue;
            }
        };
        let title_ok = p.title == full.product.title.ko || p.title == full.product.title.en;
        if !title_ok {
            out.push(format!("title {:?} is not the catalog's", p.title));
        }
        // The variants that fit what was asked, or part of it (an answer that finds nothing in black 250
        // may show what the store has in 250), or all of them.
        let asked: Vec<(&String, &String)> = a.understood.attributes.iter().collect();
        let groups: Vec<Vec<&engine::catalog::products::VariantView>> =
            (0..1usize << asked.len())
                .map(|mask| {
                    full.product
                        .variants
                        .iter()
                        .filter(|v| {
                            asked.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).all(|(_, (k, w))| {
                                v.attributes.get(k.as_str()).is_some_and(|x| x.eq_ignore_ascii_case(w))
                            })
                        })
                        .collect()
                })
                .collect();
        if let Some(price) = &p.price {
            let lowest = |vs: &[&engine::catalog::products::VariantView]| {
                vs.iter()
                    .filter_map(|v| v.prices.iter().find(|x| x.currency == price.currency))
                    .map(|x| x.amount_minor)
                    .min()
            };
            if !groups.iter().any(|g| lowest(g) == Some(price.amount_minor)) {
                out.push(format!("{}: price {} {} is not the catalog's", p.title, price.amount_minor, price.currency));
            }
            prices_shown.push((price.amount_minor, price.currency.clone()));
        }
        for s in &p.stores {
            let units = |vs: &[&engine::catalog::products::VariantView]| -> i64 {
                full.availability
                    .iter()
                    .filter(|va| vs.iter().any(|v| v.sku == va.sku))
                    .flat_map(|va| va.stores.iter())
                    .filter(|x| x.location_id == s.location_id)
                    .map(|x| x.available)
                    .sum()
            };
            if !groups.iter().any(|g| units(g) == s.available) {
                out.push(format!("{}: {} units at {} but stock says otherwise", p.title, s.available, s.code));
            }
        }
        // The availability sentence's number is the store's.
        if let Some(n) = first_number(&p.availability) {
            if !p.stores.iter().any(|s| s.available == n) {
                out.push(format!("{}: availability {:?} names {n} units no store has", p.title, p.availability));
            }
        }
    }
    // Money in the reply's text: a shown price, or a bound the shopper said.
    let bounds: Vec<i64> = a.understood.price.iter().flat_map(|b| [b.min_minor, b.max_minor]).flatten().collect();
    for amount in money_in(&a.reply.text) {
        let known = prices_shown.iter().any(|(p, _)| *p == amount)
            || bounds.contains(&amount)
            || prices_shown.iter().any(|(x, _)| prices_shown.iter().any(|(y, _)| (x - y).abs() == amount));
        if !known {
            out.push(format!("the reply names {amount} that is neither a shown price nor a bound: {:?}", a.reply.text));
        }
    }
    Ok(out)
}

fn first_number(s: &str) -> Option<i64> {
    let digits: String = s.chars().skip_while(|c| !c.is_ascii_digit()).take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Amounts of money written in a reply, in minor units: "12,900원", "₩12,900", "$24.99".
fn money_in(text: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let dollar = chars[i] == '$';
        let won_sign = chars[i] == '₩';
        let start = if dollar || won_sign { i + 1 } else { i };
        if !(dollar || won_sign || chars[i].is_ascii_digit())
            || (i > 0 && chars[i - 1].is_ascii_digit() && !dollar && !won_sign)
        {
            i += 1;
            continue;
        }
        let mut j = start;
        let mut s = String::new();
        while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == ',' || chars[j] == '.') {
            if chars[j] != ',' {
                s.push(chars[j]);
            }
            j += 1;
        }
        let s = s.trim_end_matches('.');
        if !s.is_empty() {
            if dollar {
                if let Ok(v) = s.parse::<f64>() {
                    out.push((v * 100.0).round() as i64);
                }
            } else if won_sign || chars.get(j) == Some(&'원') {
                if let Ok(v) = s.parse::<i64>() {
                    out.push(v);
                }
            }
        }
        i = j.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_is_found_in_both_languages() {
        assert_eq!(super::money_in("10만원 이하 · 89,000원, ₩39,000 and $24.99 (3개)"), vec![89_000, 39_000, 2_499]);
    }
}

/// What `assistant eval --mg-shopdial` prints: the share of MG-ShopDial's shopper utterances whose goal
/// the assistant's intent agrees with, in the three classes both share.
#[derive(Debug, serde::Serialize)]
pub struct ShopDialReport {
    pub utterances: usize,
    /// Agreement over all shopper utterances with a goal.
    pub goal_accuracy: f64,
    /// Per goal class: (utterances, agreeing).
    pub per_class: BTreeMap<String, (usize, usize)>,
}

/// The goal class of one of our intents: a request for products (MG-ShopDial's `search` and
/// `recommendation`), a question (`qa`: about products, stock, orders, returns), or the conversation
/// itself (`meta`: greetings, thanks, hand-off, out of scope).
fn goal_class(intent: &str) -> &'static str {
    match intent {
        "find" | "refine" | "gift" => "request",
        "compare" | "availability" | "order_status" | "returns" | "question" => "qa",
        _ => "meta",
    }
}

/// Intent agreement on MG-ShopDial (SIGIR 2023; 64 English dialogues, `MGShopDial.json` in `dir`): each
/// shopper utterance's labelled goal against the class of the intent the assistant understands, with the
/// previous shopper utterance as context. Its catalog is not ours (books, phones, office, sports), so only
/// intents are compared, not slots.
pub async fn run_shopdial(dir: &Path, verbose: bool, llm: Option<&str>) -> Result<ShopDialReport> {
    let path = dir.join("MGShopDial.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("cannot read {}: pass the MG-ShopDial directory (../shared/data/mg-shopdial)", path.display())
    })?;
    let dialogues: Vec<Value> =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let dir = std::env::temp_dir().join(format!("borderless-shopdial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = node::app::AppConfig { data_dir: dir.clone(), ..Default::default() };
    let db = tokio::task::spawn_blocking(move || node::app::open_db(&cfg)).await??;
    let engine = Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
    crate::demo::seed(&engine).await.context("seeding the demo retailer")?;
    with_language_model(&engine, llm)?;
    let mut per_class: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for d in &dialogues {
        let mut previous = None;
        for u in d["utterances"].as_array().into_iter().flatten() {
            if u["participant"] != "Client" {
                continue;
            }
            let (Some(goal), Some(said)) = (u["goal"].as_str(), u["utterance"].as_str()) else { continue };
            let want = match goal {
                "search" | "recommendation" => "request",
                "qa" => "qa",
                _ => "meta",
            };
            let said: String = said.chars().take(500).collect();
            let got = engine.assistant_understand(&said, previous.as_ref()).await?;
            let e = per_class.entry(want.to_owned()).or_default();
            e.0 += 1;
            e.1 += (goal_class(&got.intent) == want) as usize;
            if verbose && goal_class(&got.intent) != want {
                eprintln!("miss: {want} ({goal}) understood as {}: {said:?}", got.intent);
            }
            if matches!(got.intent.as_str(), "find" | "refine" | "gift") {
                previous = Some(got);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (n, ok) = per_class.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if n == 0 {
        bail!("{} has no shopper utterances with a goal", path.display());
    }
    Ok(ShopDialReport { utterances: n, goal_accuracy: (ok as f64 / n as f64 * 10_000.0).round() / 10_000.0, per_class })
}
