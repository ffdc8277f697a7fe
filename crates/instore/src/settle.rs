//! Per-plate settle detection on noisy 60 Hz weight streams: decides when a plate leaves its
//! stable band (an event starts) and when it is stable again (the event settles), and reports
//! the delta between the two settled levels.
//!
//! # Algorithm
//! Each plate keeps a ring buffer of the last [`SettleConfig::window_samples`] readings with
//! running sums (sum and sum of squares relative to an anchor, recomputed exactly every time the
//! ring wraps, so the cost is O(1) amortised and rounding never accumulates). No allocation
//! happens per sample: all state lives in dense arrays indexed by plate.
//!
//! * **Stable** (fast path): the plate has a settled `level`. An event starts when the *window
//!   mean* moves away from the level by more than `max(trigger_floor_g, trigger_sigmas · σ)`,
//!   where σ is the plate's own rest noise (an EWMA of window variances taken while stable, with
//!   growth clamped so vibration cannot inflate it quickly). Using the window mean rather than
//!   single samples makes one-sample spikes (heavy-tailed noise) mostly harmless; a spike that
//!   still triggers produces an event whose delta is ~0 and is discarded downstream. While
//!   stable, the level follows slow drift with a small EWMA gain.
//! * **Active**: the event ends once the window standard deviation has stayed below
//!   `max(settle_floor_g, settle_sigmas · σ)` and the window mean has not moved by more than
//!   that same band for [`SettleConfig::settle_hold_samples`] consecutive samples. The settled
//!   level is the window mean at that point. So the settle time is fixed by the data, not by a
//!   timer: a 0.5–1.5 s pick transient settles ≈0.45 s (window + hold) after it calms down.
//!   An event that never calms is force-settled after [`SettleConfig::max_event_s`].

/// Thresholds of the settle detector. Defaults are calibrated on the AiFi recording (rest noise
/// median σ ≈ 0.6 g, p90 2.6 g, p99 10 g; pick transients 0.5–1.5 s).
#[derive(Debug, Clone, PartialEq)]
pub struct SettleConfig {
    /// Ring length in samples (15 = 0.25 s at 60 Hz): long enough to average σ down by √15,
    /// short enough to keep latency low.
    pub window_samples: usize,
    /// Smallest window-mean deviation (g) that starts an event, whatever the noise estimate.
    pub trigger_floor_g: f64,
    /// Trigger threshold in units of the plate's rest σ.
    pub trigger_sigmas: f64,
    /// Smallest window standard deviation (g) accepted as "settled".
    pub settle_floor_g: f64,
    /// Settled band in units of the plate's rest σ.
    pub settle_sigmas: f64,
    /// Consecutive calm samples needed to declare the plate settled (12 = 0.2 s).
    pub settle_hold_samples: u32,
    /// An event still active after this long is force-settled (s).
    pub max_event_s: f64,
    /// Rest-noise σ assumed before a plate has been observed (g).
    pub initial_sigma_g: f64,
    /// Upper bound of the rest-noise estimate (g): a plate noisier than this is treated as this.
    pub max_sigma_g: f64,
}

impl Default for SettleConfig {
    fn default() -> Self {
        SettleConfig {
            window_samples: 15,
            trigger_floor_g: 4.0,
            trigger_sigmas: 4.0,
            settle_floor_g: 3.5,
            settle_sigmas: 3.0,
            settle_hold_samples: 12,
            max_event_s: 12.0,
            initial_sigma_g: 1.0,
            max_sigma_g: 12.0,
        }
    }
}

/// A settled change of one plate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateChange {
    pub plate: u32,
    /// Time of the sample that started the event.
    pub t_start_s: f64,
    /// Time of the sample at which the plate was declared settled.
    pub t_settled_s: f64,
    pub before_g: f64,
    pub after_g: f64,
    /// Rest-noise σ of the plate at the time (g).
    pub sigma_g: f64,
    /// True when the event was force-settled (timeout or end of stream).
    pub forced: bool,
}

impl PlateChange {
    pub fn delta_g(&self) -> f64 {
        self.after_g - self.before_g
    }
}

/// What a sample did to its plate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    /// Nothing changed state (the common case).
    None,
    /// The plate left its stable band.
    Started,
    /// The plate settled; the change may be ~0 (noise) and is for the caller to judge.
    Settled(PlateChange),
}

/// Settle detectors of all plates, in struct-of-arrays form.
#[derive(Debug, Clone)]
pub struct SettleDetector {
    cfg: SettleConfig,
    w: usize,
    ring: Vec<f32>,
    pos: Vec<u32>,
    filled: Vec<u32>,
    anchor: Vec<f64>,
    sum: Vec<f64>,
    sumsq: Vec<f64>,
    level: Vec<f64>,
    var: Vec<f64>,
    active: Vec<bool>,
    start_t: Vec<f64>,
    calm: Vec<u32>,
    calm_mean: Vec<f64>,
    last_t: Vec<f64>,
}

impl SettleDetector {
    pub fn new(plates: usize, cfg: SettleConfig) -> Self {
        let w = cfg.window_samples.clamp(4, 256);
        let var0 = cfg.initial_sigma_g * cfg.initial_sigma_g;
        SettleDetector {
            w,
            ring: vec![0.0; plates * w],
            pos: vec![0; plates],
            filled: vec![0; plates],
            anchor: vec![0.0; plates],
            sum: vec![0.0; plates],
            sumsq: vec![0.0; plates],
            level: vec![0.0; plates],
            var: vec![var0; plates],
            active: vec![false; plates],
            start_t: vec![0.0; plates],
            calm: vec![0; plates],
            calm_mean: vec![0.0; plates],
            last_t: vec![0.0; plates],
            cfg,
        }
    }

    pub fn config(&self) -> &SettleConfig {
        &self.cfg
    }
    /// Whether the plate is inside an event.
    pub fn is_active(&self, plate: u32) -> bool {
        self.active[plate as usize]
    }
    /// Current settled level (g) of a stable plate, or the level before the event of an active one.
    pub fn level_g(&self, plate: u32) -> f64 {
        self.level[plate as usize]
    }
    /// Takes `g` as the settled level of a stable plate (a change too small to trigger it, counted
    /// elsewhere, is then not measured again); an active plate keeps its level.
    pub fn set_level(&mut self, plate: u32, g: f64) {
        if !self.active[plate as usize] {
            self.level[plate as usize] = g;
        }
    }
    /// Rest-noise σ estimate of the plate (g).
    pub fn sigma_g(&self, plate: u32) -> f64 {
        self.var[plate as usize].sqrt()
    }
    /// Mean of the current window (g).
    pub fn window_mean_g(&self, plate: u32) -> f64 {
        let p = plate as usize;
        let n = self.filled[p].max(1) as f64;
        self.anchor[p] + self.sum[p] / n
    }

    fn window_std(&self, p: usize) -> f64 {
        let n = self.filled[p].max(1) as f64;
        let m = self.sum[p] / n;
        (self.sumsq[p] / n - m * m).max(0.0).sqrt()
    }

    /// Recomputes the running sums exactly from the ring, re-anchored at the window mean.
    fn resum(&mut self, p: usize) {
        let n = self.filled[p] as usize;
        let ring = &self.ring[p * self.w..p * self.w + n];
        let mean = ring.iter().map(|&x| x as f64).sum::<f64>() / n.max(1) as f64;
        self.anchor[p] = mean;
        let (mut s, mut s2) = (0.0, 0.0);
        for &x in ring {
            let d = x as f64 - mean;
            s += d;
            s2 += d * d;
        }
        self.sum[p] = s;
        self.sumsq[p] = s2;
    }

    /// Feeds one reading. O(1); no allocation.
    #[inline]
    pub fn push(&mut self, plate: u32, t_s: f64, grams: f32) -> Transition {
        let p = plate as usize;
        let w = self.w;
        let slot = p * w + self.pos[p] as usize;
        let filled = self.filled[p] as usize;
        if filled == w {
            let old = self.ring[slot] as f64 - self.anchor[p];
            self.sum[p] -= old;
            self.sumsq[p] -= old * old;
        }
        self.ring[slot] = grams;
        let d = grams as f64 - self.anchor[p];
        self.sum[p] += d;
        self.sumsq[p] += d * d;
        self.last_t[p] = t_s;
        let next = self.pos[p] + 1;
        self.pos[p] = if next as usize == w { 0 } else { next };
        if filled < w {
            self.filled[p] += 1;
            if self.filled[p] as usize == w {
                self.resum(p);
                self.level[p] = self.anchor[p];
                let s = self.window_std(p).clamp(0.2, self.cfg.max_sigma_g);
                self.var[p] = s * s;
            } else if filled == 0 {
                self.anchor[p] = grams as f64;
                self.sum[p] = 0.0;
                self.sumsq[p] = 0.0;
            }
            return Transition::None;
        }
        let wrapped = self.pos[p] == 0;
        if self.active[p] {
            self.step_active(p, t_s, wrapped)
        } else {
            self.step_stable(p, t_s, wrapped)
        }
    }

    #[inline]
    fn step_stable(&mut self, p: usize, t_s: f64, wrapped: bool) -> Transition {
        let n = self.w as f64;
        let mean = self.anchor[p] + self.sum[p] / n;
        let sigma = self.var[p].sqrt();
        let trigger = self.cfg.trigger_floor_g.max(self.cfg.trigger_sigmas * sigma);
        let dev = mean - self.level[p];
        if dev.abs() > trigger {
            self.active[p] = true;
            self.start_t[p] = t_s;
            self.calm[p] = 0;
            return Transition::Started;
        }
        // Follow slow drift (creep, temperature): gain 1/64 per sample ≈ 1 s time constant.
        self.level[p] += dev * (1.0 / 64.0);
        if wrapped {
            self.resum(p);
            let win_var = self.sumsq[p] / n;
            // Clamp growth so vibration near a pick cannot inflate σ by more than 2× per window.
            let capped = win_var.min(4.0 * self.var[p]).min(self.cfg.max_sigma_g.powi(2)).max(0.04);
            self.var[p] += (capped - self.var[p]) * 0.05;
        }
        Transition::None
    }

    #[inline]
    fn step_active(&mut self, p: usize, t_s: f64, wrapped: bool) -> Transition {
        if wrapped {
            self.resum(p);
        }
        let n = self.w as f64;
        let mean = self.anchor[p] + self.sum[p] / n;
        let std = self.window_std(p);
        let band = self.cfg.settle_floor_g.max(self.cfg.settle_sigmas * self.var[p].sqrt());
        if std <= band {
            if self.calm[p] == 0 {
                self.calm_mean[p] = mean;
            }
            if (mean - self.calm_mean[p]).abs() <= band {
                self.calm[p] += 1;
            } else {
                self.calm[p] = 0;
            }
        } else {
            self.calm[p] = 0;
        }
        let timed_out = t_s - self.start_t[p] > self.cfg.max_event_s;
        if self.calm[p] >= self.cfg.settle_hold_samples || timed_out {
            return Transition::Settled(self.settle(p, t_s, mean, timed_out));
        }
        Transition::None
    }

    fn settle(&mut self, p: usize, t_s: f64, after_g: f64, forced: bool) -> PlateChange {
        let change = PlateChange {
            plate: p as u32,
            t_start_s: self.start_t[p],
            t_settled_s: t_s,
            before_g: self.level[p],
            after_g,
            sigma_g: self.var[p].sqrt(),
            forced,
        };
        self.active[p] = false;
        self.level[p] = after_g;
        self.calm[p] = 0;
        change
    }

    /// Force-settles every active plate at its current window mean (end of stream).
    pub fn flush(&mut self, t_s: f64) -> Vec<PlateChange> {
        let mut out = Vec::new();
        for p in 0..self.active.len() {
            if self.active[p] {
                let mean = self.window_mean_g(p as u32);
                out.push(self.settle(p, t_s.max(self.last_t[p]), mean, true));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr_free::normal;

    mod rand_distr_free {
        use rand::Rng;
        /// Standard normal via Box–Muller (keeps the crate free of rand_distr).
        pub fn normal(rng: &mut impl Rng) -> f64 {
            let u1: f64 = rng.random::<f64>().max(1e-12);
            let u2: f64 = rng.random::<f64>();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
    }

    fn run(signal: impl Fn(f64, &mut rand::rngs::StdRng) -> f64, secs: f64) -> Vec<PlateChange> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut d = SettleDetector::new(1, SettleConfig::default());
        let mut out = Vec::new();
        let n = (secs * 60.0) as usize;
        for i in 0..n {
            let t = i as f64 / 60.0;
            let g = signal(t, &mut rng);
            if let Transition::Settled(c) = d.push(0, t, g as f32) {
                out.push(c);
            }
        }
        out.extend(d.flush(secs));
        out
    }

    #[test]
    fn rest_noise_with_spikes_yields_no_significant_change() {
        let changes = run(
            |_, rng| {
                let spike = if rng.random::<f64>() < 0.002 { 40.0 * (rng.random::<f64>() - 0.5) } else { 0.0 };
                1500.0 + 0.6 * normal(rng) + spike
            },
            120.0,
        );
        assert!(changes.iter().all(|c| c.delta_g().abs() < 3.0), "{changes:?}");
    }

    #[test]
    fn heavy_noise_plate_does_not_drift_into_events() {
        let changes = run(|_, rng| 900.0 + 8.0 * normal(rng), 60.0);
        assert!(changes.iter().all(|c| c.delta_g().abs() < 10.0), "{changes:?}");
    }

    #[test]
    fn pick_with_transient_settles_to_the_right_delta() {
        let changes = run(
            |t, rng| {
                let base = 1809.0 + 0.8 * normal(rng);
                if t < 10.0 {
                    base
                } else if t < 11.2 {
                    base - 300.0 * ((t - 10.0) * 3.0).sin().abs() - 50.0 * normal(rng)
                } else {
                    base - 622.9
                }
            },
            15.0,
        );
        let big: Vec<_> = changes.iter().filter(|c| c.delta_g().abs() > 5.0).collect();
        assert_eq!(big.len(), 1, "{changes:?}");
        let c = big[0];
        assert!((c.delta_g() + 622.9).abs() < 2.0, "delta {}", c.delta_g());
        assert!(c.t_start_s >= 9.9 && c.t_start_s < 10.3, "start {}", c.t_start_s);
        assert!(c.t_settled_s > 11.2 && c.t_settled_s < 11.9, "settled {}", c.t_settled_s);
        assert!(!c.forced);
    }

    #[test]
    fn small_step_is_detected() {
        let changes = run(|t, rng| 400.0 + 0.6 * normal(rng) - if t > 5.0 { 40.5 } else { 0.0 }, 10.0);
        let big: Vec<_> = changes.iter().filter(|c| c.delta_g().abs() > 5.0).collect();
        assert_eq!(big.len(), 1, "{changes:?}");
        assert!((big[0].delta_g() + 40.5).abs() < 1.5);
    }
}
