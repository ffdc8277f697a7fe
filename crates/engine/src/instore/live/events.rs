//! Device events: parsing and checking each event, and storing a batch (duplicates dropped, gaps counted) before it is acknowledged.

use super::*;

// ---------------- device events ----------------

/// A device event (payload version 1). Times are Unix seconds; coordinates metres in the store frame.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeviceEvent {
    /// A gondola's plate samples: `[t, shelf, plate, grams]` each.
    #[schemars(title = "PlatesEvent")]
    Plates {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        gondola: u16,
        samples: Vec<(f64, u16, u16, f32)>,
    },
    /// A tracker's body frames.
    #[schemars(title = "TracksEvent")]
    Tracks {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        frames: Vec<FrameIn>,
    },
    /// Someone passed the entry gate: with their app's payment code, or with a shopper already inside
    /// (a group on one account).
    #[schemars(title = "EntryEvent")]
    Entry {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        t: f64,
        target_id: String,
        #[serde(default)]
        payment_code: Option<String>,
        #[serde(default)]
        with_target: Option<String>,
    },
    /// Someone passed the exit gate.
    #[schemars(title = "ExitEvent")]
    Exit {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        t: f64,
        target_id: String,
    },
    /// A shelf label confirms what it now shows.
    #[schemars(title = "LabelAckEvent")]
    LabelAck {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        sku: String,
        price_minor: i64,
        currency: String,
    },
    /// Staff settled a review item (stored by the API, never sent by devices). `key` names the item by
    /// what it is (when it settled, which plates), because ids are renumbered when the fold is rebuilt.
    #[schemars(title = "ReviewEvent")]
    Review {
        seq: i64,
        #[serde(default)]
        v: Option<u32>,
        review_id: u64,
        #[serde(default)]
        key: Option<String>,
        action: ReviewAction,
    },
}

/// One body frame: joints by name (`head`, `neck`, `l_shoulder`, `r_shoulder`, `l_elbow`, `r_elbow`,
/// `l_wrist`, `r_wrist`, `l_hand`, `r_hand`) as `[x, y, z]` metres.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrameIn {
    pub t: f64,
    pub target_id: String,
    pub joints: HashMap<String, [f64; 3]>,
}

/// How staff settle a review item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ReviewAction {
    /// `quantity` units of `sku` go to the shopper `target_id` — as the review lists it, `{visit}/{track}`
    /// (negative: a put-back).
    #[schemars(title = "AssignReview")]
    Assign { target_id: String, sku: String, quantity: i32 },
    /// Several lines at once, all applied or none: a shelf change that moved more than one product, or
    /// units that went to different shoppers (two hands in one facing). 1–20 lines, each
    /// (shopper, SKU) once.
    #[schemars(title = "AssignLinesReview")]
    AssignLines { lines: Vec<ReviewLine> },
    /// Nothing a shopper took (noise, a restock).
    #[schemars(title = "DismissReview")]
    Dismiss,
}

/// One line of a multi-line review resolution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewLine {
    /// The shopper, as the review lists it: `{visit}/{track}`.
    pub target_id: String,
    pub sku: String,
    /// Units to the shopper's cart: positive a pick, negative a put-back; −100…100 and not 0.
    pub quantity: i32,
}

impl ReviewAction {
    /// The lines this resolution assigns (none for a dismissal).
    pub fn lines(&self) -> Vec<ReviewLine> {
        match self {
            ReviewAction::Assign { target_id, sku, quantity } => {
                vec![ReviewLine { target_id: target_id.clone(), sku: sku.clone(), quantity: *quantity }]
            }
            ReviewAction::AssignLines { lines } => lines.clone(),
            ReviewAction::Dismiss => Vec::new(),
        }
    }
}

impl DeviceEvent {
    /// The earliest sensor time in the event (entries and exits: their time; reviews: none).
    pub(crate) fn first_t(&self) -> Option<f64> {
        match self {
            DeviceEvent::Plates { samples, .. } => samples.iter().map(|s| s.0).reduce(f64::min),
            DeviceEvent::Tracks { frames, .. } => frames.iter().map(|f| f.t).reduce(f64::min),
            DeviceEvent::Entry { t, .. } | DeviceEvent::Exit { t, .. } => Some(*t),
            DeviceEvent::LabelAck { .. } | DeviceEvent::Review { .. } => None,
        }
    }

    fn seq(&self) -> i64 {
        match self {
            DeviceEvent::Plates { seq, .. }
            | DeviceEvent::Tracks { seq, .. }
            | DeviceEvent::Entry { seq, .. }
            | DeviceEvent::Exit { seq, .. }
            | DeviceEvent::LabelAck { seq, .. }
            | DeviceEvent::Review { seq, .. } => *seq,
        }
    }

    fn version(&self) -> Option<u32> {
        match self {
            DeviceEvent::Plates { v, .. }
            | DeviceEvent::Tracks { v, .. }
            | DeviceEvent::Entry { v, .. }
            | DeviceEvent::Exit { v, .. }
            | DeviceEvent::LabelAck { v, .. }
            | DeviceEvent::Review { v, .. } => *v,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            DeviceEvent::Plates { .. } => "plates",
            DeviceEvent::Tracks { .. } => "tracks",
            DeviceEvent::Entry { .. } => "entry",
            DeviceEvent::Exit { .. } => "exit",
            DeviceEvent::LabelAck { .. } => "label_ack",
            DeviceEvent::Review { .. } => "review",
        }
    }

    /// Which device kind may send it.
    fn sender(&self) -> &'static str {
        match self {
            DeviceEvent::Plates { .. } => "gondola",
            DeviceEvent::Tracks { .. } => "tracker",
            DeviceEvent::Entry { .. } | DeviceEvent::Exit { .. } => "gate",
            DeviceEvent::LabelAck { .. } => "esl",
            DeviceEvent::Review { .. } => "staff",
        }
    }
}

pub(crate) fn time_ok(t: f64) -> bool {
    t.is_finite() && (1.0e9..4.0e9).contains(&t)
}

pub(crate) fn id_ok(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_graphic())
}

/// Parses and checks one event from a device of `kind`; the error says what is wrong.
pub fn parse_event(kind: &str, v: &serde_json::Value) -> std::result::Result<DeviceEvent, String> {
    let e: DeviceEvent = serde_json::from_value(v.clone()).map_err(|e| format!("not a device event: {e}"))?;
    if e.seq() < 1 {
        return Err("`seq` counts from 1".into());
    }
    if e.version().is_some_and(|v| v != 1) {
        return Err("payload version `v` must be 1".into());
    }
    if e.sender() != kind {
        return Err(format!("a {kind} cannot send `{}` events (they come from a {})", e.kind(), e.sender()));
    }
    match &e {
        DeviceEvent::Plates { samples, .. } => {
            if samples.is_empty() || samples.len() > MAX_SAMPLES {
                return Err(format!("`samples` holds 1–{MAX_SAMPLES} samples"));
            }
            if let Some(i) = samples.iter().position(|s| !time_ok(s.0) || !s.3.is_finite() || s.3.abs() > 1.0e6) {
                return Err(format!(
                    "samples[{i}]: `[t, shelf, plate, grams]` with t in Unix seconds and grams finite"
                ));
            }
        }
        DeviceEvent::Tracks { frames, .. } => {
            if frames.is_empty() || frames.len() > MAX_FRAMES {
                return Err(format!("`frames` holds 1–{MAX_FRAMES} frames"));
            }
            for (i, f) in frames.iter().enumerate() {
                if !time_ok(f.t) || !id_ok(&f.target_id) {
                    return Err(format!("frames[{i}]: `t` in Unix seconds and a `target_id` of 1–64 characters"));
                }
                if let Some(name) = f.joints.keys().find(|k| instore::Joint::from_name(k).is_none()) {
                    return Err(format!("frames[{i}]: unknown joint `{name}`"));
                }
                if f.joints.values().flatten().any(|c| !c.is_finite() || c.abs() > 10_000.0) {
                    return Err(format!("frames[{i}]: joint coordinates are metres"));
                }
            }
        }
        DeviceEvent::Entry { t, target_id, payment_code, with_target, .. } => {
            if !time_ok(*t) || !id_ok(target_id) {
                return Err("`t` in Unix seconds and a `target_id` of 1–64 characters".into());
            }
            if payment_code.is_some() == with_target.is_some() {
                return Err("an entry carries either the shopper's `payment_code` or `with_target` (a group member already inside)".into());
            }
        }
        DeviceEvent::Exit { t, target_id, .. } => {
            if !time_ok(*t) || !id_ok(target_id) {
                return Err("`t` in Unix seconds and a `target_id` of 1–64 characters".into());
            }
        }
        DeviceEvent::LabelAck { sku, price_minor, currency, .. } => {
            if !id_ok(sku) || *price_minor < 0 || domain::Currency::parse(currency).is_err() {
                return Err("`sku`, a `price_minor` ≥ 0 and an ISO-4217 `currency`".into());
            }
        }
        DeviceEvent::Review { .. } => {}
    }
    Ok(e)
}

/// What one ingest call did.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct IngestOutcome {
    /// Stored (durably) and applied.
    pub accepted: usize,
    /// Sequence numbers seen before: dropped.
    pub duplicates: Vec<i64>,
    /// Missing sequence ranges this batch revealed (first, last).
    pub gaps: Vec<(i64, i64)>,
    /// Events refused, with their position in the batch and why; nothing of them was stored.
    pub rejected: Vec<Rejected>,
    /// Entry decisions, for the gate to open or not.
    pub entries: Vec<EntryDecision>,
    /// Orders placed by exits in this batch.
    pub orders: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rejected {
    pub index: usize,
    pub seq: Option<i64>,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EntryDecision {
    pub target_id: String,
    pub admitted: bool,
    pub session_id: Option<String>,
    pub reason: Option<String>,
}

/// Stores the valid events (dropping duplicates) and updates the device's counters, in one transaction.
/// Returns the stored events in order, with the duplicates and gaps seen.
pub(crate) fn store_events(
    tx: &mut dyn Tx,
    dev: &DeviceRef,
    events: &[DeviceEvent],
    rejected: usize,
    now: i64,
) -> Result<(Vec<DeviceEvent>, Vec<i64>, Vec<(i64, i64)>)> {
    // A device revoked after it authenticated stores nothing more.
    let sql = format!("SELECT last_seq FROM devices WHERE id = ? AND revoked_at IS NULL{}", tx.for_update());
    let mut last = tx.query_opt(&sql, params![&dev.id])?.ok_or(EngineError::Unauthorized)?.i64(0)?;
    let (mut stored, mut dups, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
    for e in events {
        let seq = e.seq();
        if seq > last.saturating_add(MAX_SEQ_JUMP) {
            // A runaway counter would end gap detection for good; the event is refused, not stored.
            return Err(bad(format!("`seq` {seq} jumps more than {MAX_SEQ_JUMP} past the device's last ({last}); reset the device's counter")));
        }
        let payload = serde_json::to_string(e).map_err(|x| bad(x.to_string()))?;
        let inserted = tx.exec(
            "INSERT INTO device_events (device_id, seq, location_id, kind, payload, received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, seq) DO NOTHING",
            params![&dev.id, seq, &dev.location_id, e.kind(), &payload, now],
        )?;
        if inserted == 0 {
            dups.push(seq);
            continue;
        }
        if seq > last + 1 {
            gaps.push((last + 1, seq - 1));
        }
        last = last.max(seq);
        if let DeviceEvent::LabelAck { sku, price_minor, currency, .. } = e {
            // What the label shows, confirmed by the label itself (for the stale-label list).
            tx.exec(
                "UPDATE devices SET shown_price_minor = ?, shown_currency = ?, shown_at = ? WHERE id = ? AND sku = ?",
                params![*price_minor, currency, now, &dev.id, sku],
            )?;
        }
        stored.push(e.clone());
    }
    let gap_count: i64 = gaps.iter().fold(0i64, |n, (a, b)| n.saturating_add(b - a + 1));
    tx.exec(
        "UPDATE devices SET last_seq = ?, accepted = accepted + ?, duplicates = duplicates + ?, gaps = gaps + ?, rejected = rejected + ?, last_seen_at = ? WHERE id = ?",
        params![last, stored.len() as i64, dups.len() as i64, gap_count, rejected as i64, now, &dev.id],
    )?;
    Ok((stored, dups, gaps))
}
