//! Summary of an `RTCStatsReport`, given as the list of its stats objects
//! (each a JSON object with `type`, `id`, ...), so it is testable natively.

use super::json::Json;

/// Contract `PeerStats`.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerStats {
    /// "host" | "srflx" | "prflx" | "relay" of the local candidate in use; None before a pair is selected.
    pub local_candidate_type: Option<String>,
    /// The selected pair's current round-trip time in ms.
    pub round_trip_time_ms: Option<f64>,
    /// Packets lost, summed over inbound RTP streams.
    pub packets_lost: Option<f64>,
    /// Packets received, summed over inbound RTP streams (for loss per window).
    pub packets_received: Option<f64>,
    /// The worst inbound RTP jitter in ms.
    pub jitter_ms: Option<f64>,
    /// Bytes sent on the selected pair (0 when none).
    pub bytes_sent: f64,
    /// Bytes received on the selected pair (0 when none).
    pub bytes_received: f64,
    /// What each candidate pair and transport has received so far (see
    /// [`received_by_id`]): RTCP and consent checks count, so a call whose
    /// other side stopped sending media still shows a live path.
    pub received_by_pair: Vec<(u64, f64)>,
    /// This side's media as the other side receives it.
    pub sent: SentStats,
}

/// This side's media: packets sent (`outbound-rtp`), and what the other
/// side's RTCP receiver reports say of them (`remote-inbound-rtp`), summed
/// or the worst over the streams. All `None` before anything is sent or reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentStats {
    /// Packets sent, summed over outbound RTP streams.
    pub packets_sent: Option<f64>,
    /// Packets the other side reports lost, summed.
    pub packets_lost: Option<f64>,
    /// The worst `fractionLost` of the latest receiver reports, 0 to 1.
    pub fraction_lost: Option<f64>,
    /// The worst jitter the other side reports, in ms.
    pub jitter_ms: Option<f64>,
    /// The worst round-trip time measured with RTCP, in ms.
    pub round_trip_time_ms: Option<f64>,
    /// Round trips measured so far (`roundTripTimeMeasurements`, summed):
    /// one more with every receiver report, so a count that stands still
    /// while media goes out means that no report arrives.
    pub reports: Option<f64>,
}

impl SentStats {
    /// Whether a receiver report said anything at all.
    pub fn reported(&self) -> bool {
        self.packets_lost.is_some()
            || self.fraction_lost.is_some()
            || self.jitter_ms.is_some()
            || self.round_trip_time_ms.is_some()
    }
}

fn field_str<'a>(report: &'a Json, key: &str) -> Option<&'a str> {
    report.get(key).and_then(Json::as_str)
}

fn field_num(report: &Json, key: &str) -> Option<f64> {
    report
        .get(key)
        .and_then(Json::as_f64)
        .filter(|n| n.is_finite())
}

/// `report[key]`, when it is a finite number, added to `sum`, which starts
/// at 0 the first time.
fn add(sum: &mut Option<f64>, report: &Json, key: &str) {
    if let Some(v) = field_num(report, key) {
        *sum = Some(sum.unwrap_or(0.0) + v);
    }
}

/// `report[key]` times `scale` (seconds to ms), when it is a finite number
/// worse than `worst` so far.
fn worst(worst: &mut Option<f64>, report: &Json, key: &str, scale: f64) {
    if let Some(v) = field_num(report, key) {
        // A plain comparison: f64::max also handles NaN, which is filtered out.
        let v = v * scale;
        if worst.is_none_or(|w| v > w) {
            *worst = Some(v);
        }
    }
}

/// Whether `report[key]` is the string `value`; out of line, as every
/// string comparison here (inlined, each costs the wasm a copy).
#[inline(never)]
fn field_is(report: &Json, key: &str, value: &str) -> bool {
    field_str(report, key) == Some(value)
}

fn is_type(report: &Json, ty: &str) -> bool {
    field_is(report, "type", ty)
}

fn by_id<'a>(reports: &'a [Json], ty: &str, id: &str) -> Option<&'a Json> {
    reports
        .iter()
        .find(|r| is_type(r, ty) && field_is(r, "id", id))
}

fn selected_pair(reports: &[Json]) -> Option<&Json> {
    // Plain loops, as everywhere here: iterator adapters cost the wasm more.
    for t in reports {
        if is_type(t, "transport") {
            let id = field_str(t, "selectedCandidatePairId");
            if let Some(pair) = id.and_then(|id| by_id(reports, "candidate-pair", id)) {
                return Some(pair);
            }
        }
    }
    // One pass for both fallbacks: the first selected pair wins over any
    // nominated one, so the first nominated one waits until the end.
    let mut nominated = None;
    for p in reports {
        if is_type(p, "candidate-pair") {
            if p.get("selected").and_then(Json::as_bool) == Some(true) {
                return Some(p);
            }
            if nominated.is_none()
                && p.get("nominated").and_then(Json::as_bool) == Some(true)
                && field_is(p, "state", "succeeded")
            {
                nominated = Some(p);
            }
        }
    }
    nominated
}

/// The selected pair: the `transport` report's `selectedCandidatePairId` (Chrome, Safari),
/// else a `candidate-pair` with `selected: true` (Firefox), else one with `nominated: true`
/// and `state: "succeeded"`. From it: local candidate (`localCandidateId` → `local-candidate`
/// report's `candidateType`), RTT (`currentRoundTripTime` s → ms), bytesSent/bytesReceived.
/// From `inbound-rtp` reports: packetsLost and packetsReceived summed, jitter (s → ms) the worst.
/// From `outbound-rtp`: packetsSent summed; from `remote-inbound-rtp`: packetsLost and
/// roundTripTimeMeasurements summed, fractionLost, jitter and roundTripTime (s → ms) the worst.
/// Missing → None / 0. Numbers that are not finite count as missing. Never panics on any input.
pub fn summarise(reports: &[Json]) -> PeerStats {
    let pair = selected_pair(reports);
    let local_candidate_type = pair
        .and_then(|p| field_str(p, "localCandidateId"))
        .and_then(|id| by_id(reports, "local-candidate", id))
        .and_then(|c| field_str(c, "candidateType"))
        .map(str::to_owned);
    let round_trip_time_ms = pair
        .and_then(|p| field_num(p, "currentRoundTripTime"))
        .map(|s| s * 1000.0);
    let bytes_sent = pair.and_then(|p| field_num(p, "bytesSent")).unwrap_or(0.0);
    let bytes_received = pair
        .and_then(|p| field_num(p, "bytesReceived"))
        .unwrap_or(0.0);

    let mut packets_lost: Option<f64> = None;
    let mut packets_received: Option<f64> = None;
    let mut jitter_ms: Option<f64> = None;
    let mut sent = SentStats::default();
    for rtp in reports {
        if is_type(rtp, "inbound-rtp") {
            add(&mut packets_lost, rtp, "packetsLost");
            add(&mut packets_received, rtp, "packetsReceived");
            worst(&mut jitter_ms, rtp, "jitter", 1000.0);
        } else if is_type(rtp, "outbound-rtp") {
            add(&mut sent.packets_sent, rtp, "packetsSent");
        } else if is_type(rtp, "remote-inbound-rtp") {
            add(&mut sent.packets_lost, rtp, "packetsLost");
            add(&mut sent.reports, rtp, "roundTripTimeMeasurements");
            worst(&mut sent.fraction_lost, rtp, "fractionLost", 1.0);
            worst(&mut sent.jitter_ms, rtp, "jitter", 1000.0);
            worst(&mut sent.round_trip_time_ms, rtp, "roundTripTime", 1000.0);
        }
    }

    PeerStats {
        local_candidate_type,
        round_trip_time_ms,
        packets_lost,
        packets_received,
        jitter_ms,
        bytes_sent,
        bytes_received,
        received_by_pair: received_by_id(reports),
        sent,
    }
}

/// A stats id as a 64-bit FNV-1a hash: the ids are only compared, and a
/// number is copied and compared without allocating (two ids of one report
/// colliding is a 2^-64 chance).
pub fn stats_id(id: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for b in id.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// What each candidate pair and transport has received so far, by stats id:
/// bytes plus STUN requests and responses, so that an idle call's consent
/// checks count too. Only compared with an earlier value of itself (see
/// [`received_since`]), to tell a live connection from one the browser still
/// calls `connected`.
pub fn received_by_id(reports: &[Json]) -> Vec<(u64, f64)> {
    // Plain loops: the iterator chain (filter, filter_map, a collected Vec
    // of counts) cost the wasm several times as much.
    let mut out = Vec::new();
    for r in reports {
        if !is_type(r, "candidate-pair") && !is_type(r, "transport") {
            continue;
        }
        let Some(id) = field_str(r, "id") else {
            continue;
        };
        let mut total = None;
        for key in &["bytesReceived", "responsesReceived", "requestsReceived"] {
            add(&mut total, r, key);
        }
        if let Some(total) = total {
            out.push((stats_id(id), total));
        }
    }
    out
}

/// True when something in `now` received more than it had in `before`; an id
/// new since then counts from zero, and ids that vanished (old candidate pairs
/// after an ICE restart) do not matter.
pub fn received_since(before: &[(u64, f64)], now: &[(u64, f64)]) -> bool {
    // Plain loops: the iterator version cost the wasm more.
    for (id, total) in now {
        let mut earlier = 0.0;
        for (b, t) in before {
            if b == id {
                earlier = *t;
                break;
            }
        }
        if *total > earlier {
            return true;
        }
    }
    false
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{received_by_id, received_since, stats_id, summarise, PeerStats, SentStats};
    use crate::core::json::Json;

    fn list(s: &str) -> Vec<Json> {
        match serde_json::from_str::<Json>(s).unwrap() {
            Json::Array(items) => items,
            _ => panic!("not an array"),
        }
    }

    const EMPTY: PeerStats = PeerStats {
        local_candidate_type: None,
        round_trip_time_ms: None,
        packets_lost: None,
        packets_received: None,
        jitter_ms: None,
        bytes_sent: 0.0,
        bytes_received: 0.0,
        received_by_pair: Vec::new(),
        sent: SentStats {
            packets_sent: None,
            packets_lost: None,
            fraction_lost: None,
            jitter_ms: None,
            round_trip_time_ms: None,
            reports: None,
        },
    };

    #[test]
    fn chrome_report() {
        let reports = list(
            r#"[
            {"id":"T01","type":"transport","timestamp":1.7e12,"bytesSent":9000,"bytesReceived":8000,
             "dtlsState":"connected","iceState":"connected","selectedCandidatePairId":"CPabc_def"},
            {"id":"CPold_x","type":"candidate-pair","state":"failed","nominated":false,
             "localCandidateId":"Iold","remoteCandidateId":"Rold","bytesSent":1,"bytesReceived":1,"currentRoundTripTime":9.9},
            {"id":"CPabc_def","type":"candidate-pair","transportId":"T01","localCandidateId":"Iabc",
             "remoteCandidateId":"Idef","state":"succeeded","nominated":true,"writable":true,
             "bytesSent":123456,"bytesReceived":654321,"totalRoundTripTime":0.5,"currentRoundTripTime":0.042,
             "availableOutgoingBitrate":2500000},
            {"id":"Iold","type":"local-candidate","candidateType":"host","address":"192.168.1.2","port":50000,"protocol":"udp"},
            {"id":"Iabc","type":"local-candidate","transportId":"T01","candidateType":"relay","address":"203.0.113.5",
             "port":3478,"protocol":"udp","relayProtocol":"udp","url":"turn:turn.example.com:3478"},
            {"id":"Idef","type":"remote-candidate","candidateType":"srflx","address":"198.51.100.7","port":61000},
            {"id":"IT01A1","type":"inbound-rtp","kind":"audio","ssrc":1,"packetsReceived":1000,"packetsLost":3,"jitter":0.004},
            {"id":"IT01V2","type":"inbound-rtp","kind":"video","ssrc":2,"packetsReceived":9000,"packetsLost":10,"jitter":0.012},
            {"id":"OT01A3","type":"outbound-rtp","kind":"audio","ssrc":3,"packetsSent":1000,"bytesSent":99999},
            {"id":"OT01V4","type":"outbound-rtp","kind":"video","ssrc":4,"packetsSent":3000},
            {"id":"RIA","type":"remote-inbound-rtp","localId":"OT01A3","packetsLost":500,"jitter":0.009,
             "fractionLost":0.25,"roundTripTime":0.21,"roundTripTimeMeasurements":7},
            {"id":"RIV","type":"remote-inbound-rtp","localId":"OT01V4","packetsLost":20,"jitter":0.003,
             "fractionLost":0.01,"roundTripTime":0.2,"roundTripTimeMeasurements":30}
            ]"#,
        );
        let s = summarise(&reports);
        assert_eq!(s.local_candidate_type.as_deref(), Some("relay"));
        assert_eq!(s.round_trip_time_ms, Some(42.0));
        // Inbound only: the other side's report on what we send is not our loss.
        assert_eq!(s.packets_lost, Some(13.0));
        assert_eq!(s.jitter_ms, Some(12.0));
        assert_eq!(s.bytes_sent, 123456.0);
        assert_eq!(s.bytes_received, 654321.0);
        assert_eq!(
            s.sent,
            SentStats {
                packets_sent: Some(4000.0),
                packets_lost: Some(520.0),
                fraction_lost: Some(0.25),
                jitter_ms: Some(9.0),
                round_trip_time_ms: Some(210.0),
                reports: Some(37.0),
            }
        );
        assert!(s.sent.reported());
    }

    #[test]
    fn firefox_report_with_selected_flag() {
        let reports = list(
            r#"[
            {"id":"p1","type":"candidate-pair","state":"succeeded","nominated":true,"selected":false,
             "localCandidateId":"l1","remoteCandidateId":"r1","bytesSent":5,"bytesReceived":6},
            {"id":"p2","type":"candidate-pair","state":"succeeded","nominated":true,"selected":true,
             "localCandidateId":"l2","remoteCandidateId":"r2","bytesSent":1000,"bytesReceived":2000},
            {"id":"l1","type":"local-candidate","candidateType":"host"},
            {"id":"l2","type":"local-candidate","candidateType":"srflx"},
            {"id":"in1","type":"inbound-rtp","kind":"audio","packetsLost":0,"jitter":0.002}
            ]"#,
        );
        let s = summarise(&reports);
        assert_eq!(s.local_candidate_type.as_deref(), Some("srflx"));
        // Firefox gives no currentRoundTripTime on the pair.
        assert_eq!(s.round_trip_time_ms, None);
        assert_eq!(s.packets_lost, Some(0.0));
        assert_eq!(s.jitter_ms, Some(2.0));
        assert_eq!(s.bytes_sent, 1000.0);
        assert_eq!(s.bytes_received, 2000.0);
    }

    #[test]
    fn nominated_succeeded_pair_as_last_resort() {
        let reports = list(
            r#"[
            {"id":"T","type":"transport","selectedCandidatePairId":"missing"},
            {"id":"p0","type":"candidate-pair","state":"in-progress","nominated":true,"localCandidateId":"l0","bytesSent":1},
            {"id":"p1","type":"candidate-pair","state":"succeeded","nominated":false,"localCandidateId":"l0","bytesSent":2},
            {"id":"p2","type":"candidate-pair","state":"succeeded","nominated":true,"localCandidateId":"l1","bytesSent":3,
             "currentRoundTripTime":0.1},
            {"id":"l1","type":"local-candidate","candidateType":"prflx"}
            ]"#,
        );
        let s = summarise(&reports);
        assert_eq!(s.local_candidate_type.as_deref(), Some("prflx"));
        assert_eq!(s.bytes_sent, 3.0);
        assert_eq!(s.round_trip_time_ms, Some(100.0));
    }

    #[test]
    fn empty_report() {
        assert_eq!(summarise(&[]), EMPTY);
    }

    #[test]
    fn before_a_pair_is_selected() {
        let reports = list(
            r#"[
            {"id":"T","type":"transport","dtlsState":"new"},
            {"id":"p","type":"candidate-pair","state":"in-progress","nominated":false,"localCandidateId":"l"},
            {"id":"l","type":"local-candidate","candidateType":"host"}
            ]"#,
        );
        assert_eq!(summarise(&reports), EMPTY);
    }

    #[test]
    fn junk_is_tolerated() {
        let reports = list(
            r#"[
            null, 1, "x", [], {}, {"type":7}, {"type":"transport","selectedCandidatePairId":5},
            {"type":"candidate-pair","selected":"true","localCandidateId":"l"},
            {"id":"p","type":"candidate-pair","selected":true,"localCandidateId":3,"bytesSent":"12",
             "currentRoundTripTime":null},
            {"type":"inbound-rtp","packetsLost":"3","jitter":"0.1"},
            {"type":"inbound-rtp"},
            {"type":"outbound-rtp","packetsSent":"9"},
            {"type":"remote-inbound-rtp","fractionLost":"0.5","roundTripTime":null,"jitter":[]}
            ]"#,
        );
        let s = summarise(&reports);
        assert_eq!(s, EMPTY);
        assert!(!s.sent.reported());
    }

    #[test]
    fn missing_local_candidate_report() {
        let reports = list(
            r#"[{"id":"p","type":"candidate-pair","selected":true,"localCandidateId":"gone","bytesReceived":7}]"#,
        );
        let s = summarise(&reports);
        assert_eq!(s.local_candidate_type, None);
        assert_eq!(s.bytes_received, 7.0);
    }

    #[test]
    fn non_finite_numbers_count_as_missing() {
        let reports = vec![
            Json::Object(vec![
                ("id".into(), Json::String("p".into())),
                ("type".into(), Json::String("candidate-pair".into())),
                ("selected".into(), Json::Bool(true)),
                ("currentRoundTripTime".into(), Json::Number(f64::NAN)),
                ("bytesSent".into(), Json::Number(f64::INFINITY)),
            ]),
            Json::Object(vec![
                ("type".into(), Json::String("inbound-rtp".into())),
                ("packetsLost".into(), Json::Number(f64::NAN)),
                ("jitter".into(), Json::Number(f64::NEG_INFINITY)),
            ]),
        ];
        assert_eq!(summarise(&reports), EMPTY);
    }

    #[test]
    fn received_counts_bytes_and_stun_per_id_across_restarts() {
        let list = |s: &str| match serde_json::from_str::<Json>(s).unwrap() {
            Json::Array(items) => items,
            _ => unreachable!(),
        };
        let before = received_by_id(&list(
            r#"[{"type":"candidate-pair","id":"old","bytesReceived":900000,"responsesReceived":40},
                {"type":"transport","id":"t","bytesReceived":null},
                {"type":"inbound-rtp","id":"rtp","bytesReceived":5}]"#,
        ));
        // (A report with none of the counts says nothing, and is left out.)
        assert_eq!(before, vec![(stats_id("old"), 900_040.0)]);
        assert_ne!(stats_id("old"), stats_id("new"));
        // Idle call: only a consent response came in.
        let idle = received_by_id(&list(
            r#"[{"type":"candidate-pair","id":"old","bytesReceived":900000,"responsesReceived":41}]"#,
        ));
        assert!(received_since(&before, &idle));
        // After an ICE restart the old pair is gone and a small new one lives.
        let restarted = received_by_id(&list(
            r#"[{"type":"candidate-pair","id":"new","bytesReceived":300,"responsesReceived":2}]"#,
        ));
        assert!(received_since(&before, &restarted));
        // Dead: the same figures, or a new pair that never heard anything.
        assert!(!received_since(&before, &before));
        let silent = received_by_id(&list(
            r#"[{"type":"candidate-pair","id":"old","bytesReceived":900000,"responsesReceived":40},
                {"type":"candidate-pair","id":"new","bytesReceived":0,"responsesReceived":0}]"#,
        ));
        assert!(!received_since(&before, &silent));
    }
}
