//! A logged-in connection's work: publishes checked against the topic ACL and paced, subscriptions,
//! retained messages, QoS 1 windows and the queued deliveries it writes out.

use super::*;

pub(super) struct Conn<W> {
    pub(super) shared: Arc<Shared>,
    pub(super) proto: Proto,
    pub(super) principal: Principal,
    pub(super) key: String,
    pub(super) conn: u64,
    pub(super) wr: W,
    pub(super) out: BytesMut,
    pub(super) client_max: usize,
    /// Sent QoS 1 messages not yet acknowledged, by packet id.
    pub(super) inflight: BTreeMap<u16, Msg>,
    /// Messages waiting for room in the window.
    pub(super) pending: VecDeque<Msg>,
    pub(super) next_pkid: u16,
    pub(super) window: usize,
    /// QoS 2 packet ids received and not yet released (a resend is not routed twice).
    pub(super) qos2_in: HashSet<u16>,
    pub(super) denials_logged: bool,
}

/// Messages taken from a connection's queue ahead of the window at most.
pub(super) const PENDING_MAX: usize = 64;

impl<W: AsyncWrite + Unpin> Conn<W> {
    /// Encodes a packet; `false` when it is too large for this client (then nothing is written).
    pub(super) fn send(&mut self, out: Out) -> bool {
        match wire::write(self.proto, out, &mut self.out, self.client_max) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "mqtt: a packet is too large for this client; skipped");
                false
            }
        }
    }

    pub(super) async fn flush(&mut self) -> Result<(), String> {
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
    pub(super) fn fill_window(&mut self) {
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
    pub(super) async fn drain(&mut self, buf: &mut BytesMut) -> Option<End> {
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
    pub(super) async fn run<R: AsyncRead + Unpin>(
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
    pub(super) async fn pace(&mut self, bytes: usize) {
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

    pub(super) fn denied(&mut self, what: &str, topic: &str) {
        self.shared.stats.denied.fetch_add(1, Ordering::Relaxed);
        // Once per connection at warn (a misbehaving device could otherwise flood the log).
        if !self.denials_logged {
            self.denials_logged = true;
            tracing::warn!(key = ?self.key, topic = ?topic.chars().take(120).collect::<String>(), "mqtt: {what} refused by the topic ACL (further refusals on this connection are counted, not logged)");
        }
    }

    /// Whether this connection still owns its session (a take-over may be on its way).
    pub(super) fn owns(&self, st: &State) -> bool {
        st.sessions.get(&self.key).and_then(|s| s.live.as_ref()).is_some_and(|l| l.conn == self.conn)
    }

    /// Handles one packet; `Some` ends the connection.
    pub(super) async fn handle(&mut self, p: In) -> Option<End> {
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
