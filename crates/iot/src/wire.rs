//! MQTT on the wire for the embedded broker: one protocol-neutral view of the packets a broker reads and
//! writes, encoded and decoded as MQTT 3.1.1 or 5 (rumqttc's packet codecs do the byte work).

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::mqttbytes::QoS as Q4;
use rumqttc::v5::mqttbytes::v5;
use rumqttc::v5::mqttbytes::QoS as Q5;

/// The protocol a connection speaks, fixed by its CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    V4,
    V5,
}

/// A CONNECT, whichever the protocol.
#[derive(Debug, Clone)]
pub struct Connect {
    pub proto: Proto,
    pub client_id: String,
    pub clean: bool,
    pub keep_alive: u16,
    pub login: Option<(String, String)>,
    pub will: Option<Msg>,
    /// MQTT 5: how long the session outlives the connection (seconds); 3.1.1: forever unless clean.
    pub session_expiry: Option<u32>,
    /// MQTT 5: most unacknowledged QoS 1 messages the client takes.
    pub receive_max: Option<u16>,
    /// MQTT 5: largest packet the client takes.
    pub max_packet: Option<u32>,
}

/// An application message as the broker routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub topic: String,
    pub payload: Bytes,
    /// 0 or 1 (the broker grants QoS 1 at most on delivery).
    pub qos: u8,
    pub retain: bool,
}

/// What a subscriber asked for one filter.
#[derive(Debug, Clone)]
pub struct SubReq {
    pub filter: String,
    pub qos: u8,
    /// MQTT 5: 0 send retained messages, 1 only for a new subscription, 2 never.
    pub retain_handling: u8,
}

/// A packet from a connected client.
#[derive(Debug)]
pub enum In {
    Publish {
        qos: u8,
        retain: bool,
        topic: String,
        pkid: u16,
        payload: Bytes,
        alias: Option<u16>,
    },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe {
        pkid: u16,
        filters: Vec<SubReq>,
    },
    Unsubscribe {
        pkid: u16,
        filters: Vec<String>,
    },
    PingReq,
    Disconnect {
        with_will: bool,
    },
    /// A second CONNECT, or a packet only a server sends.
    ProtocolViolation(&'static str),
}

/// Outcome of one filter in a SUBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubCode {
    Granted(u8),
    NotAuthorized,
    Invalid,
    Unsupported,
    Quota,
}

/// Refusal codes of a CONNACK (mapped onto both protocols).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refuse {
    BadLogin,
    NotAuthorized,
    BadClientId,
    Busy,
    /// The login could not be checked now: retry.
    Unavailable,
}

/// A packet to a client.
#[derive(Debug)]
pub enum Out {
    ConnAck {
        session_present: bool,
        refused: Option<Refuse>,
        assigned_id: Option<String>,
        server_keep_alive: Option<u16>,
        receive_max: u16,
        max_packet: u32,
    },
    Publish {
        msg: Msg,
        pkid: u16,
        dup: bool,
    },
    /// `denied`: MQTT 5 answers "not authorized" (3.1.1 closes the connection instead, which the caller does).
    PubAck {
        pkid: u16,
        denied: bool,
        no_subscribers: bool,
    },
    PubRec {
        pkid: u16,
        denied: bool,
    },
    PubComp(u16),
    SubAck {
        pkid: u16,
        codes: Vec<SubCode>,
    },
    UnsubAck {
        pkid: u16,
        found: Vec<bool>,
    },
    PingResp,
    /// MQTT 5 only (a 3.1.1 server just closes): the reason code.
    Disconnect(v5::DisconnectReasonCode),
}

/// Why reading failed: the connection is closed with this (MQTT 5 gets the reason first).
#[derive(Debug)]
pub struct WireError {
    pub reason: v5::DisconnectReasonCode,
    pub message: String,
}

fn malformed(message: impl Into<String>) -> WireError {
    WireError { reason: v5::DisconnectReasonCode::MalformedPacket, message: message.into() }
}

/// The fixed header of the packet at the start of `buf`: (its length, the remaining length), `Ok(None)`
/// while incomplete. Bodies over `max_packet` are refused before they are read.
fn fixed_header(buf: &[u8], max_packet: usize) -> Result<Option<(usize, usize)>, WireError> {
    let (mut len, mut shift, mut i) = (0usize, 0u32, 1usize);
    loop {
        let Some(&b) = buf.get(i) else { return Ok(None) };
        len |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 21 {
            return Err(malformed("malformed remaining length"));
        }
    }
    if len > max_packet {
        return Err(WireError {
            reason: v5::DisconnectReasonCode::PacketTooLarge,
            message: format!("a packet of {len} bytes (at most {max_packet})"),
        });
    }
    Ok(Some((i, len)))
}

/// The protocol level in the CONNECT at the start of `buf` (3 = MQTT 3.1, 4 = 3.1.1, 5), `Ok(None)` while
/// the packet is incomplete.
pub fn connect_level(buf: &[u8], max_packet: usize) -> Result<Option<u8>, WireError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    if first != 0x10 {
        return Err(WireError {
            reason: v5::DisconnectReasonCode::ProtocolError,
            message: "the first packet must be CONNECT".into(),
        });
    }
    let Some((i, len)) = fixed_header(buf, max_packet)? else { return Ok(None) };
    if buf.len() < i + len {
        return Ok(None);
    }
    let body = &buf[i..i + len];
    if body.len() < 2 {
        return Err(malformed("CONNECT without a protocol name"));
    }
    let n = u16::from_be_bytes([body[0], body[1]]) as usize;
    match (body.get(2..2 + n), body.get(2 + n)) {
        (Some(b"MQTT"), Some(&level)) => Ok(Some(level)),
        (Some(b"MQIsdp"), Some(_)) => Ok(Some(3)),
        _ => Err(malformed("not an MQTT CONNECT")),
    }
}

/// Reads the CONNECT at the start of `buf` (complete, see [`connect_level`]).
pub fn read_connect(buf: &mut BytesMut, level: u8, max_packet: usize) -> Result<Connect, WireError> {
    match level {
        4 => match v4::Packet::read(buf, max_packet) {
            Ok(v4::Packet::Connect(c)) => Ok(Connect {
                proto: Proto::V4,
                client_id: c.client_id,
                clean: c.clean_session,
                keep_alive: c.keep_alive,
                login: c.login.map(|l| (l.username, l.password)),
                will: c.last_will.map(|w| Msg {
                    topic: w.topic,
                    payload: w.message,
                    qos: q4(w.qos).min(1),
                    retain: w.retain,
                }),
                session_expiry: None,
                receive_max: None,
                max_packet: None,
            }),
            Ok(_) => Err(malformed("expected CONNECT")),
            Err(e) => Err(malformed(format!("CONNECT: {e}"))),
        },
        5 => match v5::Packet::read(buf, Some(max_packet as u32)) {
            Ok(v5::Packet::Connect(c, will, login)) => {
                let will = match will {
                    Some(w) => Some(Msg {
                        topic: String::from_utf8(w.topic.to_vec()).map_err(|_| malformed("will topic is not UTF-8"))?,
                        payload: w.message,
                        qos: q5(w.qos).min(1),
                        retain: w.retain,
                    }),
                    None => None,
                };
                let props = c.properties.unwrap_or_default();
                Ok(Connect {
                    proto: Proto::V5,
                    client_id: c.client_id,
                    clean: c.clean_start,
                    keep_alive: c.keep_alive,
                    login: login.map(|l| (l.username, l.password)),
                    will,
                    session_expiry: Some(props.session_expiry_interval.unwrap_or(0)),
                    receive_max: props.receive_maximum,
                    max_packet: props.max_packet_size,
                })
            }
            Ok(_) => Err(malformed("expected CONNECT")),
            Err(e) => Err(malformed(format!("CONNECT: {e}"))),
        },
        l => Err(WireError {
            reason: v5::DisconnectReasonCode::UnspecifiedError,
            message: format!("protocol level {l} (MQTT 3.1.1 and 5 are spoken here)"),
        }),
    }
}

fn q4(q: Q4) -> u8 {
    q as u8
}
fn q5(q: Q5) -> u8 {
    q as u8
}
fn to_q4(q: u8) -> Q4 {
    if q == 0 {
        Q4::AtMostOnce
    } else {
        Q4::AtLeastOnce
    }
}
fn to_q5(q: u8) -> Q5 {
    if q == 0 {
        Q5::AtMostOnce
    } else {
        Q5::AtLeastOnce
    }
}

/// Reads the next packet after CONNECT; `Ok(None)` while it is incomplete (nothing is consumed then). A
/// complete packet the codec cannot read is malformed: the connection is closed, never left waiting.
pub fn read(proto: Proto, buf: &mut BytesMut, max_packet: usize) -> Result<Option<In>, WireError> {
    let Some((header, len)) = fixed_header(buf, max_packet)? else { return Ok(None) };
    if buf.len() < header + len {
        return Ok(None);
    }
    if buf[0] == 0xE0 && len <= 1 {
        // DISCONNECT with no reason code or only one (the MQTT 5 codec wants the properties too).
        let with_will = len == 1 && proto == Proto::V5 && buf[header] != 0x00;
        let _ = buf.split_to(header + len);
        return Ok(Some(In::Disconnect { with_will }));
    }
    let whole = |e: String| malformed(format!("{e} (in a complete packet)"));
    match proto {
        Proto::V4 => match v4::Packet::read(buf, max_packet) {
            Ok(p) => Ok(Some(match p {
                v4::Packet::Publish(p) => In::Publish {
                    qos: q4(p.qos),
                    retain: p.retain,
                    topic: p.topic,
                    pkid: p.pkid,
                    payload: p.payload,
                    alias: None,
                },
                v4::Packet::PubAck(a) => In::PubAck(a.pkid),
                v4::Packet::PubRec(a) => In::PubRec(a.pkid),
                v4::Packet::PubRel(a) => In::PubRel(a.pkid),
                v4::Packet::PubComp(a) => In::PubComp(a.pkid),
                v4::Packet::Subscribe(s) => In::Subscribe {
                    pkid: s.pkid,
                    filters: s
                        .filters
                        .into_iter()
                        .map(|f| SubReq { filter: f.path, qos: q4(f.qos), retain_handling: 0 })
                        .collect(),
                },
                v4::Packet::Unsubscribe(u) => In::Unsubscribe { pkid: u.pkid, filters: u.topics },
                v4::Packet::PingReq => In::PingReq,
                v4::Packet::Disconnect => In::Disconnect { with_will: false },
                v4::Packet::Connect(_) => In::ProtocolViolation("a second CONNECT"),
                _ => In::ProtocolViolation("a packet only a server sends"),
            })),
            Err(e) => Err(whole(e.to_string())),
        },
        Proto::V5 => match v5::Packet::read(buf, Some(max_packet as u32)) {
            Ok(p) => Ok(Some(match p {
                v5::Packet::Publish(p) => In::Publish {
                    qos: q5(p.qos),
                    retain: p.retain,
                    topic: String::from_utf8(p.topic.to_vec()).map_err(|_| malformed("topic is not UTF-8"))?,
                    pkid: p.pkid,
                    payload: p.payload,
                    alias: p.properties.and_then(|pr| pr.topic_alias),
                },
                v5::Packet::PubAck(a) => In::PubAck(a.pkid),
                v5::Packet::PubRec(a) => In::PubRec(a.pkid),
                v5::Packet::PubRel(a) => In::PubRel(a.pkid),
                v5::Packet::PubComp(a) => In::PubComp(a.pkid),
                v5::Packet::Subscribe(s) => In::Subscribe {
                    pkid: s.pkid,
                    filters: s
                        .filters
                        .into_iter()
                        .map(|f| SubReq {
                            filter: f.path,
                            qos: q5(f.qos),
                            retain_handling: match f.retain_forward_rule {
                                v5::RetainForwardRule::OnEverySubscribe => 0,
                                v5::RetainForwardRule::OnNewSubscribe => 1,
                                v5::RetainForwardRule::Never => 2,
                            },
                        })
                        .collect(),
                },
                v5::Packet::Unsubscribe(u) => In::Unsubscribe { pkid: u.pkid, filters: u.filters },
                v5::Packet::PingReq(_) => In::PingReq,
                // Any reason but a normal disconnection keeps the will.
                v5::Packet::Disconnect(d) => {
                    In::Disconnect { with_will: d.reason_code != v5::DisconnectReasonCode::NormalDisconnection }
                }
                v5::Packet::Connect(..) => In::ProtocolViolation("a second CONNECT"),
                v5::Packet::Auth(_) => In::ProtocolViolation("AUTH (enhanced authentication is not offered)"),
                _ => In::ProtocolViolation("a packet only a server sends"),
            })),
            Err(e) => Err(whole(e.to_string())),
        },
    }
}

/// Appends `out` to `buf`. Only a publish can be too large for the client (`Err`: not sent).
pub fn write(proto: Proto, out: Out, buf: &mut BytesMut, max_packet: usize) -> Result<(), String> {
    match proto {
        Proto::V4 => {
            let p = match out {
                Out::ConnAck { session_present, refused, .. } => {
                    let code = match refused {
                        None => v4::ConnectReturnCode::Success,
                        Some(Refuse::BadLogin) => v4::ConnectReturnCode::BadUserNamePassword,
                        Some(Refuse::NotAuthorized) => v4::ConnectReturnCode::NotAuthorized,
                        Some(Refuse::BadClientId) => v4::ConnectReturnCode::BadClientId,
                        Some(Refuse::Busy | Refuse::Unavailable) => v4::ConnectReturnCode::ServiceUnavailable,
                    };
                    v4::Packet::ConnAck(v4::ConnAck::new(code, session_present))
                }
                Out::Publish { msg, pkid, dup } => {
                    let mut p = v4::Publish::from_bytes(msg.topic, to_q4(msg.qos), msg.payload);
                    p.pkid = if msg.qos == 0 { 0 } else { pkid };
                    p.retain = msg.retain;
                    p.dup = dup;
                    v4::Packet::Publish(p)
                }
                Out::PubAck { pkid, .. } => v4::Packet::PubAck(v4::PubAck::new(pkid)),
                Out::PubRec { pkid, .. } => v4::Packet::PubRec(v4::PubRec::new(pkid)),
                Out::PubComp(pkid) => v4::Packet::PubComp(v4::PubComp::new(pkid)),
                Out::SubAck { pkid, codes } => v4::Packet::SubAck(v4::SubAck::new(
                    pkid,
                    codes
                        .into_iter()
                        .map(|c| match c {
                            SubCode::Granted(q) => v4::SubscribeReasonCode::Success(to_q4(q)),
                            _ => v4::SubscribeReasonCode::Failure,
                        })
                        .collect(),
                )),
                Out::UnsubAck { pkid, .. } => v4::Packet::UnsubAck(v4::UnsubAck::new(pkid)),
                Out::PingResp => v4::Packet::PingResp,
                Out::Disconnect(_) => return Ok(()),
            };
            p.write(buf, max_packet).map(|_| ()).map_err(|e| e.to_string())
        }
        Proto::V5 => {
            let p = match out {
                Out::ConnAck { session_present, refused, assigned_id, server_keep_alive, receive_max, max_packet } => {
                    let code = match refused {
                        None => v5::ConnectReturnCode::Success,
                        Some(Refuse::BadLogin) => v5::ConnectReturnCode::BadUserNamePassword,
                        Some(Refuse::NotAuthorized) => v5::ConnectReturnCode::NotAuthorized,
                        Some(Refuse::BadClientId) => v5::ConnectReturnCode::ClientIdentifierNotValid,
                        Some(Refuse::Busy) => v5::ConnectReturnCode::ServerBusy,
                        Some(Refuse::Unavailable) => v5::ConnectReturnCode::ServerUnavailable,
                    };
                    let properties = v5::ConnAckProperties {
                        session_expiry_interval: None,
                        receive_max: Some(receive_max),
                        // QoS 2 publishes are taken in (delivery is at QoS 1 at most, as granted).
                        max_qos: None,
                        retain_available: Some(1),
                        max_packet_size: Some(max_packet),
                        assigned_client_identifier: assigned_id,
                        topic_alias_max: Some(0),
                        reason_string: None,
                        user_properties: vec![],
                        wildcard_subscription_available: Some(1),
                        subscription_identifiers_available: Some(0),
                        shared_subscription_available: Some(0),
                        server_keep_alive,
                        response_information: None,
                        server_reference: None,
                        authentication_method: None,
                        authentication_data: None,
                    };
                    v5::Packet::ConnAck(v5::ConnAck { session_present, code, properties: Some(properties) })
                }
                Out::Publish { msg, pkid, dup } => {
                    let mut p = v5::Publish::new(msg.topic, to_q5(msg.qos), msg.payload, None);
                    p.pkid = if msg.qos == 0 { 0 } else { pkid };
                    p.retain = msg.retain;
                    p.dup = dup;
                    v5::Packet::Publish(p)
                }
                Out::PubAck { pkid, denied, no_subscribers } => {
                    let mut a = v5::PubAck::new(pkid, None);
                    a.reason = if denied {
                        v5::PubAckReason::NotAuthorized
                    } else if no_subscribers {
                        v5::PubAckReason::NoMatchingSubscribers
                    } else {
                        v5::PubAckReason::Success
                    };
                    v5::Packet::PubAck(a)
                }
                Out::PubRec { pkid, denied } => {
                    let mut a = v5::PubRec::new(pkid, None);
                    if denied {
                        a.reason = v5::PubRecReason::NotAuthorized;
                    }
                    v5::Packet::PubRec(a)
                }
                Out::PubComp(pkid) => v5::Packet::PubComp(v5::PubComp::new(pkid, None)),
                Out::SubAck { pkid, codes } => v5::Packet::SubAck(v5::SubAck {
                    pkid,
                    return_codes: codes
                        .into_iter()
                        .map(|c| match c {
                            SubCode::Granted(q) => v5::SubscribeReasonCode::Success(to_q5(q)),
                            SubCode::NotAuthorized => v5::SubscribeReasonCode::NotAuthorized,
                            SubCode::Invalid => v5::SubscribeReasonCode::TopicFilterInvalid,
                            SubCode::Unsupported => v5::SubscribeReasonCode::SharedSubscriptionsNotSupported,
                            SubCode::Quota => v5::SubscribeReasonCode::QuotaExceeded,
                        })
                        .collect(),
                    properties: None,
                }),
                Out::UnsubAck { pkid, found } => v5::Packet::UnsubAck(v5::UnsubAck {
                    pkid,
                    reasons: found
                        .into_iter()
                        .map(
                            |f| if f { v5::UnsubAckReason::Success } else { v5::UnsubAckReason::NoSubscriptionExisted },
                        )
                        .collect(),
                    properties: None,
                }),
                Out::PingResp => v5::Packet::PingResp(v5::PingResp),
                Out::Disconnect(reason_code) => {
                    v5::Packet::Disconnect(v5::Disconnect { reason_code, properties: None })
                }
            };
            p.write(buf, Some(max_packet as u32)).map(|_| ()).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_bytes_v4(id: &str, login: Option<(&str, &str)>) -> BytesMut {
        let mut c = v4::Connect::new(id);
        if let Some((u, p)) = login {
            c.set_login(u, p);
        }
        let mut b = BytesMut::new();
        v4::Packet::Connect(c).write(&mut b, 1 << 20).unwrap();
        b
    }

    #[test]
    fn connect_level_waits_for_the_whole_packet_and_tells_the_protocol() {
        let b = connect_bytes_v4("gate-1", Some(("dev_1", "bl_dev_x")));
        for cut in 0..b.len() {
            assert!(connect_level(&b[..cut], 1 << 20).unwrap().is_none(), "cut at {cut}");
        }
        assert_eq!(connect_level(&b, 1 << 20).unwrap(), Some(4));
        let mut whole = b.clone();
        let c = read_connect(&mut whole, 4, 1 << 20).unwrap();
        assert_eq!((c.client_id.as_str(), c.login.unwrap().0.as_str()), ("gate-1", "dev_1"));
        assert!(whole.is_empty());

        let mut b5 = BytesMut::new();
        v5::Packet::Connect(
            v5::Connect { keep_alive: 30, client_id: "esl-1".into(), clean_start: true, properties: None },
            None,
            None,
        )
        .write(&mut b5, None)
        .unwrap();
        assert_eq!(connect_level(&b5, 1 << 20).unwrap(), Some(5));
        let c = read_connect(&mut b5, 5, 1 << 20).unwrap();
        assert_eq!((c.proto, c.session_expiry), (Proto::V5, Some(0)));
    }

    #[test]
    fn bad_first_packets_are_named() {
        assert!(connect_level(&[0x30, 0x00], 100).unwrap_err().message.contains("CONNECT"), "a PUBLISH first");
        assert!(connect_level(&[0x10, 0xff, 0xff, 0xff, 0xff, 0x01], 100)
            .unwrap_err()
            .message
            .contains("remaining length"));
        assert_eq!(connect_level(&[0x10, 0x7f], 100).unwrap_err().reason, v5::DisconnectReasonCode::PacketTooLarge);
        assert!(connect_level(&[0x10, 0x04, 0x00, 0x02, b'H', b'I'], 100).is_err(), "not MQTT");
    }

    #[test]
    fn short_v5_disconnects_read_with_their_reason() {
        let mut b = BytesMut::from(&[0xE0u8, 0x00, 0xE0, 0x01, 0x00, 0xE0, 0x01, 0x04][..]);
        assert!(matches!(read(Proto::V5, &mut b, 100).unwrap(), Some(In::Disconnect { with_will: false })), "bare");
        assert!(matches!(read(Proto::V5, &mut b, 100).unwrap(), Some(In::Disconnect { with_will: false })), "reason 0");
        assert!(matches!(read(Proto::V5, &mut b, 100).unwrap(), Some(In::Disconnect { with_will: true })), "with will");
        assert!(b.is_empty());
    }

    #[test]
    fn a_complete_packet_the_codec_cannot_read_is_malformed_and_packets_behind_it_wait() {
        // A v5 SUBSCRIBE whose properties length is missing: complete frame, unreadable.
        let mut b = BytesMut::from(&[0x82u8, 0x02, 0x00, 0x01][..]);
        assert!(read(Proto::V5, &mut b, 100).is_err());
        // Two PINGREQs in one read: both come out, one at a time.
        let mut b = BytesMut::from(&[0xC0u8, 0x00, 0xC0, 0x00, 0xC0][..]);
        assert!(matches!(read(Proto::V4, &mut b, 100).unwrap(), Some(In::PingReq)));
        assert!(matches!(read(Proto::V4, &mut b, 100).unwrap(), Some(In::PingReq)));
        assert!(read(Proto::V4, &mut b, 100).unwrap().is_none());
        assert_eq!(&b[..], &[0xC0], "the incomplete one stays");
    }

    #[test]
    fn a_publish_round_trips_on_both_protocols_and_oversize_is_refused() {
        for proto in [Proto::V4, Proto::V5] {
            let msg = Msg {
                topic: "borderless/v1/S/d/acks".into(),
                payload: Bytes::from_static(b"{}"),
                qos: 1,
                retain: true,
            };
            let mut b = BytesMut::new();
            write(proto, Out::Publish { msg: msg.clone(), pkid: 7, dup: false }, &mut b, 1 << 20).unwrap();
            let half = b.len() / 2;
            let mut part = BytesMut::from(&b[..half]);
            assert!(read(proto, &mut part, 1 << 20).unwrap().is_none(), "{proto:?}: incomplete");
            match read(proto, &mut b, 1 << 20).unwrap() {
                Some(In::Publish { qos, retain, topic, pkid, payload, .. }) => assert_eq!(
                    (qos, retain, topic, pkid, payload),
                    (1, true, msg.topic.clone(), 7, msg.payload.clone())
                ),
                other => panic!("{proto:?}: {other:?}"),
            }
            let mut b = BytesMut::new();
            assert!(
                write(proto, Out::Publish { msg, pkid: 1, dup: false }, &mut b, 10).is_err(),
                "{proto:?}: larger than the client takes"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]
        /// Whatever bytes a client sends, the codec answers a packet, "incomplete" or an error: it never
        /// panics, never reads past the buffer, and a packet it reads consumed what it said it did.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), v5 in proptest::bool::ANY) {
            let proto = if v5 { Proto::V5 } else { Proto::V4 };
            let mut buf = BytesMut::from(&bytes[..]);
            let before = buf.len();
            if let Ok(Some(_)) = read(proto, &mut buf, 4096) {
                proptest::prop_assert!(buf.len() < before, "a packet read consumes bytes");
            }
            let _ = connect_level(&bytes, 4096);
            let mut c = BytesMut::from(&bytes[..]);
            let _ = read_connect(&mut c, if v5 { 5 } else { 4 }, 4096);
        }

        /// A valid CONNECT with a byte flipped anywhere is still read or refused, never a panic.
        #[test]
        fn flipped_connects_are_read_or_refused(at in 0usize..64, bit in 0u8..8) {
            // MQTT 3.1.1 CONNECT, client id "dev-1", user "u", password "p", keep-alive 60.
            let mut bytes: Vec<u8> = vec![0x10, 0x17, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xC2, 0x00, 0x3C,
                0x00, 0x05, b'd', b'e', b'v', b'-', b'1', 0x00, 0x01, b'u', 0x00, 0x01, b'p'];
            let i = at % bytes.len();
            bytes[i] ^= 1 << bit;
            let _ = connect_level(&bytes, 4096);
            let mut c = BytesMut::from(&bytes[..]);
            let _ = read_connect(&mut c, 4, 4096);
        }
    }
}
