//! Property tests of the pure core: whatever the endpoint sends, parsing never
//! panics and never lets through a server the browser would reject; the retry
//! schedule and the recovery machine stay inside their bounds.
#![cfg(not(target_arch = "wasm32"))]

use ice_peer::core::error::AttemptFailure;
use ice_peer::core::json::Json;
use ice_peer::core::quality::IceState;
use ice_peer::core::recovery::{Action, Recovery, RecoveryConfig};
use ice_peer::core::retry::{RetryPolicy, MAX_RETRY_DELAY_MS};
use ice_peer::core::servers::{normalise, parse_response, parse_ttl, IceServer};
use ice_peer::core::stats::summarise;
use proptest::prelude::*;

// ---------------------------------------------------------------- strategies

/// Strings shaped like ICE URLs, good and bad.
fn url_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "(stun|STUN|Stun|stuns|STUNS|turn|TURN|turns|TURNS|http|https|ftp|tur|stunx|ws| stun|)(:|://|::|)[a-z0-9.:?=&/ é]{0,14}",
        Just("turn:x?y".to_owned()),
        Just("stun:a?transport=udp".to_owned()),
        Just("TURNS:relay.example.com:443?transport=tcp".to_owned()),
        Just("http://example.com".to_owned()),
        Just("stun:".to_owned()),
        Just("stun:?".to_owned()),
        Just(String::new()),
        Just("  stun:padded  ".to_owned()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "url", "urls", "username", "credential", "iceServers", "ice_servers", "ttl", "success", "data",
            "type", "id",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,6}",
    ]
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<f64>().prop_map(Json::Number),
        (-5i64..100_000).prop_map(|n| Json::Number(n as f64)),
        prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            1e308
        ])
        .prop_map(Json::Number),
        url_string().prop_map(Json::String),
        "[0-9. +-e]{0,8}".prop_map(Json::String),
        ".{0,8}".prop_map(Json::String),
    ]
}

/// Arbitrary nested values whose keys often are the envelope's own.
fn json() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Json::Array),
            prop::collection::vec((key(), inner), 0..8).prop_map(Json::Object),
        ]
    })
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.7, s)
}

/// An object that looks like one server entry (with junk mixed in).
fn entry() -> impl Strategy<Value = Json> {
    let urls = prop_oneof![
        url_string().prop_map(Json::String),
        prop::collection::vec(
            prop_oneof![4 => url_string().prop_map(Json::String), 1 => leaf()],
            0..5
        )
        .prop_map(Json::Array),
        leaf(),
    ];
    let cred = prop_oneof![
        "[a-z]{0,3}".prop_map(Json::String),
        Just(Json::String(String::new())),
        leaf(),
    ];
    (
        opt(urls),
        opt(url_string().prop_map(Json::String)),
        opt(cred.clone()),
        opt(cred),
        prop::collection::vec((key(), leaf()), 0..2),
    )
        .prop_map(|(urls, url, username, credential, extra)| {
            let mut members: Vec<(String, Json)> = extra;
            for (k, v) in [
                ("urls", urls),
                ("url", url),
                ("username", username),
                ("credential", credential),
            ] {
                if let Some(v) = v {
                    members.push((k.to_owned(), v));
                }
            }
            Json::Object(members)
        })
}

/// Bodies that look like the documented envelope or Twilio's, mostly.
fn envelope() -> impl Strategy<Value = Json> {
    let list =
        prop::collection::vec(prop_oneof![6 => entry(), 1 => json()], 0..6).prop_map(Json::Array);
    let list_key = prop::sample::select(vec!["iceServers", "ice_servers", "servers"]);
    let success = opt(prop_oneof![4 => Just(Json::Bool(true)), 1 => leaf()]);
    let ttl = opt(leaf());
    (list, list_key, success, ttl, any::<bool>()).prop_map(
        |(list, list_key, success, ttl, wrap)| {
            let mut payload = vec![(list_key.to_owned(), list)];
            if let Some(ttl) = ttl {
                payload.push(("ttl".to_owned(), ttl));
            }
            let mut top = Vec::new();
            if let Some(success) = success {
                top.push(("success".to_owned(), success));
            }
            if wrap {
                top.push(("data".to_owned(), Json::Object(payload)));
            } else {
                top.extend(payload);
            }
            Json::Object(top)
        },
    )
}

// ---------------------------------------------------------------- invariants

fn assert_servers_ok(servers: &[IceServer]) -> Result<(), TestCaseError> {
    for (i, s) in servers.iter().enumerate() {
        prop_assert!(!s.urls.is_empty(), "entry without URL: {:?}", s);
        for (j, url) in s.urls.iter().enumerate() {
            let scheme = url.split(':').next().unwrap_or("");
            prop_assert!(
                matches!(scheme, "stun" | "stuns" | "turn" | "turns"),
                "bad scheme in {:?}",
                url
            );
            prop_assert!(
                url.len() > scheme.len() + 1,
                "nothing after the scheme: {:?}",
                url
            );
            prop_assert_eq!(url.trim(), url.as_str());
            if scheme.starts_with("stun") {
                prop_assert!(!url.contains('?'), "query on a STUN URL: {:?}", url);
            } else {
                let has = |v: &Option<String>| v.as_deref().is_some_and(|x| !x.is_empty());
                prop_assert!(
                    has(&s.username) && has(&s.credential),
                    "TURN URL without credentials: {:?}",
                    s
                );
            }
            prop_assert!(!s.urls[..j].contains(url), "duplicate URL in {:?}", s);
        }
        prop_assert!(!servers[..i].contains(s), "duplicate entry {:?}", s);
    }
    Ok(())
}

fn check_body(body: &Json) -> Result<(), TestCaseError> {
    if let Ok(parsed) = parse_response(body) {
        prop_assert!(!parsed.servers.is_empty());
        assert_servers_ok(&parsed.servers)?;
        if let Some(ttl) = parsed.ttl_secs {
            prop_assert!(ttl.is_finite() && ttl >= 0.0);
        }
    }
    Ok(())
}

fn ice_state() -> impl Strategy<Value = IceState> {
    prop::sample::select(IceState::ALL.to_vec())
}

#[derive(Clone, Copy, Debug)]
enum Event {
    State(IceState, bool),
    Timer(bool),
    PathLost,
    RemoteRestart,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (ice_state(), any::<bool>()).prop_map(|(s, urgent)| Event::State(s, urgent)),
        3 => any::<bool>().prop_map(Event::Timer),
        1 => Just(Event::PathLost),
        1 => Just(Event::RemoteRestart),
    ]
}

fn failure() -> impl Strategy<Value = AttemptFailure> {
    prop_oneof![
        any::<u16>().prop_map(AttemptFailure::Status),
        Just(AttemptFailure::Network),
        Just(AttemptFailure::Timeout),
    ]
}

// ---------------------------------------------------------------- properties

proptest! {
    #[test]
    fn arbitrary_json_never_yields_a_bad_server(body in json()) {
        check_body(&body)?;
        if let Some(items) = body.as_array() {
            assert_servers_ok(&normalise(items))?;
        }
        let _ = parse_ttl(&body);
    }

    #[test]
    fn envelopes_never_yield_a_bad_server(body in envelope()) {
        check_body(&body)?;
    }

    #[test]
    fn normalised_entries_are_valid(entries in prop::collection::vec(prop_oneof![4 => entry(), 1 => json()], 0..10)) {
        let out = normalise(&entries);
        assert_servers_ok(&out)?;
        prop_assert!(out.len() <= entries.len());
        // Normalising twice changes nothing more.
        let again: Vec<Json> = out.iter().map(to_json).collect();
        prop_assert_eq!(normalise(&again), out);
    }

    #[test]
    fn summarise_never_panics(reports in prop::collection::vec(json(), 0..12)) {
        let s = summarise(&reports);
        prop_assert!(s.bytes_sent.is_finite() && s.bytes_received.is_finite());
    }

    #[test]
    fn retry_delays_are_monotonic_and_capped(base in 0.0f64..100_000.0, n in any::<u32>()) {
        let p = RetryPolicy { retries: 3, base_delay_ms: base };
        let d = p.delay_ms(n);
        prop_assert!((0.0..=MAX_RETRY_DELAY_MS).contains(&d), "{}", d);
        prop_assert!(d >= p.delay_ms(n.saturating_sub(1)));
        if n < u32::MAX {
            prop_assert!(p.delay_ms(n + 1) >= d);
        }
    }

    #[test]
    fn retry_schedule_walk(base in 0.0f64..5_000.0, retries in 0u32..=10, fail in failure()) {
        let p = RetryPolicy { retries, base_delay_ms: base };
        let mut previous = 0.0;
        let mut attempts = 1;
        while let Some(d) = p.next_delay(attempts, fail) {
            prop_assert!(fail.is_retryable());
            prop_assert!(d >= previous && d <= MAX_RETRY_DELAY_MS);
            previous = d;
            attempts += 1;
        }
        prop_assert!(attempts <= retries + 1);
        if fail.is_retryable() {
            prop_assert_eq!(attempts, retries + 1);
        } else {
            prop_assert_eq!(attempts, 1);
        }
    }

    #[test]
    fn recovery_never_exceeds_max_attempts(
        max_attempts in 0u32..6,
        events in prop::collection::vec(event(), 0..60),
    ) {
        let cfg = RecoveryConfig { max_attempts, ..RecoveryConfig::default() };
        let mut r = Recovery::new(cfg);
        let mut done = false;
        for e in events {
            let action = match e {
                Event::State(s, urgent) => r.on_state(s, urgent),
                Event::Timer(alive) => r.on_timer(alive),
                Event::PathLost => r.on_path_lost(),
                Event::RemoteRestart => r.on_remote_restart(),
            };
            if done {
                prop_assert_eq!(action, Action::Keep, "input after give-up/close");
            }
            match action {
                Action::Restart { attempt, timeout_ms } => {
                    prop_assert!(attempt >= 1 && attempt <= max_attempts, "attempt {}", attempt);
                    prop_assert_eq!(timeout_ms, cfg.attempt_timeout_ms);
                    prop_assert!(r.is_recovering());
                }
                Action::ArmTimer(ms) => prop_assert!(ms.is_finite() && ms >= 0.0),
                Action::GiveUp => {
                    prop_assert!(!r.is_recovering());
                    done = true;
                }
                Action::CancelTimer | Action::Keep => {}
            }
            if matches!(e, Event::State(IceState::Closed, _)) {
                done = true;
            }
        }
    }

}

fn to_json(s: &IceServer) -> Json {
    let mut m = vec![(
        "urls".to_owned(),
        Json::Array(s.urls.iter().cloned().map(Json::String).collect()),
    )];
    if let Some(u) = &s.username {
        m.push(("username".to_owned(), Json::String(u.clone())));
    }
    if let Some(c) = &s.credential {
        m.push(("credential".to_owned(), Json::String(c.clone())));
    }
    Json::Object(m)
}

mod network_quality {
    use ice_peer::core::network_quality::{
        mos, NetworkQuality, NetworkQualityMeter, MARGIN, RISE_SAMPLES,
    };
    use ice_peer::core::stats::{PeerStats, SentStats};
    use proptest::prelude::*;

    fn window_stats(rtt: f64, jitter: f64, lost: f64, received: f64) -> PeerStats {
        PeerStats {
            local_candidate_type: None,
            round_trip_time_ms: Some(rtt),
            packets_lost: Some(lost),
            packets_received: Some(received),
            jitter_ms: Some(jitter),
            bytes_sent: 0.0,
            bytes_received: 0.0,
            received_by_pair: Vec::new(),
            sent: SentStats::default(),
        }
    }

    /// One window of both directions: (rtt, inbound jitter, lost, received;
    /// reported jitter, fractionLost, lost, sent). 0 received or 0 sent: that
    /// direction has nothing (a receive-only or send-only window).
    type Window = (f64, f64, u32, u32, f64, Option<f64>, u32, u32);

    fn window() -> impl Strategy<Value = Window> {
        (
            0.0..600.0f64,
            0.0..80.0f64,
            0u32..40,
            0u32..200,
            0.0..80.0f64,
            prop::option::of(0.0..1.0f64),
            0u32..40,
            0u32..200,
        )
    }

    proptest! {
        /// More loss, jitter or delay never scores higher, and the score stays in 1..=4.5.
        #[test]
        fn mos_is_monotone_and_bounded(rtt in 0.0..5000.0f64, jitter in 0.0..1000.0f64, loss in 0.0..100.0f64,
                                      d_rtt in 0.0..1000.0f64, d_jitter in 0.0..200.0f64, d_loss in 0.0..50.0f64) {
            let base = mos(rtt, jitter, loss);
            prop_assert!((1.0..=4.5).contains(&base));
            prop_assert!(mos(rtt + d_rtt, jitter, loss) <= base + 1e-12);
            prop_assert!(mos(rtt, jitter + d_jitter, loss) <= base + 1e-12);
            prop_assert!(mos(rtt, jitter, loss + d_loss) <= base + 1e-12);
        }

        /// Whatever the windows, the level never rises twice within RISE_SAMPLES
        /// samples, and never rises on a single sample.
        #[test]
        fn the_level_rises_only_after_enough_better_samples(
            windows in prop::collection::vec((0.0..400.0f64, 0.0..60.0f64, 0u32..60, 1u32..200), 1..60)
        ) {
            let mut meter = NetworkQualityMeter::new();
            let (mut lost, mut received) = (0.0, 0.0);
            let mut last_rise: Option<usize> = None;
            let mut previous = NetworkQuality::Unknown;
            for (i, (rtt, jitter, d_lost, d_received)) in windows.into_iter().enumerate() {
                lost += f64::from(d_lost);
                received += f64::from(d_received);
                if let Some(level) = meter.sample(&window_stats(rtt, jitter, lost, received)) {
                    prop_assert_ne!(level, previous);
                    if previous != NetworkQuality::Unknown && level > previous {
                        if let Some(at) = last_rise {
                            prop_assert!(i - at >= RISE_SAMPLES as usize, "rose at {} and {}", at, i);
                        }
                        prop_assert!(i >= RISE_SAMPLES as usize);
                        last_rise = Some(i);
                    }
                    previous = level;
                }
                prop_assert_eq!(meter.level(), previous);
            }
        }

        /// The level is never better than either direction's: each sample's
        /// MOS is the lower of the two directions', and the level after it
        /// is at most what that direction's MOS gives, give or take the
        /// hysteresis margin (a level is kept while a sample stays within
        /// MARGIN below its floor).
        #[test]
        fn the_level_is_never_better_than_either_direction(
            windows in prop::collection::vec(window(), 1..40),
            receive_only in any::<bool>(), send_only in any::<bool>(),
        ) {
            let mut meter = NetworkQualityMeter::new();
            let (mut lost, mut received, mut reported_lost, mut sent) = (0.0, 0.0, 0.0, 0.0);
            for (i, (rtt, jitter, d_lost, d_received, sent_jitter, fraction, d_reported, d_sent)) in windows.into_iter().enumerate() {
                lost += f64::from(d_lost);
                received += f64::from(d_received);
                reported_lost += f64::from(d_reported);
                sent += f64::from(d_sent);
                let mut stats = window_stats(rtt, jitter, lost, received);
                if send_only {
                    (stats.packets_lost, stats.packets_received, stats.jitter_ms) = (None, None, None);
                }
                if !receive_only {
                    stats.sent = SentStats {
                        packets_sent: Some(sent),
                        packets_lost: Some(reported_lost),
                        fraction_lost: fraction,
                        jitter_ms: Some(sent_jitter),
                        round_trip_time_ms: Some(rtt),
                        reports: Some(i as f64),
                    };
                }
                meter.sample(&stats);
                let score = meter.last_score();
                prop_assert!(score.is_some(), "an RTT is always there to grade");
                let score = score.unwrap_or_else(|| unreachable!());
                prop_assert_eq!(score.send.is_none(), receive_only);
                prop_assert!(!send_only || score.receive.is_none());
                for direction in [score.send, score.receive].into_iter().flatten() {
                    prop_assert!(score.mos <= direction.mos, "{:?}", score);
                    prop_assert!(NetworkQuality::of_mos(score.mos) <= NetworkQuality::of_mos(direction.mos));
                    prop_assert!(meter.level() <= NetworkQuality::of_mos(direction.mos + MARGIN),
                        "level {:?} above {:?}", meter.level(), direction);
                }
            }
        }
    }
}
