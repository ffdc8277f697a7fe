//! Shopper segments from data the seller holds and the shopper agreed to share: membership tier (as it
//! was when the event happened), age band from a given birth year, new vs returning, home store and
//! preferred channel. Nothing is inferred from camera images or body tracks, and there is no segment
//! for race, ethnicity, religion or health.

use crate::{time, Kind, Table, NONE};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a customer agreed to share for segments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Tier changes as (from, tier), in time order: the tier of an event is the last one from before it.
    pub tiers: Vec<(i64, String)>,
    pub birth_year: Option<i32>,
    pub home_location: Option<String>,
}

/// Profiles by customer id.
pub type Profiles = HashMap<String, Profile>;

/// The dimension an answer is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SegmentBy {
    /// No breakdown: every row's segment is `all`.
    #[default]
    None,
    /// Membership tier at the time of the event (`none` without one).
    Tier,
    /// Age band at the time of the event from the birth year the shopper gave (`unknown` without one).
    AgeBand,
    /// `new` until the shopper's first purchase (that purchase included), `returning` after.
    Visitor,
    /// The store the shopper calls home (`none` without one).
    HomeStore,
    /// The channel of most of the shopper's purchases (`none` before any).
    PreferredChannel,
}

impl SegmentBy {
    pub fn parse(s: &str) -> Option<SegmentBy> {
        Some(match s {
            "none" | "" => SegmentBy::None,
            "tier" => SegmentBy::Tier,
            "age_band" => SegmentBy::AgeBand,
            "visitor" => SegmentBy::Visitor,
            "home_store" => SegmentBy::HomeStore,
            "preferred_channel" => SegmentBy::PreferredChannel,
            _ => return None,
        })
    }
}

/// Labels events with their shopper's segment.
pub struct Segmenter<'a> {
    by: SegmentBy,
    offset_min: i32,
    table: &'a Table,
    profiles: HashMap<u32, &'a Profile>,
    first_purchase: HashMap<u32, i64>,
    preferred: HashMap<u32, String>,
    /// Labels handed out by `label_id`.
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl<'a> Segmenter<'a> {
    pub fn new(table: &'a Table, profiles: &'a Profiles, by: SegmentBy, offset_min: i32) -> Segmenter<'a> {
        let mut first_purchase = HashMap::new();
        let mut counts: HashMap<u32, HashMap<u32, u64>> = HashMap::new();
        if matches!(by, SegmentBy::Visitor | SegmentBy::PreferredChannel) {
            let mut orders_seen = std::collections::HashSet::new();
            for i in 0..table.len() {
                if table.kind[i] != Kind::Purchase || table.shopper[i] == NONE {
                    continue;
                }
                first_purchase.entry(table.shopper[i]).or_insert(table.at[i]);
                if orders_seen.insert(table.order[i]) {
                    *counts.entry(table.shopper[i]).or_default().entry(table.channel[i]).or_default() += 1;
                }
            }
        }
        let preferred = counts
            .into_iter()
            .map(|(s, by_channel)| {
                let best = by_channel
                    .into_iter()
                    .map(|(c, n)| (n, table.name(c).to_owned()))
                    .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
                    .map(|x| x.1)
                    .unwrap_or_default();
                (s, best)
            })
            .collect();
        let profiles = profiles.iter().filter_map(|(c, p)| table.dict.get(c).map(|id| (id, p))).collect();
        Segmenter {
            by,
            offset_min,
            table,
            profiles,
            first_purchase,
            preferred,
            names: vec!["all".into()],
            ids: HashMap::new(),
        }
    }

    /// The segment of row `i` as a small number (`label_name` gives it back); no breakdown is always 0.
    pub fn label_id(&mut self, i: usize) -> u32 {
        if self.by == SegmentBy::None {
            return 0;
        }
        let l = self.label(i);
        if let Some(&id) = self.ids.get(&l) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(l.clone());
        self.ids.insert(l, id);
        id
    }

    pub fn label_name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The segment of row `i`'s shopper when it happened.
    pub fn label(&self, i: usize) -> String {
        let t = self.table;
        let (shopper, at) = (t.shopper[i], t.at[i]);
        let profile = self.profiles.get(&t.customer[i]).copied();
        match self.by {
            SegmentBy::None => "all".into(),
            SegmentBy::Tier => profile
                .and_then(|p| p.tiers.iter().rev().find(|(from, _)| *from <= at).map(|(_, tier)| tier.clone()))
                .unwrap_or_else(|| "none".into()),
            SegmentBy::AgeBand => match profile.and_then(|p| p.birth_year) {
                None => "unknown".into(),
                Some(y) => age_band(time::year(at, self.offset_min) - y).into(),
            },
            SegmentBy::Visitor => match self.first_purchase.get(&shopper) {
                Some(&first) if at > first => "returning".into(),
                _ => "new".into(),
            },
            SegmentBy::HomeStore => profile.and_then(|p| p.home_location.clone()).unwrap_or_else(|| "none".into()),
            SegmentBy::PreferredChannel => self.preferred.get(&shopper).cloned().unwrap_or_else(|| "none".into()),
        }
    }
}

/// The age band of an age in years.
pub fn age_band(age: i32) -> &'static str {
    match age {
        ..=19 => "under_20",
        20..=29 => "20s",
        30..=39 => "30s",
        40..=49 => "40s",
        50..=59 => "50s",
        _ => "60_plus",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    #[test]
    fn a_shopper_changes_segment_over_time() {
        let ev = |id: &str, kind, at| Event {
            id: id.into(),
            kind: Some(kind),
            at_ms: at,
            shopper: Some("c1".into()),
            customer: Some("c1".into()),
            order: Some(format!("o{id}")),
            channel: Some("web".into()),
            ..Default::default()
        };
        let t =
            Table::from_events(vec![ev("1", Kind::View, 100), ev("2", Kind::Purchase, 200), ev("3", Kind::View, 300)]);
        let mut profiles = Profiles::new();
        profiles.insert(
            "c1".into(),
            Profile {
                tiers: vec![(0, "silver".into()), (250, "gold".into())],
                birth_year: Some(1940),
                home_location: None,
            },
        );
        let s = Segmenter::new(&t, &profiles, SegmentBy::Tier, 540);
        assert_eq!((s.label(0), s.label(1), s.label(2)), ("silver".into(), "silver".into(), "gold".into()));
        let s = Segmenter::new(&t, &profiles, SegmentBy::Visitor, 540);
        assert_eq!((s.label(0), s.label(1), s.label(2)), ("new".into(), "new".into(), "returning".into()));
        let s = Segmenter::new(&t, &profiles, SegmentBy::AgeBand, 540);
        assert_eq!(s.label(0), "30s"); // the test instants are in 1970
        let s = Segmenter::new(&t, &profiles, SegmentBy::PreferredChannel, 540);
        assert_eq!(s.label(0), "web");
        let s = Segmenter::new(&t, &profiles, SegmentBy::HomeStore, 540);
        assert_eq!(s.label(0), "none");
    }
}
