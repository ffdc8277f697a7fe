//! One client connection: login (CONNECT with the device's id and token), registration of its session
//! under the device's limits, refusals, and the read loop.

use super::*;

pub(super) enum End {
    /// DISCONNECT from the client (no will).
    Normal,
    /// Connection lost, timed out or closed for a reason (the will is published).
    Lost(String),
    /// Closed by the broker with a reason (MQTT 5 hears it).
    Closed(Reason, String),
}

pub(super) async fn write_raw<W: AsyncWrite + Unpin>(wr: &mut W, bytes: &[u8]) {
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
pub(super) fn register(
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

pub(super) async fn refuse<W: AsyncWrite + Unpin>(wr: &mut W, proto: Proto, why: Refuse) {
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

pub(super) async fn connection<S: AsyncRead + AsyncWrite + Send + 'static>(
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
