//! The fuzz targets' bodies: each takes arbitrary bytes and drives one reader of untrusted input the way the
//! product does, checking what must hold (no panic, no hang, and the target's own invariants). cargo-fuzz
//! runs them coverage-guided on nightly (`fuzz/`); `tests/corpus.rs` runs every committed corpus input on
//! stable as part of `cargo test`.

use bytes::BytesMut;

/// Every target by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("mqtt_frames", mqtt_frames),
    ("device_events", device_events),
    ("catalog_csv", catalog_csv),
    ("glb", glb),
    ("money", money),
    ("search_analyzer", search_analyzer),
    ("assistant", assistant),
];

/// MQTT from a device: the CONNECT (either protocol level), then packets, as the embedded broker reads them
/// under its packet size limit. A complete frame is either read or refused; nothing reads past the buffer.
pub fn mqtt_frames(data: &[u8]) {
    const MAX: usize = 16 * 1024;
    let mut buf = BytesMut::from(data);
    let level = match iot::wire::connect_level(&buf, MAX) {
        Ok(Some(level)) => level,
        _ => {
            // Not a CONNECT: packets after one, read in both protocols.
            for proto in [iot::wire::Proto::V4, iot::wire::Proto::V5] {
                let mut b = BytesMut::from(data);
                for _ in 0..64 {
                    match iot::wire::read(proto, &mut b, MAX) {
                        Ok(Some(_)) => {}
                        Ok(None) | Err(_) => break,
                    }
                }
            }
            return;
        }
    };
    if iot::wire::read_connect(&mut buf, level, MAX).is_ok() {
        let proto = if level == 5 { iot::wire::Proto::V5 } else { iot::wire::Proto::V4 };
        for _ in 0..64 {
            let before = buf.len();
            match iot::wire::read(proto, &mut buf, MAX) {
                Ok(Some(_)) => assert!(buf.len() < before, "a packet read consumes bytes"),
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// A device's event payload (JSON) for each kind of device: parsed and checked, or refused with a reason.
pub fn device_events(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for kind in ["gate", "gondola", "tracker", "label"] {
        if let Err(e) = engine::instore::live::parse_event(kind, &v) {
            assert!(!e.is_empty(), "a refusal says why");
        }
    }
}

/// A catalog file, in borderless's CSV and Shopify's export: read whole or refused with problems that name
/// their line; every product read passes the catalog's validation.
pub fn catalog_csv(data: &[u8]) {
    if let Ok(products) = catalog_io::csv::read_catalog_all(data) {
        for p in products {
            let _ = catalog_io::validate(p.product);
        }
    }
    let _ = catalog_io::csv::read_shopify_all(data, domain::Currency::Krw);
}

/// A 3D model upload: summarised or refused, never trusted past its own lengths.
pub fn glb(data: &[u8]) {
    let _ = catalog_io::media::check_glb(data);
}

/// An amount typed in a form or a CSV cell, in every currency: a parsed amount prints back to itself.
pub fn money(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for c in domain::Currency::ALL {
        if let Ok(m) = domain::Money::parse_decimal(s, c) {
            let again = domain::Money::parse_decimal(&m.to_decimal(), c).expect("a printed amount parses");
            assert_eq!(again, m, "{s:?} in {c}");
        }
    }
}

/// Search text in any language: terms come out bounded and non-empty.
pub fn search_analyzer(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let terms = search::analyze::Analyzer::default().terms(s);
    assert!(terms.len() <= 4 * s.len() + 8, "terms are bounded by the text");
}

/// What a shopper types to the assistant (at most 500 characters, as the API allows): price bounds are
/// ordered and non-negative, and understanding never panics, alone or as a follow-up.
pub fn assistant(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if s.chars().count() > 500 {
        return;
    }
    if let Some(p) = assistant::price::find(s) {
        let b = &p.bounds;
        assert!(b.min_minor.is_none_or(|m| m >= 0) && b.max_minor.is_none_or(|m| m >= 0), "{s:?}: {b:?}");
        if let (Some(lo), Some(hi)) = (b.min_minor, b.max_minor) {
            assert!(lo <= hi, "{s:?}: {b:?}");
        }
        assert!(p.start <= p.end && p.end <= s.len() && s.is_char_boundary(p.start) && s.is_char_boundary(p.end));
    }
    let vocab = assistant::Vocabulary::from_catalog(
        ["electronics/audio", "apparel/shoes", "apparel/tops"],
        ["Sori Audio", "Stride Lab"],
        [("GANGNAM", vec!["보더리스 강남역점", "Borderless Gangnam Station"])],
    );
    let first = assistant::understand(s, &vocab, None);
    let _ = assistant::understand(s, &vocab, Some(&first));
}
