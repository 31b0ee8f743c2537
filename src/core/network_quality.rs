//! Network quality from live stats, beside the contract's ICE-state
//! `quality`: a call can stay `connected` while it loses a third of its
//! packets, and the overlay should say so.
//!
//! Every sample (the edge takes one every [`SAMPLE_INTERVAL_MS`]) gives a
//! mean opinion score (MOS, 1 to 4.5) from packet loss, jitter and round-trip
//! time with the E-model as LiveKit applies it (ITU-T G.107 reduced to its
//! delay and loss terms):
//!
//! - effective latency `d = rtt/2 + 2·jitter + 10 ms`;
//! - `R = 93.2 − (d < 160 ? d/40 : (d − 120)/10) − 2.5·loss%`, clamped to 0..=100;
//! - `MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R)`, clamped to 1..=4.5.
//!
//! Levels, by MOS: `excellent` ≥ 4.1 (LiveKit's EXCELLENT), `good` ≥ 3.6
//! (LiveKit's GOOD; G.107's "satisfied" users start near R 70, MOS 3.6),
//! `poor` ≥ 2.6 (G.107: "many users dissatisfied" below R 50, MOS 2.6),
//! `bad` below; `unknown` until a sample had something to measure.
//!
//! Loss is measured over each sample's window (the change in `packetsLost`
//! against packets expected), not since the call began, so a call recovers
//! its level once the loss stops. A window in which nothing arrived although
//! media arrived before counts as 100 % loss: a dead path is bad, even while
//! ICE still says `connected`.
//!
//! Hysteresis, so the level does not flap: a worse level is taken at once
//! (users notice a drop first) once the MOS is [`MARGIN`] below the current
//! level's floor; a better level only after [`RISE_SAMPLES`] consecutive
//! samples at least [`MARGIN`] above that level's floor.

use super::stats::PeerStats;

/// How often the edge samples stats for the score.
pub const SAMPLE_INTERVAL_MS: f64 = 2000.0;
/// The dead band around each level's floor.
pub const MARGIN: f64 = 0.1;
/// Consecutive better samples before the level rises.
pub const RISE_SAMPLES: u32 = 3;

/// The graded network quality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NetworkQuality {
    /// Nothing measured yet.
    Unknown,
    /// MOS below 2.6.
    Bad,
    /// MOS from 2.6.
    Poor,
    /// MOS from 3.6.
    Good,
    /// MOS from 4.1.
    Excellent,
}

impl NetworkQuality {
    /// "unknown" | "bad" | "poor" | "good" | "excellent".
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkQuality::Unknown => "unknown",
            NetworkQuality::Bad => "bad",
            NetworkQuality::Poor => "poor",
            NetworkQuality::Good => "good",
            NetworkQuality::Excellent => "excellent",
        }
    }

    /// The lowest MOS of this level (0 for Bad and Unknown).
    fn floor(self) -> f64 {
        match self {
            NetworkQuality::Excellent => 4.1,
            NetworkQuality::Good => 3.6,
            NetworkQuality::Poor => 2.6,
            NetworkQuality::Bad | NetworkQuality::Unknown => 0.0,
        }
    }

    /// The level a MOS falls in, without hysteresis.
    pub fn of_mos(mos: f64) -> Self {
        // By reference: an array by value is copied to the stack first.
        for level in &[
            NetworkQuality::Excellent,
            NetworkQuality::Good,
            NetworkQuality::Poor,
        ] {
            if mos >= level.floor() {
                return *level;
            }
        }
        NetworkQuality::Bad
    }
}

/// The E-model MOS for a round-trip time and jitter (ms) and a loss (%).
/// Monotone: more of any of them never gives a higher score.
pub fn mos(rtt_ms: f64, jitter_ms: f64, loss_pct: f64) -> f64 {
    // NaN is "not measured"; an infinite delay is the worst delay, not none.
    let measured = |v: f64| if v.is_nan() { 0.0 } else { v.max(0.0) };
    let latency = measured(rtt_ms) / 2.0 + 2.0 * measured(jitter_ms) + 10.0;
    let delay_penalty = if latency < 160.0 {
        latency / 40.0
    } else {
        (latency - 120.0) / 10.0
    };
    let loss = if loss_pct.is_nan() {
        0.0
    } else {
        loss_pct.clamp(0.0, 100.0)
    };
    let r = (93.2 - delay_penalty - 2.5 * loss).clamp(0.0, 100.0);
    (1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)).clamp(1.0, 4.5)
}

/// One sample's figures, as reported with a level change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Mean opinion score, 1 to 4.5.
    pub mos: f64,
    /// Packet loss over the sample's window, in percent.
    pub loss_pct: f64,
    /// Worst inbound jitter, ms (0 when unknown).
    pub jitter_ms: f64,
    /// Round-trip time of the selected pair, ms (0 when unknown).
    pub rtt_ms: f64,
}

/// Turns successive stats into a level with hysteresis.
#[derive(Clone, Debug, Default)]
pub struct NetworkQualityMeter {
    /// Cumulative (lost, received) at the previous sample.
    previous: Option<(f64, f64)>,
    media_seen: bool,
    level: Option<NetworkQuality>,
    rising: u32,
    last: Option<Score>,
}

impl NetworkQualityMeter {
    /// A meter at `unknown`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current level.
    pub fn level(&self) -> NetworkQuality {
        self.level.unwrap_or(NetworkQuality::Unknown)
    }

    /// The last sample's figures.
    pub fn last_score(&self) -> Option<Score> {
        self.last
    }

    /// Takes one sample; returns the new level when it changed.
    pub fn sample(&mut self, stats: &PeerStats) -> Option<NetworkQuality> {
        let score = self.score(stats)?;
        self.last = Some(score);
        let raw = NetworkQuality::of_mos(score.mos);
        let current = self.level();
        let next = if current == NetworkQuality::Unknown {
            Some(raw)
        } else if raw < current && score.mos < current.floor() - MARGIN {
            self.rising = 0;
            Some(raw)
        } else if raw > current && score.mos >= raw.floor() + MARGIN {
            self.rising += 1;
            (self.rising >= RISE_SAMPLES).then_some(raw)
        } else {
            self.rising = 0;
            None
        };
        let changed = next.filter(|n| *n != current)?;
        self.rising = 0;
        self.level = Some(changed);
        Some(changed)
    }

    /// The figures of one window, or None when there is nothing to judge
    /// yet (no media so far and no RTT).
    fn score(&mut self, stats: &PeerStats) -> Option<Score> {
        let lost = stats.packets_lost.unwrap_or(0.0).max(0.0);
        let received = stats.packets_received.unwrap_or(0.0).max(0.0);
        let loss_pct = match self.previous.replace((lost, received)) {
            Some((lost_before, received_before)) => {
                let (d_lost, d_received) = (
                    (lost - lost_before).max(0.0),
                    (received - received_before).max(0.0),
                );
                if d_received > 0.0 {
                    self.media_seen = true;
                    100.0 * d_lost / (d_lost + d_received)
                } else if self.media_seen {
                    100.0 // media stopped arriving: the path is dead
                } else {
                    0.0
                }
            }
            None => {
                self.media_seen |= received > 0.0;
                0.0
            }
        };
        let rtt_ms = stats.round_trip_time_ms;
        if rtt_ms.is_none() && !self.media_seen {
            return None;
        }
        let (rtt_ms, jitter_ms) = (rtt_ms.unwrap_or(0.0), stats.jitter_ms.unwrap_or(0.0));
        Some(Score {
            mos: mos(rtt_ms, jitter_ms, loss_pct),
            loss_pct,
            jitter_ms,
            rtt_ms,
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn stats(rtt: Option<f64>, jitter: f64, lost: f64, received: f64) -> PeerStats {
        PeerStats {
            local_candidate_type: Some("relay".into()),
            round_trip_time_ms: rtt,
            packets_lost: Some(lost),
            packets_received: Some(received),
            jitter_ms: Some(jitter),
            bytes_sent: 0.0,
            bytes_received: 0.0,
            received_by_pair: Vec::new(),
        }
    }

    #[test]
    fn scores_of_typical_links() {
        // A LAN call: excellent.
        assert!(mos(2.0, 1.0, 0.0) > 4.3);
        use NetworkQuality::*;
        // (rtt ms, jitter ms, loss %, level)
        for (rtt, jitter, loss, level) in [
            (2.0, 1.0, 0.0, Excellent), // a LAN call
            (20.0, 5.0, 30.0, Bad),     // 30 % loss, whatever the delay
            (50.0, 5.0, 10.0, Poor),    // 10 % loss
            (500.0, 5.0, 0.0, Good),    // long round trips alone: good, not excellent...
            (800.0, 5.0, 0.0, Poor),    // ...until they are very long
        ] {
            assert_eq!(
                NetworkQuality::of_mos(mos(rtt, jitter, loss)),
                level,
                "{rtt} {jitter} {loss}"
            );
        }
        // Endless delay is the worst score, not a perfect one.
        assert_eq!(mos(f64::INFINITY, 1.0, 0.0), 1.0);
        // Garbage in: a finite score in range.
        for v in [f64::NAN, f64::INFINITY, -5.0] {
            let m = mos(v, v, v);
            assert!((1.0..=4.5).contains(&m), "{v}: {m}");
        }
    }

    #[test]
    fn unknown_until_something_is_measured_then_the_window_decides() {
        let mut m = NetworkQualityMeter::new();
        assert_eq!(m.sample(&stats(None, 0.0, 0.0, 0.0)), None);
        assert_eq!(m.level(), NetworkQuality::Unknown);
        assert_eq!(
            m.sample(&stats(Some(10.0), 1.0, 0.0, 100.0)),
            Some(NetworkQuality::Excellent)
        );
        // 30 of 130 expected lost in this window: 23 % → bad at once.
        assert_eq!(
            m.sample(&stats(Some(10.0), 1.0, 30.0, 200.0)),
            Some(NetworkQuality::Bad)
        );
        let score = m.last_score().unwrap_or_else(|| unreachable!());
        assert!(
            (score.loss_pct - 100.0 * 30.0 / 130.0).abs() < 1e-9,
            "{score:?}"
        );
        // Loss over: rises only after RISE_SAMPLES clean windows.
        assert_eq!(m.sample(&stats(Some(10.0), 1.0, 30.0, 300.0)), None);
        assert_eq!(m.sample(&stats(Some(10.0), 1.0, 30.0, 400.0)), None);
        assert_eq!(
            m.sample(&stats(Some(10.0), 1.0, 30.0, 500.0)),
            Some(NetworkQuality::Excellent)
        );
    }

    #[test]
    fn media_that_stops_arriving_is_bad() {
        let mut m = NetworkQualityMeter::new();
        m.sample(&stats(Some(10.0), 1.0, 0.0, 100.0));
        m.sample(&stats(Some(10.0), 1.0, 0.0, 200.0));
        assert_eq!(
            m.sample(&stats(Some(10.0), 1.0, 0.0, 200.0)),
            Some(NetworkQuality::Bad)
        );
    }

    #[test]
    fn a_call_without_media_is_judged_by_rtt() {
        let mut m = NetworkQualityMeter::new();
        let no_media = |rtt| PeerStats {
            packets_lost: None,
            packets_received: None,
            ..stats(Some(rtt), 0.0, 0.0, 0.0)
        };
        assert_eq!(m.sample(&no_media(5.0)), Some(NetworkQuality::Excellent));
        assert_eq!(m.sample(&no_media(5.0)), None);
    }

    #[test]
    fn scores_near_a_floor_do_not_flap() {
        let mut m = NetworkQualityMeter::new();
        m.sample(&stats(Some(10.0), 1.0, 0.0, 1000.0));
        assert_eq!(m.level(), NetworkQuality::Excellent);
        // Alternating just above and just below 4.1 (within the margin): no change.
        let mut received = 1000.0;
        let mut lost = 0.0;
        for i in 0..20 {
            // ~0.5 % or ~0.9 % loss: MOS about 4.17 and 4.09.
            let loss = if i % 2 == 0 { 0.5 } else { 0.9 };
            lost += loss;
            received += 100.0 - loss;
            assert_eq!(
                m.sample(&stats(Some(10.0), 1.0, lost, received)),
                None,
                "sample {i}"
            );
        }
    }
}
