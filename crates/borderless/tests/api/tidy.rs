//! Repository hygiene that reviewers would otherwise check by hand.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_opens_with_a_doc_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        for sub in ["src", "tests"] {
            let d = c.path().join(sub);
            if d.is_dir() {
                rust_files(&d, &mut files);
            }
        }
    }
    assert!(files.len() > 20, "found the sources");
    let missing: Vec<_> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().trim_start().starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(missing.is_empty(), "modules without a leading `//!` line saying what they own: {missing:#?}");
}

/// Files that are data tables rather than code (allowed past the size limit).
const DATA_TABLES: [&str; 1] = ["crates/borderless/src/demo/data.rs"];

#[test]
fn no_source_file_is_a_house_of_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        rust_files(&c.path().join("src"), &mut files);
    }
    let root = root.canonicalize().unwrap();
    let too_long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let rel = f.canonicalize().ok()?.strip_prefix(&root).ok()?.to_string_lossy().into_owned();
            let is_test = rel.ends_with("/tests.rs") || rel.contains("/tests/");
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > 800 && !is_test && !DATA_TABLES.contains(&rel.as_str())).then(|| format!("{rel}: {lines} lines"))
        })
        .collect();
    assert!(too_long.is_empty(), "source files over 800 lines (split them by what they own): {too_long:#?}");
}

/// The engine's business areas, lowest first: an area may name only areas listed before it, so the areas
/// form layers without a cycle (ARCHITECTURE.md draws the same picture).
const ENGINE_LAYERS: [&str; 9] =
    ["platform", "catalog", "customers", "stock", "money", "sales", "instore", "insight", "discovery"];

#[test]
fn engine_areas_depend_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/src");
    let mut wrong = Vec::new();
    for (i, area) in ENGINE_LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&src.join(area), &mut files);
        assert!(!files.is_empty(), "engine area `{area}` has no sources");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (j, other) in ENGINE_LAYERS.iter().enumerate() {
                let above = j > i;
                if above && text.contains(&format!("crate::{other}::")) {
                    wrong.push(format!("{} names `crate::{other}`, an area above `{area}`", f.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "engine areas that reach upward: {wrong:#?}");
}
