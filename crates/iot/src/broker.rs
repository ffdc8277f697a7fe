//! The embedded MQTT broker: MQTT 3.1.1 and 5 on every listener, logins checked by the caller, per-device
//! topic ACLs (a device publishes only its own `events` and reads only its own topics), QoS 0 and 1 (QoS 2
//! taken in), retained messages, persistent sessions, and limits and bounded queues everywhere.

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

enum End {
    /// DISCONNECT from the client (no will).
    Normal,
    /// Connection lost, timed out or closed for a reason (the will is published).
    Lost(String),
    /// Closed by the broker with a reason (MQTT 5 hears it).
    Closed(Reason, String),
}

async fn write_raw<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8]) {
    // Flushed: over TLS, a write may otherwise sit in the session's buffer.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        wr.write_all(bytes).await?;
        wr.flush().await
    })
    .await;
}

/// Attaches a connection to its session (taking over an older connection of the same client): whether the
/// session was there already and the messages kept for it. A device over its session limit makes way:
/// its absent sessions go first (the soonest to expire first), then its oldest connections are closed.
fn register(
    st: &mut State,
    limits: &Limits,
    principal: &Principal,
    key: &str,
    clean: bool,
    expiry: Duration,
    live: Live,
) -> (bool, VecDeque<Msg>) {
    if clean {
        if let Some(old) = st.sessions.get_mut(key).and_then(|s| s.live.take()) {
            old.kick.kick(Reason::SessionTakenOver);
            st.live -= 1;
        }
        st.drop_session(key);
    }
    if let Principal::Device { .. } = principal {
        if !st.sessions.contains_key(key) {
            let prefix = format!("{}\0", principal.key());
            let mut mine: Vec<(bool, Option<Instant>, u64, String)> = st
                .sessions
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, s)| (s.live.is_some(), s.expires_at, s.live.as_ref().map_or(0, |l| l.conn), k.clone()))
                .collect();
            // Absent sessions first (the soonest to expire first), then the oldest connections: a device
            // that reconnects after a network drop must get in, not wait for its half-open sockets to time out.
            mine.sort();
            let mut excess = (mine.len() + 1).saturating_sub(limits.per_device);
            for (live, _, _, k) in mine {
                if excess == 0 {
                    break;
                }
                if live {
                    if let Some(l) = st.sessions.get(&k).and_then(|s| s.live.as_ref()) {
                        l.kick.kick(Reason::SessionTakenOver);
                    }
                } else {
                    st.drop_session(&k);
                }
                excess -= 1;
            }
        }
    }
    let privileged = *principal == Principal::Service;
    let (taken_over, present, offline) = match st.sessions.get_mut(key) {
        Some(s) => {
            let old = s.live.replace(live);
            if let Some(o) = &old {
                o.kick.kick(Reason::SessionTakenOver);
            }
            s.expiry = expiry;
            s.expires_at = None;
            s.offline_bytes = 0;
            (old.is_some(), true, std::mem::take(&mut s.offline))
        }
        None => {
            let session = Session {
                privileged,
                subs: HashMap::new(),
                live: Some(live),
                expiry,
                offline: VecDeque::new(),
                offline_bytes: 0,
                expires_at: None,
            };
            st.sessions.insert(key.to_owned(), session);
            (false, false, VecDeque::new())
        }
    };
    if !taken_over {
        st.live += 1;
    }
    (present, offline)
}

async fn refuse<W: AsyncWrite + Unpin>(wr: &mut W, proto: Proto, why: Refuse) {
    let mut out = BytesMut::new();
    let _ = wire::write(
        proto,
        Out::ConnAck {
            session_present: false,
            refused: Some(why),
            assigned_id: None,
            server_keep_alive: None,
            receive_max: 1,
            max_packet: 64,
        },
        &mut out,
        64,
    );
    write_raw(wr, &out).await;
}

async fn connection<S: AsyncRead + AsyncWrite + Send + 'static>(
    shared: Arc<Shared>,
    stream: S,
    peer: SocketAddr,
    login_slot: tokio::sync::OwnedSemaphorePermit,
) {
    let (mut rd, mut wr) = tokio::io::split(stream);
    let limits = shared.limits.clone();
    let mut buf = BytesMut::with_capacity(1024);
    let level = tokio::time::timeout(limits.connect_timeout, async {
        loop {
            if let Some(level) = wire::connect_level(&buf, limits.max_connect).map_err(|e| e.message)? {
                return Ok::<u8, String>(level);
            }
            match rd.read_buf(&mut buf).await {
                Ok(0) => return Err("closed before CONNECT".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await;
    let level = match level {
        Ok(Ok(l)) => l,
        Ok(Err(message)) => {
            shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, %message, "mqtt: connection refused");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "mqtt: no CONNECT in time");
            return;
        }
    };
    if level != 4 && level != 5 {
        // A 3.1.1-style CONNACK "unacceptable protocol version" is what older clients understand.
        write_raw(&mut wr, &[0x20, 0x02, 0x00, 0x01]).await;
        tracing::debug!(%peer, level, "mqtt: protocol level refused (3.1.1 and 5 are spoken)");
        return;
    }
    let c = match wire::read_connect(&mut buf, level, limits.max_connect) {
        Ok(c) => c,
        Err(e) => {
            shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, message = %e.message, "mqtt: bad CONNECT");
            return;
        }
    };
    let proto = c.proto;
    let mut assigned_id = None;
    let client_id = if c.client_id.is_empty() {
        if proto == Proto::V4 && !c.clean {
            refuse(&mut wr, proto, Refuse::BadClientId).await;
            return;
        }
        let id = format!("auto-{}", engine::instore::live::random_suffix());
        assigned_id = Some(id.clone());
        id
    } else if c.client_id.len() > 128 {
        refuse(&mut wr, proto, Refuse::BadClientId).await;
        return;
    } else {
        c.client_id.clone()
    };
    let (user, pass) = c.login.clone().unwrap_or_default();
    let login =
        tokio::time::timeout(limits.connect_timeout, (shared.auth)(client_id.clone(), user.clone(), pass.clone()))
            .await
            .unwrap_or(Login::Unavailable);
    let principal = match login {
        Login::Allowed(p) => p,
        Login::Refused => {
            shared.stats.logins_refused.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%peer, user = ?user.chars().take(64).collect::<String>(), "mqtt: login refused");
            refuse(&mut wr, proto, Refuse::BadLogin).await;
            return;
        }
        Login::Unavailable => {
            shared.stats.busy_refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, "mqtt: the login could not be checked (storage unavailable); the client should retry");
            refuse(&mut wr, proto, Refuse::Unavailable).await;
            return;
        }
    };
    let mut will = c.will.clone();
    if let Some(w) = &will {
        if !valid_topic(&w.topic) || !principal.may_publish(&w.topic) {
            shared.stats.denied.fetch_add(1, Ordering::Relaxed);
            refuse(&mut wr, proto, Refuse::NotAuthorized).await;
            return;
        }
    }
    let privileged = principal == Principal::Service;
    let key = format!("{}\0{client_id}", principal.key());
    // An MQTT 5 session with no expiry ends with its connection; a 3.1.1 one unless it asked for a clean session.
    let expiry = match (proto, c.session_expiry) {
        (Proto::V4, _) if c.clean => Duration::ZERO,
        (Proto::V4, _) => limits.max_session_expiry,
        (Proto::V5, s) => Duration::from_secs(s.unwrap_or(0) as u64).min(limits.max_session_expiry),
    };
    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Msg>(limits.queue);
    let kick = Arc::new(Kick { notify: Notify::new(), reason: Mutex::new(None) });
    let registered = {
        let mut st = shared.lock();
        if st.live >= limits.max_connections && !privileged && st.sessions.get(&key).is_none_or(|s| s.live.is_none()) {
            None
        } else {
            Some(register(&mut st, &limits, &principal, &key, c.clean, expiry, Live { conn, tx, kick: kick.clone() }))
        }
    };
    let Some((session_present, offline)) = registered else {
        shared.stats.busy_refused.fetch_add(1, Ordering::Relaxed);
        refuse(&mut wr, proto, Refuse::Busy).await;
        return;
    };
    drop(login_slot); // logged in: the slot is free for the next one
    shared.stats.connected.fetch_add(1, Ordering::Relaxed);
    let keep_alive =
        if c.keep_alive == 0 || c.keep_alive > limits.max_keep_alive { limits.max_keep_alive } else { c.keep_alive };
    let client_max = c.max_packet.map_or(limits.max_packet, |m| (m as usize).min(limits.max_packet));
    let mut me = Conn {
        shared: shared.clone(),
        proto,
        principal,
        key: key.clone(),
        conn,
        wr,
        out: BytesMut::with_capacity(4096),
        client_max,
        inflight: BTreeMap::new(),
        pending: offline,
        next_pkid: 0,
        window: c.receive_max.map_or(limits.inflight, |r| r.min(limits.inflight)).max(1) as usize,
        qos2_in: HashSet::new(),
        denials_logged: false,
    };
    me.send(Out::ConnAck {
        session_present,
        refused: None,
        assigned_id,
        server_keep_alive: (keep_alive != c.keep_alive).then_some(keep_alive),
        receive_max: limits.inflight,
        max_packet: limits.max_packet as u32,
    });
    tracing::debug!(%peer, client = ?client_id, ?proto, "mqtt: connected");

    let end = me.run(&mut rd, &mut buf, &mut rx, &kick, keep_alive, (&user, &pass), &client_id).await;
    match &end {
        End::Closed(reason, message) => {
            if proto == Proto::V5 {
                me.send(Out::Disconnect(*reason));
                let _ = tokio::time::timeout(Duration::from_secs(2), me.flush()).await;
            }
            tracing::debug!(%peer, client = ?client_id, ?reason, %message, "mqtt: connection closed");
        }
        End::Lost(message) => tracing::debug!(%peer, client = ?client_id, %message, "mqtt: connection lost"),
        End::Normal => {
            will = None;
            tracing::debug!(%peer, client = ?client_id, "mqtt: disconnected");
        }
    }
    if let Some(w) = will {
        shared.publish(w, privileged, &key).await;
    }
    // What was not delivered goes back to the session when it outlives the connection (to the connection
    // that took it over, or kept for the next one), or is gone with it.
    let mut st = shared.lock();
    // Drained under the lock, so that no publish lands in the queue between the drain and the hand-off.
    let mut left: VecDeque<Msg> = me.inflight.into_values().chain(me.pending).collect();
    while let Ok(m) = rx.try_recv() {
        left.push_back(m);
    }
    left.retain(|m| m.qos == 1);
    let Some(s) = st.sessions.get_mut(&key) else { return };
    match &s.live {
        Some(l) if l.conn == conn => {
            s.live = None;
            if s.expiry.is_zero() {
                st.live -= 1;
                st.drop_session(&key);
            } else {
                s.offline_bytes = 0;
                for m in left {
                    s.keep(m, &shared.limits, &shared.stats);
                }
                s.expires_at = Some(Instant::now() + s.expiry);
                st.live -= 1;
            }
        }
        Some(l) if !s.expiry.is_zero() => {
            for m in left {
                if l.tx.try_send(m).is_err() {
                    shared.stats.offline_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        _ => {}
    }
}

struct Conn<W> {
    shared: Arc<Shared>,
    proto: Proto,
    principal: Principal,
    key: String,
    conn: u64,
    wr: W,
    out: BytesMut,
    client_max: usize,
    /// Sent QoS 1 messages not yet acknowledged, by packet id.
    inflight: BTreeMap<u16, Msg>,
    /// Messages waiting for room in the window.
    pending: VecDeque<Msg>,
    next_pkid: u16,
    window: usize,
    /// QoS 2 packet ids received and not yet released (a resend is not routed twice).
    qos2_in: HashSet<u16>,
    denials_logged: bool,
}

/// Messages taken from a connection's queue ahead of the window at most.
const PENDING_MAX: usize = 64;

impl<W: AsyncWrite + Unpin> Conn<W> {
    /// Encodes a packet; `false` when it is too large for this client (then nothing is written).
    fn send(&mut self, out: Out) -> bool {
        match wire::write(self.proto, out, &mut self.out, self.client_max) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "mqtt: a packet is too large for this client; skipped");
                false
            }
        }
    }

    async fn flush(&mut self) -> Result<(), String> {
        if self.out.is_empty() {
            return Ok(());
        }
        let bytes = self.out.split();
        let wr = &mut self.wr;
        let write = async {
            wr.write_all(&bytes).await?;
            wr.flush().await // over TLS, a write may otherwise sit in the session's buffer
        };
        match tokio::time::timeout(self.shared.limits.write_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the client does not read".into()),
        }
    }

    /// Moves waiting messages onto the wire while the window has room. A message too large for the client
    /// is dropped and counted, and takes no place in the window.
    fn fill_window(&mut self) {
        while let Some(m) = self.pending.front() {
            if m.qos == 1 && self.inflight.len() >= self.window {
                break;
            }
            let m = self.pending.pop_front().expect("just seen");
            let pkid = if m.qos == 1 {
                loop {
                    self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
                    if !self.inflight.contains_key(&self.next_pkid) {
                        break self.next_pkid;
                    }
                }
            } else {
                0
            };
            if self.send(Out::Publish { msg: m.clone(), pkid, dup: false }) {
                self.shared.stats.messages_out.fetch_add(1, Ordering::Relaxed);
                if m.qos == 1 {
                    self.inflight.insert(pkid, m);
                }
            } else {
                self.shared.stats.offline_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Handles every complete packet in `buf`; `Some` ends the connection.
    async fn drain(&mut self, buf: &mut BytesMut) -> Option<End> {
        // Incoming bodies stay a few bytes under the limit so that, forwarded whole, they still fit it.
        let max_in = self.shared.limits.max_packet - 8;
        loop {
            match wire::read(self.proto, buf, max_in) {
                Ok(None) => return None,
                Ok(Some(p)) => {
                    if let Some(end) = self.handle(p).await {
                        return Some(end);
                    }
                }
                Err(e) => {
                    self.shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
                    return Some(End::Closed(e.reason, e.message));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run<R: AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
        buf: &mut BytesMut,
        rx: &mut mpsc::Receiver<Msg>,
        kick: &Kick,
        keep_alive: u16,
        login: (&str, &str),
        client_id: &str,
    ) -> End {
        let idle = Duration::from_millis(keep_alive as u64 * 1500);
        let mut deadline = tokio::time::Instant::now() + idle;
        let mut recheck = tokio::time::Instant::now() + self.shared.limits.recheck_login;
        // Packets that came in the same read as CONNECT.
        if let Some(end) = self.drain(buf).await {
            return end;
        }
        loop {
            // Take what is queued while there is room (reading the socket first must not starve delivery).
            while self.inflight.len() < self.window && self.pending.len() < PENDING_MAX {
                match rx.try_recv() {
                    Ok(m) => {
                        self.pending.push_back(m);
                        self.fill_window();
                    }
                    Err(_) => break,
                }
            }
            self.fill_window();
            if let Err(e) = self.flush().await {
                return End::Lost(e);
            }
            let room = self.inflight.len() < self.window && self.pending.len() < PENDING_MAX;
            tokio::select! {
                biased;
                _ = kick.notify.notified() => {
                    let reason = kick.reason.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(Reason::UnspecifiedError);
                    return End::Closed(reason, "closed by the broker".into());
                }
                // Before reading: a device that never stops sending is still checked.
                _ = tokio::time::sleep_until(recheck), if !matches!(self.principal, Principal::Service) => {
                    recheck = tokio::time::Instant::now() + self.shared.limits.recheck_login;
                    let check = (self.shared.auth)(client_id.to_owned(), login.0.to_owned(), login.1.to_owned());
                    match tokio::time::timeout(self.shared.limits.connect_timeout, check).await.unwrap_or(Login::Unavailable) {
                        Login::Allowed(p) if p == self.principal => {}
                        // Storage down: keep the device; it is checked again at the next round.
                        Login::Unavailable => {}
                        _ => return End::Closed(Reason::NotAuthorized, "the device's token is no longer valid".into()),
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return End::Closed(Reason::KeepAliveTimeout, format!("nothing heard for {} s", idle.as_secs())),
                r = rd.read_buf(buf) => match r {
                    Ok(0) => return End::Lost("closed by the client".into()),
                    Err(e) => return End::Lost(e.to_string()),
                    Ok(_) => {
                        deadline = tokio::time::Instant::now() + idle;
                        if let Some(end) = self.drain(buf).await {
                            return end;
                        }
                    }
                },
                m = rx.recv(), if room => match m {
                    Some(m) => self.pending.push_back(m),
                    None => return End::Closed(Reason::UnspecifiedError, "session closed".into()),
                },
            }
        }
    }

    /// A device's publishes are paced: past its allowance its own connection waits (no one else does).
    /// A device's publishes are paced by count and by bytes, over all its connections together: past its
    /// allowance its own connection waits (no one else does).
    async fn pace(&mut self, bytes: usize) {
        let Principal::Device { id, .. } = &self.principal else { return };
        let l = &self.shared.limits;
        let (rate, byte_rate) = (l.device_rate.max(1.0), l.device_bytes_rate.max(1.0));
        let wait = {
            let mut buckets = self.shared.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let b = buckets.entry(id.clone()).or_insert(Bucket { msgs: 2.0 * rate, bytes: 2.0 * byte_rate, at: now });
            let dt = now.duration_since(b.at).as_secs_f64();
            b.msgs = (b.msgs + dt * rate).min(2.0 * rate) - 1.0;
            b.bytes = (b.bytes + dt * byte_rate).min(2.0 * byte_rate) - bytes as f64;
            b.at = now;
            // In debt: wait until it is paid back.
            (-b.msgs / rate).max(-b.bytes / byte_rate).max(0.0)
        };
        if wait > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(wait.min(60.0))).await;
        }
    }

    fn denied(&mut self, what: &str, topic: &str) {
        self.shared.stats.denied.fetch_add(1, Ordering::Relaxed);
        // Once per connection at warn (a misbehaving device could otherwise flood the log).
        if !self.denials_logged {
            self.denials_logged = true;
            tracing::warn!(key = ?self.key, topic = ?topic.chars().take(120).collect::<String>(), "mqtt: {what} refused by the topic ACL (further refusals on this connection are counted, not logged)");
        }
    }

    /// Whether this connection still owns its session (a take-over may be on its way).
    fn owns(&self, st: &State) -> bool {
        st.sessions.get(&self.key).and_then(|s| s.live.as_ref()).is_some_and(|l| l.conn == self.conn)
    }

    /// Handles one packet; `Some` ends the connection.
    async fn handle(&mut self, p: In) -> Option<End> {
        let shared = self.shared.clone();
        let limits = &shared.limits;
        match p {
            In::Publish { qos, retain, topic, pkid, payload, alias } => {
                if alias.is_some() {
                    return Some(End::Closed(
                        Reason::TopicAliasInvalid,
                        "topic aliases are not offered (Topic Alias Maximum 0)".into(),
                    ));
                }
                if qos == 2 && self.qos2_in.contains(&pkid) {
                    self.send(Out::PubRec { pkid, denied: false });
                    return None;
                }
                if topic.len() > limits.max_topic || !valid_topic(&topic) {
                    return Some(End::Closed(
                        Reason::TopicNameInvalid,
                        format!("topic {:?} is not a valid topic name", topic.chars().take(80).collect::<String>()),
                    ));
                }
                if !self.principal.may_publish(&topic) {
                    self.denied("publish", &topic);
                    return match (self.proto, qos) {
                        // MQTT 3.1.1 has no negative acknowledgement: the connection is closed.
                        (Proto::V4, _) => {
                            Some(End::Closed(Reason::NotAuthorized, "publish refused by the topic ACL".into()))
                        }
                        (Proto::V5, 0) => None,
                        (Proto::V5, 1) => {
                            self.send(Out::PubAck { pkid, denied: true, no_subscribers: false });
                            None
                        }
                        (Proto::V5, _) => {
                            self.send(Out::PubRec { pkid, denied: true });
                            None
                        }
                    };
                }
                self.pace(payload.len() + topic.len()).await;
                shared.stats.messages_in.fetch_add(1, Ordering::Relaxed);
                let may_retain = matches!(self.principal, Principal::Service);
                let matched =
                    shared.publish(Msg { topic, payload, qos: qos.min(1), retain }, may_retain, &self.key).await;
                match qos {
                    0 => {}
                    1 => {
                        self.send(Out::PubAck { pkid, denied: false, no_subscribers: matched == 0 });
                    }
                    _ => {
                        if self.qos2_in.len() >= 1024 {
                            return Some(End::Closed(
                                Reason::ReceiveMaximumExceeded,
                                "too many unreleased QoS 2 messages".into(),
                            ));
                        }
                        self.qos2_in.insert(pkid);
                        self.send(Out::PubRec { pkid, denied: false });
                    }
                }
                None
            }
            In::PubAck(pkid) => {
                self.inflight.remove(&pkid);
                None
            }
            In::PubRel(pkid) => {
                self.qos2_in.remove(&pkid);
                self.send(Out::PubComp(pkid));
                None
            }
            // Only QoS 0 and 1 are sent, so these answer nothing of ours.
            In::PubRec(_) | In::PubComp(_) => None,
            In::Subscribe { pkid, filters } => {
                let max_subs = if matches!(self.principal, Principal::Service) {
                    limits.service_subscriptions
                } else {
                    limits.device_subscriptions
                };
                let mut codes = Vec::with_capacity(filters.len());
                let mut retained = Vec::new();
                let mut seen = HashSet::new();
                let mut denied = None;
                {
                    let mut st = shared.lock();
                    if !self.owns(&st) {
                        return Some(End::Closed(Reason::SessionTakenOver, "the session was taken over".into()));
                    }
                    for (i, f) in filters.into_iter().enumerate() {
                        let code = if i >= max_subs {
                            SubCode::Quota
                        } else if f.filter.starts_with("$share/") {
                            SubCode::Unsupported
                        } else if f.filter.len() > limits.max_topic || !valid_filter(&f.filter) {
                            SubCode::Invalid
                        } else if !self.principal.may_subscribe(&f.filter) {
                            denied = Some(f.filter.clone());
                            SubCode::NotAuthorized
                        } else {
                            let qos = f.qos.min(1);
                            let s = st.sessions.get_mut(&self.key).expect("owned above");
                            let new = !s.subs.contains_key(&f.filter);
                            if new && s.subs.len() >= max_subs {
                                SubCode::Quota
                            } else {
                                s.subs.insert(f.filter.clone(), qos);
                                let map = if f.filter.contains(['+', '#']) { &mut st.wild } else { &mut st.exact };
                                map.entry(f.filter.clone()).or_default().insert(self.key.clone());
                                // A filter repeated in one packet sends its retained messages once.
                                let send_retained = f.retain_handling == 0 || (f.retain_handling == 1 && new);
                                if send_retained && seen.insert(f.filter.clone()) {
                                    let room = limits.queue.saturating_sub(retained.len());
                                    retained.extend(
                                        st.retained_for(&f.filter)
                                            .take(room)
                                            .map(|m| Msg { qos: m.qos.min(qos), ..m.clone() }),
                                    );
                                }
                                SubCode::Granted(qos)
                            }
                        };
                        codes.push(code);
                    }
                }
                if let Some(f) = denied {
                    self.denied("subscription", &f);
                }
                self.send(Out::SubAck { pkid, codes });
                self.pending.extend(retained);
                if self.pending.len() > limits.queue {
                    // Subscribing again and again without reading: its retained messages pile up.
                    return Some(End::Closed(
                        Reason::QuotaExceeded,
                        "too many messages waiting for this client".into(),
                    ));
                }
                None
            }
            In::Unsubscribe { pkid, filters } => {
                let mut found = Vec::with_capacity(filters.len());
                {
                    let mut st = shared.lock();
                    if !self.owns(&st) {
                        return Some(End::Closed(Reason::SessionTakenOver, "the session was taken over".into()));
                    }
                    for f in filters {
                        let had = st.sessions.get_mut(&self.key).is_some_and(|s| s.subs.remove(&f).is_some());
                        if had {
                            st.unindex(&self.key, &f);
                        }
                        found.push(had);
                    }
                }
                self.send(Out::UnsubAck { pkid, found });
                None
            }
            In::PingReq => {
                self.send(Out::PingResp);
                None
            }
            In::Disconnect { with_will } => {
                Some(if with_will { End::Lost("disconnected with its will".into()) } else { End::Normal })
            }
            In::ProtocolViolation(what) => {
                shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
                Some(End::Closed(Reason::ProtocolError, what.into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_matching_follows_the_spec_and_never_panics() {
        for (topic, filter, expected) in [
            ("a/b/c", "a/b/c", true),
            ("a/b/c", "a/+/c", true),
            ("a/b/c", "a/#", true),
            ("a", "a/#", true),
            ("a/b", "a/+", true),
            ("a/b/c", "a/+", false),
            ("a//c", "a/+/c", true),
            ("a/b", "a/b/c", false),
            ("$SYS/x", "#", false),
            ("$SYS/x", "+/x", false),
            ("$SYS/x", "$SYS/#", true),
            ("é/x", "+/x", true),
            ("é", "é", true),
        ] {
            assert_eq!(topic_matches(topic, filter), expected, "{topic} ~ {filter}");
        }
        assert_eq!(literal_prefix("borderless/v1/+/x"), "borderless/v1/");
        assert_eq!(literal_prefix("a/b"), "a/b");
        assert_eq!(literal_prefix("a/#"), "a", "the parent topic matches too");
        assert!(topic_matches("a", "a/#"));
    }

    #[test]
    fn a_device_reads_only_its_own_acks_and_commands() {
        let d = Principal::Device { id: "dev_1".into(), store: "S1".into(), device: "gate-1".into() };
        assert!(d.may_publish("borderless/v1/S1/gate-1/events"));
        for t in [
            "borderless/v1/S1/gate-1/acks",
            "borderless/v1/S1/gate-2/events",
            "borderless/v1/S1/gate-1/events/x",
            "borderless/v1/S2/gate-1/events",
        ] {
            assert!(!d.may_publish(t), "{t}");
        }
        assert!(d.may_subscribe("borderless/v1/S1/gate-1/acks") && d.may_subscribe("borderless/v1/S1/gate-1/commands"));
        for f in [
            "borderless/v1/S1/gate-1/events",
            "borderless/v1/S1/gate-1/+",
            "borderless/v1/S1/gate-1/#",
            "borderless/v1/S1/+/acks",
            "#",
            "borderless/v1/S1/gate-2/acks",
        ] {
            assert!(!d.may_subscribe(f), "{f}");
        }
        let odd = Principal::Device { id: "dev_2".into(), store: "S1".into(), device: "+".into() };
        assert!(
            !odd.may_publish("borderless/v1/S1/+/events") && !odd.may_subscribe("borderless/v1/S1/+/acks"),
            "codes with topic syntax get nothing"
        );
    }
}
