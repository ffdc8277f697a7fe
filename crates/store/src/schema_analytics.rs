//! The shopper analytics schema's migrations (issue #15), apart from the rest of the schema (`schema`
//! re-exports them in order): the one event model, its keys for arriving exactly once and in time order,
//! the stock-out state, what customers share for segments, and the seller's segments.

/// Shopper analytics (issue #15): the one event model, each happening once (`id` is derived from what
/// happened, so a second delivery is refused by the key); the stock-out state the ingest keeps per SKU and
/// location; what customers share for segments (birth year, home store, consent to be recognised across
/// channels) and their membership tier over time.
pub(crate) const V28: &str = r#"
CREATE TABLE insight_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    shopper TEXT,
    customer_id TEXT,
    location_id TEXT,
    channel TEXT,
    device TEXT,
    product_id TEXT,
    sku TEXT,
    category TEXT,
    zone TEXT,
    visit TEXT,
    order_id TEXT,
    dwell_ms BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT
);
CREATE INDEX insight_events_at ON insight_events (at);
CREATE INDEX insight_events_customer ON insight_events (customer_id);
CREATE INDEX insight_events_order ON insight_events (order_id);
CREATE TABLE insight_stock_out (
    sku TEXT NOT NULL,
    location_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (sku, location_id)
);
CREATE TABLE customer_tiers (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    from_at BIGINT NOT NULL,
    tier TEXT NOT NULL,
    PRIMARY KEY (customer_id, from_at)
);
ALTER TABLE customers ADD COLUMN birth_year BIGINT;
ALTER TABLE customers ADD COLUMN home_location_id TEXT;
ALTER TABLE customers ADD COLUMN analytics_consent BIGINT NOT NULL DEFAULT 0
"#;

/// Analytics events gain their order of arrival (issue #15), so that a node's loaded snapshot takes in
/// only what arrived since it was read instead of reading every event again: `seq` never goes back
/// (SQLite `AUTOINCREMENT`: rows are deleted here, so the plain rowid could be handed out twice) and, on
/// PostgreSQL, `tx_id` says which transaction wrote the row, so that a reader takes only rows of
/// transactions that have all ended (the event feed's horizon). The indexes for an erasure (by customer)
/// and a cancelled order (its purchases) hold only the rows they find: most events have neither, and
/// every entry is one more random write at ingest.
pub(crate) const V29: &str = r#"
CREATE TABLE insight_events_v29 (
    seq {serial_strict},
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    shopper TEXT,
    customer_id TEXT,
    location_id TEXT,
    channel TEXT,
    device TEXT,
    product_id TEXT,
    sku TEXT,
    category TEXT,
    zone TEXT,
    visit TEXT,
    order_id TEXT,
    dwell_ms BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT{txid}
);
INSERT INTO insight_events_v29 (id, kind, at, shopper, customer_id, location_id, channel, device, product_id, sku, category, zone, visit, order_id, dwell_ms, quantity, amount_minor, currency)
    SELECT id, kind, at, shopper, customer_id, location_id, channel, device, product_id, sku, category, zone, visit, order_id, dwell_ms, quantity, amount_minor, currency
    FROM insight_events ORDER BY at, id;
DROP TABLE insight_events;
ALTER TABLE insight_events_v29 RENAME TO insight_events;
CREATE INDEX insight_events_at ON insight_events (at);
CREATE INDEX insight_events_customer ON insight_events (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX insight_events_order ON insight_events (order_id) WHERE kind = 'purchase';
{insight_tx_index}
"#;

/// The seller's own analytics segments (issue #15), in their order: each a combination of tiers, age
/// bands, new or returning, home stores and preferred channels (JSON), the first that matches a shopper
/// taking their row.
pub(crate) const V30: &str = r#"
CREATE TABLE analytics_segments (
    position BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    updated_at BIGINT NOT NULL
)
"#;

/// Analytics events keyed by their moment (issue #15): an event is its id at its time, unique on
/// `(at, id)`, which is also the time index the snapshot is read along; the indexes for an erasure (by
/// customer) and a cancelled order (its purchases) lead with the event's day. Every key now starts where
/// new events land (today), so an import's index writes stay on a few pages instead of touching a random
/// page of a large index per row (measured: the unique index on `id` alone and the index by customer wrote
/// a page per row at 10 million events). The table is rebuilt (a `UNIQUE` column cannot be dropped in
/// SQLite) in order of arrival, and the snapshot generation cleared so that every node reads it whole.
pub(crate) const V31: &str = r#"
CREATE TABLE insight_events_v31 (
    seq {serial_strict},
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    shopper TEXT,
    customer_id TEXT,
    location_id TEXT,
    channel TEXT,
    device TEXT,
    product_id TEXT,
    sku TEXT,
    category TEXT,
    zone TEXT,
    visit TEXT,
    order_id TEXT,
    dwell_ms BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT{txid}
);
INSERT INTO insight_events_v31 (id, kind, at, shopper, customer_id, location_id, channel, device, product_id, sku, category, zone, visit, order_id, dwell_ms, quantity, amount_minor, currency)
    SELECT id, kind, at, shopper, customer_id, location_id, channel, device, product_id, sku, category, zone, visit, order_id, dwell_ms, quantity, amount_minor, currency
    FROM insight_events ORDER BY seq;
DROP TABLE insight_events;
ALTER TABLE insight_events_v31 RENAME TO insight_events;
CREATE UNIQUE INDEX insight_events_at_id ON insight_events (at, id);
CREATE INDEX insight_events_day_customer ON insight_events ((at / 86400000), customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX insight_events_day_order ON insight_events ((at / 86400000), order_id) WHERE kind = 'purchase';
{insight_tx_index};
DELETE FROM meta WHERE key = 'insight.generation'
"#;
