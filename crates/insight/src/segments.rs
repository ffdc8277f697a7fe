//! Shopper segments from data the seller holds and the shopper agreed to share: membership tier (as it
//! was when the event happened), age band from a given birth year, new vs returning, home store and
//! preferred channel, and the seller's own segments built from them. Nothing is inferred from camera images
//! or body tracks, and there is no segment for race, ethnicity, religion or health.

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

/// A segment the seller defines from the dimensions below: a shopper is in it when every dimension it
/// lists matches (a dimension it leaves empty matches anyone).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentDef {
    /// 1–40 characters, shown as the row's `segment` (not `all` or `other`).
    pub name: String,
    /// Membership tiers at the time of the event (`gold`, `none` for shoppers without one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<String>,
    /// `under_20`, `20s`, `30s`, `40s`, `50s`, `60_plus` or `unknown`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub age_bands: Vec<String>,
    /// `new` or `returning`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    /// Location ids of home stores (`none` for shoppers without one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub home_stores: Vec<String>,
    /// `web`, `click_collect`, `pos`, `cashierless` (`none` before a first purchase).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_channels: Vec<String>,
}

/// The age bands a segment may name.
pub const AGE_BANDS: [&str; 7] = ["under_20", "20s", "30s", "40s", "50s", "60_plus", "unknown"];
/// The channels a segment may name as preferred.
pub const CHANNELS: [&str; 5] = ["web", "click_collect", "pos", "cashierless", "none"];

impl SegmentDef {
    /// Why the definition cannot be used, if it cannot (names a problem the seller can fix).
    pub fn problem(&self) -> Option<String> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Some("a segment's `name` is 1–40 characters".into());
        }
        if matches!(name, "all" | "other") {
            return Some(format!("`{name}` is a name the answers use already; choose another"));
        }
        let lists = [&self.tiers, &self.age_bands, &self.home_stores, &self.preferred_channels];
        if lists.iter().all(|l| l.is_empty()) && self.visitor.is_none() {
            return Some(format!("segment `{name}` names no tier, age band, visitor, home store or preferred channel"));
        }
        if lists.iter().any(|l| l.len() > 20 || l.iter().any(|v| v.is_empty() || v.len() > 64)) {
            return Some(format!("segment `{name}`: each list holds at most 20 values of 1–64 characters"));
        }
        if let Some(b) = self.age_bands.iter().find(|b| !AGE_BANDS.contains(&b.as_str())) {
            return Some(format!("segment `{name}`: age band `{b}` is not one of {}", AGE_BANDS.join(", ")));
        }
        if let Some(c) = self.preferred_channels.iter().find(|c| !CHANNELS.contains(&c.as_str())) {
            return Some(format!("segment `{name}`: channel `{c}` is not one of {}", CHANNELS.join(", ")));
        }
        if self.visitor.as_deref().is_some_and(|v| !matches!(v, "new" | "returning")) {
            return Some(format!("segment `{name}`: `visitor` is new or returning"));
        }
        None
    }
}

/// The dimension an answer is broken down by.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The seller's segments, in their order: a shopper's row goes to the first that matches, `other`
    /// when none does.
    Custom(Vec<SegmentDef>),
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
    pub fn new(table: &'a Table, profiles: &'a Profiles, by: &SegmentBy, offset_min: i32) -> Segmenter<'a> {
        let by = by.clone();
        let mut first_purchase = HashMap::new();
        let mut counts: HashMap<u32, HashMap<u32, u64>> = HashMap::new();
        let needs_purchases = match &by {
            SegmentBy::Visitor | SegmentBy::PreferredChannel => true,
            SegmentBy::Custom(defs) => defs.iter().any(|d| d.visitor.is_some() || !d.preferred_channels.is_empty()),
            _ => false,
        };
        if needs_purchases {
            let mut orders_seen = std::collections::HashSet::new();
            for i in 0..table.len() {
                if table.kind[i] != Kind::Purchase || table.shopper[i] == NONE {
                    continue;
                }
                first_purchase.entry(table.shopper[i]).or_insert(table.at[i]);
                if orders_seen.insert(table.order[i]) {
                    *counts.entry(table.shopper[i]).or_default().entry(table.channel.get(i)).or_default() += 1;
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
        match &self.by {
            SegmentBy::None => "all".into(),
            SegmentBy::Tier => self.dim(Dim::Tier, i),
            SegmentBy::AgeBand => self.dim(Dim::AgeBand, i),
            SegmentBy::Visitor => self.dim(Dim::Visitor, i),
            SegmentBy::HomeStore => self.dim(Dim::HomeStore, i),
            SegmentBy::PreferredChannel => self.dim(Dim::PreferredChannel, i),
            SegmentBy::Custom(defs) => {
                let is = |dim: Dim, allowed: &[String]| allowed.is_empty() || allowed.contains(&self.dim(dim, i));
                defs.iter()
                    .find(|d| {
                        is(Dim::Tier, &d.tiers)
                            && is(Dim::AgeBand, &d.age_bands)
                            && d.visitor.as_ref().is_none_or(|v| *v == self.dim(Dim::Visitor, i))
                            && is(Dim::HomeStore, &d.home_stores)
                            && is(Dim::PreferredChannel, &d.preferred_channels)
                    })
                    .map(|d| d.name.trim().to_owned())
                    .unwrap_or_else(|| "other".into())
            }
        }
    }

    /// Row `i`'s shopper on one dimension.
    fn dim(&self, dim: Dim, i: usize) -> String {
        let t = self.table;
        let (shopper, at) = (t.shopper[i], t.at[i]);
        let profile = self.profiles.get(&t.customer(i)).copied();
        match dim {
            Dim::Tier => profile
                .and_then(|p| p.tiers.iter().rev().find(|(from, _)| *from <= at).map(|(_, tier)| tier.clone()))
                .unwrap_or_else(|| "none".into()),
            Dim::AgeBand => match profile.and_then(|p| p.birth_year) {
                None => "unknown".into(),
                Some(y) => age_band(time::year(at, self.offset_min) - y).into(),
            },
            Dim::Visitor => match self.first_purchase.get(&shopper) {
                Some(&first) if at > first => "returning".into(),
                _ => "new".into(),
            },
            Dim::HomeStore => profile.and_then(|p| p.home_location.clone()).unwrap_or_else(|| "none".into()),
            Dim::PreferredChannel => self.preferred.get(&shopper).cloned().unwrap_or_else(|| "none".into()),
        }
    }
}

#[derive(Clone, Copy)]
enum Dim {
    Tier,
    AgeBand,
    Visitor,
    HomeStore,
    PreferredChannel,
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
        let s = Segmenter::new(&t, &profiles, &SegmentBy::Tier, 540);
        assert_eq!((s.label(0), s.label(1), s.label(2)), ("silver".into(), "silver".into(), "gold".into()));
        let s = Segmenter::new(&t, &profiles, &SegmentBy::Visitor, 540);
        assert_eq!((s.label(0), s.label(1), s.label(2)), ("new".into(), "new".into(), "returning".into()));
        let s = Segmenter::new(&t, &profiles, &SegmentBy::AgeBand, 540);
        assert_eq!(s.label(0), "30s"); // the test instants are in 1970
        let s = Segmenter::new(&t, &profiles, &SegmentBy::PreferredChannel, 540);
        assert_eq!(s.label(0), "web");
        let s = Segmenter::new(&t, &profiles, &SegmentBy::HomeStore, 540);
        assert_eq!(s.label(0), "none");
        // The seller's segments: the first that matches; `other` when none does.
        let gold_returning = SegmentDef {
            name: "gold regulars".into(),
            tiers: vec!["gold".into()],
            visitor: Some("returning".into()),
            ..Default::default()
        };
        let web_80s = SegmentDef {
            name: "web, 30s–40s".into(),
            preferred_channels: vec!["web".into()],
            age_bands: vec!["30s".into(), "40s".into()],
            ..Default::default()
        };
        let s = Segmenter::new(&t, &profiles, &SegmentBy::Custom(vec![gold_returning.clone(), web_80s]), 540);
        assert_eq!((s.label(0), s.label(2)), ("web, 30s–40s".into(), "gold regulars".into()));
        let s = Segmenter::new(&t, &profiles, &SegmentBy::Custom(vec![gold_returning]), 540);
        assert_eq!(s.label(0), "other");
    }

    #[test]
    fn a_segment_definition_explains_what_is_wrong() {
        let ok = SegmentDef { name: "VIP".into(), tiers: vec!["gold".into()], ..Default::default() };
        assert_eq!(ok.problem(), None);
        let p = |d: SegmentDef| d.problem().unwrap_or_default();
        assert!(p(SegmentDef { name: "other".into(), ..ok.clone() }).contains("already"));
        assert!(p(SegmentDef { name: " ".into(), ..ok.clone() }).contains("1–40"));
        assert!(p(SegmentDef { tiers: vec![], ..ok.clone() }).contains("names no"));
        assert!(p(SegmentDef { age_bands: vec!["70s".into()], ..ok.clone() }).contains("70s"));
        assert!(p(SegmentDef { preferred_channels: vec!["fax".into()], ..ok.clone() }).contains("fax"));
        assert!(p(SegmentDef { visitor: Some("old".into()), ..ok.clone() }).contains("new or returning"));
    }
}
