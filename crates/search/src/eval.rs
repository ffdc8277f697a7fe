//! Relevance evaluation on graded judgements in Home Depot's `train.csv` shape
//! (`id,product_uid,product_title,search_term,relevance`, any 1-to-N scale, latin-1 or UTF-8): nDCG@10
//! re-ranking each query's judged products ("pool"), and searching every product ("all", unjudged hits
//! count as irrelevant); gain = relevance − 1.

use crate::Index;
use std::collections::HashMap;

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
    let header: Vec<String> = rd.byte_headers().map_err(|e| format!("no CSV header: {e}"))?.iter().map(latin1).collect();
    let col = |name: &str| header.iter().position(|h| h == name).ok_or_else(|| format!("the CSV has no `{name}` column (it needs product_uid, product_title, search_term, relevance)"));
    let (pu, pt, st, rl) = (col("product_uid")?, col("product_title")?, col("search_term")?, col("relevance")?);
    let mut doc_of: HashMap<String, u32> = HashMap::new();
    let mut titles = Vec::new();
    let mut by_query: HashMap<String, usize> = HashMap::new();
    let mut queries: Vec<(String, Vec<(u32, f32)>)> = Vec::new();
    for (n, rec) in rd.byte_records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", n + 2))?;
        let field = |i: usize| rec.get(i).map(latin1).unwrap_or_default();
        let rel: f32 = field(rl).trim().parse().map_err(|_| format!("line {}: relevance `{}` is not a number", n + 2, field(rl)))?;
        let uid = field(pu);
        let d = *doc_of.entry(uid).or_insert_with(|| {
            titles.push(field(pt));
            (titles.len() - 1) as u32
        });
        let q = field(st);
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

/// (nDCG@10 over the judged pools, nDCG@10 over all products, queries counted).
pub fn ndcg10(ix: &Index, j: &Judgements) -> (f64, f64, usize) {
    let (mut pool, mut all, mut n) = (0.0, 0.0, 0usize);
    for (q, judged) in &j.queries {
        let gain_of: HashMap<u32, f32> = judged.iter().map(|(d, r)| (*d, (r - 1.0).max(0.0))).collect();
        let mut ideal: Vec<f32> = gain_of.values().copied().collect();
        ideal.sort_by(|a, b| b.total_cmp(a));
        let idcg = dcg(ideal.into_iter());
        if idcg <= 0.0 {
            continue;
        }
        let docs: Vec<u32> = gain_of.keys().copied().collect();
        let ranked = ix.rank(q, &docs);
        pool += dcg(ranked.iter().map(|(d, _)| gain_of[d])) / idcg;
        let hits = ix.search(q, 10);
        all += dcg(hits.iter().map(|(d, _)| gain_of.get(d).copied().unwrap_or(0.0))) / idcg;
        n += 1;
    }
    (pool / n.max(1) as f64, all / n.max(1) as f64, n)
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
        assert!(read("id,product_uid,product_title,search_term,relevance\n1,1,t,q,high\n".as_bytes()).unwrap_err().contains("line 2"));
    }
}
