//! Deterministic simulation of the stock ledger: a seeded random schedule of every stock operation —
//! receipts, write-offs, transfers, click & collect, delivery with routing, handovers, shipments,
//! cancellations, expiries, POS sales, returns — run against the engine while an independent model tracks
//! what `on_hand` and `reserved` must be. Business refusals are expected; anything else fails the test, and
//! the model, the engine's balances and the ledger's own recomputation must agree at every checkpoint.

use crate::both;
use crate::helpers::*;
use engine::catalog::locations::Address;
use engine::sales::carts::Fulfillment;
use engine::sales::orders::{ReturnInput, ReturnLineInput, SaleLineInput};
use engine::EngineError;
use std::collections::HashMap;

const STEPS: usize = 600;
const SKUS: [&str; 4] = ["SIM-A", "SIM-B", "SIM-C", "SIM-D"];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
    fn qty(&mut self, max: u64) -> i64 {
        (self.next() % max + 1) as i64
    }
}

/// Refusals a correct engine may answer with; anything else is a bug.
fn expected(e: &EngineError) -> bool {
    matches!(e, EngineError::OutOfStock { .. } | EngineError::Conflict { .. } | EngineError::Invalid { .. })
}

#[derive(Default)]
struct Model {
    on_hand: HashMap<(String, String), i64>,
    reserved: HashMap<(String, String), i64>,
}

impl Model {
    fn add(&mut self, sku: &str, loc: &str, on_hand: i64, reserved: i64) {
        *self.on_hand.entry((sku.into(), loc.into())).or_default() += on_hand;
        *self.reserved.entry((sku.into(), loc.into())).or_default() += reserved;
    }
}

struct Open {
    id: String,
    lines: Vec<(String, String, i64)>, // sku, location, quantity
    pickup: bool,
    ready: bool,
}

async fn stock_ledger_survives_a_random_schedule(b: Backend) {
    let app = spawn_app(b).await;
    let wh = app.location("SIM-WH", "warehouse", false).await;
    let s1 = app.location("SIM-S1", "store", true).await;
    let s2 = app.location("SIM-S2", "store", true).await;
    let locs = [wh.clone(), s1.clone(), s2.clone()];
    let stores = [s1.clone(), s2.clone()];
    for sku in SKUS {
        app.product(sku, 1000).await;
    }
    let engine = app.running.as_ref().unwrap().engine.clone();
    let admin = engine.authenticate(ADMIN_KEY).await.unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut model = Model::default();
    let mut open: Vec<Open> = Vec::new();
    let mut handed: Vec<(String, Vec<(String, i64)>)> = Vec::new(); // order id, (sku, qty) returnable
    let addr = Address {
        recipient: "시뮬레이션".into(),
        phone: "01012345678".into(),
        line1: "1".into(),
        city: "Seoul".into(),
        postal_code: "06232".into(),
        country: "KR".into(),
        ..Default::default()
    };

    let mut done: std::collections::BTreeMap<&str, usize> = Default::default();
    for step in 0..STEPS {
        let sku = rng.pick(&SKUS).to_string();
        match rng.next() % 12 {
            0 | 1 => {
                let loc = rng.pick(&locs).clone();
                let q = rng.qty(20);
                engine.adjust_stock(&sim_actor(), None, &sku, &loc, q, "receipt").await.unwrap();
                model.add(&sku, &loc, q, 0);
                *done.entry("receipt").or_default() += 1;
            }
            2 => {
                let loc = rng.pick(&locs).clone();
                let q = rng.qty(5);
                match engine.adjust_stock(&sim_actor(), None, &sku, &loc, -q, "write-off").await {
                    Ok(_) => model.add(&sku, &loc, -q, 0),
                    Err(e) if expected(&e) => {}
                    Err(e) => panic!("step {step}: write-off: {e:?}"),
                }
            }
            3 => {
                let (from, to) = (rng.pick(&locs).clone(), rng.pick(&locs).clone());
                let q = rng.qty(6);
                match engine.transfer(&sim_actor(), None, &sku, &from, &to, q).await {
                    Ok(_) => {
                        model.add(&sku, &from, -q, 0);
                        model.add(&sku, &to, q, 0);
                        *done.entry("transfer").or_default() += 1;
                    }
                    Err(e) if expected(&e) => {}
                    Err(e) => panic!("step {step}: transfer: {e:?}"),
                }
            }
            4 | 5 => {
                let pickup = rng.next().is_multiple_of(2);
                let cart = engine.create_cart(None, None).await.unwrap().id;
                let q = rng.qty(3);
                engine.add_cart_line(&cart, &sku, q, None).await.unwrap();
                let f = if pickup {
                    Fulfillment::Pickup { location_id: rng.pick(&stores).clone() }
                } else {
                    Fulfillment::Delivery { address: addr.clone() }
                };
                engine.set_fulfillment(&cart, f, None).await.unwrap();
                let req = engine::sales::CheckoutRequest {
                    cart_id: cart.clone(),
                    email: Some("sim@example.com".into()),
                    payment_method: if pickup { "pay_at_pickup" } else { "manual" }.into(),
                    // (a staff-taken order: `manual` is for staff, and the unpaid caps are for shoppers)
                    staff: true,
                    ..Default::default()
                };
                match engine.checkout(req).await {
                    Ok(o) => {
                        let lines: Vec<_> =
                            o.lines.iter().map(|l| (l.sku.clone(), l.location_id.clone(), l.quantity)).collect();
                        for (s, l, q) in &lines {
                            model.add(s, l, 0, *q);
                        }
                        open.push(Open { id: o.id, lines, pickup, ready: false });
                        *done.entry(if pickup { "pickup checkout" } else { "delivery checkout" }).or_default() += 1;
                    }
                    Err(e) if expected(&e) => {}
                    Err(e) => panic!("step {step}: checkout: {e:?}"),
                }
            }
            6 | 7 if !open.is_empty() => {
                let i = (rng.next() % open.len() as u64) as usize;
                let o = &mut open[i];
                if o.pickup && !o.ready {
                    engine.ready_for_pickup(&admin, &o.id).await.unwrap();
                    o.ready = true;
                } else {
                    let o = open.swap_remove(i);
                    if o.pickup {
                        let code = engine.order(&o.id, true).await.unwrap().pickup.unwrap().code.unwrap();
                        engine.picked_up(&admin, &o.id, &code).await.unwrap();
                    } else {
                        engine.ship(&sim_actor(), &o.id).await.unwrap();
                    }
                    for (s, l, q) in &o.lines {
                        model.add(s, l, -q, -q);
                    }
                    handed.push((o.id.clone(), o.lines.iter().map(|(s, _, q)| (s.clone(), *q)).collect()));
                    *done.entry("handover").or_default() += 1;
                }
            }
            8 if !open.is_empty() => {
                let o = open.swap_remove((rng.next() % open.len() as u64) as usize);
                engine.cancel(&admin, &o.id, "sim").await.unwrap();
                *done.entry("cancel").or_default() += 1;
                for (s, l, q) in &o.lines {
                    model.add(s, l, 0, -q);
                }
            }
            9 => {
                let loc = rng.pick(&stores).clone();
                let q = rng.qty(3);
                let lines = vec![SaleLineInput { sku: sku.clone(), quantity: q }];
                match engine
                    .pos_sale(&admin, Some(loc.clone()), lines, None, None, None, None, None, None, String::new())
                    .await
                {
                    Ok(o) => {
                        model.add(&sku, &loc, -q, 0);
                        handed.push((o.id, vec![(sku.clone(), q)]));
                        *done.entry("pos sale").or_default() += 1;
                    }
                    Err(e) if expected(&e) => {}
                    Err(e) => panic!("step {step}: pos: {e:?}"),
                }
            }
            10 if !handed.is_empty() => {
                let i = (rng.next() % handed.len() as u64) as usize;
                let (oid, lines) = handed.swap_remove(i);
                let (s, q) = lines[0].clone();
                let loc = rng.pick(&stores).clone();
                let unsellable = rng.next().is_multiple_of(4);
                let input = ReturnInput {
                    order_id: oid,
                    location_id: loc.clone(),
                    lines: vec![ReturnLineInput {
                        sku: s.clone(),
                        quantity: q,
                        disposition: Some(if unsellable { "unsellable" } else { "restock" }.into()),
                    }],
                    reason: "sim".into(),
                    refund_to: None,
                };
                engine.create_return(&admin, input, None, String::new()).await.unwrap();
                *done.entry("return").or_default() += 1;
                if !unsellable {
                    model.add(&s, &loc, q, 0);
                }
            }
            11 => {
                // Time passes: uncollected pickups expire and give their stock back.
                app.clock.advance_ms(40 * 60 * 1000);
                let expired = engine.expire_pickups().await.unwrap();
                open.retain(|o| {
                    if expired.contains(&o.id) {
                        for (s, l, q) in &o.lines {
                            model.add(s, l, 0, -q);
                        }
                        *done.entry("expiry").or_default() += 1;
                        false
                    } else {
                        true
                    }
                });
            }
            _ => {}
        }
        if step % 100 == 99 || step == STEPS - 1 {
            for sku in SKUS {
                let levels = engine.stock(sku).await.unwrap();
                for l in levels.locations {
                    let key = (sku.to_string(), l.location_id.clone());
                    let (oh, rs) =
                        (model.on_hand.get(&key).copied().unwrap_or(0), model.reserved.get(&key).copied().unwrap_or(0));
                    assert_eq!(
                        (l.level.on_hand, l.level.reserved),
                        (oh, rs),
                        "step {step}: {sku} at {}",
                        l.location_code
                    );
                    assert!(l.level.available >= 0);
                }
            }
            let report = engine.doctor().await.unwrap();
            assert!(report.is_clean(), "step {step}: {report:?}");
        }
    }
    // The schedule really exercised every path (a test that cannot fail would prove nothing).
    for (what, n) in &done {
        assert!(*n >= 5, "only {n} × {what} in {STEPS} steps: {done:?}");
    }
    app.assert_no_drift().await;
}
both!(stock_ledger_survives_a_random_schedule);

fn sim_actor() -> engine::platform::auth::Principal {
    engine::platform::auth::Principal::system("simulation")
}
