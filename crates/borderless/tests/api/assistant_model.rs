//! The assistant's optional language model against a real one: a local GGUF model (Qwen2.5-Coder-1.5B-Instruct,
//! from PyPI) behind `scripts/llm/serve.mjs` (npm's node-llama-cpp), which `.ci/run` starts and names in
//! BORDERLESS_TEST_LLM_URL. A turn the rules cannot read is read by the model; everything the rules read stays
//! theirs; a model that does not answer costs one timeout, then turns go without it; no product, price or stock
//! figure ever comes from it.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The model's server, or none (the test then says why and passes, unless the CI requires it).
fn llm_url() -> Option<String> {
    match std::env::var("BORDERLESS_TEST_LLM_URL").ok().filter(|u| !u.is_empty()) {
        Some(u) => Some(u),
        None if std::env::var("BORDERLESS_REQUIRE_LLM").as_deref() == Ok("1") => {
            panic!("BORDERLESS_REQUIRE_LLM=1 but BORDERLESS_TEST_LLM_URL is not set (scripts/llm/setup.sh, then serve.mjs)")
        }
        None => {
            eprintln!("language model tests: no model server (set BORDERLESS_TEST_LLM_URL; scripts/llm/setup.sh installs one)");
            None
        }
    }
}

async fn shop(app: &TestApp) {
    app.admin_post(
        "/admin/products",
        json!({"handle": "air-earbuds", "title_ko": "소리 무선 이어폰 에어", "title_en": "Sori Wireless Earbuds Air",
               "category": "electronics/audio", "vendor": "Sori Audio",
               "variants": [{"sku": "EAR-AIR", "weight_g": 60, "attributes": {"color": "white"},
                             "prices": [{"currency": "KRW", "amount_minor": 89_000}]}]}),
    )
    .await
    .expect(201);
    for _ in 0..100 {
        if app.get("/store/search?q=earbuds").await.expect(200)["search"]["total"] == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the product never became searchable");
}

async fn say(app: &TestApp, conversation: Option<&str>, text: &str) -> Value {
    let mut body = json!({"text": text});
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    app.req("POST", "/store/assistant/messages", None, Some(body), &[]).await.expect(200)
}

#[tokio::test]
async fn a_turn_the_rules_cannot_read_is_read_by_the_model() {
    let Some(url) = llm_url() else { return };
    // The rules alone read thanks they have no word for as a request, and find nothing.
    let rules = spawn_app(Backend::Sqlite).await;
    shop(&rules).await;
    let alone = say(&rules, None, "much appreciated 🙏").await;
    assert_eq!(alone["understood"]["intent"], "find", "{alone}");
    // Staff see that there is no model.
    assert_eq!(rules.admin_get("/admin/assistant/model").await.expect(200)["model"], Value::Null);

    let app = spawn_app_tuned(Backend::Sqlite, |c| {
        c.llm_url = Some(url.clone());
        // A model on two busy cores: the test checks what it reads, not how fast (so the request may
        // outlast the server's usual 30 s too).
        c.llm_timeout = Duration::from_secs(60);
        c.request_timeout = Duration::from_secs(90);
    })
    .await;
    shop(&app).await;
    let a = say(&app, None, "much appreciated 🙏").await;
    assert_eq!(a["understood"]["intent"], "smalltalk", "{a}");
    assert_eq!(a["products"], json!([]), "{a}");
    // What the rules read is theirs: the model is not asked, and the product shown is the catalog's.
    let c = a["conversation_id"].as_str().unwrap().to_owned();
    let b = say(&app, Some(&c), "white earbuds under 100,000 won").await;
    assert_eq!(b["understood"]["intent"], "find", "{b}");
    assert_eq!(b["products"][0]["title"], "Sori Wireless Earbuds Air", "{b}");
    assert_eq!(b["products"][0]["price"]["amount_minor"], 89_000, "{b}");
    let consulted = app.running.as_ref().unwrap().engine.language_model_consulted();
    assert_eq!((consulted.asked, consulted.taken, consulted.failed), (1, 1, 0), "{consulted:?}");
    // Staff see the same: what the model is and what came of asking it.
    let m = app.admin_get("/admin/assistant/model").await.expect(200)["model"].clone();
    assert_eq!((m["asked"].as_u64(), m["taken"].as_u64(), m["failed"].as_u64()), (Some(1), Some(1), Some(0)), "{m}");
    assert_eq!(m["timeout_ms"], 60_000, "{m}");
    assert!(m["model"].as_str().unwrap().contains(url.trim_end_matches('/')), "{m}");
    assert_eq!(m["failing"], Value::Null, "{m}");
}

#[tokio::test]
async fn a_model_that_does_not_answer_leaves_the_rules_to_answer() {
    // A server that accepts and never answers (not a model: what a hung one looks like on the wire).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in listener.incoming().flatten() {
            open.push(s);
        }
    });
    let app = spawn_app_tuned(Backend::Sqlite, |c| {
        c.llm_url = Some(format!("http://127.0.0.1:{port}/v1"));
        c.llm_timeout = Duration::from_millis(300);
    })
    .await;
    shop(&app).await;
    let started = Instant::now();
    let a = say(&app, None, "much appreciated 🙏").await;
    assert_eq!(a["understood"]["intent"], "find", "the rules' reading stands: {a}");
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited for the model");
    // The next turns do not wait on a model that just failed.
    let started = Instant::now();
    let b = say(&app, None, "gotcha, makes sense").await;
    assert_eq!(b["understood"]["intent"], "find", "{b}");
    assert!(started.elapsed() < Duration::from_millis(300), "waited {:?} on a failing model", started.elapsed());
    let consulted = app.running.as_ref().unwrap().engine.language_model_consulted();
    assert_eq!((consulted.asked, consulted.taken, consulted.failed), (1, 0, 1), "{consulted:?}");
    // Staff see why the rules answer alone.
    let m = app.admin_get("/admin/assistant/model").await.expect(200)["model"].clone();
    assert!(m["failing"]["error"].as_str().unwrap().contains("no answer within 300 ms"), "{m}");
    assert!(m["failing"]["at_ms"].as_i64().unwrap() > 0, "{m}");
    // A product request is answered whatever the model does.
    let c = say(&app, None, "white earbuds").await;
    assert_eq!(c["products"][0]["title"], "Sori Wireless Earbuds Air", "{c}");
}

#[tokio::test]
async fn a_bad_model_address_is_refused_at_start() {
    let dir = TempDir::new();
    let mut cfg = node::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.0.clone(),
        llm_url: Some("127.0.0.1:18500".into()),
        ..Default::default()
    };
    cfg.admin_key = Some(ADMIN_KEY.into());
    let err = node::app::start(cfg).await.err().expect("a bad address is refused");
    assert!(format!("{err:#}").contains("not an http(s) URL"), "{err:#}");
}
