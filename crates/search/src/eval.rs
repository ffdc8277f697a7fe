//! Relevance evaluation on graded judgements in Home Depot's `train.csv` shape
//! (`id,product_uid,product_title,search_term,relevance`, any 1-to-N scale, latin-1 or UTF-8; a row with
//! an empty `search_term` adds a product nobody judged): nDCG@10 re-ranking each query's judged products
//! ("pool"), and searching every product ("all", unjudged hits count as irrelevant); gain = relevance − 1.

use crate::dense::{self, Dense, Fusion};
use crate::Index;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug)]
pub struct Judgements {
    pub titles: Vec<String>,
    /// query → [(document, relevance)]
    pub queries: Vec<(String, Vec<(u32, f32)>)>,
}

fn latin1(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

/// Reads the judgements; errors name the line.
pub fn read(bytes: &[u8]) -> Result<Judgements, String> {
    let mut rd = csv::ReaderBuilder::new().from_reader(bytes);
    let header: Vec<String> =
        rd.byte_headers().map_err(|e| format!("no CSV header: {e}"))?.iter().map(latin1).collect();
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            format!("the CSV has no `{name}` column (it needs product_uid, product_title, search_term, relevance)")
        })
    };
    let (pu, pt, st, rl) = (col("product_uid")?, col("product_title")?, col("search_term")?, col("relevance")?);
    let mut doc_of: HashMap<String, u32> = HashMap::new();
    let mut titles = Vec::new();
    let mut by_query: HashMap<String, usize> = HashMap::new();
    let mut queries: Vec<(String, Vec<(u32, f32)>)> = Vec::new();
    for (n, rec) in rd.byte_records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", n + 2))?;
        let field = |i: usize| rec.get(i).map(latin1).unwrap_or_default();
        let uid = field(pu);
        let d = *doc_of.entry(uid).or_insert_with(|| {
            titles.push(field(pt));
            (titles.len() - 1) as u32
        });
        let q = field(st);
        // A row without a query adds a product nobody judged (a catalog's other products).
        if q.trim().is_empty() {
            continue;
        }
        let rel: f32 = field(rl)
            .trim()
            .parse()
            .map_err(|_| format!("line {}: relevance `{}` is not a number", n + 2, field(rl)))?;
        let qi = *by_query.entry(q.clone()).or_insert_with(|| {
            queries.push((q, Vec::new()));
            queries.len() - 1
        });
        queries[qi].1.push((d, rel));
    }
    if queries.is_empty() {
        return Err("the file holds no judgements".into());
    }
    Ok(Judgements { titles, queries })
}

fn dcg(gains: impl Iterator<Item = f32>) -> f64 {
    gains.take(10).enumerate().map(|(i, g)| g as f64 / ((i + 2) as f64).log2()).sum()
}

/// A query's gains (relevance − 1) by product and its ideal DCG@10; none when nothing judged is relevant.
fn gains(judged: &[(u32, f32)]) -> Option<(HashMap<u32, f32>, f64)> {
    let gain_of: HashMap<u32, f32> = judged.iter().map(|(d, r)| (*d, (r - 1.0).max(0.0))).collect();
    let mut ideal: Vec<f32> = gain_of.values().copied().collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let idcg = dcg(ideal.into_iter());
    (idcg > 0.0).then_some((gain_of, idcg))
}

/// (nDCG@10 over the judged pools, nDCG@10 over all products, queries counted).
pub fn ndcg10(ix: &Index, j: &Judgements) -> (f64, f64, usize) {
    let (mut pool, mut all, mut n) = (0.0, 0.0, 0usize);
    for (q, judged) in &j.queries {
        let Some((gain_of, idcg)) = gains(judged) else {
            continue;
        };
        // In a fixed order: judged products nothing matches keep it, so a map's order would move the figure.
        let mut docs: Vec<u32> = gain_of.keys().copied().collect();
        docs.sort_unstable();
        let ranked = ix.rank(q, &docs);
        pool += dcg(ranked.iter().map(|(d, _)| gain_of[d])) / idcg;
        let hits = ix.search(q, 10);
        all += dcg(hits.iter().map(|(d, _)| gain_of.get(d).copied().unwrap_or(0.0))) / idcg;
        n += 1;
    }
    (pool / n.max(1) as f64, all / n.max(1) as f64, n)
}

/// A test set in the project's own JSON format (`crates/search/testdata/korean.json`): products, graded
/// queries of several kinds, and the seller's synonym groups.
#[derive(Debug, Deserialize)]
pub struct TestSet {
    #[serde(default)]
    pub synonyms: Vec<Vec<String>>,
    pub products: Vec<TestProduct>,
    pub queries: Vec<TestQuery>,
}

#[derive(Debug, Deserialize)]
pub struct TestProduct {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub brand: String,
}

#[derive(Debug, Deserialize)]
pub struct TestQuery {
    pub q: String,
    #[serde(default)]
    pub kind: String,
    pub relevant: BTreeMap<String, f32>,
}

/// nDCG@10 (gain = grade) and recall@20 (share of graded products found) per query kind and overall.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct KindScore {
    pub queries: usize,
    pub ndcg10: f64,
    pub recall20: f64,
}

/// The texts a test set's products are indexed (and embedded) with: title, brand and category words.
pub fn test_set_texts(t: &TestSet) -> Vec<String> {
    t.products.iter().map(|p| format!("{} {} {}", p.title, p.brand, p.category.replace('/', " "))).collect()
}

/// Scores a test set searching all its products with the product's analyzer, ranking and synonyms.
pub fn score_test_set(t: &TestSet) -> Result<BTreeMap<String, KindScore>, String> {
    let mut out = score_test_set_with(t, 1, |ix, _, q| vec![ix.search(q, 20)])?;
    Ok(out.remove(0))
}

/// The semantic side of an evaluation: the products' vectors by position and one vector per query, in
/// the order of the set's queries.
pub struct Semantic<'a> {
    pub dense: &'a Dense,
    pub queries: &'a [dense::Query],
}

impl Semantic<'_> {
    /// Query `qi`'s candidates from both sides, over every product.
    fn candidates(&self, ix: &Index, qi: usize, text: &str) -> Vec<dense::Candidate> {
        let lexical = ix.top(text, dense::LEXICAL_CANDIDATES);
        dense::candidates(ix, self.dense, lexical, &self.queries[qi], dense::SEMANTIC_CANDIDATES, |_| true)
    }
}

/// How many documents hold a one-word query, counted up to the largest `broad_matches` of `fusions`
/// (read once per query for every setting).
fn word_held(ix: &Index, q: &str, fusions: &[Fusion]) -> Option<usize> {
    let cap = fusions.iter().map(|f| f.broad_matches as usize).max().unwrap_or(0);
    (cap > 0).then(|| ix.one_word_documents(q, cap)).flatten()
}

/// Scores a test set once per fusion setting (lexical and semantic candidates fused, [`dense::fuse`]).
pub fn score_test_set_fused(
    t: &TestSet,
    sem: &Semantic,
    fusions: &[Fusion],
) -> Result<Vec<BTreeMap<String, KindScore>>, String> {
    if sem.queries.len() != t.queries.len() {
        return Err(format!("{} query vectors for {} queries", sem.queries.len(), t.queries.len()));
    }
    score_test_set_with(t, fusions.len(), |ix, qi, q| {
        let c = sem.candidates(ix, qi, q);
        let held = word_held(ix, q, fusions);
        fusions.iter().map(|&f| dense::fuse(&c, f.given_word_held(held)).into_iter().take(20).collect()).collect()
    })
}

/// One test-set query with a relevant product: its position in the set, its gains by product and its ideal
/// DCG@10.
struct JudgedQuery {
    query: usize,
    gains: HashMap<u32, f32>,
    idcg: f64,
}

/// A test set's index (its products' texts, its synonyms) and every query with a relevant product.
fn test_set_judged(t: &TestSet) -> Result<(Index, Vec<JudgedQuery>), String> {
    let pos: HashMap<&str, u32> = t.products.iter().enumerate().map(|(i, p)| (p.id.as_str(), i as u32)).collect();
    let texts = test_set_texts(t);
    let mut ix = Index::build(texts.iter().map(|s| s.as_str()));
    ix.set_synonyms(&t.synonyms);
    let mut judged = Vec::new();
    for (qi, q) in t.queries.iter().enumerate() {
        let mut gains: HashMap<u32, f32> = HashMap::new();
        for (id, g) in &q.relevant {
            let d = *pos.get(id.as_str()).ok_or_else(|| format!("query `{}` grades unknown product `{id}`", q.q))?;
            gains.insert(d, *g);
        }
        let mut ideal: Vec<f32> = gains.values().copied().collect();
        ideal.sort_by(|a, b| b.total_cmp(a));
        let idcg = dcg(ideal.into_iter());
        if idcg > 0.0 {
            judged.push(JudgedQuery { query: qi, gains, idcg });
        }
    }
    Ok((ix, judged))
}

/// Scores `variants` rankings of every query: `rank(index, query position, text)` returns one list of
/// hits per variant.
fn score_test_set_with(
    t: &TestSet,
    variants: usize,
    rank: impl Fn(&Index, usize, &str) -> Vec<Vec<(u32, f32)>>,
) -> Result<Vec<BTreeMap<String, KindScore>>, String> {
    let (ix, judged) = test_set_judged(t)?;
    let mut out: Vec<BTreeMap<String, KindScore>> = vec![BTreeMap::new(); variants];
    for JudgedQuery { query: qi, gains, idcg } in judged {
        let q = &t.queries[qi];
        for (v, hits) in rank(&ix, qi, &q.q).into_iter().enumerate().take(variants) {
            let hits = &hits[..hits.len().min(20)];
            let nd = dcg(hits.iter().map(|(d, _)| gains.get(d).copied().unwrap_or(0.0))) / idcg;
            let rec = hits.iter().filter(|(d, _)| gains.contains_key(d)).count() as f64 / gains.len() as f64;
            for k in [q.kind.clone(), "all".to_owned()] {
                let e = out[v].entry(if k.is_empty() { "plain".into() } else { k }).or_default();
                e.queries += 1;
                e.ndcg10 += nd;
                e.recall20 += rec;
            }
        }
    }
    for e in out.iter_mut().flat_map(|m| m.values_mut()) {
        e.ndcg10 /= e.queries.max(1) as f64;
        e.recall20 /= e.queries.max(1) as f64;
    }
    Ok(out)
}

/// nDCG@10 searching every product (unjudged hits irrelevant, gain = relevance − 1) once per fusion
/// setting; `sem.queries` follows `j.queries`. Queries are spread over `threads` threads.
pub fn ndcg10_all_fused(
    ix: &Index,
    j: &Judgements,
    sem: &Semantic,
    fusions: &[Fusion],
    threads: usize,
) -> Result<Vec<f64>, String> {
    if sem.queries.len() != j.queries.len() {
        return Err(format!("{} query vectors for {} queries", sem.queries.len(), j.queries.len()));
    }
    let threads = threads.max(1);
    let chunk = j.queries.len().div_ceil(threads);
    let parts: Vec<(Vec<f64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut sums = vec![0.0; fusions.len()];
                    let mut n = 0;
                    let end = ((t + 1) * chunk).min(j.queries.len());
                    for qi in (t * chunk).min(end)..end {
                        let (q, judged) = &j.queries[qi];
                        let Some((gain_of, idcg)) = gains(judged) else {
                            continue;
                        };
                        let c = sem.candidates(ix, qi, q);
                        let held = word_held(ix, q, fusions);
                        for (f, sum) in fusions.iter().zip(sums.iter_mut()) {
                            let hits = dense::fuse(&c, f.given_word_held(held));
                            *sum += dcg(hits.iter().map(|(d, _)| gain_of.get(d).copied().unwrap_or(0.0))) / idcg;
                        }
                        n += 1;
                    }
                    (sums, n)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("an evaluation thread panicked")).collect()
    });
    let n: usize = parts.iter().map(|p| p.1).sum();
    Ok((0..fusions.len()).map(|w| parts.iter().map(|p| p.0[w]).sum::<f64>() / n.max(1) as f64).collect())
}

/// Every query's fused-ranking candidates with their grades, one JSON object a line (`q`, `kind` (empty
/// here), `idcg`, and `c`: `[doc, lexical, cosine, gain]`, gain 0 when unjudged): what an analysis of per-query fusion reads.
pub fn candidate_lines(ix: &Index, j: &Judgements, sem: &Semantic) -> Vec<String> {
    let mut out = Vec::new();
    for (qi, (q, judged)) in j.queries.iter().enumerate() {
        let Some((gain_of, idcg)) = gains(judged) else {
            continue;
        };
        out.push(candidate_line(q, "", idcg, &sem.candidates(ix, qi, q), &gain_of));
    }
    out
}

/// [`candidate_lines`] for a test set (searched with its synonyms; `kind` is the query's).
pub fn test_set_candidate_lines(t: &TestSet, sem: &Semantic) -> Result<Vec<String>, String> {
    let (ix, judged) = test_set_judged(t)?;
    Ok(judged
        .into_iter()
        .map(|JudgedQuery { query: qi, gains: gain_of, idcg }| {
            let q = &t.queries[qi];
            candidate_line(&q.q, &q.kind, idcg, &sem.candidates(&ix, qi, &q.q), &gain_of)
        })
        .collect())
}

fn candidate_line(q: &str, kind: &str, idcg: f64, c: &[dense::Candidate], gain_of: &HashMap<u32, f32>) -> String {
    let rows: Vec<(u32, f32, f32, f32)> =
        c.iter().map(|c| (c.doc, c.lexical, c.cosine, gain_of.get(&c.doc).copied().unwrap_or(0.0))).collect();
    serde_json::json!({ "q": q, "kind": kind, "idcg": idcg, "c": rows }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_judgements_and_scores_a_perfect_ranking() {
        let csv = "id,product_uid,product_title,search_term,relevance\n1,10,Angle Bracket,angle bracket,3\n2,11,Deck Paint,angle bracket,1\n3,11,Deck Paint,deck paint,3\n";
        let j = read(csv.as_bytes()).unwrap();
        assert_eq!(j.titles.len(), 2);
        let ix = Index::build(j.titles.iter().map(|s| s.as_str()));
        let (pool, all, n) = ndcg10(&ix, &j);
        assert_eq!(n, 2);
        assert!((pool - 1.0).abs() < 1e-9 && (all - 1.0).abs() < 1e-9, "{pool} {all}");
        assert!(read(b"a,b\n1,2\n").unwrap_err().contains("product_uid"));
        let j = read("product_uid,product_title,search_term,relevance\n1,Mug,mug,3\n2,Plate,,\n".as_bytes()).unwrap();
        assert_eq!((j.titles.len(), j.queries.len(), j.queries[0].1.len()), (2, 1, 1), "an unjudged product: {j:?}");
        assert!(read("id,product_uid,product_title,search_term,relevance\n1,1,t,q,high\n".as_bytes())
            .unwrap_err()
            .contains("line 2"));
    }
}
