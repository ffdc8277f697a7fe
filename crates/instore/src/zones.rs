//! Zone analytics from body tracks: enter/exit events with hysteresis and dwell time per zone
//! (named zones such as a gondola front, and product facings). Fed by the same
//! [`TrackFrame`]s as the engine, independent of carts.
//!
//! Hysteresis: a target *enters* a zone once its probe has been inside for
//! [`ZoneConfig::enter_after_ms`] (the event is stamped with the first inside time) and *exits*
//! once it has been outside for [`ZoneConfig::exit_after_ms`] (stamped with the first outside
//! time). Frames where the probe joints are missing change nothing, so tracker dropouts do not
//! split visits. Dwell = exit − enter, accumulated per (target, zone).

use std::collections::HashMap;

use crate::model::{Aabb, Joint, StoreLayout, TrackFrame};

/// Which part of the body must be inside the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// Body centre (head/neck/shoulders), floor projection only: "standing in front of".
    Body,
    /// Any wrist or hand, in 3D: "reaching into" (facings).
    Hands,
}

/// A zone: name, box (m) and probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub name: String,
    pub bounds: Aabb,
    pub probe: Probe,
}

/// Hysteresis times.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneConfig {
    pub enter_after_ms: u64,
    pub exit_after_ms: u64,
}

impl Default for ZoneConfig {
    /// 500 ms in / 1000 ms out: a passer-by crossing a 1 m zone at walking pace (~0.6 s) still
    /// counts, an arm swing (~0.2 s) does not; a 1 s grace absorbs occlusions.
    fn default() -> Self {
        ZoneConfig { enter_after_ms: 500, exit_after_ms: 1000 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ZoneEventKind {
    Enter,
    Exit,
}

/// A zone transition. `dwell_ms` is set on exits.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ZoneEvent {
    pub t_s: f64,
    pub target_id: String,
    pub zone: String,
    pub kind: ZoneEventKind,
    pub dwell_ms: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct State {
    inside: bool,
    entered_s: f64,
    candidate_s: Option<f64>,
    outside_s: Option<f64>,
    dwell_ms: u64,
}

/// Tracks every (target, zone) pair.
#[derive(Debug, Clone)]
pub struct ZoneTracker {
    cfg: ZoneConfig,
    zones: Vec<Zone>,
    states: HashMap<String, Vec<State>>,
}

impl ZoneTracker {
    pub fn new(zones: Vec<Zone>, cfg: ZoneConfig) -> Self {
        ZoneTracker { cfg, zones, states: HashMap::new() }
    }
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    fn probe_inside(z: &Zone, f: &TrackFrame) -> Option<bool> {
        match z.probe {
            Probe::Body => f.body().map(|p| z.bounds.contains_xy(p)),
            Probe::Hands => {
                let pts: Vec<_> = Joint::REACH.iter().filter_map(|j| f.joint(*j)).collect();
                (!pts.is_empty()).then(|| pts.iter().any(|p| z.bounds.contains(*p)))
            }
        }
    }

    /// Feeds one frame; appends transitions to `out`.
    pub fn observe(&mut self, f: &TrackFrame, out: &mut Vec<ZoneEvent>) {
        let n = self.zones.len();
        let states = self.states.entry(f.target_id.clone()).or_insert_with(|| vec![State::default(); n]);
        let enter_s = self.cfg.enter_after_ms as f64 / 1000.0;
        let exit_s = self.cfg.exit_after_ms as f64 / 1000.0;
        for (z, st) in self.zones.iter().zip(states.iter_mut()) {
            let Some(inside) = Self::probe_inside(z, f) else { continue };
            let event = |kind, t_s, dwell_ms| ZoneEvent {
                t_s,
                target_id: f.target_id.clone(),
                zone: z.name.clone(),
                kind,
                dwell_ms,
            };
            if !st.inside {
                if inside {
                    let since = *st.candidate_s.get_or_insert(f.t_s);
                    if f.t_s - since >= enter_s {
                        st.inside = true;
                        st.entered_s = since;
                        st.candidate_s = None;
                        st.outside_s = None;
                        out.push(event(ZoneEventKind::Enter, since, None));
                    }
                } else {
                    st.candidate_s = None;
                }
            } else if !inside {
                let since = *st.outside_s.get_or_insert(f.t_s);
                if f.t_s - since >= exit_s {
                    let dwell = ((since - st.entered_s).max(0.0) * 1000.0).round() as u64;
                    st.dwell_ms += dwell;
                    st.inside = false;
                    st.outside_s = None;
                    out.push(event(ZoneEventKind::Exit, since, Some(dwell)));
                }
            } else {
                st.outside_s = None;
            }
        }
    }

    /// Closes every open stay at `t_s` (target left the store or end of stream).
    pub fn close_target(&mut self, target_id: &str, t_s: f64, out: &mut Vec<ZoneEvent>) {
        let Some(states) = self.states.get_mut(target_id) else { return };
        for (z, st) in self.zones.iter().zip(states.iter_mut()) {
            if st.inside {
                let end = st.outside_s.unwrap_or(t_s);
                let dwell = ((end - st.entered_s).max(0.0) * 1000.0).round() as u64;
                st.dwell_ms += dwell;
                st.inside = false;
                st.outside_s = None;
                out.push(ZoneEvent {
                    t_s: end,
                    target_id: target_id.to_string(),
                    zone: z.name.clone(),
                    kind: ZoneEventKind::Exit,
                    dwell_ms: Some(dwell),
                });
            }
            st.candidate_s = None;
        }
    }

    /// Total dwell (ms) of a target in a zone, counting the open stay up to `now_s`.
    pub fn dwell_ms(&self, target_id: &str, zone: &str, now_s: f64) -> u64 {
        let Some(zi) = self.zones.iter().position(|z| z.name == zone) else { return 0 };
        let Some(st) = self.states.get(target_id).map(|s| &s[zi]) else { return 0 };
        let open = if st.inside { ((now_s - st.entered_s).max(0.0) * 1000.0).round() as u64 } else { 0 };
        st.dwell_ms + open
    }
}

/// Default zones of a layout: one `facing:<gondola>-<shelf>-<plates>:<barcode>` zone per facing
/// (hands probe) and one `gondola:<n>:front` zone per gondola: the floor strip of `depth_m`
/// in front of the gondola's facing boxes on the +y side (the aisle side in the recording
/// convention, see FORMAT.md).
pub fn default_zones(layout: &StoreLayout, depth_m: f64) -> Vec<Zone> {
    let mut zones = Vec::new();
    let mut gondolas: std::collections::BTreeMap<u16, Aabb> = std::collections::BTreeMap::new();
    for (product, plates, bx) in &layout.facings {
        let Some(&first) = plates.first() else { continue };
        let k = layout.plate_key(first);
        let plate_list: Vec<String> = plates.iter().map(|&p| layout.plate_key(p).plate.to_string()).collect();
        if let Some(c) = product {
            zones.push(Zone {
                name: format!(
                    "facing:{}-{}-{}:{}",
                    k.gondola,
                    k.shelf,
                    plate_list.join("_"),
                    layout.product(*c).barcode
                ),
                bounds: *bx,
                probe: Probe::Hands,
            });
        }
        gondolas.entry(k.gondola).and_modify(|g| *g = g.union(bx)).or_insert(*bx);
    }
    for (g, bx) in gondolas {
        let mut front = bx;
        front.min.y = bx.max.y;
        front.max.y = bx.max.y + depth_m;
        front.min.z = 0.0;
        front.max.z = 3.0;
        zones.push(Zone { name: format!("gondola:{g}:front"), bounds: front, probe: Probe::Body });
    }
    zones
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Vec3;

    fn frame(t: f64, x: f64) -> TrackFrame {
        let mut f = TrackFrame::new(t, "a");
        f.joints[Joint::Neck.index()] = Some(Vec3::new(x, 0.5, 1.5));
        f
    }

    #[test]
    fn hysteresis_filters_short_visits_and_gaps() {
        let zone = Zone {
            name: "front".into(),
            bounds: Aabb { min: Vec3::new(0.0, 0.0, 0.0), max: Vec3::new(1.0, 1.0, 3.0) },
            probe: Probe::Body,
        };
        let mut zt = ZoneTracker::new(vec![zone], ZoneConfig::default());
        let mut ev = Vec::new();
        // 0.3 s inside: no event.
        for k in 0..4 {
            zt.observe(&frame(k as f64 * 0.1, 0.5), &mut ev);
        }
        zt.observe(&frame(0.4, 5.0), &mut ev);
        assert!(ev.is_empty());
        // 3 s inside with a 0.5 s gap (shorter than exit hysteresis): one stay.
        let mut t = 1.0;
        while t < 4.0 {
            let x = if (2.0..2.5).contains(&t) { 5.0 } else { 0.5 };
            zt.observe(&frame(t, x), &mut ev);
            t += 0.1;
        }
        while t < 6.0 {
            zt.observe(&frame(t, 5.0), &mut ev);
            t += 0.1;
        }
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].kind, ZoneEventKind::Enter);
        assert!((ev[0].t_s - 1.0).abs() < 1e-9);
        let dwell = ev[1].dwell_ms.unwrap();
        assert!((2900..=3100).contains(&dwell), "dwell {dwell}");
        assert_eq!(zt.dwell_ms("a", "front", 10.0), dwell);
    }
}
