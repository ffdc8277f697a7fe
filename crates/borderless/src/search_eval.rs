//! `borderless search eval --embeddings URL`: lexical and semantic retrieval fused, measured on every
//! judgement set given (Home Depot's, CrowdFlower's and Chorus's judgements, the project's Korean test set) for a grid of fusion
//! settings, and the setting chosen by leave-one-set-out cross-validation — the weight that does best on
//! the other sets, scored on the set left out. Embeddings are cached on disk by model and text, so a second
//! run asks the model only for what it has not seen.

use anyhow::{bail, Context, Result};
use node::embeddings::{Kind, OpenAiEmbeddings};
use node::embeddings_cache::Cache;
use search::dense::{Dense, Fusion};
use search::eval::Semantic;
use std::path::{Path, PathBuf};

/// The vectors of `texts` from the on-disk cache, asking the model for those not cached (with a progress
/// bar) and appending them to the file batch by batch, so an interrupted run keeps what it got.
pub async fn embed_cached(
    cache: &mut Cache,
    client: &OpenAiEmbeddings,
    texts: &[String],
    kind: Kind,
    what: &str,
) -> Result<Vec<Vec<f32>>> {
    let missing: Vec<String> = cache.missing(texts, kind).into_iter().cloned().collect();
    if !missing.is_empty() {
        let bar = indicatif::ProgressBar::new(missing.len() as u64).with_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} ({per_sec}, {eta} left)")
                .expect("a valid template"),
        );
        bar.set_message(format!("embedding {what}"));
        for batch in missing.chunks(node::embeddings::MAX_BATCH) {
            let strs: Vec<&str> = batch.iter().map(|s| s.as_str()).collect();
            let vecs = client.embed(&strs, kind).await?;
            cache.put(kind, &strs, vecs).map_err(anyhow::Error::msg)?;
            bar.inc(batch.len() as u64);
        }
        bar.finish_and_clear();
    }
    texts.iter().map(|t| cache.get(kind, t).cloned().context("a vector missing after embedding")).collect()
}

fn dense_of(vectors: &[Vec<f32>]) -> Result<Dense> {
    let dim = vectors.first().map(|v| v.len()).context("no vectors")?;
    let mut d = Dense::new(dim);
    for (i, v) in vectors.iter().enumerate() {
        d.set(i as u32, v).map_err(|e| anyhow::anyhow!("product {i}: {e}"))?;
    }
    Ok(d)
}

/// The fusion settings tried: scores mixed or ranks fused (k 20 and 60), the semantic weight from 0
/// (lexical only) to 1 in tenths, each with a few floors for products found by meaning alone, and a
/// one-word query that 10 or 30 products hold as a word ranked by its words alone, or never.
pub fn grid() -> Vec<Fusion> {
    let mut out = Vec::new();
    for broad_matches in [0, 10, 30] {
        for rank_k in [0.0, 20.0, 60.0] {
            for w in 0..=10 {
                for floor in [0.80, 0.82, 0.84, 0.86] {
                    out.push(Fusion { weight: w as f32 / 10.0, floor, rank_k, broad_matches });
                }
            }
        }
    }
    out
}

/// Writes one set's candidate lines to `dir/name.jsonl`.
fn write_lines(dir: &Path, name: &str, lines: &[String]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// A judgement file's set name: its folder's (`homedepot-relevance/train.csv`, `crowdflower/judgements.csv`).
pub fn set_name(path: &Path) -> String {
    path.parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "judgements".into())
}

/// A test set's name: its file's stem (`korean.json` is `korean`).
fn test_set_name(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "test set".into())
}

/// Refuses two sets with one name: the report, the grid's columns and the candidate files are keyed by it,
/// so the second would overwrite the first's candidates and the grid would hold two columns nobody can tell
/// apart.
fn unique_set_names(judgements: &[PathBuf], test_set: Option<&Path>) -> Result<()> {
    let named = test_set
        .map(|p| (test_set_name(p), p))
        .into_iter()
        .chain(judgements.iter().map(|p| (set_name(p), p.as_path())));
    let mut seen: Vec<(String, &Path)> = Vec::new();
    for (name, path) in named {
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            if *first == path {
                bail!("{} is given twice; give each set once", path.display());
            }
            let fix = if test_set == Some(*first) {
                "rename the test set's file"
            } else {
                "give each judgement file its own folder"
            };
            bail!(
                "{} and {} would both be reported as the set '{name}' (a judgement file is named by its folder, \
                 a test set by its file name): {fix}",
                first.display(),
                path.display()
            );
        }
        seen.push((name, path));
    }
    Ok(())
}

/// Files an evaluation writes besides its report.
pub struct Outputs<'a> {
    /// Every setting's nDCG@10 on every set, as CSV.
    pub grid: Option<&'a Path>,
    /// A folder for each set's candidates with their grades, one query a line (`<set>.jsonl`: `q`, `kind`,
    /// `idcg`, and `c`: `[doc, lexical, cosine, gain]`), for analysing fusion outside the product.
    pub candidates: Option<&'a Path>,
}

/// Runs the evaluation over the sets given and prints a table and a JSON last line.
pub async fn run(
    judgements: &[PathBuf],
    test_set: Option<&Path>,
    client: &OpenAiEmbeddings,
    cache: &mut Cache,
    outputs: Outputs<'_>,
) -> Result<serde_json::Value> {
    let grid_out = outputs.grid;
    unique_set_names(judgements, test_set)?;
    let fusions = grid();
    // Per set: its name and nDCG@10 for every fusion setting.
    let mut sets: Vec<(String, Vec<f64>)> = Vec::new();
    if let Some(path) = test_set {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let set: search::eval::TestSet =
            serde_json::from_str(&text).with_context(|| format!("{} is not a search test set", path.display()))?;
        let docs =
            embed_cached(cache, client, &search::eval::test_set_texts(&set), Kind::Passage, "the test set's products")
                .await?;
        let queries: Vec<String> = set.queries.iter().map(|q| q.q.clone()).collect();
        let qv = embed_cached(cache, client, &queries, Kind::Query, "the test set's queries").await?;
        let dense = dense_of(&docs)?;
        let qs = qv.iter().map(|v| dense.query(v)).collect::<Result<Vec<_>, _>>()?;
        let scores = search::eval::score_test_set_fused(&set, &Semantic { dense: &dense, queries: &qs }, &fusions)
            .map_err(anyhow::Error::msg)?;
        let name = test_set_name(path);
        sets.push((name, scores.iter().map(|s| s.get("all").map(|k| k.ndcg10).unwrap_or(0.0)).collect()));
        if let Some(dir) = outputs.candidates {
            let lines = search::eval::test_set_candidate_lines(&set, &Semantic { dense: &dense, queries: &qs })
                .map_err(anyhow::Error::msg)?;
            write_lines(dir, &sets.last().expect("pushed").0, &lines)?;
        }
    }
    for path in judgements {
        let name = set_name(path);
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let j = search::eval::read(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let docs = embed_cached(cache, client, &j.titles, Kind::Passage, &format!("{name}'s products")).await?;
        let queries: Vec<String> = j.queries.iter().map(|q| q.0.clone()).collect();
        let qv = embed_cached(cache, client, &queries, Kind::Query, &format!("{name}'s queries")).await?;
        let dense = dense_of(&docs)?;
        let qs = qv.iter().map(|v| dense.query(v)).collect::<Result<Vec<_>, _>>()?;
        let ix = search::Index::build(j.titles.iter().map(|s| s.as_str()));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let scores = tokio::task::block_in_place(|| {
            search::eval::ndcg10_all_fused(&ix, &j, &Semantic { dense: &dense, queries: &qs }, &fusions, threads)
        })
        .map_err(anyhow::Error::msg)?;
        if let Some(dir) = outputs.candidates {
            let lines = search::eval::candidate_lines(&ix, &j, &Semantic { dense: &dense, queries: &qs });
            write_lines(dir, &name, &lines)?;
        }
        sets.push((name, scores));
    }
    if sets.is_empty() {
        bail!("give --judgements, --test-set or both");
    }
    if let Some(path) = grid_out {
        let mut csv = String::from("fusion,rank_k,weight,floor,broad_matches");
        for (name, _) in &sets {
            csv.push(',');
            csv.push_str(name);
        }
        csv.push('\n');
        for (f, fu) in fusions.iter().enumerate() {
            csv.push_str(&format!(
                "{},{},{:.1},{:.2},{}",
                how(&Fusion { broad_matches: 0, ..*fu }),
                fu.rank_k,
                fu.weight,
                fu.floor,
                fu.broad_matches
            ));
            for (_, scores) in &sets {
                csv.push_str(&format!(",{:.4}", scores[f]));
            }
            csv.push('\n');
        }
        std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let lexical = fusions.iter().position(|f| f.weight == 0.0).expect("the grid has the lexical setting");
    // The setting the product ships (chosen once; a set it was not chosen on is held out from it).
    let shipped = engine::discovery::semantic::FUSION;
    let product = fusions
        .iter()
        .position(|f| {
            (f.weight - shipped.weight).abs() < 1e-6
                && (f.floor - shipped.floor).abs() < 1e-6
                && (f.rank_k - shipped.rank_k).abs() < 1e-6
                && f.broad_matches == shipped.broad_matches
        })
        .expect("the grid has the product's setting");
    let best = |scores: &dyn Fn(usize) -> f64| {
        (0..fusions.len()).max_by(|&a, &b| scores(a).total_cmp(&scores(b)).then(b.cmp(&a))).expect("a grid")
    };
    // The setting chosen on all sets (macro mean: every set counts the same), which the product uses.
    let chosen = best(&|f| sets.iter().map(|s| s.1[f]).sum::<f64>() / sets.len() as f64);
    // The curve: per weight, each set's nDCG@10 at the chosen floor and fusion.
    eprintln!("nDCG@10 by semantic weight (floor {:.2}, {}):", fusions[chosen].floor, how(&fusions[chosen]));
    eprint!("{:>7}", "weight");
    for (name, _) in &sets {
        eprint!(" {name:>18}");
    }
    eprintln!();
    for (f, fu) in fusions.iter().enumerate().filter(|(_, fu)| {
        fu.floor == fusions[chosen].floor
            && fu.rank_k == fusions[chosen].rank_k
            && fu.broad_matches == fusions[chosen].broad_matches
    }) {
        eprint!("{:>7.1}", fu.weight);
        for (_, scores) in &sets {
            eprint!(" {:>18.4}", scores[f]);
        }
        eprintln!();
    }
    let mut rows = Vec::new();
    eprintln!(
        "{:<22} {:>9} {:>12} {:>22} {:>24} {:>16}",
        "set", "lexical", "best here", "chosen on all sets", "chosen on the others", "the product's"
    );
    for (i, (name, scores)) in sets.iter().enumerate() {
        let own = best(&|f| scores[f]);
        let others = if sets.len() > 1 {
            Some(best(&|f| sets.iter().enumerate().filter(|(k, _)| *k != i).map(|(_, s)| s.1[f]).sum::<f64>()))
        } else {
            None
        };
        let show = |f: usize| {
            format!(
                "{:.4} (w {:.1}, floor {:.2}, {})",
                scores[f],
                fusions[f].weight,
                fusions[f].floor,
                how(&fusions[f])
            )
        };
        eprintln!(
            "{:<22} {:>9.4} {:>12.4} {:>22} {:>24} {:>16.4}",
            name,
            scores[lexical],
            scores[own],
            show(chosen),
            others.map(show).unwrap_or_else(|| "—".into()),
            scores[product]
        );
        rows.push(serde_json::json!({
            "set": name,
            "lexical": round4(scores[lexical]),
            "best": {"ndcg10": round4(scores[own]), "weight": round2(fusions[own].weight), "floor": round2(fusions[own].floor), "rank_k": fusions[own].rank_k, "broad_matches": fusions[own].broad_matches},
            "chosen": round4(scores[chosen]),
            "product": round4(scores[product]),
            "cross_validated": others.map(|f| serde_json::json!({"ndcg10": round4(scores[f]), "weight": round2(fusions[f].weight), "floor": round2(fusions[f].floor), "rank_k": fusions[f].rank_k, "broad_matches": fusions[f].broad_matches})),
        }));
    }
    Ok(serde_json::json!({
        "model": client.model(),
        "chosen": {"weight": round2(fusions[chosen].weight), "floor": round2(fusions[chosen].floor), "rank_k": fusions[chosen].rank_k, "broad_matches": fusions[chosen].broad_matches},
        "product": {"weight": round2(fusions[product].weight), "floor": round2(fusions[product].floor), "rank_k": fusions[product].rank_k, "broad_matches": fusions[product].broad_matches},
        "sets": rows,
    }))
}

/// How a setting fuses: scores or ranks, and when one word is ranked by its words alone.
fn how(f: &Fusion) -> String {
    let how = if f.rank_k > 0.0 { format!("ranks k {:.0}", f.rank_k) } else { "scores".into() };
    if f.broad_matches > 0 {
        format!("{how}, 1 word held by ≥ {}", f.broad_matches)
    } else {
        how
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn round2(x: f32) -> f64 {
    (x as f64 * 100.0).round() / 100.0
}

/// `search eval --judgements …` without embeddings: each set indexed with the product's analyzer and
/// ranking, nDCG@10 re-ranking each query's judged products and over all products, a JSON line a set.
pub fn run_lexical(judgements: &[PathBuf]) -> Result<()> {
    if judgements.is_empty() {
        bail!("give --judgements or --test-set");
    }
    for path in judgements {
        let bytes = std::fs::read(path).with_context(|| {
            format!("cannot read {} (Home Depot's judgements live in ../shared/data/homedepot-relevance/train.csv, the others are written by scripts/search/relevance-sets.py; they are not part of this repository)", path.display())
        })?;
        let j = search::eval::read(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let t = std::time::Instant::now();
        let ix = search::Index::build(j.titles.iter().map(|s| s.as_str()));
        let index_s = t.elapsed().as_secs_f64();
        eprintln!(
            "{}: indexed {} products in {:.2} s ({:.0} products/s); evaluating {} queries…",
            set_name(path),
            ix.len(),
            index_s,
            ix.len() as f64 / index_s,
            j.queries.len()
        );
        let t = std::time::Instant::now();
        let (pool, all, n) = search::eval::ndcg10(&ix, &j);
        let eval_s = t.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({"set": set_name(path), "ndcg10_pool": (pool * 10000.0).round() / 10000.0, "ndcg10_all": (all * 10000.0).round() / 10000.0, "queries": n, "products": ix.len(),
                "index_s": (index_s * 1000.0).round() / 1000.0, "eval_s": (eval_s * 10.0).round() / 10.0})
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sets_with_one_name_are_refused_before_any_work() {
        let a = PathBuf::from("/data/a/crowdflower/judgements.csv");
        let b = PathBuf::from("/data/b/crowdflower/judgements.csv");
        let hd = PathBuf::from("/data/homedepot-relevance/train.csv");
        assert!(unique_set_names(&[a.clone(), hd.clone()], None).is_ok());
        let err = unique_set_names(&[a.clone(), hd.clone(), b.clone()], None).unwrap_err().to_string();
        assert!(err.contains("/data/a/crowdflower/judgements.csv") && err.contains("/data/b/crowdflower"), "{err}");
        assert!(err.contains("'crowdflower'"), "{err}");
        // A test set is named by its file, and may not share a judgement folder's name either.
        let korean = Path::new("testdata/korean.json");
        assert!(unique_set_names(std::slice::from_ref(&a), Some(korean)).is_ok());
        let clash = PathBuf::from("/data/korean/judgements.csv");
        let err = unique_set_names(&[clash], Some(korean)).unwrap_err().to_string();
        assert!(err.contains("rename the test set's file"), "{err}");
        let err = unique_set_names(&[hd.clone(), hd.clone()], None).unwrap_err().to_string();
        assert!(err.contains("given twice"), "{err}");
    }
}
