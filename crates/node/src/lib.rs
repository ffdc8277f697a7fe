//! A running borderless node: storage opened and migrated, the engine, the HTTP listener, the embedded MQTT
//! broker and its bridge, and the background workers (webhook delivery, mail delivery, pickup/hold/visit expiry, card
//! processor jobs, recommendation and search refreshers), started and stopped together (`app`).

pub mod app;
pub mod chat_model;
pub mod embeddings;
pub mod embeddings_cache;
pub mod mail;
pub mod stripe;
pub mod webhooks;
