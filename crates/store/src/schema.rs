//! The schema's SQL, one constant per migration, written once for both backends (the runner and its
//! checksums are `migrate`). A released constant is never edited, only followed by a new one.

/// Why a delivery line ships from where it does (invariant: routing explains its choice).
pub(crate) const V2: &str = "ALTER TABLE order_lines ADD COLUMN routing TEXT";

/// The PostgreSQL event feed reads in (transaction id, seq) order.
pub(crate) const V3: &str = "{events_tx_index}";

/// The double-entry money ledger (issue #3), modelled on TigerBeetle: accounts carry posted and pending
/// debit/credit totals; transfers are immutable rows; a pending transfer is resolved (posted, voided or
/// expired) by exactly one later transfer that names it (`pending_id` is unique).
pub(crate) const V4: &str = r#"
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    owner_id TEXT,
    no_overdraft BIGINT NOT NULL,
    debits_posted BIGINT NOT NULL,
    credits_posted BIGINT NOT NULL,
    debits_pending BIGINT NOT NULL,
    credits_pending BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0),
    CHECK (no_overdraft = 0 OR debits_posted + debits_pending <= credits_posted)
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id);

CREATE TABLE ledger_transfers (
    seq {serial},
    id TEXT NOT NULL UNIQUE,
    debit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
    credit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('single', 'pending', 'post_pending', 'void_pending', 'expire_pending')),
    pending_id TEXT REFERENCES ledger_transfers (id),
    expires_at BIGINT,
    reason TEXT NOT NULL,
    ref_type TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account_id, seq);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account_id, seq);
CREATE UNIQUE INDEX ledger_transfers_resolves ON ledger_transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX ledger_transfers_holds ON ledger_transfers (ref_type, ref_id) WHERE kind = 'pending';
CREATE INDEX ledger_transfers_hold_expiry ON ledger_transfers (expires_at) WHERE kind = 'pending'
"#;

pub(crate) const V1: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    location_id TEXT,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    title_ko TEXT NOT NULL,
    title_en TEXT NOT NULL,
    description_ko TEXT NOT NULL,
    description_en TEXT NOT NULL,
    category TEXT NOT NULL,
    vendor TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'draft', 'archived')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX products_category ON products (category);

CREATE TABLE variants (
    sku TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    gtin TEXT UNIQUE,
    weight_g BIGINT NOT NULL CHECK (weight_g >= 0),
    attributes TEXT NOT NULL,
    position BIGINT NOT NULL
);
CREATE INDEX variants_product ON variants (product_id);

CREATE TABLE prices (
    sku TEXT NOT NULL REFERENCES variants (sku),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    PRIMARY KEY (sku, currency)
);

CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name_ko TEXT NOT NULL,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('warehouse', 'store', 'cashierless')),
    address TEXT NOT NULL,
    lat_e6 BIGINT,
    lon_e6 BIGINT,
    pickup_enabled BIGINT NOT NULL,
    ships BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE stock_levels (
    sku TEXT NOT NULL REFERENCES variants (sku),
    location_id TEXT NOT NULL REFERENCES locations (id),
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    safety_stock BIGINT NOT NULL,
    unsellable BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sku, location_id),
    CHECK (on_hand >= 0 AND reserved >= 0 AND safety_stock >= 0 AND unsellable >= 0 AND on_hand >= reserved)
);
CREATE INDEX stock_levels_location ON stock_levels (location_id);

CREATE TABLE stock_movements (
    seq {serial},
    sku TEXT NOT NULL,
    location_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    on_hand_delta BIGINT NOT NULL,
    reserved_delta BIGINT NOT NULL,
    unsellable_delta BIGINT NOT NULL,
    reason TEXT NOT NULL,
    source_type TEXT NOT NULL,
    source_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stock_movements_sku_loc ON stock_movements (sku, location_id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
    member_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    locale TEXT NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE carts (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    currency TEXT NOT NULL,
    fulfillment TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'completed')),
    order_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cart_lines (
    cart_id TEXT NOT NULL REFERENCES carts (id),
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (cart_id, sku)
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    customer_id TEXT,
    email TEXT,
    currency TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    fulfillment_type TEXT NOT NULL,
    location_id TEXT,
    shipping_address TEXT,
    payment_method TEXT NOT NULL,
    payment_status TEXT NOT NULL,
    pickup_code TEXT,
    pickup_expires_at BIGINT,
    cart_id TEXT UNIQUE,
    staff_key_id TEXT,
    placed_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_status ON orders (status, placed_at);
CREATE INDEX orders_customer ON orders (customer_id);

CREATE TABLE order_lines (
    order_id TEXT NOT NULL REFERENCES orders (id),
    line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    title_ko TEXT NOT NULL,
    title_en TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT NOT NULL,
    location_id TEXT NOT NULL,
    returned_quantity BIGINT NOT NULL CHECK (returned_quantity >= 0 AND returned_quantity <= quantity),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    location_id TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    status TEXT NOT NULL CHECK (status IN ('held', 'committed', 'released', 'expired')),
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reservations_order ON reservations (order_id);
CREATE INDEX reservations_held ON reservations (status, expires_at);

CREATE TABLE returns (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    location_id TEXT NOT NULL REFERENCES locations (id),
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE return_lines (
    return_id TEXT NOT NULL REFERENCES returns (id),
    line_no BIGINT NOT NULL,
    sku TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    disposition TEXT NOT NULL CHECK (disposition IN ('restock', 'unsellable')),
    PRIMARY KEY (return_id, line_no)
);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    return_id TEXT REFERENCES returns (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency TEXT NOT NULL,
    method TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE events (
    seq {serial},
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL{txid}
);

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    event_types TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    event_seq BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_status_code BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
"#;

/// One-time payment codes a shopper's app shows at a counter (customer-presented QR).
pub(crate) const V5: &str = r#"
CREATE TABLE payment_codes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    order_id TEXT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX payment_codes_customer ON payment_codes (customer_id, created_at)
"#;

/// Merchant-presented payment requests: the till shows a QR for a sale; the shopper confirms in the app.
pub(crate) const V6: &str = r#"
CREATE TABLE payment_requests (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL REFERENCES locations (id),
    lines TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'cancelled')),
    customer_id TEXT,
    order_id TEXT,
    staff_key_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
)
"#;

/// The ledger account a tender such as a gift card paid from (not the card's secret code).
pub(crate) const V7: &str = "ALTER TABLE orders ADD COLUMN payment_reference TEXT";

/// Exchange rates with an effective time: 1 unit of `base` = `rate_num / 10^rate_scale` units of `quote`.
pub(crate) const V8: &str = r#"
CREATE TABLE fx_rates (
    id TEXT PRIMARY KEY,
    base TEXT NOT NULL,
    quote TEXT NOT NULL,
    rate_num BIGINT NOT NULL CHECK (rate_num > 0),
    rate_scale BIGINT NOT NULL CHECK (rate_scale >= 0 AND rate_scale <= 12),
    effective_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX fx_rates_pair ON fx_rates (base, quote, effective_at)
"#;

/// Calls to the card processor that must happen after a commit (capture, cancel, refund), retried until
/// they succeed: the outbox of the payment provider.
pub(crate) const V9: &str = r#"
CREATE TABLE psp_jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('capture', 'cancel', 'refund')),
    intent TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    refund_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX psp_jobs_due ON psp_jobs (status, next_attempt_at)
"#;

/// Visits to a cashierless store: the wallet is pre-authorized at the entry gate and charged at the exit.
pub(crate) const V11: &str = r#"
CREATE TABLE cashierless_sessions (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL REFERENCES locations (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'completed', 'cancelled')),
    currency TEXT NOT NULL,
    hold_minor BIGINT NOT NULL,
    order_id TEXT,
    entered_at BIGINT NOT NULL,
    exited_at BIGINT,
    expires_at BIGINT NOT NULL
)
"#;

/// The interaction log that recommendations learn from (issue #6), and the trained model versions.
pub(crate) const V12: &str = r#"
CREATE TABLE interactions (
    seq {serial},
    kind TEXT NOT NULL CHECK (kind IN ('view', 'search', 'cart_add', 'purchase')),
    customer_id TEXT,
    session_id TEXT,
    product_id TEXT,
    query TEXT,
    location_id TEXT,
    channel TEXT,
    order_id TEXT,
    quantity BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX interactions_customer ON interactions (customer_id, seq);
CREATE INDEX interactions_session ON interactions (session_id, seq);
CREATE INDEX interactions_kind_at ON interactions (kind, at);
CREATE TABLE rec_models (
    version {serial},
    trained_at BIGINT NOT NULL,
    interactions BIGINT NOT NULL,
    items BIGINT NOT NULL,
    report TEXT NOT NULL,
    model TEXT NOT NULL
)
"#;

/// Cancelled and expired orders leave the interaction log by order id.
pub(crate) const V13: &str = "CREATE INDEX interactions_order ON interactions (order_id)";

/// Consumers of one kind of event (search: `product.`, recommendations: `order.`) read only their kind,
/// instead of scanning every inventory event since their cursor.
pub(crate) const V14: &str = "CREATE INDEX events_type_seq ON events (type, seq)";

/// Live cashierless stores (issue #4): each store's layout (planogram and facings, one JSON document), its
/// devices with their own credentials and sequence bookkeeping, every device event stored before it is
/// acknowledged (`n` orders them; the fusion state is a fold over them), and which body tracks belong to
/// which visit.
pub(crate) const V15: &str = r#"
CREATE TABLE store_layouts (
    location_id TEXT PRIMARY KEY REFERENCES locations (id),
    layout TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL REFERENCES locations (id),
    kind TEXT NOT NULL CHECK (kind IN ('gate', 'gondola', 'tracker', 'esl', 'staff')),
    code TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    last_seq BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    gaps BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    UNIQUE (location_id, code)
);
CREATE TABLE device_events (
    n {serial},
    device_id TEXT NOT NULL REFERENCES devices (id),
    seq BIGINT NOT NULL,
    location_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (device_id, seq)
);
CREATE INDEX device_events_location ON device_events (location_id, n);
CREATE TABLE instore_targets (
    location_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES cashierless_sessions (id),
    PRIMARY KEY (location_id, target_id)
)
"#;

/// MQTT payloads are signed with a key derived from the device's token (HMAC-SHA256 with
/// sha256("borderless-mqtt:" + token)), so that on a shared broker no device can publish as another.
pub(crate) const V16: &str = "ALTER TABLE devices ADD COLUMN mac_key TEXT";

/// Electronic shelf labels: the SKU a label shows, and the price it last confirmed showing.
pub(crate) const V17: &str = r#"
ALTER TABLE devices ADD COLUMN sku TEXT;
ALTER TABLE devices ADD COLUMN shown_price_minor BIGINT;
ALTER TABLE devices ADD COLUMN shown_currency TEXT;
ALTER TABLE devices ADD COLUMN shown_at BIGINT;
CREATE INDEX devices_sku ON devices (sku)
"#;

/// Devices can be revoked (a lost or stolen device): its token and signing key stop working at once, its
/// history stays.
pub(crate) const V18: &str = "ALTER TABLE devices ADD COLUMN revoked_at BIGINT";

/// SKUs are not case-sensitive and are stored in capitals: existing lower-case SKUs are renamed everywhere
/// they are referenced (a SKU whose capitalised spelling is already taken keeps its spelling).
pub(crate) const V19: &str = r#"
CREATE TABLE sku_renames (old TEXT PRIMARY KEY, new TEXT NOT NULL, gtin TEXT);
INSERT INTO sku_renames (old, new, gtin)
    SELECT sku, UPPER(sku), gtin FROM variants v
    WHERE sku <> UPPER(sku) AND NOT EXISTS (SELECT 1 FROM variants w WHERE w.sku = UPPER(v.sku));
UPDATE variants SET gtin = NULL WHERE sku IN (SELECT old FROM sku_renames);
INSERT INTO variants (sku, product_id, gtin, weight_g, attributes, position)
    SELECT r.new, v.product_id, r.gtin, v.weight_g, v.attributes, v.position FROM variants v JOIN sku_renames r ON r.old = v.sku;
UPDATE prices SET sku = (SELECT new FROM sku_renames WHERE old = prices.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE stock_levels SET sku = (SELECT new FROM sku_renames WHERE old = stock_levels.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE stock_movements SET sku = (SELECT new FROM sku_renames WHERE old = stock_movements.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE cart_lines SET sku = (SELECT new FROM sku_renames WHERE old = cart_lines.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE order_lines SET sku = (SELECT new FROM sku_renames WHERE old = order_lines.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE reservations SET sku = (SELECT new FROM sku_renames WHERE old = reservations.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE return_lines SET sku = (SELECT new FROM sku_renames WHERE old = return_lines.sku) WHERE sku IN (SELECT old FROM sku_renames);
UPDATE devices SET sku = (SELECT new FROM sku_renames WHERE old = devices.sku) WHERE sku IN (SELECT old FROM sku_renames);
DELETE FROM variants WHERE sku IN (SELECT old FROM sku_renames);
DROP TABLE sku_renames
"#;

/// Console staff accounts and their cookie sessions, the audit log of staff actions, and each location's
/// time zone (dates on screens are shown in the location's own time).
pub(crate) const V20: &str = r#"
CREATE TABLE staff_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'associate')),
    location_id TEXT REFERENCES locations (id),
    locale TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff_users (id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE TABLE audit_log (
    seq {serial},
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    location_id TEXT,
    details TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
ALTER TABLE locations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Seoul'
"#;

/// Indexes for the console's order desk: lookups by email and pickup code, lists per location and by date,
/// and an order's timeline (its events and its money movements).
pub(crate) const V21: &str = r#"
CREATE INDEX events_aggregate ON events (aggregate_id, seq);
CREATE INDEX ledger_transfers_ref ON ledger_transfers (ref_id, seq);
CREATE INDEX returns_order ON returns (order_id);
CREATE INDEX orders_email ON orders (email);
CREATE INDEX orders_pickup_code ON orders (pickup_code);
CREATE INDEX orders_location ON orders (location_id, placed_at);
CREATE INDEX orders_placed ON orders (placed_at)
"#;

/// Measured with `borderless bench console` on 50,000 orders: the day's sales read from a covering index
/// (no table rows), and the order list narrowed by store or status walks its own index newest first.
pub(crate) const V22: &str = r#"
DROP INDEX orders_placed;
CREATE INDEX orders_sales ON orders (placed_at, status, channel, currency, total_minor, location_id);
CREATE INDEX orders_location_seq ON orders (location_id, id);
CREATE INDEX orders_status_seq ON orders (status, id)
"#;

/// Open to the internet (issue #19): idle carts are purged (found by status and age), and API keys can
/// expire.
pub(crate) const V23: &str = r#"
CREATE INDEX carts_idle ON carts (status, updated_at);
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT
"#;

/// Durable intents for card processor calls (issue #19): written before the call, moved on by each step,
/// closed with the work they pay for; the reconciliation sweep finishes what a crash left open.
pub(crate) const V24: &str = r#"
CREATE TABLE card_intents (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('top_up', 'checkout')),
    customer_id TEXT,
    cart_id TEXT,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    processor_key TEXT NOT NULL,
    payment_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('started', 'authorized', 'captured', 'done', 'released', 'failed')),
    attempts BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (purpose, processor_key)
);
CREATE INDEX card_intents_open ON card_intents (status, updated_at);
CREATE INDEX card_intents_payment ON card_intents (payment_id)
"#;

/// The storefront (issue #14): a product's 3D model (GLB, checked before it is stored), base64 in TEXT as
/// every column here is BIGINT or TEXT, with its size and hash for caching; and the newest active products
/// found by an index (the recommendations' cold start, on every home and product page, scanned 100,000
/// products without it).
pub(crate) const V25: &str = r#"
CREATE INDEX products_status_newest ON products (status, created_at, id);
CREATE TABLE product_models (
    product_id TEXT PRIMARY KEY,
    glb_base64 TEXT NOT NULL,
    bytes BIGINT NOT NULL CHECK (bytes > 0),
    sha256 TEXT NOT NULL,
    updated_at BIGINT NOT NULL
)
"#;

/// The shopping assistant (issue #16): conversations with their state (what the last turn understood and
/// showed, as JSON), owned by a signed-in customer or only by whoever holds the unguessable id, expiring
/// when idle; hand-off to staff; and the messages, kept for the shopper and for staff who take over.
pub(crate) const V26: &str = r#"
CREATE TABLE assistant_conversations (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    location_id TEXT,
    locale TEXT NOT NULL,
    state TEXT NOT NULL,
    turns BIGINT NOT NULL,
    handoff TEXT NOT NULL CHECK (handoff IN ('none', 'waiting', 'answered', 'closed')),
    handoff_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX assistant_conversations_customer ON assistant_conversations (customer_id, updated_at);
CREATE INDEX assistant_conversations_handoff ON assistant_conversations (handoff, handoff_at);
CREATE INDEX assistant_conversations_expiry ON assistant_conversations (expires_at);
CREATE TABLE assistant_messages (
    conversation_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('shopper', 'assistant', 'staff')),
    text TEXT NOT NULL,
    body TEXT,
    staff_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
)
"#;

/// Sign-up by confirmed email (issue #19: sign-up no longer tells whether an address has an account): a
/// request waits for its link to be opened; the mail outbox holds what the shop sends until the mail worker
/// delivers it (the body is dropped once sent).
pub(crate) const V27: &str = r#"
CREATE TABLE signup_requests (
    token_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    phone TEXT,
    name TEXT NOT NULL,
    locale TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX signup_requests_email ON signup_requests (email, created_at);
CREATE INDEX signup_requests_expiry ON signup_requests (expires_at);
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    to_addr TEXT NOT NULL,
    kind TEXT NOT NULL,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'sent', 'failed', 'expired')),
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_to ON mail_outbox (to_addr, created_at)
"#;

/// Card processor webhook events already applied (processors deliver at least once).
pub(crate) const V10: &str =
    "CREATE TABLE psp_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, payment_id TEXT, received_at BIGINT NOT NULL)";

// The shopper analytics migrations, V28 to V31.
pub(crate) use crate::schema_analytics::{V28, V29, V30, V31};

/// Semantic search's product vectors (issue #18), so that a restarted node or another node serves them
/// without asking the model again: one row per product and model, with the SHA-256 of the text it was
/// embedded from (a changed product is embedded again) and the vector as base64 (its scale as a
/// little-endian f32, then one signed byte per dimension).
pub(crate) const V32: &str = r#"
CREATE TABLE search_embeddings (
    product_id TEXT NOT NULL,
    model TEXT NOT NULL,
    meaning TEXT NOT NULL,
    vector TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (product_id, model)
)
"#;
