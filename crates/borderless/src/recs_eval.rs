//! `borderless recs eval`: the next-basket comparison on a history/future split (Ta-Feng's format) of the
//! product's blend against global popularity, personal top-frequency, the blend's own parts, and
//! (when a Python with `implicit` is given) implicit's ALS, all scored by one metric implementation.

use anyhow::{bail, Context, Result};
use recs::eval::{self, Split};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The ALS baseline script, shipped inside the binary so that the comparison runs from any directory.
const IMPLICIT_SCRIPT: &str = include_str!("../../../scripts/recs/implicit_als.py");

pub struct EvalOpts {
    pub history: PathBuf,
    pub future: PathBuf,
    pub implicit_python: Option<PathBuf>,
    pub threads: usize,
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read the {what} file {} (the Ta-Feng split lives in ../shared/data/tafeng as tafeng_history.json and tafeng_future.json; it is not part of this repository)",
            path.display()
        )
    })
}

fn row(scores: recs::metrics::BasketScores, train_s: f64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("recall@10".into(), json!(round(scores.recall10)));
    m.insert("recall@20".into(), json!(round(scores.recall20)));
    m.insert("ndcg@10".into(), json!(round(scores.ndcg10)));
    m.insert("ndcg@20".into(), json!(round(scores.ndcg20)));
    m.insert("train_s".into(), json!((train_s * 1000.0).round() / 1000.0));
    m
}

/// A blend of one signal alone (popularity only breaks ties).
fn alone(f: usize) -> recs::Weights {
    let mut w = [0.0; recs::NF];
    w[recs::F_POPULAR] = 0.001;
    w[f] = 1.0;
    w
}

fn round(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}

/// Runs the comparison, printing progress and a table to stderr and the JSON object as the last stdout line.
pub fn run(o: EvalOpts) -> Result<Value> {
    let started = Instant::now();
    let split =
        eval::read_split(&read(&o.history, "history")?, &read(&o.future, "future")?).map_err(anyhow::Error::msg)?;
    let baskets: usize = split.data.shoppers.iter().map(|s| s.baskets.len()).sum();
    eprintln!(
        "split: {} shoppers, {} history baskets, {} items; predicting each shopper's next basket",
        split.future.len(),
        baskets,
        split.data.n_items
    );
    let mut out = Map::new();

    let (lists, secs) = eval::global_popularity(&split, 20);
    out.insert("global_popularity".into(), Value::Object(row(eval::score_lists(&split, &lists), secs)));
    let (lists, secs) = eval::personal_top_frequency(&split, 20);
    out.insert("personal_top_frequency".into(), Value::Object(row(eval::score_lists(&split, &lists), secs)));

    // TIFU-KNN, a published next-basket model, tuned on the same held-out last baskets.
    eprintln!("tuning TIFU-KNN on each shopper's last history basket…");
    let popular = eval::most_bought(&split.data, 20);
    let t = recs::tifu::tune(&split.data, &popular);
    let (lists, secs) = recs::tifu::lists(&split.data, &t.params, &popular, 20);
    let mut r = row(eval::score_lists(&split, &lists), secs);
    r.insert("tune_s".into(), json!((t.tune_s * 10.0).round() / 10.0));
    r.insert(
        "params".into(),
        json!({"group_size": t.params.group_size, "within": t.params.within, "across": t.params.across,
               "k": t.params.k, "alpha": t.params.alpha}),
    );
    r.insert(
        "validation".into(),
        json!({"recall@20": round(t.validation.recall20), "ndcg@20": round(t.validation.ndcg20)}),
    );
    out.insert("tifu_knn".into(), Value::Object(r));

    eprintln!("tuning the blend on each shopper's last history basket (the future file is not looked at)…");
    let cfg = eval::basket_time_config();
    let report = recs::tune(&split.data, &cfg, &|m| eprintln!("  {m}"));
    let (model, lists, train_s) = eval::blend_lists(&split, &report.params, report.weights, 20);
    let mut b = row(eval::score_lists(&split, &lists), train_s);
    b.insert("tune_s".into(), json!((report.seconds * 10.0).round() / 10.0));
    b.insert(
        "weights".into(),
        Value::Object(recs::FEATURES.iter().zip(report.weights).map(|(k, w)| (k.to_string(), json!(w))).collect()),
    );
    b.insert(
        "validation".into(),
        json!({"shoppers": report.shoppers, "recall@20": round(report.recall20), "ndcg@20": round(report.ndcg20)}),
    );
    drop(model);
    out.insert("borderless".into(), Value::Object(b));

    // Session view. Ta-Feng has no product views, so the session signal's weight cannot be learnt from
    // next baskets; here the blend gives it weight 1 (the other weights as tuned).
    let mut w = report.weights;
    w[recs::F_SESSION] = 1.0;
    let (m, _, _) = eval::blend_lists(&split, &report.params, w, 20);
    let (hr, mrr, n) = eval::session_view(&m, &split, true);
    if let Some(Value::Object(b)) = out.get_mut("borderless") {
        b.insert("hr@20".into(), json!(round(hr)));
        b.insert("mrr@20".into(), json!(round(mrr)));
    }
    // The blend's parts on their own (popularity only breaks ties).
    for (name, f) in [("co_purchase_knn", recs::F_KNN), ("ease", recs::F_EASE)] {
        let w = alone(f);
        let (_, lists, secs) = eval::blend_lists(&split, &report.params, w, 20);
        out.insert(name.into(), Value::Object(row(eval::score_lists(&split, &lists), secs)));
    }
    {
        // The session co-occurrence model alone: reported inside the blend's entry (it cannot predict a next
        // basket without views, so it is not a next-basket model of its own).
        let (m, _, secs) = eval::blend_lists(&split, &report.params, alone(recs::F_SESSION), 20);
        let (hr, mrr, _) = eval::session_view(&m, &split, false);
        if let Some(Value::Object(b)) = out.get_mut("borderless") {
            b.insert(
                "session_knn_alone".into(),
                json!({"hr@20": round(hr), "mrr@20": round(mrr), "train_s": (secs * 1000.0).round() / 1000.0}),
            );
        }
    }
    {
        let (m, _, _) = eval::blend_lists(&split, &report.params, alone(recs::F_POPULAR), 20);
        let (hr, mrr, _) = eval::session_view(&m, &split, false);
        if let Some(Value::Object(g)) = out.get_mut("global_popularity") {
            g.insert("hr@20".into(), json!(round(hr)));
            g.insert("mrr@20".into(), json!(round(mrr)));
        }
    }
    eprintln!("session view: {n} next-item predictions inside the future baskets");

    if let Some(py) = &o.implicit_python {
        eprintln!("running implicit's ALS with {} (tuned on the same validation split)…", py.display());
        let r = implicit_als(&split, py, &o)?;
        out.insert("implicit_als".into(), Value::Object(r));
    }
    print_table(&out);
    eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(Value::Object(out))
}

fn implicit_als(split: &Split, py: &Path, o: &EvalOpts) -> Result<Map<String, Value>> {
    let dir = std::env::temp_dir().join(format!("borderless-als-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("implicit_als.py");
    std::fs::write(&script, IMPLICIT_SCRIPT)?;
    let pred = dir.join("pred.jsonl");
    let status = std::process::Command::new(py)
        .arg(&script)
        .args([
            "--history".as_ref(),
            o.history.as_os_str(),
            "--future".as_ref(),
            o.future.as_os_str(),
            "--out".as_ref(),
            pred.as_os_str(),
        ])
        .args(["--threads", &o.threads.to_string(), "--grid", "small"])
        .status()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !status.success() {
        bail!("the implicit ALS baseline failed ({status}); see its message above");
    }
    let text = std::fs::read_to_string(&pred)?;
    let _ = std::fs::remove_dir_all(&dir);
    let mut lines = text.lines();
    let head: Value = serde_json::from_str(lines.next().unwrap_or("{}"))?;
    let index: std::collections::HashMap<&str, usize> =
        split.shopper_ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); split.future.len()];
    for l in lines {
        let v: Value = serde_json::from_str(l)?;
        let user = v["user"].as_str().unwrap_or_default();
        if let Some(&i) = index.get(user) {
            lists[i] = v["items"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect())
                .unwrap_or_default();
        }
    }
    if lists.iter().all(|l| l.is_empty()) {
        bail!("the ALS baseline returned no predictions");
    }
    let mut r = row(eval::score_lists(split, &lists), head["train_s"].as_f64().unwrap_or(f64::NAN));
    r.insert("tune_s".into(), head["tuning_s"].clone());
    r.insert("params".into(), head["params"].clone());
    r.insert("library".into(), json!(format!("implicit {}", head["implicit_version"].as_str().unwrap_or("?"))));
    Ok(r)
}

fn print_table(out: &Map<String, Value>) {
    eprintln!();
    eprintln!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "model", "R@10", "R@20", "NDCG@10", "NDCG@20", "train_s", "HR@20", "MRR@20"
    );
    for (k, v) in out {
        let f =
            |key: &str| v.get(key).and_then(|x| x.as_f64()).map(|x| format!("{x:.4}")).unwrap_or_else(|| "—".into());
        eprintln!(
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
            k,
            f("recall@10"),
            f("recall@20"),
            f("ndcg@10"),
            f("ndcg@20"),
            f("train_s"),
            f("hr@20"),
            f("mrr@20")
        );
    }
}
