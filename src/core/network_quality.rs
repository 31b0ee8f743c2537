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
//! Both directions are graded, each with its own MOS, and the level is the
//! worse of the two: the person whose uplink loses a third of what they send
//! is told so, not only the person who receives it.
//!
//! - **Receive**: inbound RTP. Loss is measured over each sample's window
//!   (the change in `packetsLost` against packets expected), not since the
//!   call began, so a call recovers its level once the loss stops. A window
//!   in which nothing arrived although media arrived before counts as 100 %
//!   loss: a dead path is bad, even while ICE still says `connected`.
//! - **Send**: the other side's RTCP receiver reports (`remote-inbound-rtp`):
//!   their `fractionLost` (the loss since the previous report), else the
//!   change in their `packetsLost` against packets sent; their jitter; the
//!   RTCP round-trip time. Media that goes out while no new report comes
//!   back for [`SILENT_REPORT_SAMPLES`] samples counts as 100 % loss: the
//!   other side stops reporting on a stream it no longer receives.
//!
//! A direction with nothing to grade (a receive-only side sends nothing; a
//! sender hears nothing back before its first report) is left out. A call
//! with neither (data only) is graded on the round-trip time alone.
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
/// Samples with media sent and no new receiver report before the media
/// counts as lost: 8 s, longer than the 5 s between an audio stream's reports.
pub const SILENT_REPORT_SAMPLES: u32 = 4;

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

/// One direction's figures in a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Direction {
    /// Mean opinion score, 1 to 4.5.
    pub mos: f64,
    /// Packet loss over the sample's window, in percent.
    pub loss_pct: f64,
    /// Worst jitter, ms (0 when unknown).
    pub jitter_ms: f64,
    /// The round-trip time the score used, ms (0 when unknown).
    pub rtt_ms: f64,
}

impl Direction {
    /// Out of line: one copy of the E-model for the three places that grade.
    #[inline(never)]
    fn graded(rtt_ms: f64, jitter_ms: f64, loss_pct: f64) -> Self {
        Direction {
            mos: mos(rtt_ms, jitter_ms, loss_pct),
            loss_pct,
            jitter_ms,
            rtt_ms,
        }
    }
}

/// One sample's figures, as reported with a level change: those of the
/// worse direction (or of the round trip alone), and each direction's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Mean opinion score of the worse direction, 1 to 4.5.
    pub mos: f64,
    /// Packet loss over the sample's window, in percent.
    pub loss_pct: f64,
    /// Jitter, ms (0 when unknown).
    pub jitter_ms: f64,
    /// Round-trip time, ms (0 when unknown).
    pub rtt_ms: f64,
    /// This side's media as the other side receives it; None when nothing is graded.
    pub send: Option<Direction>,
    /// The media this side receives; None when nothing is graded.
    pub receive: Option<Direction>,
}

/// Turns successive stats into a level with hysteresis.
#[derive(Clone, Debug, Default)]
pub struct NetworkQualityMeter {
    /// Cumulative (lost, received) at the previous sample.
    previous: Option<(f64, f64)>,
    media_seen: bool,
    /// Cumulative (sent, reported lost, reports) at the previous sample.
    sent_before: Option<(f64, f64, Option<f64>)>,
    reports_seen: bool,
    /// Samples in a row with media sent and no new receiver report.
    silent_reports: u32,
    level: Option<NetworkQuality>,
    rising: u32,
    last: Option<Score>,
    /// Which directions (send, receive) the last reported score graded.
    reported: (bool, bool),
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

    /// Takes one sample; returns the level when it changed, or when a
    /// direction started or stopped being graded (same level, new figures).
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
        // A direction that starts or stops being graded (the first receiver
        // report arrives) is news too, at the same level: the figures the
        // app shows per direction would otherwise wait for a level change.
        let graded = (score.send.is_some(), score.receive.is_some());
        let reshaped = std::mem::replace(&mut self.reported, graded) != graded;
        match next.filter(|n| *n != current) {
            Some(changed) => {
                self.rising = 0;
                self.level = Some(changed);
                Some(changed)
            }
            None => (reshaped && current != NetworkQuality::Unknown).then_some(current),
        }
    }

    /// The figures of one window, or None when there is nothing to judge
    /// yet (no media either way so far and no RTT).
    fn score(&mut self, stats: &PeerStats) -> Option<Score> {
        let rtt_ms = stats.round_trip_time_ms;
        let receive = self.receive(stats, rtt_ms);
        let send = self.send(stats, rtt_ms);
        let worse = match (send, receive, rtt_ms) {
            (Some(s), Some(r), _) => {
                if s.mos < r.mos {
                    s
                } else {
                    r
                }
            }
            (Some(one), None, _) | (None, Some(one), _) => one,
            // Data only: the round trip alone.
            (None, None, Some(rtt_ms)) => Direction::graded(rtt_ms, 0.0, 0.0),
            (None, None, None) => return None,
        };
        Some(Score {
            mos: worse.mos,
            loss_pct: worse.loss_pct,
            jitter_ms: worse.jitter_ms,
            rtt_ms: worse.rtt_ms,
            send,
            receive,
        })
    }

    /// The media this side receives (inbound RTP), once some has arrived.
    fn receive(&mut self, stats: &PeerStats, rtt_ms: Option<f64>) -> Option<Direction> {
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
        let jitter_ms = stats.jitter_ms.unwrap_or(0.0);
        self.media_seen
            .then(|| Direction::graded(rtt_ms.unwrap_or(0.0), jitter_ms, loss_pct))
    }

    /// This side's media as the other side reports receiving it, once it
    /// has reported at all. The RTCP round trip, else the pair's.
    fn send(&mut self, stats: &PeerStats, pair_rtt_ms: Option<f64>) -> Option<Direction> {
        let sent = &stats.sent;
        let reported = sent.reported();
        let (packets, lost) = (
            sent.packets_sent.unwrap_or(0.0),
            sent.packets_lost.unwrap_or(0.0),
        );
        let before = self.sent_before.replace((packets, lost, sent.reports));
        self.reports_seen |= reported;
        if !self.reports_seen {
            return None;
        }
        // The first sample has nothing to compare with: no change yet.
        let (d_sent, d_lost, reports_before) = match before {
            Some((packets_before, lost_before, reports)) => (
                (packets - packets_before).max(0.0),
                (lost - lost_before).max(0.0),
                reports,
            ),
            None => (0.0, 0.0, None),
        };
        // A report that vanished is no news; one without a count may be.
        let new_report = reported && (sent.reports.is_none() || sent.reports != reports_before);
        if new_report {
            self.silent_reports = 0;
        } else if d_sent > 0.0 {
            self.silent_reports += 1;
        }
        let loss_pct = if self.silent_reports >= SILENT_REPORT_SAMPLES {
            100.0 // media goes out and nothing says it arrives
        } else if let Some(fraction) = sent.fraction_lost {
            100.0 * fraction
        } else if d_sent > 0.0 {
            (100.0 * d_lost / d_sent).min(100.0)
        } else {
            0.0
        };
        let rtt_ms = sent.round_trip_time_ms.or(pair_rtt_ms).unwrap_or(0.0);
        Some(Direction::graded(
            rtt_ms,
            sent.jitter_ms.unwrap_or(0.0),
            loss_pct,
        ))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::stats::SentStats;

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
            sent: SentStats::default(),
        }
    }

    /// `stats` with this side's media reported on by the other side.
    fn sending(
        received: PeerStats,
        sent: f64,
        fraction_lost: Option<f64>,
        lost: f64,
        reports: f64,
    ) -> PeerStats {
        PeerStats {
            sent: SentStats {
                packets_sent: Some(sent),
                packets_lost: Some(lost),
                fraction_lost,
                jitter_ms: Some(2.0),
                round_trip_time_ms: Some(20.0),
                reports: Some(reports),
            },
            ..received
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
        let score = m.last_score().unwrap_or_else(|| unreachable!());
        assert_eq!((score.send, score.receive), (None, None), "{score:?}");
        assert_eq!(score.rtt_ms, 5.0);
    }

    #[test]
    fn the_sender_hears_of_its_lost_media() {
        let mut m = NetworkQualityMeter::new();
        // What this side receives is clean throughout.
        let clean = |n: f64| stats(Some(10.0), 1.0, 0.0, 100.0 * n);
        assert_eq!(
            m.sample(&sending(clean(1.0), 100.0, Some(0.0), 0.0, 1.0)),
            Some(NetworkQuality::Excellent)
        );
        // The other side reports a third of our packets lost: bad at once.
        assert_eq!(
            m.sample(&sending(clean(2.0), 200.0, Some(0.33), 33.0, 2.0)),
            Some(NetworkQuality::Bad)
        );
        let score = m.last_score().unwrap_or_else(|| unreachable!());
        let (send, receive) = (score.send.unwrap(), score.receive.unwrap());
        assert!((send.loss_pct - 33.0).abs() < 1e-9, "{score:?}");
        assert_eq!(receive.loss_pct, 0.0);
        assert!(receive.mos > 4.1 && send.mos < 2.6, "{score:?}");
        assert_eq!((score.mos, score.loss_pct), (send.mos, send.loss_pct));
        // The loss ends: back after RISE_SAMPLES clean reports.
        for n in 3..3 + RISE_SAMPLES {
            let f = f64::from(n);
            let change = m.sample(&sending(clean(f), 100.0 * f, Some(0.0), 33.0, f));
            assert_eq!(change.is_some(), n == 2 + RISE_SAMPLES, "sample {n}");
        }
        assert_eq!(m.level(), NetworkQuality::Excellent);
    }

    #[test]
    fn without_fraction_lost_the_reported_loss_counts_against_packets_sent() {
        let mut m = NetworkQualityMeter::new();
        let nothing_received = |sent, lost, reports| PeerStats {
            packets_lost: None,
            packets_received: None,
            ..sending(stats(Some(10.0), 0.0, 0.0, 0.0), sent, None, lost, reports)
        };
        m.sample(&nothing_received(100.0, 0.0, 1.0));
        m.sample(&nothing_received(200.0, 10.0, 2.0));
        let score = m.last_score().unwrap_or_else(|| unreachable!());
        // A send-only side: graded on what it sends alone.
        assert_eq!(score.receive, None);
        assert!((score.loss_pct - 10.0).abs() < 1e-9, "{score:?}");
        assert_eq!(m.level(), NetworkQuality::Poor);
    }

    #[test]
    fn the_first_receiver_report_is_reported_at_the_same_level() {
        let mut m = NetworkQualityMeter::new();
        let clean = |n: f64| stats(Some(10.0), 1.0, 0.0, 100.0 * n);
        assert_eq!(m.sample(&clean(1.0)), Some(NetworkQuality::Excellent));
        assert_eq!(m.sample(&clean(2.0)), None);
        // What this side sends is graded from now on: the app hears of it.
        let reported = sending(clean(3.0), 300.0, Some(0.0), 0.0, 1.0);
        assert_eq!(m.sample(&reported), Some(NetworkQuality::Excellent));
        assert!(m.last_score().and_then(|s| s.send).is_some());
        let again = sending(clean(4.0), 400.0, Some(0.0), 0.0, 2.0);
        assert_eq!(m.sample(&again), None);
    }

    #[test]
    fn a_receive_only_side_is_graded_on_what_it_receives() {
        let mut m = NetworkQualityMeter::new();
        m.sample(&stats(Some(10.0), 1.0, 0.0, 100.0));
        m.sample(&stats(Some(10.0), 1.0, 0.0, 200.0));
        let score = m.last_score().unwrap_or_else(|| unreachable!());
        assert_eq!(score.send, None);
        assert_eq!(score.receive.map(|r| r.mos), Some(score.mos));
        assert_eq!(m.level(), NetworkQuality::Excellent);
    }

    #[test]
    fn media_sent_that_no_report_acknowledges_counts_as_lost() {
        let mut m = NetworkQualityMeter::new();
        let clean = |n: f64| stats(Some(10.0), 1.0, 0.0, 100.0 * n);
        m.sample(&sending(clean(1.0), 100.0, Some(0.0), 0.0, 1.0));
        assert_eq!(m.level(), NetworkQuality::Excellent);
        // Media goes on going out; the report stands still (the other side
        // no longer receives it), and then vanishes.
        for n in 2..2 + SILENT_REPORT_SAMPLES {
            let f = f64::from(n);
            let report = sending(clean(f), 100.0 * f, Some(0.0), 0.0, 1.0);
            let sample = if n == 1 + SILENT_REPORT_SAMPLES {
                PeerStats {
                    sent: SentStats {
                        packets_sent: Some(100.0 * f),
                        ..SentStats::default()
                    },
                    ..report
                }
            } else {
                report
            };
            let change = m.sample(&sample);
            assert_eq!(
                change,
                (n == 1 + SILENT_REPORT_SAMPLES).then_some(NetworkQuality::Bad),
                "sample {n}"
            );
        }
        let send = m
            .last_score()
            .and_then(|s| s.send)
            .unwrap_or_else(|| unreachable!());
        assert_eq!(send.loss_pct, 100.0);
        // Nothing sent (muted) is no evidence either way.
        let mut quiet = NetworkQualityMeter::new();
        for n in 1..2 * SILENT_REPORT_SAMPLES {
            quiet.sample(&sending(clean(f64::from(n)), 100.0, Some(0.0), 0.0, 1.0));
        }
        assert_eq!(quiet.level(), NetworkQuality::Excellent);
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
