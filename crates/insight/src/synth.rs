//! Seeded, realistic multi-channel traffic for the demo's history and the analytics benchmark: web
//! sessions with the view → cart → checkout → purchase ratios of public clickstreams, cashierless visits
//! with aisle and facing dwell, picks and put-backs, counter sales, click & collect with add-ons, returns,
//! showrooming and webrooming, and stock-outs, shaped by hour of day and day of week.
//!
//! Calibration (public figures, rounded): Retailrocket's clickstream has about 2.6 cart adds and 0.8
//! purchases per 100 views, REES46's about 6 and 1.6; a session views ~4 products. Mobile carries ~70 % of
//! Korean e-commerce sessions. Store traffic peaks at lunch and 17–20 h, web traffic at 21–23 h; weekends
//! bring ~30 % more store visits. Standing at a shelf lasts seconds (median ~6 s at a facing, ~20 s in an
//! aisle, log-normal), and convenience-format visits last a few minutes.

use crate::{Event, Kind};

/// A small, fast, seedable generator (SplitMix64); no dependency, same stream on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Uniform in [lo, hi].
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.f64() * (hi - lo + 1) as f64) as i64
    }
    /// Log-normal with this median and shape.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        let (u1, u2) = (self.f64().max(1e-12), self.f64());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * z).exp()
    }
    /// An index drawn with these weights.
    pub fn weighted(&mut self, w: &[f64]) -> usize {
        let total: f64 = w.iter().sum();
        let mut x = self.f64() * total;
        for (i, v) in w.iter().enumerate() {
            if x < *v {
                return i;
            }
            x -= v;
        }
        w.len() - 1
    }
}

/// Store visits by local hour (relative).
pub const STORE_HOURS: [f64; 24] = [
    0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 2.5, 4.0, 6.0, 9.0, 8.0, 6.0, 6.0, 7.0, 9.0, 11.0, 10.0, 8.0, 5.0,
    2.0, 0.8,
];
/// Web sessions by local hour (relative).
pub const WEB_HOURS: [f64; 24] = [
    3.0, 1.5, 0.8, 0.5, 0.4, 0.5, 1.0, 2.0, 3.5, 4.0, 4.5, 5.0, 6.5, 6.0, 5.0, 5.0, 5.0, 5.5, 6.0, 7.0, 8.5, 10.0,
    10.5, 7.0,
];

/// A product facing of a cashierless store.
#[derive(Debug, Clone)]
pub struct Facing {
    /// `facing:G-S-P…:SKU`.
    pub zone: String,
    pub gondola: u16,
    pub sku: String,
    pub product: String,
    pub category: String,
}

#[derive(Debug, Clone)]
pub struct Store {
    pub location: String,
    /// Gates, shelves and trackers (else a store with a counter).
    pub cashierless: bool,
    pub facings: Vec<Facing>,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub category: String,
    pub price_minor: i64,
}

/// The retailer traffic is generated for.
#[derive(Debug, Clone)]
pub struct World {
    pub stores: Vec<Store>,
    /// Where web deliveries ship from.
    pub web_location: String,
    pub products: Vec<Product>,
    /// Customers who agreed to be recognised across channels (their segments come from their profiles).
    pub customers: Vec<String>,
    /// Further recognised shoppers without a profile, named `member:N`.
    pub members: u32,
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub seed: u64,
    /// Local midnight of the first day.
    pub start_ms: i64,
    pub days: u32,
    pub utc_offset_min: i32,
    pub web_sessions_per_day: u32,
    /// Per cashierless store.
    pub visits_per_store_day: u32,
    /// Per store with a counter.
    pub counter_orders_per_store_day: u32,
    /// Nothing happens at or after this instant (the demo's "now").
    pub until_ms: i64,
}

struct Gen<'a> {
    w: &'a World,
    c: &'a SynthConfig,
    rng: Rng,
    out: Vec<Event>,
    n: u64,
    popularity: Vec<f64>,
    /// When each (store, product) that ran out comes back.
    out_until: std::collections::HashMap<(usize, usize), i64>,
}

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

impl Gen<'_> {
    /// Keeps an event that falls before `until` (every event gets its number first, so that the same
    /// seed names the same happenings whatever `until` cuts off).
    fn push(&mut self, mut e: Event) {
        self.n += 1;
        if e.at_ms >= self.c.until_ms || e.at_ms < self.c.start_ms {
            return;
        }
        e.id = format!("seed:{}:{}", self.c.seed, self.n);
        self.out.push(e);
    }

    fn product(&mut self) -> usize {
        self.rng.weighted(&self.popularity)
    }

    fn moment(&mut self, day: u32, hours: &[f64; 24]) -> i64 {
        let h = self.rng.weighted(hours) as i64;
        self.c.start_ms + day as i64 * DAY + h * HOUR + self.rng.between(0, HOUR - 1)
    }

    fn purchase(&mut self, p: usize, qty: i64, at: i64, sale: &Sale<'_>, who: &Who) {
        let Sale { order, channel, location, visit } = *sale;
        let pr = &self.w.products[p];
        let e = Event {
            kind: Some(Kind::Purchase),
            at_ms: at,
            shopper: Some(who.shopper.clone()),
            customer: who.customer.clone(),
            location: Some(location.to_owned()),
            channel: Some(channel.to_owned()),
            product: Some(pr.id.clone()),
            sku: Some(pr.sku.clone()),
            category: Some(pr.category.clone()),
            visit: visit.map(str::to_owned),
            order: Some(order.to_owned()),
            qty,
            amount_minor: qty * pr.price_minor,
            currency: Some(self.w.currency.clone()),
            ..Default::default()
        };
        self.push(e);
        // Some lines come back (at a store, within ten days).
        if self.rng.chance(0.04) {
            let back = at + self.rng.between(DAY, 10 * DAY);
            let store = self.counter_store().unwrap_or_else(|| location.to_owned());
            let r = Event {
                kind: Some(Kind::Return),
                at_ms: back,
                shopper: Some(who.shopper.clone()),
                customer: who.customer.clone(),
                location: Some(store),
                channel: Some(channel.to_owned()),
                product: Some(pr.id.clone()),
                sku: Some(pr.sku.clone()),
                category: Some(pr.category.clone()),
                order: Some(order.to_owned()),
                qty: 1,
                amount_minor: pr.price_minor,
                currency: Some(self.w.currency.clone()),
                ..Default::default()
            };
            self.push(r);
        }
    }

    fn counter_store(&mut self) -> Option<String> {
        let counters: Vec<&Store> = self.w.stores.iter().filter(|s| !s.cashierless).collect();
        if counters.is_empty() {
            return None;
        }
        Some(counters[self.rng.below(counters.len())].location.clone())
    }

    fn who(&mut self, known_share: f64, anonymous: String) -> Who {
        let known = self.w.customers.len() + self.w.members as usize;
        if known == 0 || !self.rng.chance(known_share) {
            return Who { shopper: anonymous, customer: None, known: false };
        }
        let i = self.rng.below(known);
        match self.w.customers.get(i) {
            Some(c) => Who { shopper: c.clone(), customer: Some(c.clone()), known: true },
            None => Who { shopper: format!("member:{}", i - self.w.customers.len()), customer: None, known: true },
        }
    }

    fn web_order(&mut self, lines: &[(usize, i64)], at: i64, who: &Who) {
        let order = format!("so-{}-{}", self.c.seed, self.n);
        let pickup_store = if self.rng.chance(0.35) { self.counter_store() } else { None };
        let (channel, location) = match &pickup_store {
            Some(s) => ("click_collect", s.clone()),
            None => ("web", self.w.web_location.clone()),
        };
        for &(p, q) in lines {
            self.purchase(p, q, at, &Sale { order: &order, channel, location: &location, visit: None }, who);
        }
        if let Some(store) = pickup_store {
            if self.rng.chance(0.93) {
                let t = at + self.rng.between(2 * HOUR, 30 * HOUR);
                let e = Event {
                    kind: Some(Kind::Pickup),
                    at_ms: t,
                    shopper: Some(who.shopper.clone()),
                    customer: who.customer.clone(),
                    location: Some(store.clone()),
                    channel: Some("click_collect".into()),
                    order: Some(order.clone()),
                    ..Default::default()
                };
                self.push(e);
                if self.rng.chance(0.22) {
                    let add = format!("{order}-addon");
                    let tt = t + self.rng.between(5 * MIN, 60 * MIN);
                    for _ in 0..self.rng.between(1, 2) {
                        let p = self.product();
                        self.purchase(
                            p,
                            1,
                            tt,
                            &Sale { order: &add, channel: "pos", location: &store, visit: None },
                            who,
                        );
                    }
                }
            }
        }
    }

    fn web_session(&mut self, day: u32) {
        let mut t = self.moment(day, &WEB_HOURS);
        let sid = format!("s:{}-{}-{}", self.c.seed, day, self.n);
        let who = self.who(0.4, sid);
        let device = match self.rng.f64() {
            x if x < 0.70 => "mobile",
            x if x < 0.97 => "desktop",
            _ => "app",
        };
        let web = |kind, at, p: Option<&Product>, who: &Who| Event {
            kind: Some(kind),
            at_ms: at,
            shopper: Some(who.shopper.clone()),
            customer: who.customer.clone(),
            channel: Some("web".into()),
            device: Some(device.into()),
            product: p.map(|p| p.id.clone()),
            category: p.map(|p| p.category.clone()),
            qty: 1,
            ..Default::default()
        };
        let mut viewed = Vec::new();
        let views = 1 + (self.rng.f64().ln() / 0.7f64.ln()).floor().min(19.0) as usize;
        for _ in 0..views {
            let p = self.product();
            viewed.push(p);
            let e = web(Kind::View, t, Some(&self.w.products[p]), &who);
            self.push(e);
            // Webrooming: seen here, bought at a store's counter within days.
            if who.known && self.rng.chance(0.015) {
                if let Some(store) = self.counter_store() {
                    let at = t + self.rng.between(HOUR, 4 * DAY);
                    let order = format!("wr-{}-{}", self.c.seed, self.n);
                    self.purchase(
                        p,
                        1,
                        at,
                        &Sale { order: &order, channel: "pos", location: &store, visit: None },
                        &who,
                    );
                }
            }
            t += self.rng.between(20_000, 90_000);
        }
        if !self.rng.chance(0.12) {
            return;
        }
        let mut lines = Vec::new();
        for _ in 0..self.rng.between(1, 2) {
            let p = viewed[self.rng.below(viewed.len())];
            let e = web(Kind::CartAdd, t, Some(&self.w.products[p]), &who);
            self.push(e);
            lines.push((p, self.rng.between(1, 2)));
            t += self.rng.between(10_000, 60_000);
        }
        if !self.rng.chance(0.55) {
            return;
        }
        let e = web(Kind::Checkout, t, None, &who);
        self.push(e);
        if self.rng.chance(0.72) {
            t += self.rng.between(60_000, 300_000);
            self.web_order(&lines, t, &who);
        }
    }

    fn cashierless_visit(&mut self, store: usize, day: u32) {
        let s = &self.w.stores[store];
        if s.facings.is_empty() {
            return;
        }
        let location = s.location.clone();
        let mut t = self.moment(day, &STORE_HOURS);
        let visit = format!("visit-{}-{}-{}", self.c.seed, store, self.n);
        let who = self.who(0.85, format!("v:{visit}"));
        let base = |kind, at: i64, who: &Who| Event {
            kind: Some(kind),
            at_ms: at,
            shopper: Some(who.shopper.clone()),
            customer: who.customer.clone(),
            location: Some(location.clone()),
            channel: Some("cashierless".into()),
            visit: Some(visit.clone()),
            ..Default::default()
        };
        self.push(base(Kind::Entry, t, &who));
        let mut gondolas: Vec<u16> = self.w.stores[store].facings.iter().map(|f| f.gondola).collect();
        gondolas.sort_unstable();
        gondolas.dedup();
        let mut kept: Vec<(usize, i64)> = Vec::new();
        for (i, g) in gondolas.iter().enumerate() {
            if i > 0 && !self.rng.chance(0.75) {
                continue;
            }
            t += self.rng.between(5_000, 20_000);
            let aisle = self.rng.lognormal(22_000.0, 0.7).clamp(1_000.0, 600_000.0) as i64;
            let mut e = base(Kind::Dwell, t, &who);
            e.zone = Some(format!("gondola:{g}:front"));
            e.dwell_ms = aisle;
            self.push(e);
            let here: Vec<Facing> = self.w.stores[store].facings.iter().filter(|f| f.gondola == *g).cloned().collect();
            let mut ft = t;
            for _ in 0..self.rng.between(1, 4) {
                let f = &here[self.rng.below(here.len())];
                let dwell = self.rng.lognormal(6_000.0, 0.8).clamp(500.0, 120_000.0) as i64;
                let mut e = base(Kind::Dwell, ft, &who);
                (e.zone, e.dwell_ms, e.sku, e.product, e.category) = (
                    Some(f.zone.clone()),
                    dwell,
                    Some(f.sku.clone()),
                    Some(f.product.clone()),
                    Some(f.category.clone()),
                );
                self.push(e);
                let p = self.w.products.iter().position(|p| p.sku == f.sku);
                let picked = self.rng.chance(if dwell >= 5_000 { 0.4 } else { 0.1 });
                if picked {
                    let mut e = base(Kind::Pick, ft + dwell, &who);
                    (e.sku, e.product, e.category, e.qty) =
                        (Some(f.sku.clone()), Some(f.product.clone()), Some(f.category.clone()), 1);
                    self.push(e);
                    if self.rng.chance(0.17) {
                        let mut e = base(Kind::PutBack, ft + dwell + self.rng.between(2_000, 20_000), &who);
                        (e.sku, e.product, e.category, e.qty) =
                            (Some(f.sku.clone()), Some(f.product.clone()), Some(f.category.clone()), 1);
                        self.push(e);
                    } else if let Some(p) = p {
                        kept.push((p, 1));
                    }
                } else if dwell >= 5_000 && who.known && self.rng.chance(0.04) {
                    // Showrooming: looked closely here, bought it online within days.
                    if let Some(p) = p {
                        let at = ft + self.rng.between(DAY, 6 * DAY);
                        self.web_order(&[(p, 1)], at, &who);
                    }
                }
                ft += dwell + self.rng.between(2_000, 8_000);
            }
            t += aisle.max(ft - t);
        }
        t += self.rng.between(10_000, 40_000);
        if !kept.is_empty() {
            let order = format!("sv-{visit}");
            for (p, q) in kept {
                self.purchase(
                    p,
                    q,
                    t,
                    &Sale { order: &order, channel: "cashierless", location: &location, visit: Some(&visit) },
                    &who,
                );
            }
        }
        self.push(base(Kind::Exit, t + 1_000, &who));
    }

    fn counter_order(&mut self, store: usize, day: u32) {
        let location = self.w.stores[store].location.clone();
        let t = self.moment(day, &STORE_HOURS);
        let order = format!("co-{}-{}-{}", self.c.seed, store, self.n);
        let who = self.who(0.45, format!("o:{order}"));
        for _ in 0..self.rng.between(1, 3) {
            let p = self.product();
            let q = self.rng.between(1, 2);
            self.purchase(p, q, t, &Sale { order: &order, channel: "pos", location: &location, visit: None }, &who);
        }
    }

    fn stock_out(&mut self, store: usize, day: u32) {
        let location = self.w.stores[store].location.clone();
        let p = self.product();
        let sku = self.w.products[p].sku.clone();
        let t = self.moment(day, &STORE_HOURS);
        // A SKU that is out stays out until it comes back: no second outage inside the first.
        let until = self.out_until.entry((store, p)).or_insert(i64::MIN);
        if t <= *until {
            return;
        }
        let mk = |kind, at| Event {
            kind: Some(kind),
            at_ms: at,
            location: Some(location.clone()),
            sku: Some(sku.clone()),
            ..Default::default()
        };
        self.push(mk(Kind::StockOut, t));
        let back = t + self.rng.between(HOUR, 8 * HOUR);
        self.out_until.insert((store, p), back);
        self.push(mk(Kind::StockBack, back));
    }
}

/// Where and how a purchase happened.
#[derive(Clone, Copy)]
struct Sale<'a> {
    order: &'a str,
    channel: &'a str,
    location: &'a str,
    visit: Option<&'a str>,
}

struct Who {
    shopper: String,
    customer: Option<String>,
    /// Recognised across channels (a customer or a member).
    known: bool,
}

/// Generates the traffic of `c.days` days for the world `w`, in no particular order.
pub fn generate(w: &World, c: &SynthConfig) -> Vec<Event> {
    let mut rng = Rng::new(c.seed);
    // Zipf-like popularity over a shuffled product order.
    let mut order: Vec<usize> = (0..w.products.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut popularity = vec![0.0; w.products.len()];
    for (rank, &p) in order.iter().enumerate() {
        popularity[p] = 1.0 / ((rank + 1) as f64).powf(0.9);
    }
    let mut g = Gen { w, c, rng, out: Vec::new(), n: 0, popularity, out_until: Default::default() };
    if w.products.is_empty() {
        return Vec::new();
    }
    for day in 0..c.days {
        let weekday = crate::time::weekday(c.start_ms + day as i64 * DAY, c.utc_offset_min);
        let busy = if weekday >= 5 { 1.3 } else { 1.0 };
        for _ in 0..c.web_sessions_per_day {
            g.web_session(day);
        }
        for s in 0..w.stores.len() {
            if w.stores[s].cashierless {
                for _ in 0..(c.visits_per_store_day as f64 * busy) as u32 {
                    g.cashierless_visit(s, day);
                }
            } else {
                for _ in 0..(c.counter_orders_per_store_day as f64 * busy) as u32 {
                    g.counter_order(s, day);
                }
            }
            if g.rng.chance(0.35) {
                g.stock_out(s, day);
            }
        }
    }
    g.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        let products: Vec<Product> = (0..40)
            .map(|i| Product {
                id: format!("p{i}"),
                sku: format!("S{i}"),
                category: format!("c{}", i % 5),
                price_minor: 1_000 + i * 100,
            })
            .collect();
        let facings = products
            .iter()
            .take(12)
            .enumerate()
            .map(|(i, p)| Facing {
                zone: format!("facing:{}-1-{}:{}", i / 6 + 1, i % 6 + 1, p.sku),
                gondola: (i / 6 + 1) as u16,
                sku: p.sku.clone(),
                product: p.id.clone(),
                category: p.category.clone(),
            })
            .collect();
        World {
            stores: vec![
                Store { location: "GO".into(), cashierless: true, facings },
                Store { location: "GN".into(), cashierless: false, facings: vec![] },
            ],
            web_location: "WH".into(),
            products,
            customers: (0..50).map(|i| format!("cust{i}")).collect(),
            members: 200,
            currency: "KRW".into(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_traffic_and_the_ratios_are_realistic() {
        let c = SynthConfig {
            seed: 7,
            start_ms: 1_796_310_000_000,
            days: 7,
            utc_offset_min: 540,
            web_sessions_per_day: 400,
            visits_per_store_day: 100,
            counter_orders_per_store_day: 60,
            until_ms: i64::MAX,
        };
        let a = generate(&world(), &c);
        assert_eq!(a, generate(&world(), &c));
        let count = |k: Kind| a.iter().filter(|e| e.kind == Some(k)).count() as f64;
        let (views, carts) = (count(Kind::View), count(Kind::CartAdd));
        let ratio = carts / views;
        assert!((0.02..0.08).contains(&ratio), "cart adds per view {ratio}");
        assert!(count(Kind::Dwell) > count(Kind::Entry) * 2.0);
        assert!(count(Kind::PutBack) < count(Kind::Pick) * 0.3);
        for k in [Kind::Pickup, Kind::Return, Kind::StockOut, Kind::StockBack, Kind::Checkout, Kind::Exit] {
            assert!(count(k) > 0.0, "{k:?}");
        }
        // Nothing after `until`, and what comes before it is named as in the full run.
        let until = c.start_ms + 3 * DAY;
        let cut = generate(&world(), &SynthConfig { until_ms: until, ..c });
        assert!(!cut.is_empty() && cut.iter().all(|e| e.at_ms < until));
        let ids: std::collections::HashSet<&str> = a.iter().map(|e| e.id.as_str()).collect();
        assert!(cut.iter().all(|e| ids.contains(e.id.as_str())));
    }
}
