//! The blend against the baselines on the real Ta-Feng next-basket split (../shared/data/tafeng). The data
//! is not part of the repository: without it this test says so and passes, unless
//! `BORDERLESS_REQUIRE_DATA=1` (set by CI), when it fails.

use recs::eval::*;
use std::path::PathBuf;

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var("BORDERLESS_EVAL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("tafeng");
    if dir.join("tafeng_history.json").exists() && dir.join("tafeng_future.json").exists() {
        return Some(dir);
    }
    let msg = format!(
        "the Ta-Feng split is not at {} (set BORDERLESS_EVAL_DATA to the folder holding tafeng/)",
        dir.display()
    );
    if std::env::var("BORDERLESS_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg}; BORDERLESS_REQUIRE_DATA=1 requires it");
    }
    eprintln!("skipping: {msg}");
    None
}

#[test]
fn blend_beats_personal_top_frequency_on_tafeng() {
    let Some(dir) = data_dir() else { return };
    let h = std::fs::read_to_string(dir.join("tafeng_history.json")).unwrap();
    let f = std::fs::read_to_string(dir.join("tafeng_future.json")).unwrap();
    let split = read_split(&h, &f).unwrap();
    assert_eq!(split.future.len(), 13_858);
    let (p, _) = personal_top_frequency(&split, 20);
    let base = score_lists(&split, &p);
    // A smaller grid than `recs eval` (the test budget), the same procedure.
    let cfg =
        recs::TrainConfig { half_lives: vec![1.0, 2.0], decays: vec![0.9], shrinks: vec![4.0], ..basket_time_config() };
    let report = recs::tune(&split.data, &cfg, &|_| {});
    let (_, lists, _) = blend_lists(&split, &report.params, report.weights, 20);
    let ours = score_lists(&split, &lists);
    assert!(
        ours.recall20 > base.recall20 * 1.08,
        "recall@20 {:.4} vs personal top-frequency {:.4}",
        ours.recall20,
        base.recall20
    );
    assert!(
        ours.ndcg20 > base.ndcg20 * 1.08,
        "ndcg@20 {:.4} vs personal top-frequency {:.4}",
        ours.ndcg20,
        base.ndcg20
    );
}
