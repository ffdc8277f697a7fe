//! `/openapi.json`: the OpenAPI 3.1 description of the REST API, built from one table of endpoints so that
//! a route added to the router without an entry here is caught by the route-coverage test.

use axum::Json;
use serde_json::{json, Map, Value};

/// (method, path, auth, summary, request body example or null)
pub(crate) const ENDPOINTS: &[(&str, &str, &str, &str)] = &[
    ("get", "/health", "none", "Liveness and database reachability."),
    ("get", "/openapi.json", "none", "This document."),
    ("post", "/webhooks/card", "signature", "Card processor webhooks (Stripe format, `Stripe-Signature` header): verified, applied once."),
    ("post", "/admin/products", "admin", "Create a product with variants, ko/en text and prices in minor units."),
    ("get", "/admin/products", "staff", "List products (cursor: after, limit ≤ 100; filters: category, q)."),
    ("get", "/admin/products/export", "admin", "Export the catalog as borderless CSV."),
    ("post", "/admin/products/import", "admin", "Import a catalog CSV (format=borderless|shopify, currency for Shopify prices). Upserts by handle."),
    ("get", "/admin/products/{id}", "staff", "A product by id or handle."),
    ("post", "/admin/locations", "admin", "Create a warehouse, store or cashierless store."),
    ("get", "/admin/locations", "staff", "List locations."),
    ("post", "/admin/inventory/adjustments", "admin", "Post a stock adjustment {sku, location_id, quantity_delta, reason}."),
    ("post", "/admin/inventory/transfers", "admin", "Move available stock {sku, from_location_id, to_location_id, quantity}."),
    ("post", "/admin/inventory/safety-stock", "admin", "Set safety stock {sku, location_id, safety_stock}."),
    ("get", "/admin/inventory/{sku}", "staff", "Per-location on_hand, reserved, safety_stock, unsellable, available."),
    ("get", "/admin/orders", "staff", "List orders, newest first (status, location_id, customer_id, channel, after, limit)."),
    ("get", "/admin/orders/{id}", "staff", "An order."),
    ("post", "/admin/orders/{id}/ready-for-pickup", "staff", "Mark a pickup order ready; issues the shopper's pickup code."),
    ("post", "/admin/orders/{id}/picked-up", "staff", "Hand over a pickup order {code}; the reservation becomes a sale."),
    ("post", "/admin/orders/{id}/ship", "admin", "Ship a delivery order; the reservation becomes a sale."),
    ("post", "/admin/orders/{id}/cancel", "staff", "Cancel a placed or ready order; stock is released."),
    ("post", "/admin/returns", "staff", "Return items of any order at any store {order_id, location_id, lines[{sku, quantity, disposition}], reason}; creates a refund record. Idempotency-Key accepted."),
    ("post", "/admin/pos/sales", "staff", "A counter sale {lines[{sku, quantity}], location_id (admins), currency, customer_id, payment{method}}. Idempotency-Key accepted."),
    ("post", "/admin/pos/payment-requests", "staff", "Merchant-presented QR: a payment request for the items on the counter {lines, location_id (admins), currency} → {id, qr, amount}; valid 5 minutes."),
    ("get", "/admin/pos/payment-requests/{id}", "staff", "A payment request's status (open, completed, expired, cancelled) and its order."),
    ("post", "/admin/fx-rates", "admin", "Record an exchange rate {base, quote, rate: \"1385.20\", effective_at_ms}; web wallet payments with payment.currency convert at the rate in effect."),
    ("get", "/admin/fx-rates", "staff", "Recorded exchange rates."),
    ("post", "/admin/cashierless/sessions", "staff", "Entry gate: {location_id, payment_code} opens a visit and pre-authorizes the shopper's wallet up to the cap."),
    ("get", "/admin/cashierless/sessions/{id}", "staff", "A cashierless visit."),
    ("post", "/admin/cashierless/sessions/{id}/exit", "staff", "Exit gate: {lines} sells the basket at the store and captures it from the entry hold (the rest is released; an empty basket releases it all)."),
    ("post", "/admin/gift-cards", "staff", "Sell a gift card {amount_minor, currency, location_id (admins)}; the code is shown once (a retry with the same Idempotency-Key returns the same card). Pay with payment {method: \"gift_card\", code} on the web or at a POS."),
    ("get", "/admin/customers", "staff", "Find a customer by email, phone or member_code."),
    ("get", "/admin/customers/{id}/wallet", "staff", "A customer's wallet accounts: balance, held (authorizations), available, per currency."),
    ("get", "/admin/customers/{id}/wallet/statement", "staff", "A customer's wallet statement (currency, after = seq, limit)."),
    ("post", "/admin/customers/{id}/wallet/top-ups", "staff", "Top up a wallet at the counter {amount_minor, currency, location_id (admins)}; Idempotency-Key accepted."),
    ("post", "/admin/ledger/transfers", "admin", "Post single-phase transfers {transfers: [{debit_account, credit_account, amount_minor, currency, reason, reference}]} in one transaction (all or nothing; ≤ 10,000)."),
    ("get", "/admin/ledger/accounts/{code}", "admin", "A ledger account by code (e.g. wallet:cus_…:KRW, revenue:loc_…:KRW) or id."),
    ("get", "/admin/ledger/accounts/{code}/statement", "admin", "Any ledger account's statement (after = seq, limit): every transfer that touched it."),
    ("post", "/admin/api-keys", "admin", "Issue an API key {role: admin|staff, location_id, label}; the key is shown once."),
    ("get", "/admin/events", "admin", "The domain event feed in commit-safe order: after = the previous page's next_cursor (opaque, e.g. \"0-42\"), limit ≤ 500, type or prefix such as `order.`. Never skips an event, on either backend."),
    ("post", "/admin/webhooks", "admin", "Subscribe {url, event_types}; deliveries are signed with the returned secret."),
    ("get", "/admin/webhooks", "admin", "List webhook subscriptions."),
    ("delete", "/admin/webhooks/{id}", "admin", "Deactivate a subscription."),
    ("get", "/admin/webhooks/{id}/deliveries", "admin", "The delivery log of a subscription."),
    ("post", "/admin/maintenance/expire-pickups", "admin", "Expire uncollected pickup orders now (also runs in the background)."),
    ("get", "/admin/doctor", "admin", "Recompute stock balances from the ledger and report drift."),
    ("get", "/store/products", "none", "Active products (after, limit, category, q)."),
    ("get", "/store/products/{id}", "none", "A product with per-store availability (\"3 at Gangnam, pickup today\")."),
    ("get", "/store/locations", "none", "Stores and their pickup options."),
    ("post", "/store/carts", "optional customer", "Create a cart {currency} → {cart:{id,…}}."),
    ("get", "/store/carts/{id}", "none", "A cart with totals."),
    ("post", "/store/carts/{id}/lines", "none", "Add {sku, quantity} to a cart."),
    ("put", "/store/carts/{id}/lines/{sku}", "none", "Set a line's {quantity}; 0 removes it."),
    ("put", "/store/carts/{id}/fulfillment", "none", "{type:\"delivery\", address:{line1, city, postal_code, country}} or {type:\"pickup\", location_id}."),
    ("post", "/store/carts/{id}/checkout", "optional customer", "Place the order {email, payment:{method}} with an Idempotency-Key. 201 {order}; 409 out_of_stock."),
    ("get", "/store/orders/{id}", "none", "An order as its shopper sees it (with the pickup code once ready)."),
    ("post", "/store/customers", "none", "Sign up {email, password, name, phone, locale} → {customer, token}."),
    ("post", "/store/auth/login", "none", "Log in {email, password} → {customer, token}."),
    ("get", "/store/customers/me", "customer", "The signed-in customer."),
    ("get", "/store/customers/me/orders", "customer", "The signed-in customer's orders from every channel."),
    ("get", "/store/wallet", "customer", "The signed-in customer's wallet: balance, held, available per currency."),
    ("post", "/store/wallet/payment-codes", "customer", "A one-time payment code for the counter (QR): valid 60 s, single use, revokes older codes. POS: payment {method: \"wallet_qr\", code}."),
    ("get", "/store/payment-requests/{id}", "customer", "A scanned payment request (id or QR text): store, lines, amount."),
    ("post", "/store/payment-requests/{id}/confirm", "customer", "Pay a scanned payment request from the wallet: the sale and the payment post together; once."),
    ("get", "/store/gift-cards/{code}", "none", "A gift card's balance by its code."),
    ("post", "/store/wallet/top-ups", "customer", "Top up your wallet by card {amount_minor, currency, payment_method}; Idempotency-Key accepted."),
    ("get", "/store/wallet/statement", "customer", "The signed-in customer's wallet statement (currency, after = seq, limit)."),
    ("get", "/store/search", "none", "Search products in Korean and English (typos, prefixes, particles, units): q, category, brand, attributes=size:270,color:black, currency, price_min, price_max (minor units), in_stock_at (location id), near=lat,lon + radius_km (pickup today at a store within), sort=relevance|price_asc|price_desc|newest, limit ≤ 100 → hits and facet counts."),
    ("get", "/admin/search/synonyms", "staff", "The seller's synonym groups for search."),
    ("put", "/admin/search/synonyms", "admin", "Replace the synonym groups {groups: [[\"운동화\", \"sneakers\", \"스니커즈\"], …]} (≤ 5,000 groups of 2–20 phrases); searchable within ~1 s on every node."),
    ("post", "/store/events", "optional customer", "Report shopper events {session_id (anonymous visitors), events: [{type: view|search|cart_add, product_id, query, location_id}]} (≤ 100) → 202 {accepted}."),
    ("get", "/store/recommendations", "optional customer", "Recommendations: context=home|product:{id}|cart:{id}, customer (staff only; shoppers get their own), session_id, location (in stock there; default anywhere that ships), limit ≤ 50, currency. Each item has a reason in English and Korean."),
    ("get", "/admin/recommendations/model", "staff", "The recommendation model version being served (loads a newer stored version first)."),
    ("post", "/admin/recommendations/model", "admin", "Train a new recommendation model version now (also runs on a schedule) → the validation report."),
    ("put", "/admin/stores/{id}/layout", "admin", "A cashierless store's layout {plates: [{gondola, shelf, plate, sku, unit_weight_g}], facings: [{sku, gondola, shelf, plates, corner_m, size_m}]}; the store's fusion state restarts from it."),
    ("get", "/admin/stores/{id}/layout", "staff", "A cashierless store's layout."),
    ("post", "/admin/stores/{id}/devices", "admin", "Register a device {kind: gate|gondola|tracker|esl, code, sku (labels only)} → 201 with its token (shown once)."),
    ("get", "/admin/stores/{id}/labels", "staff", "The store's shelf labels: catalog price, the price each label last confirmed showing, stale; ?stale=true lists only labels that differ from the catalog."),
    ("delete", "/admin/stores/{id}/devices/{device}", "admin", "Revoke a device for good (lost, stolen, replaced): its token and MQTT signing key stop working at once, its MQTT connection is closed within 30 s; its history stays. Idempotent; → 200 with the device (revoked_at set)."),
    ("post", "/admin/stores/{id}/devices/{device}/token", "admin", "Rotate a device's token → 200 with the new token (shown once); the old token and signing key stop working at once."),
    ("get", "/admin/stores/{id}/devices", "staff", "The store's devices with their sequence bookkeeping: last_seq, accepted, duplicates, gaps, rejected, last_seen_at."),
    ("get", "/admin/stores/{id}/reviews", "staff", "Open review items of the store: shelf events the sensors could not settle, with candidate shoppers and products."),
    ("post", "/admin/stores/{id}/reviews/{review}", "staff", "Settle a review item {action: assign, target_id, sku, quantity} or {action: dismiss}; visits waiting on it get their orders."),
    ("post", "/devices/events", "device", "A device's batch {events: [...]} (≤ 500; payloads in docs/devices.md): stored before the answer; duplicates dropped, gaps and rejections reported; entries answer admitted or not."),
];

pub(crate) async fn spec() -> Json<Value> {
    let mut paths = Map::new();
    for (method, path, auth, summary) in ENDPOINTS {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": summary,
            "responses": {
                "default": { "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "200": { "description": "OK" }
            }
        });
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        match *auth {
            "admin" => op["security"] = json!([{ "adminKey": [] }]),
            "staff" => op["security"] = json!([{ "adminKey": [] }, { "staffKey": [] }]),
            "customer" => op["security"] = json!([{ "customerToken": [] }]),
            "device" => op["security"] = json!([{ "deviceToken": [] }]),
            _ => {}
        }
        if matches!(*method, "post" | "put") {
            op["requestBody"] =
                json!({ "required": false, "content": { "application/json": { "schema": { "type": "object" } } } });
        }
        entry[*method] = op;
    }
    Json(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "borderless",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Omnichannel commerce: one catalog, one inventory, one order pipeline for web, click & collect, POS and returns anywhere. Money is integer minor units per ISO-4217 currency. Errors are always {\"error\":{\"code\",\"message\"}}."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminKey": { "type": "http", "scheme": "bearer", "description": "Admin API key" },
                "staffKey": { "type": "http", "scheme": "bearer", "description": "Staff API key bound to one location" },
                "customerToken": { "type": "http", "scheme": "bearer", "description": "Customer session token from login" },
                "deviceToken": { "type": "http", "scheme": "bearer", "description": "An in-store device's own token (from registering it)" }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": {
                        "code": { "type": "string", "examples": ["out_of_stock", "invalid_json", "not_found", "idempotency_key_reused"] },
                        "message": { "type": "string", "description": "English, names the field or limit" },
                        "message_ko": { "type": "string", "description": "Korean text for shopper- and staff-facing codes" }
                    } } }
                }
            }
        }
    }))
}
