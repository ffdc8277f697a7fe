//! What shoppers share with analytics and what the seller defines from it: consent to be recognised
//! across channels, birth year and home store, membership tiers over time, erasure, and the seller's own
//! segments.

use super::*;

/// The most days an erasure looks up one by one in the index by customer (11 years).
const MAX_ERASE_DAYS: i64 = 4_000;

/// Erases what analytics recorded about a customer: behaviour (views, visits, dwell, picks) is deleted;
/// sales keep only a key of their order or visit, so the shop's revenue stays true and nothing leads back.
fn forget(tx: &mut dyn Tx, customer_id: &str) -> Result<u64> {
    // The index by customer leads with the day: each day of the stored events is looked up.
    let span = tx.query_one("SELECT MIN(at), MAX(at) FROM insight_events", &[])?;
    let (Some(first), Some(last)) = (span.opt_i64(0)?, span.opt_i64(1)?) else { return Ok(0) };
    let mut n = 0;
    let days: Vec<Option<i64>> = if last / DAY_MS - first / DAY_MS < MAX_ERASE_DAYS {
        (first / DAY_MS..=last / DAY_MS).map(Some).collect()
    } else {
        // Events decades apart (an import's): every row is looked at instead.
        vec![None]
    };
    // A few hundred days per statement (the stores bound the parameters of one).
    for days in days.chunks(500) {
        let days: Vec<i64> = days.iter().flatten().copied().collect();
        let within = match days.len() {
            0 => "customer_id = ?".to_owned(),
            n => format!("{DAY} IN ({}) AND customer_id = ?", vec!["?"; n].join(", ")),
        };
        let mut ps: Vec<store::Val> = days.iter().map(|&d| d.into()).collect();
        ps.push(customer_id.into());
        n += tx.exec(
            &format!("DELETE FROM insight_events WHERE {within} AND kind NOT IN ('purchase', 'return', 'pickup')"),
            &ps,
        )?;
        n += tx.exec(
            &format!(
                "UPDATE insight_events SET customer_id = NULL, \
                 shopper = CASE WHEN visit IS NOT NULL THEN 'v:' || visit ELSE 'o:' || order_id END WHERE {within}"
            ),
            &ps,
        )?;
    }
    if n > 0 {
        load::bump_generation(tx)?;
    }
    Ok(n)
}

impl Engine {
    /// A customer's analytics choices: consent to be recognised across channels, birth year, home store.
    /// Withdrawing consent erases what was recorded about them.
    pub async fn set_analytics_profile(&self, customer_id: String, p: AnalyticsProfile) -> Result<AnalyticsProfile> {
        let year = ::insight::time::year(self.now(), 540);
        if let Some(y) = p.birth_year {
            if !(1900..=year).contains(&y) {
                return Err(bad(format!("`birth_year` is a year from 1900 to {year}")));
            }
        }
        check_id("home_location_id", &p.home_location_id)?;
        let erased = self
            .db
            .write(move |tx| {
                if tx.query_opt("SELECT 1 FROM customers WHERE id = ?", params![&customer_id])?.is_none() {
                    return Err(EngineError::not_found("customer", customer_id.clone()));
                }
                if let Some(l) = &p.home_location_id {
                    if tx
                        .query_opt("SELECT 1 FROM locations WHERE id = ? AND kind <> 'warehouse'", params![l])?
                        .is_none()
                    {
                        return Err(EngineError::not_found("store", l.clone()));
                    }
                }
                tx.exec(
                    "UPDATE customers SET analytics_consent = ?, birth_year = ?, home_location_id = ? WHERE id = ?",
                    params![p.consent as i64, p.birth_year.map(i64::from), p.home_location_id.as_deref(), &customer_id],
                )?;
                if !p.consent {
                    forget(tx, &customer_id)?;
                }
                Ok(p.clone())
            })
            .await?;
        if !erased.consent {
            self.insight_forget();
        }
        Ok(erased)
    }

    /// A customer's analytics choices as stored.
    pub async fn analytics_profile(&self, customer_id: String) -> Result<AnalyticsProfile> {
        self.db
            .read(move |tx| {
                let r = tx
                    .query_opt(
                        "SELECT analytics_consent, birth_year, home_location_id FROM customers WHERE id = ?",
                        params![&customer_id],
                    )?
                    .ok_or_else(|| EngineError::not_found("customer", customer_id.clone()))?;
                Ok(AnalyticsProfile {
                    consent: r.i64(0)? == 1,
                    birth_year: r.opt_i64(1)?.map(|y| y as i32),
                    home_location_id: r.opt_text(2)?,
                })
            })
            .await
    }

    /// A shopper's erasure request: every analytics event recorded about them goes; their purchases,
    /// returns and pickups stay in the sales figures under a key of the order or visit alone, tied to
    /// nobody. Returns the events erased or untied.
    pub async fn erase_analytics(&self, customer_id: String) -> Result<u64> {
        let n = self
            .db
            .write(move |tx| {
                if tx.query_opt("SELECT 1 FROM customers WHERE id = ?", params![&customer_id])?.is_none() {
                    return Err(EngineError::not_found("customer", customer_id.clone()));
                }
                let n = forget(tx, &customer_id)?;
                tx.exec("UPDATE customers SET analytics_consent = 0 WHERE id = ?", params![&customer_id])?;
                Ok(n)
            })
            .await?;
        self.insight_forget();
        Ok(n)
    }

    /// Sets a customer's membership tier from now on (the seller's data; earlier events keep the tier
    /// they had).
    pub async fn set_customer_tier(&self, customer_id: String, tier: String) -> Result<()> {
        let tier = tier.trim().to_lowercase();
        if tier.is_empty()
            || tier.len() > 32
            || !tier.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad("`tier` is 1–32 letters, digits, `-` or `_` (for example `gold`)"));
        }
        let now = self.now();
        self.db
            .write(move |tx| {
                if tx.query_opt("SELECT 1 FROM customers WHERE id = ?", params![&customer_id])?.is_none() {
                    return Err(EngineError::not_found("customer", customer_id.clone()));
                }
                tx.exec(
                    "INSERT INTO customer_tiers (customer_id, from_at, tier) VALUES (?, ?, ?) ON CONFLICT (customer_id, from_at) DO UPDATE SET tier = excluded.tier",
                    params![&customer_id, now, &tier],
                )?;
                Ok(())
            })
            .await
    }

    /// The seller's own segments, in their order (a shopper's row goes to the first that matches).
    pub async fn analytics_segments(&self) -> Result<Vec<::insight::segments::SegmentDef>> {
        self.db.read(load::segments).await
    }

    /// Replaces the seller's segments (at most 20, names unique); answers asked with `segment=custom`
    /// break down by them from the next question on.
    pub async fn set_analytics_segments(
        &self,
        defs: Vec<::insight::segments::SegmentDef>,
    ) -> Result<Vec<::insight::segments::SegmentDef>> {
        if defs.len() > MAX_SEGMENTS {
            return Err(bad(format!("at most {MAX_SEGMENTS} segments; merge or remove some")));
        }
        let mut seen = std::collections::HashSet::new();
        let mut clean = Vec::with_capacity(defs.len());
        for mut d in defs {
            d.name = d.name.trim().to_owned();
            let norm = |v: &mut Vec<String>, lower: bool| {
                for x in v.iter_mut() {
                    *x = if lower { x.trim().to_lowercase() } else { x.trim().to_owned() };
                }
                v.dedup();
            };
            norm(&mut d.tiers, true);
            norm(&mut d.age_bands, true);
            norm(&mut d.home_stores, false);
            norm(&mut d.preferred_channels, true);
            d.visitor = d.visitor.map(|v| v.trim().to_lowercase());
            if let Some(p) = d.problem() {
                return Err(bad(p));
            }
            if !seen.insert(d.name.to_lowercase()) {
                return Err(bad(format!("two segments are named `{}`; names must differ", d.name)));
            }
            clean.push(d);
        }
        let now = self.now();
        let out = clean.clone();
        self.db
            .write(move |tx| {
                for d in &clean {
                    for l in d.home_stores.iter().filter(|l| *l != "none") {
                        if tx
                            .query_opt("SELECT 1 FROM locations WHERE id = ? AND kind <> 'warehouse'", params![l])?
                            .is_none()
                        {
                            return Err(bad(format!("segment `{}`: `{l}` is not a store's location id", d.name)));
                        }
                    }
                }
                tx.exec("DELETE FROM analytics_segments", &[])?;
                for (i, d) in clean.iter().enumerate() {
                    let json = serde_json::to_string(d).map_err(|e| crate::error::internal(e.to_string()))?;
                    tx.exec(
                        "INSERT INTO analytics_segments (position, name, definition, updated_at) VALUES (?, ?, ?, ?)",
                        params![i as i64, &d.name, json, now],
                    )?;
                }
                Ok(())
            })
            .await?;
        self.insight_touch();
        Ok(out)
    }
}
