//! Replays the real AiFi recording (BENCHMARK-1) and checks the exact expected receipt.

use std::path::PathBuf;

/// Finds `aifi-benchmark1`: `$BORDERLESS_EVAL_DATA`, then `../../../shared/data` relative to the
/// crate, then `/work/shared/data`.
fn data_dir() -> Option<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(d) = std::env::var("BORDERLESS_EVAL_DATA") {
        roots.push(PathBuf::from(d));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    roots.push(PathBuf::from("/work/shared/data"));
    roots.into_iter().map(|r| r.join("aifi-benchmark1")).find(|d| d.join("plates.csv").is_file())
}

fn require_data() -> Option<PathBuf> {
    match data_dir() {
        Some(d) => Some(d),
        None if std::env::var("BORDERLESS_REQUIRE_DATA").as_deref() == Ok("1") => {
            panic!("BORDERLESS_REQUIRE_DATA=1 but aifi-benchmark1 was not found under $BORDERLESS_EVAL_DATA, ../../../shared/data or /work/shared/data")
        }
        None => {
            eprintln!(
                "skipping: aifi-benchmark1 not found (set BORDERLESS_EVAL_DATA to the directory that contains it)"
            );
            None
        }
    }
}

#[test]
fn replay_prints_exactly_the_expected_receipt() {
    let Some(dir) = require_data() else { return };
    let rec = instore::read_recording(&dir).expect("recording reads");
    let report = instore::replay_recording(&rec, &instore::EngineConfig::default()).expect("replay runs");
    for e in &report.events {
        eprintln!("event: {e:?}");
    }
    for r in &report.reviews {
        eprintln!("review: {r:?}");
    }
    eprintln!("stats: {:?}", report.stats);
    let out = instore::receipt::to_jsonl(&report.receipts);
    print!("{out}");
    assert_eq!(
        out,
        "{\"target_id\":\"3325379692103139202\",\"items\":[{\"barcode\":\"071142008582\",\"quantity\":1}]}\n"
    );
    assert!(report.reviews.is_empty());
    assert_eq!(instore::replay(&dir).unwrap(), report.receipts);
}

#[test]
fn real_recording_parses_with_expected_shape() {
    let Some(dir) = require_data() else { return };
    let rec = instore::read_recording(&dir).unwrap();
    assert_eq!(rec.plate_keys.len(), 278);
    assert_eq!(rec.samples.len(), 286_896);
    assert!(rec.frames.len() > 250);
    let layout = rec.layout().unwrap();
    let p = layout.plate_index(instore::PlateKey { gondola: 1, shelf: 5, plate: 11 }).unwrap();
    let b = layout.plate_box[p as usize].expect("plate box from facings");
    assert!((b.max.x - b.min.x - 0.1016).abs() < 1e-3, "{b:?}");
}
