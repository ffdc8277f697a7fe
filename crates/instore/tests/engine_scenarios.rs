//! Engine scenarios on a small hand-built store: near-equal neighbours told apart by the plate
//! split, a put-back onto the wrong shelf, two shoppers at once, the review queue.

use instore::engine::{EngineEvent, Resolution, ReviewReason};
use instore::recording::{FacingRow, PlanogramRow};
use instore::{Assignment, Engine, EngineConfig, Joint, PlateKey, StoreLayout, TrackFrame, Vec3};
use rand::{Rng, SeedableRng};

const W: f64 = 0.1016;

/// Shelf 1: A 500 g (plates 1-2), B 505 g (3-4), C 300 g (5-6). Shelf 2: D 800 g (1-3), E 250 g (4-6).
fn layout() -> StoreLayout {
    let prods = [
        (1u16, 1u16, 2u16, "A", 500.0),
        (1, 3, 4, "B", 505.0),
        (1, 5, 6, "C", 300.0),
        (2, 1, 3, "D", 800.0),
        (2, 4, 6, "E", 250.0),
    ];
    let mut planogram = Vec::new();
    let mut facings = Vec::new();
    for (shelf, a, b, code, w) in prods {
        for p in a..=b {
            planogram.push(PlanogramRow {
                plate: PlateKey { gondola: 1, shelf, plate: p },
                barcode: Some(code.into()),
                name: code.into(),
                unit_weight_g: w,
            });
        }
        facings.push(FacingRow {
            barcode: Some(code.into()),
            gondola: 1,
            shelf,
            plates: (a..=b).collect(),
            corner: Vec3::new((a - 1) as f64 * W, 0.0, 0.3 * shelf as f64),
            dim: Vec3::new((b - a + 1) as f64 * W, 0.4064, 0.25),
        });
    }
    StoreLayout::build(&planogram, &facings, &[]).unwrap()
}

/// Plate x centre and shelf z of a plate.
fn spot(shelf: u16, plate: u16) -> Vec3 {
    Vec3::new((plate as f64 - 0.5) * W, 0.2, 0.3 * shelf as f64 + 0.1)
}

struct Shopper {
    id: &'static str,
    x: f64,
    /// (t0, t1, where the hand is) reaches.
    reaches: Vec<(f64, f64, Vec3)>,
}

fn frame(s: &Shopper, t: f64) -> TrackFrame {
    let mut f = TrackFrame::new(t, s.id);
    let body = Vec3::new(s.x, 0.8, 1.4);
    f.joints[Joint::Neck.index()] = Some(body);
    f.joints[Joint::Head.index()] = Some(Vec3::new(s.x, 0.8, 1.6));
    let rest = Vec3::new(s.x - 0.2, 0.8, 0.8);
    let hand = s.reaches.iter().find(|r| t >= r.0 && t <= r.1).map_or(rest, |r| r.2);
    f.joints[Joint::RWrist.index()] = Some(hand);
    f.joints[Joint::RHand.index()] = Some(hand);
    f.joints[Joint::LWrist.index()] = Some(Vec3::new(s.x + 0.2, 0.8, 0.8));
    f
}

/// Plate changes: (t0, t1, shelf, plate, delta g) with a noisy transient in between.
fn run(engine: &mut Engine, secs: f64, changes: &[(f64, f64, u16, u16, f64)], shoppers: &[Shopper]) {
    run_with_exits(engine, secs, changes, shoppers, &mut Vec::new());
}

/// Like [`run`], but shopper `id` leaves at `t` for each `(t, id, None)` in `exits`; the
/// receipt (barcode, quantity) it got is stored in the third field.
#[allow(clippy::type_complexity)]
fn run_with_exits(
    engine: &mut Engine,
    secs: f64,
    changes: &[(f64, f64, u16, u16, f64)],
    shoppers: &[Shopper],
    exits: &mut Vec<(f64, &'static str, Option<Vec<(String, u32)>>)>,
) {
    run_full(engine, secs, changes, shoppers, exits, &|_| 3.4);
}

/// Like [`run_with_exits`], with the width of each plate's uniform noise (g) from `noise`
/// (3.4 g everywhere elsewhere: σ ≈ 0.6 g).
#[allow(clippy::type_complexity)]
fn run_full(
    engine: &mut Engine,
    secs: f64,
    changes: &[(f64, f64, u16, u16, f64)],
    shoppers: &[Shopper],
    exits: &mut Vec<(f64, &'static str, Option<Vec<(String, u32)>>)>,
    noise: &dyn Fn(PlateKey) -> f64,
) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let n = engine.layout().plate_count() as u32;
    let base: Vec<f64> = (0..n).map(|p| 1000.0 + 100.0 * p as f64).collect();
    let mut next_frame = 0.0;
    let mut t = 0.0;
    while t < secs {
        for x in exits.iter_mut().filter(|x| x.2.is_none() && t >= x.0) {
            let r = engine.exit(x.1, t).unwrap().receipt;
            x.2 = Some(r.items.into_iter().map(|l| (l.barcode, l.quantity)).collect());
        }
        if t >= next_frame {
            for s in shoppers {
                engine.push_track(&frame(s, t)).unwrap();
            }
            next_frame += 1.0 / 11.0;
        }
        for p in 0..n {
            let key = engine.layout().plate_key(p);
            let mut g = base[p as usize] + 0.6 * (rng.random::<f64>() - 0.5) * noise(key);
            for &(t0, t1, shelf, plate, d) in changes {
                if key.shelf == shelf && key.plate == plate {
                    if t >= t1 {
                        g += d;
                    } else if t >= t0 {
                        g += d * 0.5 + d.abs() * 0.4 * (t * 20.0).sin();
                    }
                }
            }
            engine.push_plate(p, t, g as f32);
        }
        t += 1.0 / 60.0;
    }
    engine.finish(secs);
}

fn cart(engine: &Engine, id: &str) -> Vec<(String, u32)> {
    engine.receipt(id).unwrap().items.into_iter().map(|l| (l.barcode, l.quantity)).collect()
}

#[test]
fn near_equal_neighbours_are_told_apart_by_the_plate_split() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s = Shopper { id: "s1", x: 0.3, reaches: vec![(4.5, 6.5, spot(1, 2)), (9.5, 11.5, spot(1, 3))] };
    // A (500 g) leaves plate 2 only but weighs closer to B; later B (505 g) leaves plate 3 weighing closer to A.
    run(&mut e, 16.0, &[(5.0, 6.0, 1, 2, -504.0), (10.0, 11.0, 1, 3, -501.0)], &[s]);
    assert_eq!(cart(&e, "s1"), vec![("A".into(), 1), ("B".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
}

#[test]
fn put_back_on_the_wrong_shelf_updates_cart_and_live_planogram() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s = Shopper {
        id: "s1",
        x: 0.5,
        reaches: vec![(4.5, 6.5, spot(1, 5)), (9.5, 11.5, spot(2, 5)), (14.5, 16.5, spot(2, 5))],
    };
    // Picks C (300 g) on shelf 1, puts it on shelf 2 among E (250 g), then picks it again there.
    run(&mut e, 20.0, &[(5.0, 6.0, 1, 5, -300.2), (10.0, 11.0, 2, 5, 300.2), (15.0, 16.0, 2, 5, -300.2)], &[s]);
    let ups: Vec<(String, i32)> = e
        .drain_events()
        .into_iter()
        .filter_map(|ev| match ev {
            EngineEvent::CartUpdated { barcode, quantity, .. } => Some((barcode, quantity)),
            _ => None,
        })
        .collect();
    assert_eq!(ups, vec![("C".into(), 1), ("C".into(), -1), ("C".into(), 1)]);
    assert_eq!(e.stats().misplaced_returns, 1);
    assert_eq!(cart(&e, "s1"), vec![("C".into(), 1)]);
}

#[test]
fn a_misplaced_item_taken_with_the_product_it_lay_among_is_charged_with_it() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s = Shopper {
        id: "s1",
        x: 0.5,
        reaches: vec![(4.5, 6.5, spot(1, 5)), (9.5, 11.5, spot(2, 5)), (14.5, 16.5, spot(2, 5))],
    };
    // Picks C (300 g), leaves it among E (250 g) on shelf 2, then takes an E and the C in one grab:
    // 550 g, which no number of units of one product explains.
    run(&mut e, 20.0, &[(5.0, 6.0, 1, 5, -300.2), (10.0, 11.0, 2, 5, 300.2), (15.0, 16.0, 2, 5, -550.1)], &[s]);
    assert_eq!(cart(&e, "s1"), vec![("C".into(), 1), ("E".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
}

#[test]
fn an_unsure_grab_of_a_product_with_a_misplaced_item_is_one_review_of_both() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // As above, s1 leaves a C (300 g) among the E (250 g) on shelf 2; then s1 and s2 both have a hand in
    // E's facing while an E and the C leave in one grab (550 g). One hand took both, so the pair is one
    // review (staff give both lines at once), never a review per line that could split the grab
    // between the two shoppers or charge a unit twice.
    let s1 = Shopper {
        id: "s1",
        x: 0.5,
        reaches: vec![(4.5, 6.5, spot(1, 5)), (9.5, 11.5, spot(2, 5)), (14.5, 16.5, spot(2, 5))],
    };
    let s2 = Shopper { id: "s2", x: 0.55, reaches: vec![(14.5, 16.5, spot(2, 5))] };
    run(&mut e, 20.0, &[(5.0, 6.0, 1, 5, -300.2), (10.0, 11.0, 2, 5, 300.2), (15.0, 16.0, 2, 5, -550.1)], &[s1, s2]);
    let pending: Vec<_> = e.pending_reviews().cloned().collect();
    assert_eq!(pending.len(), 1, "{pending:#?}");
    let r = &pending[0];
    let mut pair: Vec<(&str, i32)> = r.products[0].iter().map(|l| (l.barcode.as_str(), l.quantity)).collect();
    pair.sort();
    assert_eq!(pair, vec![("C", 1), ("E", 1)], "{r:#?}");
    assert!((r.delta_g + 550.1).abs() < 5.0, "{r:#?}");
    assert_eq!(r.shoppers.len(), 2, "{r:#?}");
    // Nothing of the grab was charged while it waits.
    assert!(cart(&e, "s1").is_empty() && cart(&e, "s2").is_empty());
    let line = |t: &str, b: &str| Assignment { target_id: t.into(), barcode: b.into(), quantity: 1 };
    e.resolve_review(r.id, Resolution::AssignLines(vec![line("s2", "C"), line("s2", "E")])).unwrap();
    assert_eq!(cart(&e, "s2"), vec![("C".into(), 1), ("E".into(), 1)]);
    assert!(cart(&e, "s1").is_empty());
}

#[test]
fn the_part_of_an_item_on_a_noisy_neighbour_plate_is_counted_without_triggering_it() {
    // Plate 6 of shelf 1 is noisy (σ ≈ 6 g, so it triggers only past 24 g): C (300 g) leaves 278 g
    // on plate 5 and 22 g on plate 6. Alone, 278 g is 22 g short of a C (5 σ of the fit): review.
    let noisy = |k: PlateKey| if k.shelf == 1 && k.plate == 6 { 34.0 } else { 3.4 };
    let s = || Shopper { id: "s1", x: 0.5, reaches: vec![(4.5, 6.5, spot(1, 5))] };
    let changes = [(5.0, 6.0, 1, 5, -278.0), (5.0, 6.0, 1, 6, -22.0)];
    let mut e = Engine::new(layout(), EngineConfig::default());
    run_full(&mut e, 12.0, &changes, &[s()], &mut Vec::new(), &noisy);
    assert_eq!(cart(&e, "s1"), vec![("C".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
    // The same without the part on plate 6 (a lighter product's weight) is still no C.
    let mut e = Engine::new(layout(), EngineConfig::default());
    run_full(&mut e, 12.0, &changes[..1], &[s()], &mut Vec::new(), &noisy);
    assert!(cart(&e, "s1").is_empty());
}

#[test]
fn a_return_beside_someone_elses_pick_is_two_events() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // s1 picks C (300 g, plate 5), then returns it while s2 takes B (505 g) from plate 4 next to it:
    // the two plates settle together at −205 g, which no product explains.
    let s1 = Shopper { id: "s1", x: 0.6, reaches: vec![(4.5, 6.5, spot(1, 5)), (14.5, 16.5, spot(1, 5))] };
    let s2 = Shopper { id: "s2", x: 0.25, reaches: vec![(14.5, 16.5, spot(1, 4))] };
    run(&mut e, 20.0, &[(5.0, 6.0, 1, 5, -300.1), (15.0, 16.0, 1, 5, 300.1), (15.0, 16.0, 1, 4, -505.2)], &[s1, s2]);
    assert_eq!(cart(&e, "s1"), vec![]);
    assert_eq!(cart(&e, "s2"), vec![("B".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
}

#[test]
fn a_unit_sliding_to_the_next_plate_changes_no_cart() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // s1 holds a C and has a hand in C's facing while a C slides from plate 5 to plate 6: −300 g and
    // +300 g at once. Nothing left the shelf; no pick and no return.
    let s = Shopper { id: "s1", x: 0.5, reaches: vec![(4.5, 6.5, spot(1, 5)), (14.5, 16.5, spot(1, 6))] };
    run(&mut e, 20.0, &[(5.0, 6.0, 1, 5, -300.1), (15.0, 16.0, 1, 5, -300.0), (15.0, 16.0, 1, 6, 300.0)], &[s]);
    let ups = e.drain_events().into_iter().filter(|ev| matches!(ev, EngineEvent::CartUpdated { .. })).count();
    assert_eq!(ups, 1, "only the first pick");
    assert_eq!(cart(&e, "s1"), vec![("C".into(), 1)]);
}

#[test]
fn a_return_beside_someone_elses_pick_of_the_same_product_is_two_events() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // s1 returns its C to plate 5 while s2 takes a C from plate 6: the facing nets to zero, as if nothing
    // happened, but each side had its own hand.
    let s1 = Shopper { id: "s1", x: 0.75, reaches: vec![(4.5, 6.5, spot(1, 5)), (14.5, 16.5, spot(1, 5))] };
    let s2 = Shopper { id: "s2", x: 0.95, reaches: vec![(14.5, 16.5, spot(1, 6))] };
    run(&mut e, 20.0, &[(5.0, 6.0, 1, 5, -300.1), (15.0, 16.0, 1, 5, 300.1), (15.0, 16.0, 1, 6, -300.0)], &[s1, s2]);
    let why = format!("{:?}", e.reviews());
    assert_eq!(cart(&e, "s1"), vec![], "{why}");
    assert_eq!(cart(&e, "s2"), vec![("C".into(), 1)], "{why}");
}

#[test]
fn two_shoppers_taking_at_once_beside_a_misplaced_item_are_not_one_grab() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // s1 takes an E (250 g) and leaves it on plate 2 of shelf 2, among the D (800 g). Then s2 takes a D from
    // plate 2 while s3 takes an E from plate 4: the E lying on plate 2 makes both lines stand on plate 2
    // (and one grab of a D with that E would weigh the same), yet two hands went in, each into its facing.
    let s1 = Shopper { id: "s1", x: 0.9, reaches: vec![(4.5, 6.5, spot(2, 4)), (9.5, 11.5, spot(2, 2))] };
    let s2 = Shopper { id: "s2", x: 0.05, reaches: vec![(14.5, 16.5, spot(2, 2))] };
    let s3 = Shopper { id: "s3", x: 0.45, reaches: vec![(14.5, 16.5, spot(2, 4))] };
    run(
        &mut e,
        20.0,
        &[(5.0, 6.0, 2, 4, -250.1), (10.0, 11.0, 2, 2, 250.1), (15.0, 16.0, 2, 2, -800.0), (15.0, 16.0, 2, 4, -250.1)],
        &[s1, s2, s3],
    );
    let why = format!("{:?}", e.reviews());
    assert_eq!(cart(&e, "s1"), vec![], "{why}");
    assert_eq!(cart(&e, "s2"), vec![("D".into(), 1)], "{why}");
    assert_eq!(cart(&e, "s3"), vec![("E".into(), 1)], "{why}");
}

#[test]
fn two_leaning_picks_in_a_row_are_two_units() {
    // As the noisy-plate test, then a second C right after: each pick's part on plate 6 is counted with its
    // own pick (the first one's becomes plate 6's level once counted).
    let noisy = |k: PlateKey| if k.shelf == 1 && k.plate == 6 { 34.0 } else { 3.4 };
    let s = Shopper { id: "s1", x: 0.5, reaches: vec![(4.5, 6.5, spot(1, 5)), (7.3, 9.3, spot(1, 5))] };
    let changes =
        [(5.0, 6.0, 1, 5, -278.0), (5.0, 6.0, 1, 6, -22.0), (7.8, 8.8, 1, 5, -278.0), (7.8, 8.8, 1, 6, -22.0)];
    let mut e = Engine::new(layout(), EngineConfig::default());
    run_full(&mut e, 14.0, &changes, &[s], &mut Vec::new(), &noisy);
    assert_eq!(cart(&e, "s1"), vec![("C".into(), 2)]);
    assert_eq!(e.pending_reviews().count(), 0);
}

#[test]
fn two_shoppers_are_attributed_by_their_hands() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // s1 stands at C but reaches A (crossed); s2 stands at A and reaches C at the same time.
    let s1 = Shopper { id: "s1", x: 0.55, reaches: vec![(4.5, 6.5, spot(1, 1))] };
    let s2 = Shopper { id: "s2", x: 0.1, reaches: vec![(4.6, 6.6, spot(1, 6))] };
    run(&mut e, 12.0, &[(5.0, 6.0, 1, 1, -499.0), (5.1, 6.1, 1, 6, -301.0)], &[s1, s2]);
    assert_eq!(cart(&e, "s1"), vec![("A".into(), 1)]);
    assert_eq!(cart(&e, "s2"), vec![("C".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
}

#[test]
fn ambiguous_event_goes_to_review_and_can_be_resolved() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // Both shoppers have a hand in D's box while D loses 800 g.
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(2, 2))] };
    let s2 = Shopper { id: "s2", x: 0.3, reaches: vec![(4.5, 6.5, spot(2, 2))] };
    run(&mut e, 12.0, &[(5.0, 6.0, 2, 2, -800.0)], &[s1, s2]);
    let pending: Vec<_> = e.pending_reviews().cloned().collect();
    assert_eq!(pending.len(), 1);
    let r = &pending[0];
    assert_eq!(r.reason, ReviewReason::LowConfidence);
    assert_eq!(r.shoppers.len(), 2);
    assert_eq!(r.products[0][0].barcode, "D");
    assert!(cart(&e, "s1").is_empty() && cart(&e, "s2").is_empty());
    assert_eq!(e.exit("s1", 12.0).unwrap().pending_reviews, 1);
    e.resolve_review(r.id, Resolution::Assign { target_id: "s2".into(), barcode: "D".into(), quantity: 1 }).unwrap();
    assert_eq!(cart(&e, "s2"), vec![("D".into(), 1)]);
    assert_eq!(e.exit("s2", 12.0).unwrap().pending_reviews, 0);
    assert!(e.resolve_review(r.id, Resolution::Dismiss).is_err());
}

#[test]
fn one_review_can_be_settled_with_several_lines_all_or_none() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // Two units of D leave while both shoppers have a hand in D's box: one review of D × 2, which
    // only a resolution of two lines (one unit each) settles truly.
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(2, 2))] };
    let s2 = Shopper { id: "s2", x: 0.3, reaches: vec![(4.5, 6.5, spot(2, 2))] };
    run(&mut e, 12.0, &[(5.0, 6.0, 2, 2, -1600.0)], &[s1, s2]);
    let pending: Vec<_> = e.pending_reviews().cloned().collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let id = pending[0].id;
    assert_eq!((pending[0].products[0][0].barcode.as_str(), pending[0].products[0][0].quantity), ("D", 2));
    let line = |t: &str, b: &str, q: i32| Assignment { target_id: t.into(), barcode: b.into(), quantity: q };
    // A bad line anywhere applies nothing: a duplicate, an unknown product, a zero, an empty list.
    for bad in [
        vec![line("s1", "D", 1), line("s1", "D", 1)],
        vec![line("s1", "D", 1), line("s2", "NOPE", 1)],
        vec![line("s1", "D", 1), line("s3", "D", 1)],
        vec![line("s1", "D", 1), line("s2", "D", 0)],
        vec![],
    ] {
        assert!(e.resolve_review(id, Resolution::AssignLines(bad)).is_err());
        assert!(cart(&e, "s1").is_empty() && cart(&e, "s2").is_empty());
    }
    e.resolve_review(id, Resolution::AssignLines(vec![line("s1", "D", 1), line("s2", "D", 1)])).unwrap();
    assert_eq!(cart(&e, "s1"), vec![("D".into(), 1)]);
    assert_eq!(cart(&e, "s2"), vec![("D".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
    assert!(e.resolve_review(id, Resolution::AssignLines(vec![line("s1", "D", 1)])).is_err());
}

#[test]
fn a_line_of_a_two_product_event_is_reviewed_on_its_own() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // A and B leave neighbouring plates at once while both shoppers reach over both: each line is a
    // review of its own, listing single lines of the products on its plates (never the pair, which
    // assigned in both reviews would charge each unit twice).
    let both = |id, x| Shopper { id, x, reaches: vec![(4.5, 5.5, spot(1, 2)), (5.5, 6.5, spot(1, 3))] };
    run(&mut e, 12.0, &[(5.0, 6.0, 1, 2, -500.0), (5.0, 6.0, 1, 3, -505.0)], &[both("s1", 0.2), both("s2", 0.4)]);
    let pending: Vec<_> = e.pending_reviews().cloned().collect();
    assert_eq!(pending.len(), 2, "{pending:#?}");
    for (r, (code, grams)) in pending.iter().zip([("A", -500.0), ("B", -505.0)]) {
        assert_eq!(r.products[0][0].barcode, code, "{r:#?}");
        // Single lines that explain this review's own weight (one unit of A or of its neighbour B),
        // never a quantity fitted to the whole event's.
        assert!(r.products.iter().all(|alt| alt.len() == 1 && alt[0].quantity == 1), "{r:#?}");
        assert!((r.delta_g - grams).abs() < 5.0, "{r:#?}");
    }
}

#[test]
fn unexplained_weight_without_shoppers_is_reviewed_not_applied() {
    // A tracked store whose tracker saw nobody near (the gates' fallback is the next test's).
    let mut e = Engine::new(layout(), EngineConfig { weight_only_fallback: false, ..EngineConfig::default() });
    e.enter("s1", 0.0, Some("app-token-1")).unwrap();
    assert_eq!(e.token("s1"), Some("app-token-1"));
    // A restock of +2000 g on E while nobody holds anything.
    run(&mut e, 10.0, &[(4.0, 5.0, 2, 5, 2000.0)], &[]);
    let pending: Vec<_> = e.pending_reviews().collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].reason, ReviewReason::UnexplainedWeight);
    assert!(pending[0].shoppers.is_empty());
    assert!(cart(&e, "s1").is_empty());
    // Nobody was within reach: the item stays in the staff queue but holds no visit.
    assert_eq!(e.exit("s1", 10.0).unwrap().pending_reviews, 0);
    assert_eq!(e.pending_reviews().count(), 1);
}

/// A store without a body tracker (a smart cabinet, a one-at-a-time shop): the gates say who is inside.
/// A shopper alone gets the shelf events of their visit, and nobody who entered later does; with two
/// inside, an event goes to review listing both and touches neither cart.
#[test]
fn without_tracks_the_gates_say_who_took_it() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    e.enter("alone", 0.0, None).unwrap();
    e.enter("later", 6.0, None).unwrap();
    let mut exits = vec![(5.5, "alone", None)];
    // D (800 g over plates 1-3 of shelf 2) leaves from plate 2.
    run_with_exits(&mut e, 9.0, &[(2.0, 3.0, 2, 2, -800.0)], &[], &mut exits);
    assert_eq!(exits[0].2.as_deref(), Some(&[("D".to_string(), 1)][..]), "the one inside took it");
    assert!(cart(&e, "later").is_empty());
    assert_eq!(e.pending_reviews().count(), 0);

    let mut e = Engine::new(layout(), EngineConfig::default());
    e.enter("a", 0.0, None).unwrap();
    e.enter("b", 1.0, None).unwrap();
    run(&mut e, 9.0, &[(2.0, 3.0, 2, 2, -800.0)], &[]);
    let pending: Vec<_> = e.pending_reviews().collect();
    assert_eq!(pending.len(), 1, "two inside: staff decide");
    let mut who: Vec<&str> = pending[0].shoppers.iter().map(|c| c.target_id.as_str()).collect();
    who.sort_unstable();
    assert_eq!(who, ["a", "b"]);
    assert!(cart(&e, "a").is_empty() && cart(&e, "b").is_empty());
}

#[test]
fn review_holds_only_the_shoppers_near_the_event() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    // s1 reaches into D; s2 and s3 shop elsewhere (hands at rest, far from shelf 2's box);
    // an unexplained +2000 g lands on E while s1's hand is in the neighbouring box.
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(3.5, 5.5, spot(2, 3))] };
    let s2 = Shopper { id: "s2", x: 3.0, reaches: vec![] };
    let s3 = Shopper { id: "s3", x: 5.0, reaches: vec![] };
    run(&mut e, 10.0, &[(4.0, 5.0, 2, 5, 2000.0)], &[s1, s2, s3]);
    let pending: Vec<_> = e.pending_reviews().cloned().collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].shoppers.iter().map(|c| c.target_id.as_str()).collect::<Vec<_>>(), vec!["s1"]);
    assert_eq!(e.exit("s1", 10.0).unwrap().pending_reviews, 1);
    assert_eq!(e.exit("s2", 10.0).unwrap().pending_reviews, 0);
    assert_eq!(e.exit("s3", 10.0).unwrap().pending_reviews, 0);
}

#[test]
fn rest_noise_produces_no_cart_updates() {
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s = Shopper { id: "s1", x: 0.3, reaches: vec![(3.0, 5.0, spot(1, 2))] };
    run(&mut e, 30.0, &[], &[s]);
    assert_eq!(e.stats().cart_updates, 0);
    assert_eq!(e.pending_reviews().count(), 0);
}

/// s1 picks A (500 g) and s2 picks E (250 g); then their hands meet in the aisle (a hand-over
/// whose direction and item the tracks cannot show, since both hold something); then s2 returns
/// something at 14–15 s.
fn handover_then_put_back(put_back: (u16, u16, f64)) -> Engine {
    let mut e = Engine::new(layout(), EngineConfig::default());
    let (shelf, plate, grams) = put_back;
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(1, 1)), (9.0, 10.5, Vec3::new(0.4, 1.3, 1.1))] };
    let s2 = Shopper {
        id: "s2",
        x: 0.7,
        reaches: vec![(4.5, 6.5, spot(2, 5)), (9.0, 10.5, Vec3::new(0.45, 1.3, 1.1)), (13.5, 15.5, spot(shelf, plate))],
    };
    run(
        &mut e,
        20.0,
        &[(5.0, 6.0, 1, 1, -500.0), (5.0, 6.0, 2, 5, -250.0), (14.0, 15.0, shelf, plate, grams)],
        &[s1, s2],
    );
    assert_eq!(e.stats().handovers_detected, 1);
    e
}

#[test]
fn put_back_of_an_item_only_a_handover_can_have_brought_settles_the_handover() {
    // s2 returns A, which only s1 held: s1 must have handed it to s2.
    let e = handover_then_put_back((1, 1, 500.0));
    assert!(cart(&e, "s1").is_empty());
    assert_eq!(cart(&e, "s2"), vec![("E".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
    assert_eq!(e.handovers()[0].applied, Some(("s1".into(), "s2".into(), "A".into())));
}

#[test]
fn returning_the_last_unit_rules_out_having_given_it_away() {
    // s2 returns its only E: it cannot have handed E to s1, so s1 handed A to s2.
    let e = handover_then_put_back((2, 5, 250.0));
    assert!(cart(&e, "s1").is_empty());
    assert_eq!(
        cart(&e, "s2"),
        vec![("A".into(), 1)],
        "{:?} s3 {:?} s1 {:?}",
        e.reviews(),
        cart(&e, "s3"),
        cart(&e, "s1")
    );
    assert_eq!(e.pending_reviews().count(), 0);
    assert_eq!(e.handovers()[0].applied, Some(("s1".into(), "s2".into(), "A".into())));
}

#[test]
fn unsettled_handover_is_decided_at_exit_only_with_a_majority_explanation() {
    // s1 holds A; s2 holds E and C; their hands meet (s1 → s2 A: 1/2, s2 → s1 E or C: 1/4 each).
    // s2 then returns its only C, which rules out having handed C: s1 → s2 A is now 2/3, more
    // likely than the alternative, and is applied when the shoppers leave.
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(1, 1)), (9.5, 11.0, Vec3::new(0.4, 1.3, 1.1))] };
    let s2 = Shopper {
        id: "s2",
        x: 0.7,
        reaches: vec![
            (4.5, 6.5, spot(2, 5)),
            (7.0, 8.5, spot(1, 5)),
            (9.5, 11.0, Vec3::new(0.45, 1.3, 1.1)),
            (13.5, 15.5, spot(1, 5)),
        ],
    };
    let changes =
        [(5.0, 6.0, 1, 1, -500.0), (5.0, 6.0, 2, 5, -250.0), (7.3, 8.0, 1, 5, -300.0), (14.0, 15.0, 1, 5, 300.0)];
    run(&mut e, 20.0, &changes, &[s1, s2]);
    assert_eq!(e.stats().handovers_detected, 1);
    assert_eq!(e.handovers()[0].applied, None);
    let u = e.unsettled_handovers();
    assert_eq!(u.len(), 1);
    let p_a: f64 = u[0].1.iter().filter(|o| o.2 == "A").map(|o| o.3).sum();
    assert!((p_a - 2.0 / 3.0).abs() < 1e-9, "{u:?}");
    assert!(e.exit("s1", 20.0).unwrap().receipt.items.is_empty());
    let s2_items: Vec<_> =
        e.exit("s2", 20.0).unwrap().receipt.items.into_iter().map(|l| (l.barcode, l.quantity)).collect();
    assert_eq!(s2_items, vec![("A".into(), 1), ("E".into(), 1)]);
    assert_eq!(e.pending_reviews().count(), 0);
}

#[test]
fn unsettled_handover_without_a_majority_leaves_the_carts() {
    // s1 holds A, s2 holds E: either may have handed its item over; nothing moves.
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(1, 1)), (9.0, 10.5, Vec3::new(0.4, 1.3, 1.1))] };
    let s2 =
        Shopper { id: "s2", x: 0.7, reaches: vec![(4.5, 6.5, spot(2, 5)), (9.0, 10.5, Vec3::new(0.45, 1.3, 1.1))] };
    run(&mut e, 16.0, &[(5.0, 6.0, 1, 1, -500.0), (5.0, 6.0, 2, 5, -250.0)], &[s1, s2]);
    assert_eq!(e.unsettled_handovers().len(), 1);
    assert_eq!(e.exit("s1", 16.0).unwrap().receipt.items.len(), 1);
    assert_eq!(e.unsettled_handovers().len(), 0);
    let s2_items: Vec<_> = e.exit("s2", 16.0).unwrap().receipt.items.into_iter().map(|l| l.barcode).collect();
    assert_eq!(s2_items, vec!["E".to_string()]);
}

/// Sums the cart updates of `events` per (target, barcode) and checks that no cart ever went
/// below zero; returns the final sums.
fn replay_carts(events: &[EngineEvent]) -> std::collections::BTreeMap<(String, String), i32> {
    let mut carts: std::collections::BTreeMap<(String, String), i32> = Default::default();
    for ev in events {
        if let EngineEvent::CartUpdated { target_id, barcode, quantity, .. } = ev {
            let q = carts.entry((target_id.clone(), barcode.clone())).or_default();
            *q += quantity;
            assert!(*q >= 0, "cart of {target_id} went to {q} x {barcode}: {events:?}");
        }
    }
    carts
}

/// s1 picks two A (500 g) and one C (300 g); s2 holds nothing. A hand-over s1 → s2 moves A
/// with 2/3 (A or C, by units).
/// Reaches (from, to, where) and plate changes (from, to, shelf, plate, grams).
type Script = (Vec<(f64, f64, Vec3)>, Vec<(f64, f64, u16, u16, f64)>);

fn s1_two_a_one_c() -> Script {
    (
        vec![(4.5, 6.5, spot(1, 1)), (7.0, 8.5, spot(1, 2)), (9.5, 11.0, spot(1, 5))],
        vec![(5.0, 6.0, 1, 1, -500.0), (7.3, 8.0, 1, 2, -500.0), (10.0, 10.8, 1, 5, -300.0)],
    )
}

const S1_MEET: Vec3 = Vec3 { x: 0.4, y: 1.3, z: 1.1 };
const S2_MEET: Vec3 = Vec3 { x: 0.45, y: 1.3, z: 1.1 };

#[test]
fn meeting_still_open_when_a_shopper_leaves_moves_nothing() {
    // s1 holds A, s2 nothing; their hands meet at 9–11 s but s1 leaves at 10 s (charged for A).
    // The meeting must not later move A to s2 (s2 would pay for A as well).
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(1, 1)), (9.0, 11.0, S1_MEET)] };
    let s2 = Shopper { id: "s2", x: 0.7, reaches: vec![(9.0, 11.0, S2_MEET)] };
    let mut exits = vec![(10.0, "s1", None)];
    run_with_exits(&mut e, 16.0, &[(5.0, 6.0, 1, 1, -500.0)], &[s1, s2], &mut exits);
    let s1_paid = exits[0].2.clone().unwrap();
    assert_eq!(s1_paid, vec![("A".into(), 1)]);
    assert_eq!(cart(&e, "s1"), s1_paid, "s1's receipt changed after its exit");
    assert!(cart(&e, "s2").is_empty(), "s2 charged for what s1 paid: {:?}", cart(&e, "s2"));
    assert!(e.exit("s2", 16.0).unwrap().receipt.items.is_empty());
    assert_eq!(cart(&e, "s1"), s1_paid);
    replay_carts(&e.drain_events());
}

#[test]
fn split_meeting_moves_at_most_one_unit() {
    // s1 holds A×2 and C; s2 nothing. One hand-over split in two meetings by a tracking dropout
    // (13–14.5 s and 15.5–17 s): at most one unit moves.
    let mut e = Engine::new(layout(), EngineConfig::default());
    let (mut r1, changes) = s1_two_a_one_c();
    r1.extend([(13.0, 14.5, S1_MEET), (15.5, 17.0, S1_MEET)]);
    let s1 = Shopper { id: "s1", x: 0.1, reaches: r1 };
    let s2 = Shopper { id: "s2", x: 0.7, reaches: vec![(13.0, 14.5, S2_MEET), (15.5, 17.0, S2_MEET)] };
    run(&mut e, 22.0, &changes, &[s1, s2]);
    assert_eq!(e.handovers().len(), 1, "{:?}", e.handovers());
    let s1_items: Vec<_> =
        e.exit("s1", 22.0).unwrap().receipt.items.into_iter().map(|l| (l.barcode, l.quantity)).collect();
    let s2_items: Vec<_> =
        e.exit("s2", 22.0).unwrap().receipt.items.into_iter().map(|l| (l.barcode, l.quantity)).collect();
    assert_eq!(s1_items, vec![("A".into(), 1), ("C".into(), 1)]);
    assert_eq!(s2_items, vec![("A".into(), 1)]);
    replay_carts(&e.drain_events());
}

#[test]
fn repeated_unsettled_handovers_do_not_move_the_same_unit_twice() {
    // As above but the two meetings are 4.5 s apart (two hand-overs as far as the engine can
    // tell). Once the first has moved an A, s1 holds A and C: the second is a toss-up and
    // moves nothing.
    let mut e = Engine::new(layout(), EngineConfig::default());
    let (mut r1, changes) = s1_two_a_one_c();
    r1.extend([(13.0, 14.5, S1_MEET), (19.0, 20.5, S1_MEET)]);
    let s1 = Shopper { id: "s1", x: 0.1, reaches: r1 };
    let s2 = Shopper { id: "s2", x: 0.7, reaches: vec![(13.0, 14.5, S2_MEET), (19.0, 20.5, S2_MEET)] };
    run(&mut e, 25.0, &changes, &[s1, s2]);
    assert_eq!(e.handovers().len(), 2);
    assert_eq!(e.unsettled_handovers().len(), 2);
    let s1_items: Vec<_> =
        e.exit("s1", 25.0).unwrap().receipt.items.into_iter().map(|l| (l.barcode, l.quantity)).collect();
    let s2_items: Vec<_> =
        e.exit("s2", 25.0).unwrap().receipt.items.into_iter().map(|l| (l.barcode, l.quantity)).collect();
    assert_eq!(s1_items, vec![("A".into(), 1), ("C".into(), 1)]);
    assert_eq!(s2_items, vec![("A".into(), 1)]);
    replay_carts(&e.drain_events());
}

#[test]
fn chain_decided_consistently_when_the_downstream_shopper_leaves_first() {
    // s1 holds A×2 and C; s2 and s3 nothing. s1 meets s2 (13–14.5 s), then s2 meets s3
    // (17–18.5 s): s1 → s2 → s3 A is the majority explanation (2/3). s3 leaves first. s2 must
    // not end up paying for the A the engine believes went on to s3.
    let mut e = Engine::new(layout(), EngineConfig::default());
    let (mut r1, changes) = s1_two_a_one_c();
    r1.push((13.0, 14.5, S1_MEET));
    let s1 = Shopper { id: "s1", x: 0.1, reaches: r1 };
    let s2 = Shopper { id: "s2", x: 0.7, reaches: vec![(13.0, 14.5, S2_MEET), (17.0, 18.5, Vec3::new(1.0, 1.3, 1.1))] };
    let s3 = Shopper { id: "s3", x: 1.3, reaches: vec![(17.0, 18.5, Vec3::new(1.05, 1.3, 1.1))] };
    run(&mut e, 22.0, &changes, &[s1, s2, s3]);
    assert_eq!(e.handovers().len(), 2);
    let items = |e: &mut Engine, id: &str| -> Vec<(String, u32)> {
        e.exit(id, 22.0).unwrap().receipt.items.into_iter().map(|l| (l.barcode, l.quantity)).collect()
    };
    let s3_items = items(&mut e, "s3");
    let s2_items = items(&mut e, "s2");
    let s1_items = items(&mut e, "s1");
    assert!(s2_items.is_empty(), "s2 charged for a passed-on unit: {s2_items:?}");
    assert_eq!(s3_items, vec![("A".into(), 1)]);
    assert_eq!(s1_items, vec![("A".into(), 1), ("C".into(), 1)]);
    assert_eq!(cart(&e, "s3"), s3_items, "s3's receipt changed after its exit");
    replay_carts(&e.drain_events());
}

#[test]
fn resolving_a_review_of_a_handover_dependent_put_back_settles_the_handover() {
    // s1 picks A and s2 picks E; s3 picks A. s1 and s2 meet (direction unknown: A or E). Then
    // s2 and s3 both reach into A's box while an A comes back: review. Staff say s2 returned
    // it, which only the hand-over can explain: s1 gave A to s2. s1 must not pay for A, s2's
    // cart must not go negative, and s1's exit waits for the review.
    let mut e = Engine::new(layout(), EngineConfig::default());
    let s1 = Shopper { id: "s1", x: 0.1, reaches: vec![(4.5, 6.5, spot(1, 1)), (9.5, 11.0, S1_MEET)] };
    let s2 = Shopper {
        id: "s2",
        x: 0.7,
        reaches: vec![(4.5, 6.5, spot(2, 5)), (9.5, 11.0, S2_MEET), (13.5, 15.5, spot(1, 2))],
    };
    // s3's hand is 1 cm less deep in the box than s2's: s2 0.6 / s3 0.4 by the hands, but only
    // s3 surely holds an A.
    let s3 =
        Shopper { id: "s3", x: 0.4, reaches: vec![(6.8, 8.5, spot(1, 2)), (13.5, 15.5, Vec3::new(0.1416, 0.2, 0.4))] };
    let changes =
        [(5.0, 6.0, 1, 1, -500.0), (5.0, 6.0, 2, 5, -250.0), (7.3, 8.0, 1, 2, -500.0), (14.0, 15.0, 1, 2, 500.0)];
    run(&mut e, 20.0, &changes, &[s1, s2, s3]);
    assert_eq!(e.handovers().len(), 1);
    let pending: Vec<_> = e.pending_reviews().cloned().collect();
    assert_eq!(pending.len(), 1, "{pending:?} s3 {:?}", cart(&e, "s3"));
    assert!(pending[0].products.iter().flatten().any(|l| l.barcode == "A" && l.quantity == -1));
    assert_eq!(e.exit("s1", 20.0).unwrap().pending_reviews, 1, "s1's receipt depends on the review");
    e.resolve_review(pending[0].id, Resolution::Assign { target_id: "s2".into(), barcode: "A".into(), quantity: -1 })
        .unwrap();
    let carts = replay_carts(&e.drain_events());
    assert_eq!(carts.get(&("s2".to_string(), "A".to_string())).copied().unwrap_or(0), 0);
    assert!(cart(&e, "s1").is_empty(), "s1 still pays for the A s2 returned: {:?}", cart(&e, "s1"));
    assert_eq!(
        e.exit("s2", 20.0).unwrap().receipt.items.into_iter().map(|l| l.barcode).collect::<Vec<_>>(),
        vec!["E".to_string()]
    );
    assert_eq!(
        e.exit("s3", 20.0).unwrap().receipt.items.into_iter().map(|l| l.barcode).collect::<Vec<_>>(),
        vec!["A".to_string()]
    );
}
