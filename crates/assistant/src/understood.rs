//! What one utterance asks, as data: the intent, its slots and where to pick up — the API's `understood`
//! object, shared by the understanding and the forms it reads.

use crate::price::PriceBounds;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Pickup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_km: Option<u32>,
    /// "today", "오늘": in stock now, not on order.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub today: bool,
    /// "여기", "here", "this store": the store the shopper is in (the request's `location_id`), which the
    /// engine puts in `location_id`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub here: bool,
}

/// What one utterance asks, as the API's `understood` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Understood {
    pub intent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// A refinement away from this brand ("다른 브랜드는?").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<PriceBounds>,
    pub attributes: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickup: Option<Pickup>,
    /// How a refinement changes the last answer: `cheaper`, `pricier`, `other_brand`, `colour`, `size`,
    /// `price`, `brand`, or `type` (one type or format within the kind: "cold brew specifically").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine: Option<String>,
    /// The words left for the search engine.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub words: String,
}
