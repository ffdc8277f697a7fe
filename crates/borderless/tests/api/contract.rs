//! The published contract, checked on every answer: each response the suite receives through
//! `TestApp::req` is validated against `/openapi.json` (its status must be documented for the operation,
//! its body must match the schema of that status). The document therefore cannot drift from the server.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

struct Contract {
    spec: Value,
    /// (method, path template split into segments)
    ops: Vec<(String, String, Vec<String>)>,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

static CONTRACT: OnceLock<Contract> = OnceLock::new();

/// The document as the server publishes it (the same table builds the router and the document, so one
/// built in-process is the server's).
fn contract() -> &'static Contract {
    CONTRACT.get_or_init(|| {
        let spec = http_api::openapi_document().clone();
        let mut ops = Vec::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                let segs = path.split('/').map(str::to_owned).collect();
                ops.push((method.to_uppercase(), path.clone(), segs));
            }
        }
        Contract { spec, ops, validators: Mutex::new(HashMap::new()) }
    })
}

/// The operation's path template for a concrete path: the match with the most literal segments wins
/// (`/admin/products/export` over `/admin/products/{id}`).
fn template(method: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    contract()
        .ops
        .iter()
        .filter(|(m, _, t)| m == method && t.len() == segs.len())
        .filter(|(_, _, t)| t.iter().zip(&segs).all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b))
        .max_by_key(|(_, _, t)| t.iter().filter(|s| !s.starts_with('{')).count())
        .map(|(_, p, _)| p.clone())
}

fn validator(key: &str, schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
    let c = contract();
    if let Some(v) = c.validators.lock().unwrap().get(key) {
        return v.clone();
    }
    let mut root = schema.clone();
    if let Value::Object(m) = &mut root {
        m.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
        m.insert("components".into(), c.spec["components"].clone());
    }
    let v = std::sync::Arc::new(jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema for {key}: {e}")));
    c.validators.lock().unwrap().insert(key.to_owned(), v.clone());
    v
}

/// Panics (failing the test) when the answer breaks the published contract.
pub fn check(method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    let c = contract();
    let Some(t) = template(method, path) else {
        // Not an operation (an unknown path or method): the answer is still the one error shape.
        let v = validator("error", &json!({"$ref": "#/components/schemas/ErrorBody"}));
        assert!(v.is_valid(body), "{method} {path} → {status}: not the error shape: {body}");
        return;
    };
    let op = &c.spec["paths"][&t][method.to_lowercase()];
    let Some(resp) = op["responses"].get(status.to_string()) else {
        panic!("{method} {path} ({t}) answered {status}, which /openapi.json does not document; body: {body}");
    };
    let Some(content) = resp.get("content").and_then(|c| c.as_object()) else {
        assert!(body.is_null(), "{method} {t} → {status} documents no body but sent {body}");
        return;
    };
    let (ct, media) = content.iter().next().expect("one media type");
    assert!(
        content_type.starts_with(ct.as_str()),
        "{method} {t} → {status}: content type `{content_type}`, documented `{ct}`"
    );
    if ct != "application/json" {
        return;
    }
    let v = validator(&format!("{method} {t} {status}"), &media["schema"]);
    let errors: Vec<String> = v.iter_errors(body).take(5).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{method} {path} ({t}) → {status} breaks its schema: {errors:#?}\nbody: {body}");
}

/// Every operation names its request body, query parameters and responses (each status with its schema),
/// so a client can be generated from the document and a tool can check the server against it.
#[test]
fn every_operation_is_typed() {
    let spec = http_api::openapi_document();
    let mut untyped = Vec::new();
    let mut ops = 0;
    let is_vague = |s: &Value| s == &json!({}) || s == &json!({"type": "object"}) || s == &json!(true);
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops += 1;
            let name = format!("{} {path}", method.to_uppercase());
            if let Some(rb) = op.get("requestBody") {
                for (_, media) in rb["content"].as_object().unwrap() {
                    if is_vague(&media["schema"]) {
                        untyped.push(format!("{name}: request body"));
                    }
                }
            }
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|k| k.starts_with('2')), "{name} documents no success");
            assert!(responses.contains_key("500"), "{name} does not document 500");
            for (status, r) in responses {
                match r.get("content") {
                    None if status == "204" => {}
                    None => untyped.push(format!("{name}: {status} has no content")),
                    Some(c) => {
                        for (_, media) in c.as_object().unwrap() {
                            if is_vague(&media["schema"]) {
                                untyped.push(format!("{name}: {status}"));
                            }
                        }
                    }
                }
            }
            if path.contains('{') {
                let params = op["parameters"].as_array().map(|p| p.len()).unwrap_or(0);
                assert!(params >= path.matches('{').count(), "{name}: path parameters are documented");
            }
        }
    }
    assert!(ops >= 80, "the whole API is in the document ({ops} operations)");
    assert!(untyped.is_empty(), "untyped parts of /openapi.json: {untyped:#?}");
    // Every reference resolves.
    let text = spec.to_string();
    for r in text.split("\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(spec["components"]["schemas"].get(name).is_some(), "dangling reference to {name}");
    }
}
