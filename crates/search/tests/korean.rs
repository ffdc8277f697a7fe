//! The project's own Korean test set (testdata/korean.json: 385 products, 145 graded Korean and mixed
//! queries covering particles, spacing, typos, synonyms and units, 50 synonym groups) as a regression
//! guard for the analyzer and ranking.

#[test]
fn korean_test_set_holds_its_level() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/korean.json")).unwrap();
    let set: search::eval::TestSet = serde_json::from_str(&text).unwrap();
    assert!(set.products.len() >= 300 && set.queries.len() >= 100);
    let scores = search::eval::score_test_set(&set).unwrap();
    let all = &scores["all"];
    assert!(all.ndcg10 >= 0.78, "nDCG@10 {:.4}", all.ndcg10);
    assert!(all.recall20 >= 0.67, "recall@20 {:.4}", all.recall20);
    for kind in ["particle", "spacing", "typo", "synonym", "unit", "mixed"] {
        assert!(scores[kind].queries >= 15, "{kind}");
        assert!(scores[kind].ndcg10 >= 0.7, "{kind}: nDCG@10 {:.4}", scores[kind].ndcg10);
    }
}
