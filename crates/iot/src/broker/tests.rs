//! The broker with real clients over loopback: logins, ACLs, sessions, retained messages, limits.

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
