//! The embedded MQTT broker: MQTT 3.1.1 and 5 on every listener, logins checked by the caller, per-device
//! topic ACLs (a device publishes only its own `events` and reads only its own topics), QoS 0 and 1 (QoS 2
//! taken in), retained messages, persistent sessions, and limits and bounded queues everywhere.

mod connection;
mod session;
#[cfg(test)]
mod tests;

use connection::*;
use session::*;

use crate::wire::{self, In, Msg, Out, Proto, Refuse, SubCode};
use bytes::BytesMut;
use rumqttc::mqttbytes::{valid_filter, valid_topic};
use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode as Reason;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Bound;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify, Semaphore};

/// Who is logged in, and so what it may publish and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// borderless itself (the bridge): every topic.
    Service,
    /// A device: publishes `borderless/v1/{store}/{device}/events`, reads `borderless/v1/{store}/{device}/…`.
    Device { id: String, store: String, device: String },
}

impl Principal {
    fn key(&self) -> String {
        match self {
            Principal::Service => "service".into(),
            Principal::Device { id, .. } => format!("device:{id}"),
        }
    }

    fn own_prefix(store: &str, device: &str) -> Option<String> {
        // Codes with topic syntax in them cannot be matched safely: such a device gets nothing.
        let clean = |s: &str| !s.is_empty() && !s.contains(['/', '+', '#', '\0']);
        (clean(store) && clean(device)).then(|| format!("{}/{store}/{device}/", crate::TOPIC_ROOT))
    }

    /// Publishing on `topic` (a valid topic name) is allowed.
    pub fn may_publish(&self, topic: &str) -> bool {
        match self {
            Principal::Service => true,
            Principal::Device { store, device, .. } => {
                Self::own_prefix(store, device).is_some_and(|p| topic.strip_prefix(p.as_str()) == Some("events"))
            }
        }
    }

    /// Subscribing to `filter` (a valid filter) is allowed: a device reads its own `acks` and `commands`,
    /// named exactly (no wildcards, and not its own events: nothing to pin in the broker's memory).
    pub fn may_subscribe(&self, filter: &str) -> bool {
        match self {
            Principal::Service => true,
            Principal::Device { store, device, .. } => Self::own_prefix(store, device)
                .is_some_and(|p| matches!(filter.strip_prefix(p.as_str()), Some("acks" | "commands"))),
        }
    }
}

/// The answer to a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Allowed(Principal),
    Refused,
    /// The check could not be made (storage down): the client should retry, not give up.
    Unavailable,
}

/// A login's future answer.
pub type AuthFuture = Pin<Box<dyn Future<Output = Login> + Send>>;
/// Checks a login: (client id, user name, password).
pub type Authenticator = Arc<dyn Fn(String, String, String) -> AuthFuture + Send + Sync>;

/// Whether `topic` (a valid topic name) matches `filter` (a valid filter). Topics starting with `$` match
/// no wildcard at their first level.
pub fn topic_matches(topic: &str, filter: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut t = topic.split('/');
    for f in filter.split('/') {
        if f == "#" {
            return true;
        }
        match t.next() {
            Some(level) if f == "+" || f == level => {}
            _ => return false,
        }
    }
    t.next().is_none()
}

/// The part of a filter before its first wildcard (every matching topic starts with it).
fn literal_prefix(filter: &str) -> &str {
    let head = filter.find(['+', '#']).map_or(filter, |i| &filter[..i]);
    // `a/#` also matches `a` itself.
    if filter.ends_with("/#") && head.len() + 1 == filter.len() {
        &head[..head.len() - 1]
    } else {
        head
    }
}

/// Limits of the broker.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest packet taken or sent.
    pub max_packet: usize,
    pub max_connections: usize,
    /// Messages waiting for one connection; a device that falls this far behind is disconnected, while
    /// borderless's own connection makes publishers wait (backpressure).
    pub queue: usize,
    /// Unacknowledged QoS 1 messages per connection.
    pub inflight: u16,
    pub device_subscriptions: usize,
    pub service_subscriptions: usize,
    /// Messages kept for a disconnected persistent session (the oldest are dropped beyond it).
    pub offline_queue: usize,
    /// Longest a persistent session outlives its connection.
    pub max_session_expiry: Duration,
    pub retained: usize,
    pub max_topic: usize,
    /// Largest CONNECT (a will included).
    pub max_connect: usize,
    /// Connections and sessions of one device (more client ids are refused, the oldest absent session goes).
    pub per_device: usize,
    /// Bytes kept for a disconnected persistent session.
    pub offline_bytes: usize,
    /// Publishes per second a device may send, over all its connections (a burst of twice that); beyond
    /// it the device is slowed down, not the others.
    pub device_rate: f64,
    /// Bytes per second a device may publish, likewise (a gondola's second of samples is ~60 KB).
    pub device_bytes_rate: f64,
    /// Time to send CONNECT after the TCP connection opens.
    pub connect_timeout: Duration,
    /// Keep-alive imposed on clients asking for none or for longer (seconds).
    pub max_keep_alive: u16,
    /// How often a connected device's token is checked again (a revoked token is disconnected).
    pub recheck_login: Duration,
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packet: crate::MAX_PAYLOAD + 1024,
            max_connections: 10_000,
            queue: 1024,
            inflight: 100,
            device_subscriptions: 8,
            service_subscriptions: 1024,
            offline_queue: 1000,
            max_session_expiry: Duration::from_secs(24 * 3600),
            retained: 200_000,
            max_topic: 256,
            max_connect: 64 * 1024,
            per_device: 4,
            offline_bytes: 8 << 20,
            device_rate: 200.0,
            device_bytes_rate: 1024.0 * 1024.0,
            connect_timeout: Duration::from_secs(10),
            max_keep_alive: 600,
            recheck_login: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of the broker, for logs and tests.
#[derive(Debug, Default)]
pub struct BrokerStats {
    /// Connections accepted since the start (a total, not the current number).
    pub connected: AtomicU64,
    pub logins_refused: AtomicU64,
    /// Publishes and subscriptions refused by the topic ACL.
    pub denied: AtomicU64,
    /// Devices disconnected for not reading their messages.
    pub slow_disconnected: AtomicU64,
    /// Malformed packets and protocol violations (each closes its connection).
    pub protocol_errors: AtomicU64,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    /// Messages dropped from full offline queues, or too large for the client that should get them.
    pub offline_dropped: AtomicU64,
    /// Connections refused at the door (too many, too large a CONNECT, login check unavailable).
    pub busy_refused: AtomicU64,
}

struct Kick {
    notify: Notify,
    reason: Mutex<Option<Reason>>,
}

impl Kick {
    fn kick(&self, reason: Reason) {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        self.notify.notify_one();
    }
}

struct Live {
    conn: u64,
    tx: mpsc::Sender<Msg>,
    kick: Arc<Kick>,
}

struct Session {
    privileged: bool,
    subs: HashMap<String, u8>,
    live: Option<Live>,
    /// Seconds the session outlives its connection (0: it ends with it).
    expiry: Duration,
    offline: VecDeque<Msg>,
    offline_bytes: usize,
    expires_at: Option<Instant>,
}

impl Session {
    /// Keeps a message for later, dropping the oldest beyond the limits; the payload is copied so that it
    /// does not hold a connection's whole read buffer.
    fn keep(&mut self, m: Msg, limits: &Limits, stats: &BrokerStats) {
        let m = Msg { payload: bytes::Bytes::copy_from_slice(&m.payload), ..m };
        self.offline_bytes += m.payload.len();
        self.offline.push_back(m);
        while self.offline.len() > limits.offline_queue || self.offline_bytes > limits.offline_bytes {
            let Some(old) = self.offline.pop_front() else { break };
            self.offline_bytes -= old.payload.len();
            stats.offline_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Session>,
    /// Subscribers of exact topics and of wildcard filters (session keys).
    exact: HashMap<String, HashSet<String>>,
    wild: HashMap<String, HashSet<String>>,
    /// Retained messages by topic (ordered, so a filter's literal prefix finds its candidates).
    retained: BTreeMap<String, Msg>,
    live: usize,
}

impl State {
    fn unindex(&mut self, key: &str, filter: &str) {
        let map = if filter.contains(['+', '#']) { &mut self.wild } else { &mut self.exact };
        if let Some(set) = map.get_mut(filter) {
            set.remove(key);
            if set.is_empty() {
                map.remove(filter);
            }
        }
    }

    fn retained_for<'a>(&'a self, filter: &'a str) -> impl Iterator<Item = &'a Msg> + 'a {
        let prefix = literal_prefix(filter).to_owned();
        self.retained
            .range::<String, _>((Bound::Included(&prefix), Bound::Unbounded))
            .take_while(move |(t, _)| t.starts_with(prefix.as_str()))
            .filter(move |(t, _)| topic_matches(t, filter))
            .map(|(_, m)| m)
    }

    fn drop_session(&mut self, key: &str) {
        if let Some(s) = self.sessions.remove(key) {
            for f in s.subs.keys() {
                self.unindex(key, f);
            }
        }
    }
}

/// A token bucket by count and by bytes (negative: in debt).
struct Bucket {
    msgs: f64,
    bytes: f64,
    at: Instant,
}

struct Shared {
    auth: Authenticator,
    limits: Limits,
    /// Sockets open (logged in or not) at most.
    sockets: Arc<Semaphore>,
    /// Each device's publish allowance, shared by its connections.
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Sockets not logged in yet at most (an idle flood cannot take the slots of logged-in devices).
    logging_in: Arc<Semaphore>,
    state: Mutex<State>,
    stats: Arc<BrokerStats>,
    next_conn: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Routes a message from session `from` to every matching session; returns how many matched. Waits
    /// (at most 10 s) while borderless's own connection is full: backpressure on the publisher; a device
    /// that is full is disconnected instead.
    async fn publish(&self, msg: Msg, may_retain: bool, from: &str) -> usize {
        let mut targets: Vec<(mpsc::Sender<Msg>, Msg, bool, Arc<Kick>)> = Vec::new();
        let matched;
        {
            let mut st = self.lock();
            if msg.retain && may_retain {
                if msg.payload.is_empty() {
                    st.retained.remove(&msg.topic);
                } else if st.retained.len() < self.limits.retained || st.retained.contains_key(&msg.topic) {
                    let kept = Msg { payload: bytes::Bytes::copy_from_slice(&msg.payload), ..msg.clone() };
                    st.retained.insert(msg.topic.clone(), kept);
                } else {
                    tracing::warn!(topic = ?msg.topic, "mqtt: retained message store full; not retained");
                }
            }
            let mut qos_by: HashMap<String, u8> = HashMap::new();
            if let Some(set) = st.exact.get(&msg.topic) {
                for k in set {
                    let q = st.sessions.get(k).and_then(|s| s.subs.get(&msg.topic)).copied().unwrap_or(0);
                    qos_by.entry(k.clone()).and_modify(|e| *e = (*e).max(q)).or_insert(q);
                }
            }
            for (f, set) in &st.wild {
                if topic_matches(&msg.topic, f) {
                    for k in set {
                        let q = st.sessions.get(k).and_then(|s| s.subs.get(f)).copied().unwrap_or(0);
                        qos_by.entry(k.clone()).and_modify(|e| *e = (*e).max(q)).or_insert(q);
                    }
                }
            }
            matched = qos_by.len();
            for (k, q) in qos_by {
                let Some(s) = st.sessions.get_mut(&k) else { continue };
                let m =
                    Msg { topic: msg.topic.clone(), payload: msg.payload.clone(), qos: msg.qos.min(q), retain: false };
                match &s.live {
                    // Never wait on the publisher's own queue: only its own task drains it.
                    Some(l) => targets.push((l.tx.clone(), m, s.privileged && k != from, l.kick.clone())),
                    None if m.qos == 1 => s.keep(m, &self.limits, &self.stats),
                    None => {}
                }
            }
        }
        for (tx, m, wait, kick) in targets {
            if wait {
                if tokio::time::timeout(Duration::from_secs(10), tx.send(m)).await.is_err() {
                    tracing::warn!("mqtt: borderless's own connection did not take a message for 10 s; dropped (the device resends)");
                }
            } else if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(m) {
                if kick.reason.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
                    self.stats.slow_disconnected.fetch_add(1, Ordering::Relaxed);
                }
                kick.kick(Reason::QuotaExceeded);
            }
        }
        matched
    }
}

/// The broker; clones share it.
#[derive(Clone)]
pub struct Broker {
    shared: Arc<Shared>,
}

impl Broker {
    pub fn new(auth: Authenticator, limits: Limits) -> Broker {
        let sockets = Arc::new(Semaphore::new(limits.max_connections + 256));
        let logging_in = Arc::new(Semaphore::new(256));
        let shared = Arc::new(Shared {
            auth,
            limits,
            sockets,
            buckets: Mutex::default(),
            logging_in,
            state: Mutex::default(),
            stats: Arc::default(),
            next_conn: AtomicU64::new(1),
        });
        let weak = Arc::downgrade(&shared);
        // Expired persistent sessions go.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let Some(shared) = weak.upgrade() else { return };
                let now = Instant::now();
                let mut st = shared.lock();
                let expired: Vec<String> = st
                    .sessions
                    .iter()
                    .filter(|(_, s)| s.live.is_none() && s.expires_at.is_some_and(|t| t <= now))
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in expired {
                    st.drop_session(&k);
                }
            }
        });
        Broker { shared }
    }

    pub fn stats(&self) -> Arc<BrokerStats> {
        self.shared.stats.clone()
    }

    /// Serves MQTT (3.1.1 and 5) on a bound listener until the process ends.
    pub fn serve(&self, listener: TcpListener) {
        self.accept_loop(listener, None);
    }

    /// Serves MQTT over TLS (MQTTS) on a bound listener until the process ends.
    pub fn serve_tls(&self, listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor) {
        self.accept_loop(listener, Some(acceptor));
    }

    fn accept_loop(&self, listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => match (
                        shared.sockets.clone().try_acquire_owned(),
                        shared.logging_in.clone().try_acquire_owned(),
                    ) {
                        (Ok(permit), Ok(login)) => {
                            let _ = stream.set_nodelay(true);
                            let (shared, tls) = (shared.clone(), tls.clone());
                            tokio::spawn(async move {
                                match tls {
                                    None => connection(shared, stream, peer, login).await,
                                    Some(acceptor) => match tokio::time::timeout(
                                        shared.limits.connect_timeout,
                                        acceptor.accept(stream),
                                    )
                                    .await
                                    {
                                        Ok(Ok(tls_stream)) => connection(shared, tls_stream, peer, login).await,
                                        Ok(Err(e)) => {
                                            shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
                                            tracing::debug!(%peer, error = %e, "mqtt: TLS handshake failed");
                                        }
                                        Err(_) => tracing::debug!(%peer, "mqtt: no TLS handshake in time"),
                                    },
                                }
                                drop(permit);
                            });
                        }
                        _ => {
                            shared.stats.busy_refused.fetch_add(1, Ordering::Relaxed);
                            drop(stream);
                        }
                    },
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "mqtt: accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }

    /// Disconnects every connection of this device (its token was rotated or revoked).
    pub fn disconnect_device(&self, device_id: &str) {
        let prefix = format!("device:{device_id}\0");
        for s in self.shared.lock().sessions.iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, s)| s) {
            if let Some(l) = &s.live {
                l.kick.kick(Reason::NotAuthorized);
            }
        }
    }
}
