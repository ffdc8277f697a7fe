//! The embedded MQTT broker: MQTT 3.1.1 and 5 on every listener, logins checked by the caller, per-device
//! topic ACLs (a device publishes only its own `events` and reads only its own topics), QoS 0 and 1 (QoS 2
//! taken in), retained messages, persistent sessions, and limits and bounded queues everywhere.

use crate::wire::{self, In, Msg, Out, Proto, Refuse, SubCode};
use bytes::BytesMut;
use rumqttc::mqttbytes::{matches, valid_filter, valid_topic};
use rumqttc::v5::mqttbytes::v5::DisconnectReasonCode as Reason;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};

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
            Principal::Device { store, device, .. } => Self::own_prefix(store, device).is_some_and(|p| topic.strip_prefix(p.as_str()) == Some("events")),
        }
    }

    /// Subscribing to `filter` (a valid filter) is allowed: for a device, only filters that can match
    /// nothing but its own topics.
    pub fn may_subscribe(&self, filter: &str) -> bool {
        match self {
            Principal::Service => true,
            Principal::Device { store, device, .. } => Self::own_prefix(store, device)
                .is_some_and(|p| matches!(filter.strip_prefix(p.as_str()), Some("acks" | "commands" | "events" | "+" | "#"))),
        }
    }
}

/// A login's future answer: `None` refuses it.
pub type AuthFuture = Pin<Box<dyn Future<Output = Option<Principal>> + Send>>;
/// Checks a login: (client id, user name, password).
pub type Authenticator = Arc<dyn Fn(String, String, String) -> AuthFuture + Send + Sync>;

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
    /// Messages dropped from full offline queues.
    pub offline_dropped: AtomicU64,
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
    expires_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Session>,
    /// Subscribers of exact topics and of wildcard filters (session keys).
    exact: HashMap<String, HashSet<String>>,
    wild: HashMap<String, HashSet<String>>,
    retained: HashMap<String, Msg>,
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

    fn drop_session(&mut self, key: &str) {
        if let Some(s) = self.sessions.remove(key) {
            for f in s.subs.keys() {
                self.unindex(key, f);
            }
        }
    }
}

struct Shared {
    auth: Authenticator,
    limits: Limits,
    state: Mutex<State>,
    stats: Arc<BrokerStats>,
    next_conn: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Routes a message to every matching session; returns how many matched. Waits while borderless's own
    /// connection is full (backpressure); a device that is full is disconnected instead.
    async fn publish(&self, msg: Msg, may_retain: bool) -> usize {
        let mut targets: Vec<(mpsc::Sender<Msg>, Msg, bool, Arc<Kick>)> = Vec::new();
        let matched;
        {
            let mut st = self.lock();
            if msg.retain && may_retain {
                if msg.payload.is_empty() {
                    st.retained.remove(&msg.topic);
                } else if st.retained.len() < self.limits.retained || st.retained.contains_key(&msg.topic) {
                    st.retained.insert(msg.topic.clone(), msg.clone());
                } else {
                    tracing::warn!(topic = %msg.topic, "mqtt: retained message store full; not retained");
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
                if matches(&msg.topic, f) {
                    for k in set {
                        let q = st.sessions.get(k).and_then(|s| s.subs.get(f)).copied().unwrap_or(0);
                        qos_by.entry(k.clone()).and_modify(|e| *e = (*e).max(q)).or_insert(q);
                    }
                }
            }
            matched = qos_by.len();
            for (k, q) in qos_by {
                let limit = self.limits.offline_queue;
                let Some(s) = st.sessions.get_mut(&k) else { continue };
                let m = Msg { topic: msg.topic.clone(), payload: msg.payload.clone(), qos: msg.qos.min(q), retain: false };
                match &s.live {
                    Some(l) => targets.push((l.tx.clone(), m, s.privileged, l.kick.clone())),
                    None if m.qos == 1 => {
                        if s.offline.len() >= limit {
                            s.offline.pop_front();
                            self.stats.offline_dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        s.offline.push_back(m);
                    }
                    None => {}
                }
            }
        }
        for (tx, m, privileged, kick) in targets {
            if privileged {
                let _ = tx.send(m).await;
            } else if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(m) {
                self.stats.slow_disconnected.fetch_add(1, Ordering::Relaxed);
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
        let shared = Arc::new(Shared { auth, limits, state: Mutex::default(), stats: Arc::default(), next_conn: AtomicU64::new(1) });
        let weak = Arc::downgrade(&shared);
        // Expired persistent sessions go.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                let Some(shared) = weak.upgrade() else { return };
                let now = Instant::now();
                let mut st = shared.lock();
                let expired: Vec<String> = st.sessions.iter().filter(|(_, s)| s.live.is_none() && s.expires_at.is_some_and(|t| t <= now)).map(|(k, _)| k.clone()).collect();
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
        let shared = self.shared.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        tokio::spawn(connection(shared.clone(), stream, peer));
                    }
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

async fn write_raw(wr: &mut OwnedWriteHalf, bytes: &[u8]) {
    let _ = tokio::time::timeout(Duration::from_secs(5), wr.write_all(bytes)).await;
}

/// Attaches a connection to its session (taking over an older connection of the same client): whether the
/// session was there already, and the messages kept for it.
fn register(st: &mut State, key: &str, clean: bool, privileged: bool, expiry: Duration, live: Live) -> (bool, VecDeque<Msg>) {
    if clean {
        if let Some(old) = st.sessions.get_mut(key).and_then(|s| s.live.take()) {
            old.kick.kick(Reason::SessionTakenOver);
            st.live -= 1;
        }
        st.drop_session(key);
    }
    let (taken_over, present, offline) = match st.sessions.get_mut(key) {
        Some(s) => {
            let old = s.live.replace(live);
            if let Some(o) = &old {
                o.kick.kick(Reason::SessionTakenOver);
            }
            s.expiry = expiry;
            s.expires_at = None;
            (old.is_some(), true, std::mem::take(&mut s.offline))
        }
        None => {
            st.sessions.insert(key.to_owned(), Session { privileged, subs: HashMap::new(), live: Some(live), expiry, offline: VecDeque::new(), expires_at: None });
            (false, false, VecDeque::new())
        }
    };
    if !taken_over {
        st.live += 1;
    }
    (present, offline)
}

async fn refuse(wr: &mut OwnedWriteHalf, proto: Proto, why: Refuse) {
    let mut out = BytesMut::new();
    let _ = wire::write(proto, Out::ConnAck { session_present: false, refused: Some(why), assigned_id: None, server_keep_alive: None, receive_max: 1, max_packet: 64 }, &mut out, 64);
    write_raw(wr, &out).await;
}

async fn connection(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let limits = shared.limits.clone();
    let mut buf = BytesMut::with_capacity(4096);
    let level = tokio::time::timeout(limits.connect_timeout, async {
        loop {
            if let Some(level) = wire::connect_level(&buf, limits.max_packet).map_err(|e| e.message)? {
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
    let c = match wire::read_connect(&mut buf, level, limits.max_packet) {
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
        let id = format!("auto-{}", engine::instore_live::random_suffix());
        assigned_id = Some(id.clone());
        id
    } else if c.client_id.len() > 128 {
        refuse(&mut wr, proto, Refuse::BadClientId).await;
        return;
    } else {
        c.client_id.clone()
    };
    let (user, pass) = c.login.clone().unwrap_or_default();
    let Some(principal) = (shared.auth)(client_id.clone(), user.clone(), pass.clone()).await else {
        shared.stats.logins_refused.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%peer, user = %user, "mqtt: login refused");
        refuse(&mut wr, proto, Refuse::BadLogin).await;
        return;
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
        if st.live >= limits.max_connections && !privileged {
            None
        } else {
            Some(register(&mut st, &key, c.clean, privileged, expiry, Live { conn, tx, kick: kick.clone() }))
        }
    };
    let Some((session_present, offline)) = registered else {
        refuse(&mut wr, proto, Refuse::Busy).await;
        return;
    };
    shared.stats.connected.fetch_add(1, Ordering::Relaxed);
    let keep_alive = if c.keep_alive == 0 || c.keep_alive > limits.max_keep_alive { limits.max_keep_alive } else { c.keep_alive };
    let client_max = c.max_packet.map_or(limits.max_packet, |m| (m as usize).min(limits.max_packet));
    let mut me = Conn {
        shared: shared.clone(),
        proto,
        principal,
        key: key.clone(),
        wr,
        out: BytesMut::with_capacity(4096),
        client_max,
        inflight: BTreeMap::new(),
        pending: offline,
        next_pkid: 0,
        window: c.receive_max.map_or(limits.inflight, |r| r.min(limits.inflight)).max(1) as usize,
        qos2_in: HashSet::new(),
    };
    me.send(Out::ConnAck {
        session_present,
        refused: None,
        assigned_id,
        server_keep_alive: (keep_alive != c.keep_alive).then_some(keep_alive),
        receive_max: limits.inflight,
        max_packet: limits.max_packet as u32,
    });
    tracing::debug!(%peer, client = %client_id, ?proto, "mqtt: connected");

    let end = me.run(&mut rd, &mut buf, &mut rx, &kick, keep_alive, (&user, &pass), &client_id).await;
    match &end {
        End::Closed(reason, message) => {
            if proto == Proto::V5 {
                me.send(Out::Disconnect(*reason));
                let _ = me.flush().await;
            }
            tracing::debug!(%peer, client = %client_id, ?reason, %message, "mqtt: connection closed");
        }
        End::Lost(message) => tracing::debug!(%peer, client = %client_id, %message, "mqtt: connection lost"),
        End::Normal => {
            will = None;
            tracing::debug!(%peer, client = %client_id, "mqtt: disconnected");
        }
    }
    if let Some(w) = will {
        shared.publish(w, privileged).await;
    }
    // Back to the session (when it outlives the connection) or gone with it.
    let mut st = shared.lock();
    let mine = st.sessions.get(&key).and_then(|s| s.live.as_ref()).is_some_and(|l| l.conn == conn);
    if mine {
        st.live -= 1;
        let s = st.sessions.get_mut(&key).expect("just seen");
        s.live = None;
        if s.expiry.is_zero() {
            st.drop_session(&key);
        } else {
            let mut left: VecDeque<Msg> = me.inflight.into_values().chain(me.pending).collect();
            while let Ok(m) = rx.try_recv() {
                left.push_back(m);
            }
            left.retain(|m| m.qos == 1);
            while left.len() > shared.limits.offline_queue {
                left.pop_front();
                shared.stats.offline_dropped.fetch_add(1, Ordering::Relaxed);
            }
            s.offline = left;
            s.expires_at = Some(Instant::now() + s.expiry);
        }
    }
}

struct Conn {
    shared: Arc<Shared>,
    proto: Proto,
    principal: Principal,
    key: String,
    wr: OwnedWriteHalf,
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
}

impl Conn {
    fn send(&mut self, out: Out) {
        if let Err(e) = wire::write(self.proto, out, &mut self.out, self.client_max) {
            tracing::debug!(error = %e, "mqtt: a packet could not be encoded for this client; skipped");
        }
    }

    async fn flush(&mut self) -> Result<(), String> {
        if self.out.is_empty() {
            return Ok(());
        }
        let bytes = self.out.split();
        match tokio::time::timeout(self.shared.limits.write_timeout, self.wr.write_all(&bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the client does not read".into()),
        }
    }

    /// Moves waiting messages onto the wire while the window has room.
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
            self.shared.stats.messages_out.fetch_add(1, Ordering::Relaxed);
            if m.qos == 1 {
                self.inflight.insert(pkid, m.clone());
            }
            self.send(Out::Publish { msg: m, pkid, dup: false });
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &mut self,
        rd: &mut tokio::net::tcp::OwnedReadHalf,
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
        loop {
            self.fill_window();
            if let Err(e) = self.flush().await {
                return End::Lost(e);
            }
            let room = self.inflight.len() < self.window && self.pending.len() < 64;
            tokio::select! {
                biased;
                _ = kick.notify.notified() => {
                    let reason = kick.reason.lock().unwrap_or_else(|e| e.into_inner()).unwrap_or(Reason::UnspecifiedError);
                    return End::Closed(reason, "closed by the broker".into());
                }
                r = rd.read_buf(buf) => match r {
                    Ok(0) => return End::Lost("closed by the client".into()),
                    Err(e) => return End::Lost(e.to_string()),
                    Ok(_) => {
                        deadline = tokio::time::Instant::now() + idle;
                        loop {
                            match wire::read(self.proto, buf, self.shared.limits.max_packet) {
                                Ok(None) => break,
                                Ok(Some(p)) => {
                                    if let Some(end) = self.handle(p).await {
                                        return end;
                                    }
                                }
                                Err(e) => {
                                    self.shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
                                    return End::Closed(e.reason, e.message);
                                }
                            }
                        }
                    }
                },
                m = rx.recv(), if room => match m {
                    Some(m) => self.pending.push_back(m),
                    None => return End::Closed(Reason::UnspecifiedError, "session closed".into()),
                },
                _ = tokio::time::sleep_until(deadline) => return End::Closed(Reason::KeepAliveTimeout, format!("nothing heard for {} s", idle.as_secs())),
                _ = tokio::time::sleep_until(recheck), if !matches!(self.principal, Principal::Service) => {
                    recheck = tokio::time::Instant::now() + self.shared.limits.recheck_login;
                    let still = (self.shared.auth)(client_id.to_owned(), login.0.to_owned(), login.1.to_owned()).await;
                    if still.as_ref() != Some(&self.principal) {
                        return End::Closed(Reason::NotAuthorized, "the device's token is no longer valid".into());
                    }
                }
            }
        }
    }

    /// Handles one packet; `Some` ends the connection.
    async fn handle(&mut self, p: In) -> Option<End> {
        let shared = self.shared.clone();
        let limits = &shared.limits;
        match p {
            In::Publish { qos, retain, topic, pkid, payload, alias } => {
                if alias.is_some() {
                    return Some(End::Closed(Reason::TopicAliasInvalid, "topic aliases are not offered (Topic Alias Maximum 0)".into()));
                }
                if qos == 2 && self.qos2_in.contains(&pkid) {
                    self.send(Out::PubRec { pkid, denied: false });
                    return None;
                }
                if topic.len() > limits.max_topic || !valid_topic(&topic) {
                    return Some(End::Closed(Reason::TopicNameInvalid, format!("topic `{}` is not a valid topic name", topic.chars().take(80).collect::<String>())));
                }
                if !self.principal.may_publish(&topic) {
                    self.shared.stats.denied.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(key = %self.key, %topic, "mqtt: publish refused by the topic ACL");
                    return match (self.proto, qos) {
                        // MQTT 3.1.1 has no negative acknowledgement: the connection is closed.
                        (Proto::V4, _) => Some(End::Closed(Reason::NotAuthorized, format!("may not publish on {topic}"))),
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
                self.shared.stats.messages_in.fetch_add(1, Ordering::Relaxed);
                let may_retain = matches!(self.principal, Principal::Service);
                let matched = self.shared.publish(Msg { topic, payload, qos: qos.min(1), retain }, may_retain).await;
                match qos {
                    0 => {}
                    1 => self.send(Out::PubAck { pkid, denied: false, no_subscribers: matched == 0 }),
                    _ => {
                        if self.qos2_in.len() >= 1024 {
                            return Some(End::Closed(Reason::ReceiveMaximumExceeded, "too many unreleased QoS 2 messages".into()));
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
                let mut codes = Vec::with_capacity(filters.len());
                let mut retained = Vec::new();
                {
                    let max_subs = if matches!(self.principal, Principal::Service) { limits.service_subscriptions } else { limits.device_subscriptions };
                    let mut st = self.shared.lock();
                    for f in filters {
                        let code = if f.filter.starts_with("$share/") {
                            SubCode::Unsupported
                        } else if f.filter.len() > limits.max_topic || !valid_filter(&f.filter) {
                            SubCode::Invalid
                        } else if !self.principal.may_subscribe(&f.filter) {
                            self.shared.stats.denied.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(key = %self.key, filter = %f.filter, "mqtt: subscription refused by the topic ACL");
                            SubCode::NotAuthorized
                        } else {
                            let qos = f.qos.min(1);
                            let Some(s) = st.sessions.get_mut(&self.key) else { return Some(End::Closed(Reason::SessionTakenOver, "session gone".into())) };
                            let new = !s.subs.contains_key(&f.filter);
                            if new && s.subs.len() >= max_subs {
                                SubCode::Quota
                            } else {
                                s.subs.insert(f.filter.clone(), qos);
                                let map = if f.filter.contains(['+', '#']) { &mut st.wild } else { &mut st.exact };
                                map.entry(f.filter.clone()).or_default().insert(self.key.clone());
                                if f.retain_handling == 0 || (f.retain_handling == 1 && new) {
                                    retained.extend(st.retained.values().filter(|m| matches(&m.topic, &f.filter)).map(|m| Msg { qos: m.qos.min(qos), ..m.clone() }));
                                }
                                SubCode::Granted(qos)
                            }
                        };
                        codes.push(code);
                    }
                }
                self.send(Out::SubAck { pkid, codes });
                self.pending.extend(retained);
                None
            }
            In::Unsubscribe { pkid, filters } => {
                let mut found = Vec::with_capacity(filters.len());
                {
                    let mut st = self.shared.lock();
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
            In::Disconnect { with_will } => Some(if with_will { End::Lost("disconnected with its will".into()) } else { End::Normal }),
            In::ProtocolViolation(what) => {
                self.shared.stats.protocol_errors.fetch_add(1, Ordering::Relaxed);
                Some(End::Closed(Reason::ProtocolError, what.into()))
            }
        }
    }
}
