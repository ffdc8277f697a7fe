//! Every committed fuzz corpus input (`fuzz/corpus/<target>/`) through its target, on stable: what the
//! fuzzer once found, or was seeded with, stays fixed. A target without a corpus fails the test.

#[test]
fn every_corpus_input_runs_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, target) in fuzzing::TARGETS {
        let dir = root.join(name);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let r = std::panic::catch_unwind(|| target(&data));
            assert!(r.is_ok(), "{name}: {} makes the target fail", path.display());
            n += 1;
        }
        assert!(n > 0, "{name} has no corpus in {}", dir.display());
    }
}
