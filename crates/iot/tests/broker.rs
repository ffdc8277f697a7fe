//! The embedded broker over real TCP with real MQTT clients (rumqttc, 3.1.1 and 5): logins, the per-device
//! topic ACL, routing, retained messages, persistent sessions, take-overs and bad input.

use iot::broker::{Authenticator, Broker, Limits, Login, Principal};
use rumqttc::v5::mqttbytes::v5 as p5;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

fn auth() -> Authenticator {
    std::sync::Arc::new(|_client: String, user: String, pass: String| {
        Box::pin(async move {
            match (user.as_str(), pass.as_str()) {
                ("svc", "svc-secret") => Login::Allowed(Principal::Service),
                ("dev-a", "tok-a") => {
                    Login::Allowed(Principal::Device { id: "dev-a".into(), store: "S1".into(), device: "a".into() })
                }
                ("dev-b", "tok-b") => {
                    Login::Allowed(Principal::Device { id: "dev-b".into(), store: "S1".into(), device: "b".into() })
                }
                ("dev-c", _) => Login::Unavailable,
                _ => Login::Refused,
            }
        })
    })
}

async fn start(limits: Limits) -> (Broker, u16) {
    let broker = Broker::new(auth(), limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    broker.serve(listener);
    (broker, port)
}

type Rx = mpsc::UnboundedReceiver<Result<Packet, String>>;

/// A 3.1.1 client whose incoming packets (and its first error, after which it stops) arrive on a channel.
fn v4(port: u16, id: &str, login: (&str, &str), clean: bool) -> (AsyncClient, Rx) {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_credentials(login.0, login.1);
    o.set_clean_session(clean);
    o.set_keep_alive(Duration::from_secs(5));
    let (client, mut ev) = AsyncClient::new(o, 100);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(p)) => {
                    let _ = tx.send(Ok(p));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
    });
    (client, rx)
}

async fn next(rx: &mut Rx, what: &str) -> Result<Packet, String> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within 5 s"))
        .expect("client task ended")
}

async fn connack(rx: &mut Rx) -> rumqttc::ConnAck {
    match next(rx, "connack").await {
        Ok(Packet::ConnAck(c)) => c,
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

async fn suback(rx: &mut Rx) -> Vec<rumqttc::SubscribeReasonCode> {
    loop {
        match next(rx, "suback").await {
            Ok(Packet::SubAck(s)) => return s.return_codes,
            Ok(_) => {}
            Err(e) => panic!("connection lost before SUBACK: {e}"),
        }
    }
}

async fn publish_on(rx: &mut Rx, topic: &str) -> rumqttc::Publish {
    loop {
        match next(rx, topic).await {
            Ok(Packet::Publish(p)) if p.topic == topic => return p,
            Ok(_) => {}
            Err(e) => panic!("connection lost waiting for {topic}: {e}"),
        }
    }
}

/// Nothing on `topic` arrives within `ms` (other packets are skipped).
async fn silent(rx: &mut Rx, topic: &str, ms: u64) {
    let until = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(Some(p)) = tokio::time::timeout_at(until, rx.recv()).await {
        if let Ok(Packet::Publish(p)) = p {
            assert_ne!(p.topic, topic, "a message on {topic} reached a client that must not read it");
        }
    }
}

#[tokio::test]
async fn devices_publish_and_read_only_their_own_topics() {
    let (broker, port) = start(Limits::default()).await;
    let (svc, mut svc_rx) = v4(port, "borderless-bridge-1", ("svc", "svc-secret"), true);
    connack(&mut svc_rx).await;
    svc.subscribe("borderless/v1/+/+/events", QoS::AtLeastOnce).await.unwrap();
    assert_eq!(suback(&mut svc_rx).await, vec![rumqttc::SubscribeReasonCode::Success(QoS::AtLeastOnce)]);

    let (a, mut a_rx) = v4(port, "a", ("dev-a", "tok-a"), true);
    assert_eq!(connack(&mut a_rx).await.code, rumqttc::ConnectReturnCode::Success);
    let (b, mut b_rx) = v4(port, "b", ("dev-b", "tok-b"), true);
    connack(&mut b_rx).await;

    // Own topics: granted. Another device's, or wildcards reaching beyond its own: refused.
    for (filter, ok) in [
        ("borderless/v1/S1/a/commands", true),
        ("borderless/v1/S1/a/acks", true),
        ("borderless/v1/S1/a/+", false),
        ("borderless/v1/S1/a/events", false),
        ("borderless/v1/S1/b/commands", false),
        ("borderless/v1/S1/+/acks", false),
        ("borderless/v1/#", false),
        ("#", false),
        ("borderless/v1/S2/a/commands", false),
    ] {
        a.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        let codes = suback(&mut a_rx).await;
        assert_eq!(codes == vec![rumqttc::SubscribeReasonCode::Success(QoS::AtLeastOnce)], ok, "{filter}: {codes:?}");
        if !ok {
            assert_eq!(codes, vec![rumqttc::SubscribeReasonCode::Failure], "{filter}");
        }
    }
    b.subscribe("borderless/v1/S1/b/commands", QoS::AtLeastOnce).await.unwrap();
    suback(&mut b_rx).await;

    // A device's own events reach borderless.
    a.publish("borderless/v1/S1/a/events", QoS::AtLeastOnce, false, "hello").await.unwrap();
    assert_eq!(&publish_on(&mut svc_rx, "borderless/v1/S1/a/events").await.payload[..], b"hello");

    // borderless's commands reach their device only, retained for later subscribers.
    svc.publish("borderless/v1/S1/a/commands", QoS::AtLeastOnce, true, "price-a").await.unwrap();
    assert_eq!(&publish_on(&mut a_rx, "borderless/v1/S1/a/commands").await.payload[..], b"price-a");
    silent(&mut b_rx, "borderless/v1/S1/a/commands", 300).await;

    // Publishing on another device's topic (or its own acks) closes a 3.1.1 connection.
    b.publish("borderless/v1/S1/a/events", QoS::AtLeastOnce, false, "forged").await.unwrap();
    loop {
        match next(&mut b_rx, "b's disconnection").await {
            Err(_) => break,
            Ok(Packet::PubAck(_)) => panic!("the forged publish was accepted"),
            Ok(_) => {}
        }
    }
    silent(&mut svc_rx, "borderless/v1/S1/a/events", 300).await;
    let (c, mut c_rx) = v4(port, "a2", ("dev-a", "tok-a"), true);
    connack(&mut c_rx).await;
    c.publish("borderless/v1/S1/a/acks", QoS::AtLeastOnce, false, "{}").await.unwrap();
    assert!(
        next(&mut c_rx, "closing").await.is_err() || next(&mut c_rx, "closing").await.is_err(),
        "a device published on its acks topic"
    );

    // A late subscriber gets the retained command at once.
    let (a3, mut a3_rx) = v4(port, "a3", ("dev-a", "tok-a"), true);
    connack(&mut a3_rx).await;
    a3.subscribe("borderless/v1/S1/a/commands", QoS::AtLeastOnce).await.unwrap();
    let p = publish_on(&mut a3_rx, "borderless/v1/S1/a/commands").await;
    assert!(p.retain && &p.payload[..] == b"price-a", "{p:?}");

    let stats = broker.stats();
    assert!(stats.denied.load(std::sync::atomic::Ordering::Relaxed) >= 7, "{stats:?}");
}

#[tokio::test]
async fn wrong_logins_are_refused() {
    let (broker, port) = start(Limits::default()).await;
    for login in [("dev-a", "tok-b"), ("dev-a", ""), ("svc", "guess"), ("nobody", "x")] {
        let (_c, mut rx) = v4(port, "x", login, true);
        match next(&mut rx, "refusal").await {
            Err(e) => assert!(e.contains("BadUserNamePassword") || e.contains("Refused"), "{login:?}: {e}"),
            Ok(p) => panic!("{login:?} logged in: {p:?}"),
        }
    }
    assert_eq!(broker.stats().logins_refused.load(std::sync::atomic::Ordering::Relaxed), 4);
}

#[tokio::test]
async fn mqtt5_devices_hear_not_authorized_and_stay_connected() {
    let (_broker, port) = start(Limits::default()).await;
    let mut o = rumqttc::v5::MqttOptions::new("a5", "127.0.0.1", port);
    o.set_credentials("dev-a", "tok-a");
    let (client, mut ev) = rumqttc::v5::AsyncClient::new(o, 100);
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(e) = ev.poll().await {
            if let rumqttc::v5::Event::Incoming(p) = e {
                let _ = tx.send(p);
            }
        }
    });
    let mut next5 = async || {
        tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a packet within 5 s").expect("connected")
    };
    assert!(matches!(next5().await, p5::Packet::ConnAck(c) if c.code == p5::ConnectReturnCode::Success));
    client.subscribe("borderless/v1/S1/b/acks", rumqttc::v5::mqttbytes::QoS::AtLeastOnce).await.unwrap();
    match next5().await {
        p5::Packet::SubAck(s) => assert_eq!(s.return_codes, vec![p5::SubscribeReasonCode::NotAuthorized]),
        other => panic!("{other:?}"),
    }
    client.publish("borderless/v1/S1/b/events", rumqttc::v5::mqttbytes::QoS::AtLeastOnce, false, "x").await.unwrap();
    match next5().await {
        p5::Packet::PubAck(a) => assert_eq!(a.reason, p5::PubAckReason::NotAuthorized),
        other => panic!("{other:?}"),
    }
    // Still connected: its own topic works (nobody listens: "no matching subscribers").
    client.publish("borderless/v1/S1/a/events", rumqttc::v5::mqttbytes::QoS::AtLeastOnce, false, "x").await.unwrap();
    match next5().await {
        p5::Packet::PubAck(a) => assert_eq!(a.reason, p5::PubAckReason::NoMatchingSubscribers),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_persistent_session_keeps_its_messages_while_the_device_is_away() {
    let (_broker, port) = start(Limits::default()).await;
    let (svc, mut svc_rx) = v4(port, "svc", ("svc", "svc-secret"), true);
    connack(&mut svc_rx).await;
    let (a, mut a_rx) = v4(port, "a-persist", ("dev-a", "tok-a"), false);
    assert!(!connack(&mut a_rx).await.session_present);
    a.subscribe("borderless/v1/S1/a/acks", QoS::AtLeastOnce).await.unwrap();
    suback(&mut a_rx).await;
    a.disconnect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..3 {
        svc.publish("borderless/v1/S1/a/acks", QoS::AtLeastOnce, false, format!("ack-{i}")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_a, mut a_rx) = v4(port, "a-persist", ("dev-a", "tok-a"), false);
    assert!(connack(&mut a_rx).await.session_present, "the session was kept");
    for i in 0..3 {
        assert_eq!(
            publish_on(&mut a_rx, "borderless/v1/S1/a/acks").await.payload,
            format!("ack-{i}").as_bytes(),
            "in order"
        );
    }
    // Another device using the same client id gets a session of its own, not this one.
    let (_b, mut b_rx) = v4(port, "a-persist", ("dev-b", "tok-b"), false);
    assert!(!connack(&mut b_rx).await.session_present);
}

#[tokio::test]
async fn a_second_connection_with_the_same_client_id_takes_over() {
    let (_broker, port) = start(Limits::default()).await;
    let (_a1, mut rx1) = v4(port, "same", ("dev-a", "tok-a"), true);
    connack(&mut rx1).await;
    let (_a2, mut rx2) = v4(port, "same", ("dev-a", "tok-a"), true);
    connack(&mut rx2).await;
    assert!(next(&mut rx1, "the first is closed").await.is_err());
}

#[tokio::test]
async fn bad_bytes_and_old_protocols_are_closed() {
    let (broker, port) = start(Limits { connect_timeout: Duration::from_millis(300), ..Limits::default() }).await;
    let read_all = async |bytes: &[u8]| -> Vec<u8> {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out))
            .await
            .expect("the broker closes the connection")
            .unwrap();
        out
    };
    // Not CONNECT first; garbage; MQTT 3.1 ("MQIsdp", level 3): refused with "unacceptable protocol version".
    assert!(read_all(&[0x30, 0x02, 0x00, 0x00]).await.is_empty());
    assert!(read_all(b"GET / HTTP/1.1\r\n\r\n").await.is_empty());
    let mqtt31 = [0x10, 0x0e, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x00];
    assert_eq!(read_all(&mqtt31).await, vec![0x20, 0x02, 0x00, 0x01]);
    // Silence: closed after the CONNECT timeout.
    assert!(read_all(&[]).await.is_empty());
    // A packet larger than the limit is refused before it is read.
    assert!(read_all(&[0x10, 0xff, 0xff, 0xff, 0x7f]).await.is_empty());
    assert!(broker.stats().protocol_errors.load(std::sync::atomic::Ordering::Relaxed) >= 3);
}

#[tokio::test]
async fn a_revoked_device_is_disconnected() {
    let (broker, port) = start(Limits::default()).await;
    let (_a, mut rx) = v4(port, "a", ("dev-a", "tok-a"), true);
    connack(&mut rx).await;
    broker.disconnect_device("dev-a");
    assert!(next(&mut rx, "closed").await.is_err());
}

#[tokio::test]
async fn largest_publishes_reach_borderless_and_never_clog_its_window() {
    let limits = Limits { max_packet: 2048, ..Limits::default() };
    let (_broker, port) = start(limits).await;
    let (svc, mut svc_rx) = v4(port, "svc", ("svc", "svc-secret"), true);
    connack(&mut svc_rx).await;
    svc.subscribe("borderless/v1/+/+/events", QoS::AtLeastOnce).await.unwrap();
    suback(&mut svc_rx).await;
    let (a, mut a_rx) = v4(port, "a", ("dev-a", "tok-a"), true);
    connack(&mut a_rx).await;
    let topic = "borderless/v1/S1/a/events";
    // The largest body a device may send: the limit less 8 bytes; forwarded whole it still fits the limit.
    let payload = vec![b'x'; 2048 - 8 - 2 - topic.len() - 2];
    let n = 150; // more than the window of 100: a leaked slot would stop delivery
    for _ in 0..n {
        a.publish(topic, QoS::AtLeastOnce, false, payload.clone()).await.unwrap();
    }
    for i in 0..n {
        assert_eq!(publish_on(&mut svc_rx, topic).await.payload.len(), payload.len(), "message {i}");
    }
}

#[tokio::test]
async fn one_subscribe_repeating_a_filter_gets_its_retained_message_once() {
    let (_broker, port) = start(Limits::default()).await;
    let (svc, mut svc_rx) = v4(port, "svc", ("svc", "svc-secret"), true);
    connack(&mut svc_rx).await;
    svc.publish("borderless/v1/S1/a/commands", QoS::AtLeastOnce, true, "price").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (a, mut a_rx) = v4(port, "a", ("dev-a", "tok-a"), true);
    connack(&mut a_rx).await;
    a.subscribe_many(
        (0..40).map(|_| rumqttc::SubscribeFilter::new("borderless/v1/S1/a/commands".into(), QoS::AtLeastOnce)),
    )
    .await
    .unwrap();
    let codes = suback(&mut a_rx).await;
    assert_eq!(codes.len(), 40);
    assert!(codes[..8].iter().all(|c| *c == rumqttc::SubscribeReasonCode::Success(QoS::AtLeastOnce)));
    assert!(
        codes[8..].iter().all(|c| *c == rumqttc::SubscribeReasonCode::Failure),
        "beyond the device's 8 subscriptions per packet"
    );
    publish_on(&mut a_rx, "borderless/v1/S1/a/commands").await;
    silent(&mut a_rx, "borderless/v1/S1/a/commands", 300).await;
}

#[tokio::test]
async fn a_device_has_a_few_sessions_at_most_and_the_newest_wins() {
    let (_broker, port) = start(Limits { per_device: 2, ..Limits::default() }).await;
    // Two absent persistent sessions, then two live ones: the absent ones make way.
    for id in ["p1", "p2"] {
        let (c, mut rx) = v4(port, id, ("dev-a", "tok-a"), false);
        connack(&mut rx).await;
        c.disconnect().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_l1, mut rx1) = v4(port, "l1", ("dev-a", "tok-a"), true);
    assert_eq!(connack(&mut rx1).await.code, rumqttc::ConnectReturnCode::Success);
    let (_l2, mut rx2) = v4(port, "l2", ("dev-a", "tok-a"), true);
    assert_eq!(connack(&mut rx2).await.code, rumqttc::ConnectReturnCode::Success);
    // A third live one gets in and the oldest is closed (a device reconnecting after a network drop is
    // not locked out by its half-open sockets); another device is not affected.
    let (_l3, mut rx3) = v4(port, "l3", ("dev-a", "tok-a"), true);
    assert_eq!(connack(&mut rx3).await.code, rumqttc::ConnectReturnCode::Success);
    assert!(next(&mut rx1, "the oldest is closed").await.is_err());
    let (_b, mut rxb) = v4(port, "l3", ("dev-b", "tok-b"), true);
    assert_eq!(connack(&mut rxb).await.code, rumqttc::ConnectReturnCode::Success);
}

#[tokio::test]
async fn a_login_that_cannot_be_checked_says_retry() {
    let (_broker, port) = start(Limits::default()).await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut c = rumqttc::mqttbytes::v4::Connect::new("c");
    c.set_login("dev-c", "x");
    let mut b = bytes::BytesMut::new();
    rumqttc::mqttbytes::v4::Packet::Connect(c).write(&mut b, 1 << 16).unwrap();
    s.write_all(&b).await.unwrap();
    let mut out = [0u8; 4];
    s.read_exact(&mut out).await.unwrap();
    assert_eq!(out, [0x20, 0x02, 0x00, 0x03], "CONNACK 3: server unavailable");
}

#[tokio::test]
async fn packets_sent_along_with_connect_are_answered() {
    let (_broker, port) = start(Limits::default()).await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut c = rumqttc::mqttbytes::v4::Connect::new("a");
    c.set_login("dev-a", "tok-a");
    let mut b = bytes::BytesMut::new();
    rumqttc::mqttbytes::v4::Packet::Connect(c).write(&mut b, 1 << 16).unwrap();
    let mut sub = rumqttc::mqttbytes::v4::Subscribe::new("borderless/v1/S1/a/acks", QoS::AtLeastOnce);
    sub.pkid = 1;
    rumqttc::mqttbytes::v4::Packet::Subscribe(sub).write(&mut b, 1 << 16).unwrap();
    s.write_all(&b).await.unwrap(); // one write: CONNECT and SUBSCRIBE together, nothing after
    let mut out = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(3), s.read_exact(&mut out))
        .await
        .expect("the SUBACK comes without another packet")
        .unwrap();
    assert_eq!(out, [0x20, 0x02, 0x00, 0x00, 0x90, 0x03, 0x00, 0x01, 0x01], "CONNACK then SUBACK granting QoS 1");
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[tokio::test]
async fn devices_log_in_over_tls_and_plain_mqtt_is_refused_there() {
    use tokio_rustls::rustls;
    let listen: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let t = iot::TlsListener { listen, cert: fixture("test-only.crt"), key: fixture("test-only.key") };
    let acceptor = iot::tls_acceptor(&t).unwrap();
    let broker = Broker::new(auth(), Limits::default());
    let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    broker.serve_tls(listener, acceptor);

    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
    for c in rustls_pki_types::CertificateDer::pem_file_iter(fixture("test-ca.crt")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut s = connector
        .connect(rustls_pki_types::ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let mut c = rumqttc::mqttbytes::v4::Connect::new("a");
    c.set_login("dev-a", "tok-a");
    let mut b = bytes::BytesMut::new();
    rumqttc::mqttbytes::v4::Packet::Connect(c).write(&mut b, 1 << 16).unwrap();
    s.write_all(&b).await.unwrap();
    let mut out = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(3), s.read_exact(&mut out)).await.unwrap().unwrap();
    assert_eq!(out, [0x20, 0x02, 0x00, 0x00], "CONNACK accepted over TLS");

    // Plain MQTT on the TLS port gets nothing but a closed connection.
    let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plain.write_all(&b).await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(3), plain.read_to_end(&mut got)).await.expect("closed");
    assert!(!got.starts_with(&[0x20]), "plain MQTT was answered on the TLS port");
}

#[test]
fn bad_tls_files_are_named_in_the_error() {
    let listen = "127.0.0.1:0".parse().unwrap();
    let missing = iot::TlsListener { listen, cert: fixture("nope.crt"), key: fixture("test-only.key") };
    assert!(iot::tls_acceptor(&missing).err().unwrap().contains("nope.crt"));
    let swapped = iot::TlsListener { listen, cert: fixture("test-only.key"), key: fixture("test-only.key") };
    assert!(iot::tls_acceptor(&swapped).err().unwrap().contains("no CERTIFICATE"));
    let no_key = iot::TlsListener { listen, cert: fixture("test-only.crt"), key: fixture("test-only.crt") };
    assert!(iot::tls_acceptor(&no_key).err().unwrap().contains("test-only.crt"));
}

#[tokio::test]
async fn a_device_is_paced_by_bytes_over_all_its_connections_and_others_are_not() {
    let limits = Limits { device_bytes_rate: 10_000.0, ..Limits::default() };
    let (_broker, port) = start(limits).await;
    let (svc, mut svc_rx) = v4(port, "svc", ("svc", "svc-secret"), true);
    connack(&mut svc_rx).await;
    svc.subscribe("borderless/v1/+/+/events", QoS::AtLeastOnce).await.unwrap();
    suback(&mut svc_rx).await;
    let (a1, mut rx1) = v4(port, "a1", ("dev-a", "tok-a"), true);
    connack(&mut rx1).await;
    let (a2, mut rx2) = v4(port, "a2", ("dev-a", "tok-a"), true);
    connack(&mut rx2).await;
    let (b, mut rxb) = v4(port, "b", ("dev-b", "tok-b"), true);
    connack(&mut rxb).await;
    let started = tokio::time::Instant::now();
    // 40 KB from device a over two connections: a burst of 20 KB, then 10 KB/s.
    for i in 0..4 {
        let c = if i % 2 == 0 { &a1 } else { &a2 };
        c.publish("borderless/v1/S1/a/events", QoS::AtMostOnce, false, vec![b'x'; 10_000]).await.unwrap();
    }
    // Device b is not slowed by a's debt.
    b.publish("borderless/v1/S1/b/events", QoS::AtMostOnce, false, "quick").await.unwrap();
    let (mut got, mut b_seen) = (0, false);
    while got < 4 || !b_seen {
        if let Ok(Packet::Publish(p)) = next(&mut svc_rx, "events").await {
            if p.topic == "borderless/v1/S1/a/events" {
                got += 1;
            } else if p.topic == "borderless/v1/S1/b/events" {
                b_seen = true;
                assert!(started.elapsed() < Duration::from_millis(1500), "device b waited for device a");
                assert!(got < 4, "b's message came after all of a's");
            }
        }
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "40 KB at 10 KB/s after a 20 KB burst took {:?}",
        started.elapsed()
    );
}
