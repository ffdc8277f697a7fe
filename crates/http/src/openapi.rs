//! One table of operations that builds both the router and `/openapi.json` (OpenAPI 3.1): every operation
//! names its method, path, caller, request body, query parameters and responses by their Rust types, and
//! the JSON Schemas come from those same types (schemars, draft 2020-12). A handler cannot be routed without
//! being documented, and the black-box suite validates every response it receives against this document.

use crate::error::ErrorBody;
use crate::AppState;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

fn inline_schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    T::json_schema(g)
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    Public,
    /// Anyone; a customer session, when sent, must be valid and makes the request the customer's.
    OptionalCustomer,
    /// Anyone; a customer session or an API key, when sent, must be valid.
    OptionalViewer,
    /// A signed-in customer's session token.
    Customer,
    /// An admin API key.
    Admin,
    /// An admin key or a staff key bound to one location.
    Staff,
    /// An in-store device's own token.
    Device,
    /// The card processor, by its signature header.
    Signature,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Public => "public",
            Auth::OptionalCustomer => "optional_customer",
            Auth::OptionalViewer => "optional_viewer",
            Auth::Customer => "customer",
            Auth::Admin => "admin",
            Auth::Staff => "staff",
            Auth::Device => "device",
            Auth::Signature => "signature",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

struct Body {
    schema: SchemaFn,
    content_type: &'static str,
    required: bool,
}

struct Reply {
    status: u16,
    description: &'static str,
    content: Option<(SchemaFn, &'static str)>,
}

/// One operation of the API: what it takes and what it answers.
pub struct Op {
    pub method: Method,
    pub path: &'static str,
    pub auth: Auth,
    tag: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    body: Option<Body>,
    query: Option<SchemaFn>,
    int_params: &'static [&'static str],
    replies: Vec<Reply>,
    errors: Vec<u16>,
    idempotency: bool,
    body_limit: Option<usize>,
    form_file: bool,
}

impl Op {
    fn new(method: Method, path: &'static str) -> Op {
        Op {
            method,
            path,
            auth: Auth::Public,
            tag: "",
            summary: "",
            description: None,
            body: None,
            query: None,
            int_params: &[],
            replies: Vec::new(),
            errors: Vec::new(),
            idempotency: false,
            body_limit: None,
            form_file: false,
        }
    }
    pub fn get(path: &'static str) -> Op {
        Op::new(Method::Get, path)
    }
    pub fn post(path: &'static str) -> Op {
        Op::new(Method::Post, path)
    }
    pub fn put(path: &'static str) -> Op {
        Op::new(Method::Put, path)
    }
    pub fn patch(path: &'static str) -> Op {
        Op::new(Method::Patch, path)
    }
    pub fn delete(path: &'static str) -> Op {
        Op::new(Method::Delete, path)
    }
    pub fn auth(mut self, auth: Auth) -> Op {
        self.auth = auth;
        self
    }
    pub fn tag(mut self, tag: &'static str) -> Op {
        self.tag = tag;
        self
    }
    /// A one-line summary; `description` may add a paragraph.
    pub fn doc(mut self, summary: &'static str) -> Op {
        self.summary = summary;
        self
    }
    pub fn description(mut self, text: &'static str) -> Op {
        self.description = Some(text);
        self
    }
    /// A JSON body of type `T`.
    pub fn json<T: JsonSchema>(mut self) -> Op {
        self.body = Some(Body { schema: schema_of::<T>, content_type: "application/json", required: true });
        self
    }
    /// A JSON body of type `T` that may also be left out.
    pub fn optional_json<T: JsonSchema>(mut self) -> Op {
        self.body = Some(Body { schema: schema_of::<T>, content_type: "application/json", required: false });
        self
    }
    /// A CSV file as the body, or as the `file` of a `multipart/form-data` upload (a browser form).
    pub fn csv_body(mut self) -> Op {
        self.body = Some(Body { schema: string_schema, content_type: "text/csv", required: true });
        self.form_file = true;
        self
    }
    /// Query parameters: the properties of `Q`.
    pub fn query<Q: JsonSchema>(mut self) -> Op {
        self.query = Some(inline_schema_of::<Q>);
        self
    }
    /// Path parameters that are integers (the rest are strings).
    pub fn int_params(mut self, names: &'static [&'static str]) -> Op {
        self.int_params = names;
        self
    }
    fn reply(mut self, status: u16, description: &'static str, content: Option<(SchemaFn, &'static str)>) -> Op {
        self.replies.push(Reply { status, description, content });
        self
    }
    pub fn ok<T: JsonSchema>(self) -> Op {
        self.reply(200, "OK", Some((schema_of::<T>, "application/json")))
    }
    pub fn created<T: JsonSchema>(self) -> Op {
        self.reply(201, "Created", Some((schema_of::<T>, "application/json")))
    }
    pub fn accepted<T: JsonSchema>(self) -> Op {
        self.reply(202, "Accepted", Some((schema_of::<T>, "application/json")))
    }
    pub fn no_content(self) -> Op {
        self.reply(204, "Done; no body", None)
    }
    pub fn csv(self) -> Op {
        self.reply(200, "A CSV file (UTF-8 with a byte-order mark)", Some((string_schema, "text/csv")))
    }
    /// Error statuses beyond the ones every operation of its kind can answer.
    pub fn errors(mut self, statuses: &[u16]) -> Op {
        self.errors.extend_from_slice(statuses);
        self
    }
    /// Accepts an `Idempotency-Key` header (a retry with the same key and request does nothing twice).
    pub fn idempotent(mut self) -> Op {
        self.idempotency = true;
        self
    }
    /// A larger body limit than the API's default.
    pub fn body_limit(mut self, bytes: usize) -> Op {
        self.body_limit = Some(bytes);
        self
    }

    fn path_params(&self) -> Vec<&'static str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }

    /// The error statuses this operation can answer, from what it takes and who may call it.
    fn error_statuses(&self) -> Vec<u16> {
        let mut s: Vec<u16> = vec![500, 503];
        if self.body.is_some() || self.query.is_some() || !self.path_params().is_empty() || self.idempotency {
            s.push(400);
        }
        if self.body.as_ref().is_some_and(|b| b.content_type == "application/json") {
            s.push(415);
        }
        if self.body.is_some() {
            s.push(413);
        }
        // A missing resource named in the path, or an id in the body or query that names none.
        if !self.path_params().is_empty() || self.body.is_some() || self.query.is_some() {
            s.push(404);
        }
        match self.auth {
            Auth::Public => {}
            Auth::Signature => s.push(400),
            Auth::Admin | Auth::Staff | Auth::OptionalViewer => s.extend([401, 403]),
            Auth::Customer | Auth::OptionalCustomer | Auth::Device => s.push(401),
        }
        // Shopper-facing calls are rate limited per address and session (with `Retry-After`).
        let method = axum::http::Method::from_bytes(self.method.as_str().to_uppercase().as_bytes())
            .unwrap_or(axum::http::Method::GET);
        if crate::ratelimit::Class::of(&method, self.path).is_some() {
            s.push(429);
        }
        s.extend(&self.errors);
        s.sort_unstable();
        s.dedup();
        s
    }
}

fn string_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "string" })
}

/// The API as a table of operations, and the router they make.
pub struct Api {
    router: Router<AppState>,
    ops: Vec<Op>,
}

impl Default for Api {
    fn default() -> Self {
        Api { router: Router::new(), ops: Vec::new() }
    }
}

impl Api {
    /// Routes `handler` for `op` and documents it.
    pub fn route<H, T>(mut self, op: Op, handler: H) -> Api
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        assert!(!op.summary.is_empty(), "{} {} has no summary", op.method.as_str(), op.path);
        assert!(!op.replies.is_empty(), "{} {} documents no response", op.method.as_str(), op.path);
        let mut mr: MethodRouter<AppState> = match op.method {
            Method::Get => get(handler),
            Method::Post => post(handler),
            Method::Put => put(handler),
            Method::Patch => patch(handler),
            Method::Delete => delete(handler),
        };
        if let Some(n) = op.body_limit {
            mr = mr.layer(DefaultBodyLimit::max(n));
        }
        self.router = self.router.route(op.path, mr);
        self.ops.push(op);
        self
    }

    pub fn merge(mut self, other: Api) -> Api {
        self.router = self.router.merge(other.router);
        self.ops.extend(other.ops);
        self
    }

    /// The operations, for tests that walk the whole API (method, path, caller).
    pub fn operations(&self) -> Vec<(&'static str, &'static str, Auth)> {
        self.ops.iter().map(|o| (o.method.as_str(), o.path, o.auth)).collect()
    }

    pub fn into_parts(self) -> (Router<AppState>, Value) {
        let doc = document(&self.ops);
        (self.router, doc)
    }
}

fn security(auth: Auth) -> Option<Value> {
    Some(match auth {
        Auth::Public | Auth::Signature => return None,
        Auth::OptionalCustomer => json!([{}, { "customerToken": [] }]),
        Auth::OptionalViewer => json!([{}, { "customerToken": [] }, { "adminKey": [] }, { "staffKey": [] }]),
        Auth::Customer => json!([{ "customerToken": [] }]),
        Auth::Admin => json!([{ "adminKey": [] }]),
        Auth::Staff => json!([{ "adminKey": [] }, { "staffKey": [] }]),
        Auth::Device => json!([{ "deviceToken": [] }]),
    })
}

fn status_text(code: u16) -> &'static str {
    match code {
        400 => "The request is malformed or breaks a rule; `error.code` says which and `message` names the field",
        401 => "No valid credentials (see the security schemes)",
        402 => "The card was declined",
        403 => "These credentials may not do this (an admin key is needed, or another store's staff)",
        404 => "Not found",
        409 => "Conflicts with the current state (stock, status, an idempotency key used for another request)",
        413 => "The body is larger than the limit",
        415 => "Send `Content-Type: application/json`",
        429 => "Too many attempts; retry later",
        500 => "An internal error (logged; no details are shown)",
        503 => "Busy or storage unavailable; retry shortly",
        _ => "Error",
    }
}

/// Schemas are generated twice: what the server reads under serde's deserialize rules (a field with a
/// default is optional) and what it writes under the serialize rules (a field skipped when empty is
/// optional). A type whose two schemas differ is published twice, the request side as `<Name>Input` (or
/// `<Name>Request` when the name already says input).
struct Generators {
    read: SchemaGenerator,
    write: SchemaGenerator,
}

impl Generators {
    fn new() -> Generators {
        let make = |contract| {
            // `true` ("anything") is written `{}`, which every OpenAPI tool reads.
            let mut s =
                SchemaSettings::draft2020_12().with_transform(schemars::transform::ReplaceBoolSchemas::default());
            s.definitions_path = "/components/schemas".into();
            s.contract = contract;
            s.into_generator()
        };
        Generators {
            read: make(schemars::generate::Contract::Deserialize),
            write: make(schemars::generate::Contract::Serialize),
        }
    }

    /// The published components, and how request-side references must be renamed.
    fn finish(mut self) -> (Map<String, Value>, Vec<(String, String)>) {
        let write: Map<String, Value> = self.write.take_definitions(true).into_iter().collect();
        let read: Map<String, Value> = self.read.take_definitions(true).into_iter().collect();
        let renames: Vec<(String, String)> = read
            .iter()
            .filter(|(k, v)| write.get(*k).is_some_and(|w| w != *v))
            .map(|(k, _)| (k.clone(), if k.ends_with("Input") { format!("{k}Request") } else { format!("{k}Input") }))
            .collect();
        let mut all = write;
        for (k, v) in read {
            let name = renames.iter().find(|(a, _)| *a == k).map_or(k.clone(), |(_, b)| b.clone());
            all.entry(name).or_insert_with(|| rename_refs(v, &renames));
        }
        (all, renames)
    }
}

/// Rewrites `#/components/schemas/<old>` references to the renamed request-side definitions.
fn rename_refs(v: Value, renames: &[(String, String)]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    if k == "$ref" {
                        if let Some(r) = v.as_str() {
                            if let Some((_, new)) =
                                renames.iter().find(|(old, _)| r == format!("#/components/schemas/{old}"))
                            {
                                return (k, json!(format!("#/components/schemas/{new}")));
                            }
                        }
                    }
                    (k, rename_refs(v, renames))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| rename_refs(v, renames)).collect()),
        other => other,
    }
}

fn document(ops: &[Op]) -> Value {
    let mut g = Generators::new();
    let error_ref = g.write.subschema_for::<ErrorBody>().to_value();
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut tags: Vec<&str> = Vec::new();
    // Request-side schemas are collected first and their references renamed once every definition is known.
    let mut request_side: Vec<(&str, &str, &'static str, Value, bool)> = Vec::new();
    for op in ops {
        let mut o = Map::new();
        o.insert("operationId".into(), json!(operation_id(op)));
        o.insert("summary".into(), json!(op.summary));
        if let Some(d) = op.description {
            o.insert("description".into(), json!(d));
        }
        if !op.tag.is_empty() {
            o.insert("tags".into(), json!([op.tag]));
            if !tags.contains(&op.tag) {
                tags.push(op.tag);
            }
        }
        o.insert("x-borderless-auth".into(), json!(op.auth.as_str()));
        let mut params = Vec::new();
        for name in op.path_params() {
            let schema = if op.int_params.contains(&name) {
                json!({"type": "integer", "minimum": 0})
            } else {
                json!({"type": "string", "minLength": 1})
            };
            params.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
        }
        if let Some(q) = op.query {
            let schema = q(&mut g.read).to_value();
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            if let Some(props) = schema["properties"].as_object() {
                for (name, s) in props {
                    let mut p = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": s});
                    if let Some(d) = s.get("description") {
                        p["description"] = d.clone();
                    }
                    params.push(p);
                }
            }
        }
        if op.idempotency {
            params.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "A retry with the same key and the same request returns the first result and changes nothing; the same key with a different request is refused (409 `idempotency_key_reused`). Keys are kept 7 days.",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255}
            }));
        }
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(b) = &op.body {
            let schema = (b.schema)(&mut g.read).to_value();
            request_side.push((op.path, op.method.as_str(), b.content_type, schema, op.form_file));
            o.insert("requestBody".into(), json!({"required": b.required, "content": {}}));
        }
        let mut responses = Map::new();
        for r in &op.replies {
            let mut v = json!({"description": r.description});
            if let Some((schema, ct)) = r.content {
                v["content"] = json!({ct: {"schema": schema(&mut g.write).to_value()}});
            }
            responses.insert(r.status.to_string(), v);
        }
        for code in op.error_statuses() {
            responses.insert(
                code.to_string(),
                json!({"description": status_text(code), "content": {"application/json": {"schema": error_ref.clone()}}}),
            );
        }
        o.insert("responses".into(), Value::Object(responses));
        if let Some(sec) = security(op.auth) {
            o.insert("security".into(), sec);
        }
        let entry = paths.entry(op.path).or_default();
        assert!(entry.insert(op.method.as_str().into(), Value::Object(o)).is_none(), "{} twice", op.path);
    }
    let (schemas, renames) = g.finish();
    for (path, method, ct, schema, form_file) in request_side {
        let op = paths.get_mut(path).and_then(|p| p.get_mut(method)).expect("operation");
        op["requestBody"]["content"] = json!({ct: {"schema": rename_refs(schema, &renames)}});
        if form_file {
            op["requestBody"]["content"]["multipart/form-data"] = json!({"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "contentMediaType": "text/csv", "description": "The CSV file"}}
            }});
        }
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "borderless",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Omnichannel commerce: one catalog, one inventory, one order pipeline for web, click & collect, POS, cashierless stores and returns anywhere. Money is integer minor units per ISO-4217 currency. Every error is `{\"error\": {\"code\", \"message\", \"message_ko\"?}}` with a stable `code`. See docs/api.md for ids, pagination, idempotency and webhooks."
        },
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminKey": { "type": "http", "scheme": "bearer", "description": "Admin API key" },
                "staffKey": { "type": "http", "scheme": "bearer", "description": "Staff API key bound to one location" },
                "customerToken": { "type": "http", "scheme": "bearer", "description": "Customer session token from login" },
                "deviceToken": { "type": "http", "scheme": "bearer", "description": "An in-store device's own token (from registering it)" }
            },
            "schemas": schemas
        }
    })
}

/// `getStoreCartsIdLines` style: the method and the path's words in camel case (stable, unique).
fn operation_id(op: &Op) -> String {
    let mut id = op.method.as_str().to_owned();
    for seg in op.path.split(['/', '-', '_', '.']).filter(|s| !s.is_empty()) {
        let seg = seg.trim_start_matches('{').trim_end_matches('}');
        let mut c = seg.chars();
        if let Some(f) = c.next() {
            id.push(f.to_ascii_uppercase());
            id.extend(c);
        }
    }
    id
}
