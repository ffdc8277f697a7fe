//! In-store devices over MQTT (3.1.1 and 5): the broker `borderless serve` embeds (devices log in with their
//! own id and token and reach only their own topics), the bridge that takes devices' signed event batches from that broker or from
//! an external one (Mosquitto, EMQX …), stores them through the engine and only then acknowledges them,
//! and the topic scheme of docs/devices.md. Only this crate knows MQTT; the engine sees device events.
//!
//! Topics (`{store}` is the location code, `{device}` the device code):
//! - `borderless/v1/{store}/{device}/events` — device → borderless: `{"mac": hex, "body": "<JSON text>"}`
//!   where `body` is `{"events": [...]}` (the payloads of `POST /devices/events`) and `mac` is
//!   HMAC-SHA256 over the body's bytes with the device's key, hex(sha256("borderless-mqtt:" + token)).
//! - `borderless/v1/{store}/{device}/acks` — borderless → device: `{"ingest": {...}}` once the batch is
//!   stored (accepted, duplicates, gaps, rejected, entries, orders), or `{"error": {"code", "message"}}`.
//! - `borderless/v1/{store}/{label}/commands` — borderless → shelf label (retained): the price to show,
//!   published within a few hundred milliseconds of a catalog change; the label confirms with a signed
//!   `label_ack` event.

pub mod broker;
pub mod wire;

use engine::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

pub const TOPIC_ROOT: &str = "borderless/v1";
/// Largest MQTT payload taken (a gondola's second of samples is ~60 KB).
pub const MAX_PAYLOAD: usize = 1 << 20;
/// How long the bridge trusts a cached device signing key.
const KEY_CACHE: Duration = Duration::from_secs(30);
/// Messages waiting for the engine at most; beyond it the bridge stops reading (the broker holds them).
const QUEUE: usize = 256;

/// Where the bridge finds its broker.
#[derive(Debug, Clone)]
pub enum Broker {
    /// Start the embedded broker on this address (MQTT 3.1.1), optionally with an MQTT 5 listener, and
    /// bridge to it.
    Embedded(SocketAddr),
    /// The same with an MQTT 5 listener too.
    EmbeddedWithV5(SocketAddr, SocketAddr),
    /// An external broker (host, port), e.g. Mosquitto on 127.0.0.1:1883; over TLS (MQTTS) when `tls_ca`
    /// names the PEM file of the CA that signed the broker's certificate (which must name `host`).
    External {
        host: String,
        port: u16,
        username: Option<String>,
        password: Option<String>,
        tls_ca: Option<std::path::PathBuf>,
    },
}

/// Counters of the bridge, for logs and tests.
#[derive(Debug, Default)]
pub struct BridgeStats {
    pub messages: AtomicU64,
    pub acked: AtomicU64,
    /// Messages refused whole: unknown topic or device, bad signature, not JSON, too large.
    pub refused: AtomicU64,
    /// Price commands published to shelf labels.
    pub labels_pushed: AtomicU64,
}

/// Signs a body for `token`'s device (what a device does before publishing).
pub fn sign(token: &str, body: &str) -> String {
    let key = engine::instore::live::mac_key(token);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn verify(key: &str, body: &str, mac_hex: &str) -> bool {
    let Ok(expected) = hex::decode(mac_hex) else { return false };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) else { return false };
    mac.update(body.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// Starts the embedded broker on `listen` and, when given, `listen_v5` (both speak MQTT 3.1.1 and 5; the
/// second address is kept for deployments that give MQTT 5 its own port). Devices log in with their device
/// id as the user name and their token as the password and may then only publish their own `events` and
/// read their own `acks` and `commands`; the bridge logs in as `borderless-bridge` with `bridge_secret`.
/// Must run inside the server's runtime; fails when an address cannot be bound.
pub fn start_embedded(
    engine: Engine,
    listen: SocketAddr,
    listen_v5: Option<SocketAddr>,
    tls: Option<&TlsListener>,
    bridge_secret: String,
) -> Result<broker::Broker, String> {
    // Certificates are read before anything listens: a bad file fails the start, not the first device.
    let acceptor = tls.map(tls_acceptor).transpose()?;
    let checker = engine.clone();
    let auth: broker::Authenticator = Arc::new(move |client_id: String, user: String, pass: String| {
        let (engine, secret) = (checker.clone(), bridge_secret.clone());
        Box::pin(async move {
            if user == BRIDGE_USER {
                let ok = client_id.starts_with(BRIDGE_USER)
                    && bool::from(subtle::ConstantTimeEq::ct_eq(pass.as_bytes(), secret.as_bytes()));
                return if ok { broker::Login::Allowed(broker::Principal::Service) } else { broker::Login::Refused };
            }
            // A device: its id and its token (the same token as for HTTP).
            match engine.device_mqtt_identity(&pass).await {
                Ok(i) if i.device.id == user => broker::Login::Allowed(broker::Principal::Device {
                    id: i.device.id,
                    store: i.store_code,
                    device: i.device_code,
                }),
                Err(engine::EngineError::Db(e)) => {
                    tracing::warn!(error = %e, "mqtt: checking a device login failed");
                    broker::Login::Unavailable
                }
                _ => broker::Login::Refused,
            }
        })
    });
    let broker = broker::Broker::new(auth, broker::Limits::default());
    tokio::spawn(cut_off_changed_devices(engine.clone(), broker.clone()));
    for addr in std::iter::once(listen).chain(listen_v5) {
        let std_listener = std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        std_listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::from_std(std_listener)
            .map_err(|e| format!("{addr}: {e} (the broker starts inside the server's runtime)"))?;
        broker.serve(listener);
    }
    if let (Some(t), Some(acceptor)) = (tls, acceptor) {
        let std_listener =
            std::net::TcpListener::bind(t.listen).map_err(|e| format!("cannot listen on {}: {e}", t.listen))?;
        std_listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::from_std(std_listener).map_err(|e| format!("{}: {e}", t.listen))?;
        broker.serve_tls(listener, acceptor);
    }
    Ok(broker)
}

/// The embedded broker's MQTT-over-TLS listener (MQTTS): devices on a store's network send payment codes
/// in entry events, so production stores use it (or an external broker with TLS).
#[derive(Debug, Clone)]
pub struct TlsListener {
    pub listen: SocketAddr,
    /// PEM: the server certificate, then its chain.
    pub cert: std::path::PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: std::path::PathBuf,
}

/// The TLS acceptor for `t`, its files read now (a bad file is an error naming it).
pub fn tls_acceptor(t: &TlsListener) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&t.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("MQTT TLS certificate {}: {e}", t.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("MQTT TLS certificate {}: no CERTIFICATE in the file", t.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&t.key).map_err(|e| format!("MQTT TLS key {}: {e}", t.key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("MQTT TLS: the key does not fit the certificate, or is not usable: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// The bridge's TLS client configuration for an external broker: the broker's certificate must chain to the
/// CA in `ca` (PEM) and name the host connected to.
pub fn bridge_tls(ca: &std::path::Path) -> Result<Arc<tokio_rustls::rustls::ClientConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    use tokio_rustls::rustls;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("MQTT broker CA {}: {e}", ca.display()))?;
    if certs.is_empty() {
        return Err(format!("MQTT broker CA {}: no CERTIFICATE in the file", ca.display()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots.add(c).map_err(|e| format!("MQTT broker CA {}: {e}", ca.display()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Ids of devices whose token is rotated or that are revoked from now on (on any node: it follows the
/// event feed), each within about a second.
fn credential_changes(engine: Engine) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut cursor = loop {
            match engine.events_head().await {
                Ok(c) => break c,
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        };
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if tx.is_closed() {
                return;
            }
            match engine.device_credential_changes_after(cursor).await {
                Ok((devices, next)) => {
                    for d in devices {
                        if tx.send(d).is_err() {
                            return;
                        }
                    }
                    cursor = next;
                }
                Err(e) => tracing::warn!(error = %e, "mqtt: reading device token changes failed"),
            }
        }
    });
    rx
}

/// Closes the connections of devices whose token changed (the broker's own 30 s recheck is the backstop).
async fn cut_off_changed_devices(engine: Engine, broker: broker::Broker) {
    let mut changes = credential_changes(engine);
    while let Some(d) = changes.recv().await {
        tracing::info!(device = %d, "mqtt: a device's token changed; closing its connections");
        broker.disconnect_device(&d);
    }
}

/// The user name the bridge logs in with on the embedded broker.
pub const BRIDGE_USER: &str = "borderless-bridge";

/// Runs the bridge until `stop` (over TLS with `tls`): subscribes to every store's device events, hands each batch to the
/// engine, acknowledges the MQTT message only after the batch is stored, and answers on the device's
/// `acks` topic. Reconnects after a lost connection.
pub async fn run_bridge(
    engine: Engine,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
    stats: Arc<BridgeStats>,
    mut stop: watch::Receiver<bool>,
) {
    // A fresh id per bridge: several nodes (or test servers) may share one broker.
    let client_id = format!("borderless-bridge-{}", engine::instore::live::random_suffix());
    let mut opts = MqttOptions::new(client_id, host.clone(), port);
    opts.set_keep_alive(Duration::from_secs(15));
    opts.set_max_packet_size(MAX_PAYLOAD + 1024, MAX_PAYLOAD + 1024);
    opts.set_manual_acks(true);
    // Devices resend a batch until its ack arrives (duplicates are dropped), so the bridge needs no
    // persistent session on the broker.
    opts.set_clean_session(true);
    if let Some((u, p)) = credentials {
        opts.set_credentials(u, p);
    }
    if let Some(config) = tls {
        opts.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(config)));
    }
    let (client, mut eventloop) = AsyncClient::new(opts, 512);
    let (tx, rx) = mpsc::channel::<rumqttc::Publish>(QUEUE);
    let labels = tokio::spawn(push_labels(engine.clone(), client.clone(), stats.clone()));
    let worker = tokio::spawn(work(engine, client.clone(), rx, stats.clone()));
    let filter = format!("{TOPIC_ROOT}/+/+/events");
    loop {
        tokio::select! {
            ev = eventloop.poll() => match ev {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    tracing::info!(broker = %format!("{host}:{port}"), "mqtt: bridge connected");
                    if let Err(e) = client.subscribe(filter.clone(), QoS::AtLeastOnce).await {
                        tracing::warn!(error = %e, "mqtt: subscribing failed");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    stats.messages.fetch_add(1, Ordering::Relaxed);
                    // A full queue stops this loop from reading: the broker keeps the rest (backpressure).
                    if tx.send(p).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, broker = %format!("{host}:{port}"), "mqtt: connection lost; retrying in 1 s");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = async { let _ = stop.wait_for(|v| *v).await; } => {
                let _ = client.disconnect().await;
                worker.abort();
                labels.abort();
                return;
            }
        }
    }
}

/// How often the label pusher looks for catalog changes.
const LABEL_POLL: Duration = Duration::from_millis(100);

/// Keeps every shelf label showing the catalog price: all labels once at start, then the labels of each
/// changed product (prices are read from the catalog, not from the event, so the newest always wins).
/// Commands are retained, so a label that reconnects gets its price at once.
async fn push_labels(engine: Engine, client: AsyncClient, stats: Arc<BridgeStats>) {
    let mut cursor = loop {
        match engine.events_head().await {
            Ok(c) => break (c, c),
            Err(e) => {
                tracing::warn!(error = %e, "labels: reading the event feed failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    match engine.all_label_commands().await {
        Ok(cmds) => publish_labels(&client, &cmds, &stats).await,
        Err(e) => tracing::warn!(error = %e, "labels: the first full sync failed"),
    }
    loop {
        tokio::time::sleep(LABEL_POLL).await;
        match engine.label_commands_after(cursor).await {
            Ok((cmds, next)) => {
                publish_labels(&client, &cmds, &stats).await;
                cursor = next;
            }
            Err(e) => tracing::warn!(error = %e, "labels: reading catalog changes failed"),
        }
    }
}

async fn publish_labels(client: &AsyncClient, cmds: &[engine::instore::live::LabelCommand], stats: &BridgeStats) {
    for c in cmds {
        let topic = format!("{TOPIC_ROOT}/{}/{}/commands", c.store_code, c.device_code);
        let won = domain::money::format_krw(c.price_minor);
        let payload = serde_json::json!({
            "type": "price", "sku": c.sku, "price_minor": c.price_minor, "currency": c.currency,
            "text": {"ko": format!("{won}원"), "en": format!("₩{won}")},
            "title": {"ko": c.title_ko, "en": c.title_en},
            "at_ms": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        });
        if client.publish(topic, QoS::AtLeastOnce, true, payload.to_string()).await.is_ok() {
            stats.labels_pushed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One message: `{"mac", "body"}` on `borderless/v1/{store}/{device}/events`.
async fn work(engine: Engine, client: AsyncClient, mut rx: mpsc::Receiver<rumqttc::Publish>, stats: Arc<BridgeStats>) {
    let mut keys: HashMap<(String, String), (engine::instore::live::DeviceRef, String, std::time::Instant)> =
        HashMap::new();
    let mut changed = credential_changes(engine.clone());
    while let Some(p) = rx.recv().await {
        // A rotated or revoked device's cached key is forgotten before its next message is checked.
        while let Ok(id) = changed.try_recv() {
            keys.retain(|_, (dev, _, _)| dev.id != id);
        }
        let parts: Vec<&str> = p.topic.split('/').collect();
        let answer = match parts.as_slice() {
            ["borderless", "v1", store, device, "events"] => {
                let (store, device) = (store.to_string(), device.to_string());
                let ack_topic = format!("{TOPIC_ROOT}/{store}/{device}/acks");
                match handle(&engine, &mut keys, &store, &device, &p.payload).await {
                    // Not a device of this deployment (a shared broker may carry others'): stay silent.
                    Err(("unknown_device", message)) => {
                        tracing::debug!(%message, "mqtt: a message for a device this server does not know");
                        None
                    }
                    reply => Some((ack_topic, reply)),
                }
            }
            _ => None,
        };
        // Answers and the MQTT ack wait for room in the client's request queue (never dropped: a lost ack
        // would hold one of the broker's in-flight slots for good); bounded, so a dead connection cannot
        // hold this loop.
        let answer_bytes = match &answer {
            Some((topic, Ok(outcome))) => {
                stats.acked.fetch_add(1, Ordering::Relaxed);
                Some((topic.clone(), serde_json::json!({ "ingest": outcome }).to_string()))
            }
            Some((topic, Err((code, message)))) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                // Counted always; logged at debug (a misbehaving device could send hundreds a second).
                tracing::debug!(%topic, code, %message, "mqtt: a device message was refused");
                Some((topic.clone(), serde_json::json!({ "error": {"code": code, "message": message} }).to_string()))
            }
            None => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        if let Some((topic, body)) = answer_bytes {
            if tokio::time::timeout(Duration::from_secs(5), client.publish(topic, QoS::AtLeastOnce, false, body))
                .await
                .map_or(true, |r| r.is_err())
            {
                tracing::warn!(
                    "mqtt: an answer to a device could not be queued; the device resends and is answered again"
                );
            }
        }
        // Stored (or refused for good): the broker may forget it now.
        match tokio::time::timeout(Duration::from_secs(5), client.ack(&p)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "mqtt: acknowledging a message failed; the broker will send it again (it is deduplicated)"),
            Err(_) => tracing::warn!("mqtt: acknowledging a message timed out; the broker will send it again after a reconnect (it is deduplicated)"),
        }
    }
}

type Refusal = (&'static str, String);

async fn handle(
    engine: &Engine,
    keys: &mut HashMap<(String, String), (engine::instore::live::DeviceRef, String, std::time::Instant)>,
    store: &str,
    device: &str,
    payload: &[u8],
) -> Result<engine::instore::live::IngestOutcome, Refusal> {
    if payload.len() > MAX_PAYLOAD {
        return Err(("too_large", format!("a message is at most {MAX_PAYLOAD} bytes")));
    }
    #[derive(serde::Deserialize)]
    struct Signed {
        mac: String,
        body: String,
    }
    let signed: Signed = serde_json::from_slice(payload)
        .map_err(|e| ("invalid_message", format!("expected {{\"mac\": hex, \"body\": text}}: {e}")))?;
    let k = (store.to_owned(), device.to_owned());
    // Keys are cached for 30 s and forgotten within a second of a token change; a signature that fails
    // against a cached key is checked once more against the stored one.
    let mut verified = None;
    for fresh in [false, true] {
        let age = keys.get(&k).map(|(_, _, at)| at.elapsed());
        let stale = age.is_none_or(|a| a > KEY_CACHE);
        if fresh && age.is_some_and(|a| a < Duration::from_secs(1)) {
            break; // read within the last second: a flood of bad signatures costs no reads
        }
        if fresh || stale {
            match engine.device_by_code(store, device).await {
                Ok((dev, key)) => {
                    keys.insert(k.clone(), (dev, key, std::time::Instant::now()));
                }
                Err(engine::EngineError::Db(e)) => return Err(("storage_unavailable", e.to_string())),
                Err(_) => {
                    keys.remove(&k);
                    return Err(("unknown_device", format!("no device `{device}` at store `{store}`")));
                }
            }
        }
        let (dev, key, _) = &keys[&k];
        if !key.is_empty() && verify(key, &signed.body, &signed.mac) {
            verified = Some(dev.clone());
            break;
        }
        if stale {
            break; // just read: no fresher key to try
        }
    }
    let Some(dev) = verified else {
        return Err((
            "bad_signature",
            "the message is not signed with this device's key (or the device's token was rotated or revoked)".into(),
        ));
    };
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        events: Vec<serde_json::Value>,
    }
    let body: Body = serde_json::from_str(&signed.body)
        .map_err(|e| ("invalid_body", format!("`body` is {{\"events\": [...]}}: {e}")))?;
    // A storage hiccup is retried here before the device hears of it (the batch is stored whole or not at
    // all, so retrying cannot double anything).
    let mut wait = Duration::from_millis(200);
    for attempt in 1.. {
        match engine.ingest_device_events(&dev, body.events.clone()).await {
            Ok(out) => return Ok(out),
            Err(e @ engine::EngineError::Db(_)) if attempt < 4 => {
                tracing::warn!(error = %e, attempt, "mqtt: storing a device batch failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(engine::EngineError::Unauthorized) => return Err(("revoked", "the device was revoked".into())),
            Err(e) => return Err(("ingest_failed", e.to_string())),
        }
    }
    unreachable!("the loop returns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_devices_key() {
        let body = r#"{"events":[]}"#;
        let mac = sign("bl_dev_secret", body);
        let key = engine::instore::live::mac_key("bl_dev_secret");
        assert!(verify(&key, body, &mac));
        assert!(!verify(&key, r#"{"events":[1]}"#, &mac), "another body");
        assert!(!verify(&engine::instore::live::mac_key("bl_dev_other"), body, &mac), "another device");
        assert!(!verify(&key, body, "zz"), "not hex");
    }
}
