//! Exact answers on small hand-computed event sets, one scenario per question, with the k rule applied.

use insight::dwell::{dwell, DwellQuery, Level};
use insight::funnels::{instore_funnel, online_funnel, FunnelBy, InstoreFunnelQuery, OnlineFunnelQuery, Place};
use insight::journeys::{journeys, Journey, JourneyQuery};
use insight::sales::{channel_mix, repeat, stockouts, traffic};
use insight::{Event, Kind, Profiles, SegmentBy, Table, Window};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
/// 2026-12-04 00:00 in Seoul (a Friday).
const D: i64 = 1_796_310_000_000;
const SEOUL: i32 = 540;

fn ev(id: &str, kind: Kind, at: i64) -> Event {
    Event { id: id.into(), kind: Some(kind), at_ms: at, location: Some("L1".into()), ..Default::default() }
}

fn who(mut e: Event, shopper: &str) -> Event {
    e.shopper = Some(shopper.into());
    e.customer = Some(shopper.into());
    e
}

fn dwell_ev(id: &str, shopper: &str, visit: &str, zone: &str, at: i64, ms: i64) -> Event {
    let mut e = who(ev(id, Kind::Dwell, at), shopper);
    e.visit = Some(visit.into());
    e.zone = Some(zone.into());
    e.dwell_ms = ms;
    if let Some(sku) = zone.strip_prefix("facing:").and_then(|r| r.split(':').nth(1)) {
        e.sku = Some(sku.into());
        e.product = Some(format!("p-{sku}"));
        e.category = Some("snacks".into());
    }
    e
}

fn buy(id: &str, shopper: &str, order: &str, channel: &str, sku: &str, qty: i64, amount: i64, at: i64) -> Event {
    let mut e = who(ev(id, Kind::Purchase, at), shopper);
    e.order = Some(order.into());
    e.channel = Some(channel.into());
    e.sku = Some(sku.into());
    e.product = Some(format!("p-{sku}"));
    e.qty = qty;
    e.amount_minor = amount;
    e.currency = Some("KRW".into());
    e
}

fn day(n: i64) -> Window {
    Window { from_ms: D + n * DAY, to_ms: D + (n + 1) * DAY, utc_offset_min: SEOUL }
}

#[test]
fn dwell_statistics_share_and_the_k_rule() {
    let mut evs = vec![];
    for (n, ms) in [10_000, 20_000, 40_000].into_iter().enumerate() {
        evs.push(dwell_ev(&format!("d{n}"), &format!("c{n}"), &format!("v{n}"), "gondola:1:front", D + 10 * H, ms));
    }
    // One visit dwells twice: one visit, one visitor, two dwells.
    evs.push(dwell_ev("d3", "c3", "v3", "gondola:1:front", D + 10 * H + 60_000, 5_000));
    evs.push(dwell_ev("d4", "c3", "v3", "gondola:1:front", D + 10 * H + 120_000, 15_000));
    for n in 0..5 {
        let mut e = who(ev(&format!("e{n}"), Kind::Entry, D + 10 * H), &format!("c{n}"));
        e.visit = Some(format!("v{n}"));
        evs.push(e);
    }
    let t = Table::from_events(evs);
    let q = DwellQuery {
        window: day(0),
        location: None,
        level: Level::Zone,
        by_hour: true,
        by_weekday: true,
        segment: SegmentBy::None,
        k: 4,
    };
    let (rows, withheld) = dwell(&t, &Profiles::new(), &q);
    assert_eq!((rows.len(), withheld), (1, 0));
    let r = &rows[0];
    assert_eq!((r.key.as_str(), r.hour, r.weekday), ("gondola:1", Some(10), Some(4)));
    assert_eq!((r.visits, r.visitors, r.dwells), (Some(4), Some(4), Some(5)));
    assert_eq!((r.mean_ms, r.median_ms, r.p90_ms), (Some(18_000.0), Some(15_000.0), Some(32_000.0)));
    assert_eq!(r.share_of_store_visitors, Some(0.8));
    // Four visitors are fewer than the default five: every figure is withheld.
    let (rows, withheld) = dwell(&t, &Profiles::new(), &DwellQuery { k: 5, ..q.clone() });
    assert_eq!(withheld, 1);
    assert!(rows[0].suppressed && rows[0].visits.is_none() && rows[0].median_ms.is_none());
    // Facings do not count as aisle dwell.
    let (rows, _) = dwell(&t, &Profiles::new(), &DwellQuery { level: Level::Shelf, k: 1, ..q });
    assert!(rows.is_empty());
}

#[test]
fn a_dwell_across_midnight_belongs_to_the_hour_it_began() {
    // Began 23:59:50 on Friday, lasted 30 s into Saturday.
    let t = Table::from_events(vec![dwell_ev("d", "c", "v", "facing:2-1-3:SKU9", D + DAY - 10_000, 30_000)]);
    let q = DwellQuery {
        window: day(0),
        location: Some("L1".into()),
        level: Level::Shelf,
        by_hour: true,
        by_weekday: true,
        segment: SegmentBy::None,
        k: 1,
    };
    let (rows, _) = dwell(&t, &Profiles::new(), &q);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].key.as_str(), rows[0].hour, rows[0].weekday), ("shelf:2-1", Some(23), Some(4)));
    let (rows, _) = dwell(&t, &Profiles::new(), &DwellQuery { window: day(1), ..q.clone() });
    assert!(rows.is_empty(), "Saturday has no dwell that began on Saturday");
    let (rows, _) = dwell(&t, &Profiles::new(), &DwellQuery { level: Level::Facing, ..q });
    assert_eq!((rows[0].key.as_str(), rows[0].sku.as_deref()), ("facing:2-1-3:SKU9", Some("SKU9")));
}

#[test]
fn the_in_store_funnel_per_product_category_and_zone() {
    let at = D + 12 * H;
    let mut evs = vec![];
    for v in 1..=3 {
        evs.push(dwell_ev(&format!("a{v}"), &format!("c{v}"), &format!("v{v}"), "gondola:1:front", at, 8_000));
    }
    evs.push(dwell_ev("f1", "c1", "v1", "facing:1-2-1:A", at + 1_000, 6_000));
    evs.push(dwell_ev("f2", "c2", "v2", "facing:1-2-1:A", at + 1_000, 2_000));
    let pick = |id: &str, kind, s: &str, v: &str| {
        let mut e = who(ev(id, kind, at + 5_000), s);
        (e.visit, e.sku, e.product, e.qty) = (Some(v.into()), Some("A".into()), Some("p-A".into()), 1);
        e
    };
    evs.push(pick("k1", Kind::Pick, "c1", "v1"));
    evs.push(pick("k2", Kind::Pick, "c2", "v2"));
    evs.push(pick("k3", Kind::PutBack, "c2", "v2"));
    let mut b = buy("b1", "c1", "o1", "cashierless", "A", 1, 1500, at + 60_000);
    b.visit = Some("v1".into());
    evs.push(b);
    let t = Table::from_events(evs);
    let places = [Place {
        location: "L1".into(),
        sku: "A".into(),
        product: "p-A".into(),
        category: "snacks".into(),
        gondola: 1,
    }];
    let q = InstoreFunnelQuery {
        window: day(0),
        location: None,
        by: FunnelBy::Product,
        min_dwell_ms: 5_000,
        segment: SegmentBy::None,
        k: 3,
    };
    for by in [FunnelBy::Product, FunnelBy::Category, FunnelBy::Zone] {
        let (rows, _) = instore_funnel(&t, &Profiles::new(), &places, &InstoreFunnelQuery { by, ..q.clone() });
        assert_eq!(rows.len(), 1, "{by:?}");
        let r = &rows[0];
        let key = match by {
            FunnelBy::Product => "p-A",
            FunnelBy::Category => "snacks",
            FunnelBy::Zone => "gondola:1",
        };
        assert_eq!(r.key, key);
        assert_eq!((r.passed, r.dwelled, r.picked, r.bought), (Some(3), Some(1), Some(2), Some(1)));
        assert_eq!((r.picked_units, r.put_back_units, r.put_back_rate), (Some(2), Some(1), Some(0.5)));
    }
    let (rows, withheld) = instore_funnel(&t, &Profiles::new(), &places, &InstoreFunnelQuery { k: 4, ..q });
    assert_eq!(withheld, 1);
    assert!(rows[0].passed.is_none());
}

#[test]
fn the_online_funnel_by_device() {
    let web = |id: &str, kind, s: &str, device: &str, at: i64| {
        let mut e = who(ev(id, kind, at), s);
        e.location = None;
        e.channel = Some("web".into());
        e.device = Some(device.into());
        e.product = Some("p-A".into());
        e
    };
    let at = D + 9 * H;
    let t = Table::from_events(vec![
        web("1", Kind::View, "s1", "mobile", at),
        web("2", Kind::CartAdd, "s1", "mobile", at + 1),
        web("3", Kind::Checkout, "s1", "mobile", at + 2),
        buy("4", "s1", "o1", "web", "A", 1, 1000, at + 3),
        web("5", Kind::View, "s2", "desktop", at),
        web("6", Kind::CartAdd, "s2", "desktop", at + 1),
        web("7", Kind::View, "s3", "mobile", at),
        web("8", Kind::View, "s3", "mobile", at + 5), // a second view is the same shopper
        // s4 checks out and buys without a view or a cart in the window: in no stage of the funnel.
        web("9", Kind::Checkout, "s4", "mobile", at),
        buy("10", "s4", "o2", "web", "A", 1, 1000, at + 1),
        // s5 buys without checking out (an order through the API): viewed and carted only.
        web("11", Kind::View, "s5", "desktop", at),
        web("12", Kind::CartAdd, "s5", "desktop", at + 1),
        buy("13", "s5", "o3", "web", "A", 1, 1000, at + 2),
    ]);
    let q = OnlineFunnelQuery { window: day(0), segment: SegmentBy::None, by_device: false, k: 1 };
    let (rows, _) = online_funnel(&t, &Profiles::new(), &q);
    let r = &rows[0];
    assert_eq!((r.viewed, r.carted, r.checked_out, r.purchased), (Some(4), Some(3), Some(1), Some(1)));
    assert_eq!((r.view_to_cart, r.cart_to_checkout, r.checkout_to_purchase), (Some(0.75), Some(0.3333), Some(1.0)));
    let (rows, _) = online_funnel(&t, &Profiles::new(), &OnlineFunnelQuery { by_device: true, ..q.clone() });
    let by: Vec<_> =
        rows.iter().map(|r| (r.device.clone().unwrap(), r.viewed, r.carted, r.checked_out, r.purchased)).collect();
    assert_eq!(
        by,
        vec![
            ("desktop".into(), Some(2), Some(2), Some(0), Some(0)),
            ("mobile".into(), Some(2), Some(1), Some(1), Some(1)),
        ]
    );
    let (_, withheld) = online_funnel(&t, &Profiles::new(), &OnlineFunnelQuery { k: 6, ..q });
    assert_eq!(withheld, 1);
}

#[test]
fn journeys_across_channels() {
    let t0 = D + 11 * H;
    let mut view = who(ev("v", Kind::View, t0), "c3");
    (view.location, view.product, view.channel) = (None, Some("p-Q".into()), Some("web".into()));
    let mut pickup = who(ev("pu", Kind::Pickup, t0), "c4");
    pickup.order = Some("o-cc".into());
    let t = Table::from_events(vec![
        // Showrooming: dwelled at P in the store, bought it online two days later.
        dwell_ev("d1", "c1", "v1", "facing:1-1-1:P", t0, 9_000),
        buy("b1", "c1", "o1", "web", "P", 2, 4_000, t0 + 2 * DAY),
        // Too late: ten days after.
        dwell_ev("d2", "c2", "v2", "facing:1-1-1:P", t0, 9_000),
        buy("b2", "c2", "o2", "click_collect", "P", 1, 2_000, t0 + 10 * DAY),
        // Webrooming: viewed Q online, bought it at the counter the next day.
        view,
        buy("b3", "c3", "o3", "pos", "Q", 1, 7_000, t0 + DAY),
        // Click & collect with an add-on half an hour after the pickup.
        pickup,
        buy("b4", "c4", "o4", "pos", "R", 3, 9_000, t0 + H / 2),
    ]);
    let q = JourneyQuery { window: day(0), within_days: 7, min_dwell_ms: 5_000, k: 1 };
    let (rows, _) = journeys(&t, &q, 10);
    let find =
        |j: Journey, p: Option<&str>| rows.iter().find(|r| r.journey == j && r.product_id.as_deref() == p).unwrap();
    let s = find(Journey::Showrooming, None);
    assert_eq!((s.shoppers_count, s.journeys, s.units), (Some(1), Some(1), Some(2)));
    assert_eq!(s.revenue_minor.as_ref().unwrap()["KRW"], 4_000);
    assert_eq!(find(Journey::Showrooming, Some("p-P")).journeys, Some(1));
    let w = find(Journey::Webrooming, None);
    assert_eq!((w.shoppers_count, w.units), (Some(1), Some(1)));
    let a = find(Journey::ClickCollectAddon, None);
    assert_eq!((a.journeys, a.units, a.revenue_minor.as_ref().unwrap()["KRW"]), (Some(1), Some(3), 9_000));
    assert_eq!(find(Journey::ClickCollectAddon, Some("p-R")).units, Some(3));
    let (rows, withheld) = journeys(&t, &JourneyQuery { k: 2, ..q }, 10);
    assert_eq!(withheld, rows.len());
}

#[test]
fn traffic_and_conversion_by_hour() {
    let at = D + 10 * H;
    let entry = |id: &str, s: &str, v: &str| {
        let mut e = who(ev(id, Kind::Entry, at), s);
        e.visit = Some(v.into());
        e
    };
    let mut b = buy("b", "c1", "o1", "cashierless", "A", 3, 4_500, at + 600_000);
    b.visit = Some("v1".into());
    let t = Table::from_events(vec![entry("e1", "c1", "v1"), entry("e2", "c2", "v2"), b]);
    let (rows, _) = traffic(&t, &day(0), None, 1);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.hour, r.visits, r.orders, r.buyers), (10, Some(2), Some(1), Some(1)));
    assert_eq!((r.conversion, r.basket_units), (Some(0.5), Some(3.0)));
    let (_, withheld) = traffic(&t, &day(0), None, 5);
    assert_eq!(withheld, 1);
}

#[test]
fn channel_mix_with_a_return_after_the_purchase_and_an_event_delivered_twice() {
    let at = D + 15 * H;
    let mut ret = who(ev("r1", Kind::Return, at + DAY), "c1");
    (ret.order, ret.channel, ret.sku, ret.qty, ret.amount_minor, ret.currency) =
        (Some("o1".into()), Some("pos".into()), Some("A".into()), 1, 10_000, Some("KRW".into()));
    let t = Table::from_events(vec![
        buy("b1", "c1", "o1", "pos", "A", 2, 20_000, at),
        buy("b1", "c1", "o1", "pos", "A", 2, 20_000, at), // delivered twice
        buy("b2", "c2", "o2", "web", "B", 1, 5_000, at),
        ret,
    ]);
    let w = Window { from_ms: D, to_ms: D + 2 * DAY, utc_offset_min: SEOUL };
    let (rows, _) = channel_mix(&t, &w, None, 1);
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.date.as_str(), r.channel.as_str(), r.revenue_minor, r.returned_minor, r.share))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-12-04", "pos", Some(20_000), Some(0), Some(0.8)),
            ("2026-12-04", "web", Some(5_000), Some(0), Some(0.2)),
            ("2026-12-05", "pos", Some(0), Some(10_000), None),
        ]
    );
    let (rows, withheld) = channel_mix(&t, &w, None, 2);
    assert_eq!(withheld, 3);
    assert!(rows.iter().all(|r| r.revenue_minor.is_none()));
}

#[test]
fn repeat_buyers_by_segment() {
    let at = D + 8 * H;
    let t = Table::from_events(vec![
        buy("1", "c1", "o1", "pos", "A", 1, 100, at),
        buy("2", "c1", "o1", "pos", "B", 1, 100, at), // one order, two lines
        buy("3", "c1", "o2", "web", "A", 1, 100, at + H),
        buy("4", "c2", "o3", "pos", "A", 1, 100, at),
    ]);
    let (rows, _) = repeat(&t, &Profiles::new(), &day(0), SegmentBy::None, 1);
    assert_eq!((rows[0].buyers, rows[0].repeat_buyers, rows[0].repeat_rate), (Some(2), Some(1), Some(0.5)));
    let (rows, _) = repeat(&t, &Profiles::new(), &day(0), SegmentBy::Visitor, 1);
    // Both shoppers' first orders in the window are their first purchases ever.
    assert_eq!(rows.iter().map(|r| r.segment.as_str()).collect::<Vec<_>>(), vec!["new"]);
}

#[test]
fn stock_outs_and_the_sales_they_cost() {
    let w = Window { from_ms: D, to_ms: D + 10 * H, utc_offset_min: SEOUL };
    let stock = |id: &str, kind, sku: &str, at: i64| {
        let mut e = ev(id, kind, at);
        e.sku = Some(sku.into());
        e
    };
    let mut evs = vec![
        stock("o1", Kind::StockOut, "X", D + H),
        stock("b1", Kind::StockBack, "X", D + 3 * H),
        stock("o2", Kind::StockOut, "Y", D - H), // out since before the window, still out
    ];
    for n in 0..8 {
        evs.push(buy(&format!("p{n}"), &format!("c{n}"), &format!("o{n}"), "pos", "X", 1, 1_000, D + 4 * H + n));
    }
    let t = Table::from_events(evs);
    let rows = stockouts(&t, &w, None);
    assert_eq!(rows.len(), 2);
    let y = &rows[0];
    assert_eq!((y.sku.as_str(), y.episodes, y.out_ms, y.out_now), ("Y", 1, 10 * H, true));
    let x = &rows[1];
    assert_eq!((x.sku.as_str(), x.episodes, x.out_ms, x.out_now), ("X", 1, 2 * H, false));
    assert_eq!((x.sold_per_hour, x.lost_units, x.lost_minor["KRW"]), (1.0, 2.0, 2_000));
}
