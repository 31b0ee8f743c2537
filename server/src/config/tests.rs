use clap::Parser;

use super::*;

/// A JWT secret of the minimum length (32 bytes).
const JWT: &str = "unit-test-jwt-secret-0123456789a";

fn parse(args: &[&str]) -> Result<Config, ConfigError> {
    let mut argv = vec!["ice-peer-server"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| ConfigError(e.to_string()))?;
    Config::from_cli(cli)
}

#[test]
fn jwt_secret_required_without_dev() {
    let e = parse(&["--provider", "embedded"]).unwrap_err();
    assert!(e.0.contains("--jwt-secret"), "{e}");
    let c = parse(&["--provider", "embedded", "--dev"]).unwrap();
    assert!(c.jwt_secret_generated);
    assert!(c.dev.is_some());
}

#[test]
fn jwt_secret_shorter_than_32_bytes_is_refused() {
    let e = parse(&["--jwt-secret", &JWT[1..]]).unwrap_err();
    assert!(e.0.contains("at least 32 bytes"), "{e}");
    assert!(!e.0.contains(&JWT[1..]), "the secret is not echoed: {e}");
    assert!(parse(&["--jwt-secret", "k"]).is_err());
    assert!(parse(&["--jwt-secret", JWT]).is_ok());
}

#[test]
fn dev_refuses_a_given_jwt_secret() {
    let e = parse(&["--dev", "--jwt-secret", JWT]).unwrap_err();
    assert!(e.0.contains("--dev refuses"), "{e}");
}

#[test]
fn jwt_audience_and_issuer() {
    let c = parse(&["--jwt-secret", JWT]).unwrap();
    assert_eq!((c.jwt_audience, c.jwt_issuer), (None, None));
    let c = parse(&[
        "--jwt-secret",
        JWT,
        "--jwt-audience",
        "calls",
        "--jwt-issuer",
        "auth",
    ])
    .unwrap();
    assert_eq!(c.jwt_audience.as_deref(), Some("calls"));
    assert_eq!(c.jwt_issuer.as_deref(), Some("auth"));
    assert!(parse(&["--jwt-secret", JWT, "--jwt-audience", " "]).is_err());
}

#[test]
fn defaults() {
    let c = parse(&["--jwt-secret", JWT, "--provider", "embedded"]).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.credential_ttl.as_secs(), 86_400);
    assert!(c.dev.is_none());
    assert!(c.cors_origins.is_empty());
    assert_eq!(c.http, crate::http::HttpLimits::default());
    assert_eq!(c.http.header_timeout.as_secs(), 10);
    match c.provider {
        ProviderConfig::Embedded(e) => assert_eq!(e.listen.to_string(), "127.0.0.1:3478"),
        other => panic!("expected embedded, got {other:?}"),
    }
}

#[test]
fn turn_rest_needs_secret_and_valid_urls() {
    let base = ["--jwt-secret", JWT, "--provider", "turn-rest"];
    assert!(parse(&base).unwrap_err().0.contains("--turn-secret"));
    let mut a = base.to_vec();
    a.extend(["--turn-secret", "s"]);
    assert!(parse(&a).unwrap_err().0.contains("--turn-url"));
    let mut b = a.clone();
    b.extend(["--turn-url", "http://x"]);
    assert!(parse(&b).unwrap_err().0.contains("invalid --turn-url"));
    a.extend([
        "--turn-url",
        "turn:turn.example.com:3478?transport=udp",
        "--turn-url",
        "stun:turn.example.com",
    ]);
    match parse(&a).unwrap().provider {
        ProviderConfig::TurnRest(t) => assert_eq!(t.urls.len(), 2),
        other => panic!("expected turn-rest, got {other:?}"),
    }
}

/// Flags for the turn-rest provider with these `--turn-url`s.
fn turn_rest<'a>(urls: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--jwt-secret",
        JWT,
        "--provider",
        "turn-rest",
        "--turn-secret",
        "s",
    ];
    for url in urls {
        args.extend(["--turn-url", url]);
    }
    args
}

#[test]
fn turn_urls_follow_the_clients_rules() {
    // The client would drop each of these, so the server refuses them up front.
    for bad in [
        "stun:",
        "turn:host:0",
        "turn:host:70000",
        "turn:ho st:3478",
        "turn:[::1:3478",
        "turns:a/b:5349",
    ] {
        assert!(
            parse(&turn_rest(&[bad]))
                .unwrap_err()
                .0
                .contains("invalid --turn-url"),
            "{bad}"
        );
    }
    // What the client would normalise is handed out normalised.
    let args = turn_rest(&[
        "TURN:t.example:3478?transport=tcp",
        "stun:t.example:3478?transport=udp",
    ]);
    match parse(&args).unwrap().provider {
        ProviderConfig::TurnRest(t) => assert_eq!(
            t.urls,
            ["turn:t.example:3478?transport=tcp", "stun:t.example:3478"]
        ),
        other => panic!("expected turn-rest, got {other:?}"),
    }
}

#[test]
fn twilio_flags() {
    let base = ["--jwt-secret", JWT, "--provider", "twilio"];
    assert!(parse(&base).unwrap_err().0.contains("TWILIO_ACCOUNT_SID"));
    let mut a = base.to_vec();
    a.extend([
        "--twilio-account-sid",
        "AC123",
        "--twilio-auth-token",
        "tok-very-secret",
    ]);
    a.extend(["--twilio-base-url", "http://127.0.0.1:9/"]);
    match parse(&a).unwrap().provider {
        ProviderConfig::Twilio(t) => {
            assert_eq!(t.base_url, "http://127.0.0.1:9");
            assert!(!format!("{t:?}").contains("tok-very-secret"));
        }
        other => panic!("expected twilio, got {other:?}"),
    }
    let mut bad = a.clone();
    bad.extend(["--twilio-base-url", "ftp://x"]);
    assert!(parse(&bad).unwrap_err().0.contains("--twilio-base-url"));
}

#[test]
fn bad_values_are_errors() {
    assert!(parse(&["--jwt-secret", JWT, "--listen", "nope"]).is_err());
    assert!(parse(&["--jwt-secret", JWT, "--credential-ttl", "5"]).is_err());
    assert!(parse(&["--jwt-secret", JWT, "--provider", "bogus"]).is_err());
    assert!(parse(&["--jwt-secret", ""]).is_err());
    let e = parse(&["--jwt-secret", JWT, "--cors-origin", "https://a.example/"]).unwrap_err();
    assert!(e.0.contains("--cors-origin"), "{e}");
}

#[test]
fn cors_origins_parse() {
    let c = parse(&[
        "--jwt-secret",
        JWT,
        "--provider",
        "embedded",
        "--cors-origin",
        "https://a.example",
        "--cors-origin",
        "http://localhost:3000",
    ])
    .unwrap();
    assert_eq!(c.cors_origins.len(), 2);
}

#[test]
fn debug_redacts_secrets() {
    let c = parse(&[
        "--jwt-secret",
        "jwt-very-secret-0123456789abcdefgh",
        "--provider",
        "embedded",
        "--turn-secret",
        "turn-very-secret",
    ])
    .unwrap();
    let d = format!("{c:?}");
    assert!(
        !d.contains("jwt-very-secret-0123456789abcdefgh") && !d.contains("turn-very-secret"),
        "{d}"
    );
}

#[test]
fn advertised_ip_defaults() {
    let any: SocketAddr = "0.0.0.0:3478".parse().unwrap();
    let lo: SocketAddr = "127.0.0.2:3478".parse().unwrap();
    assert_eq!(advertised_ip(any, None).to_string(), "127.0.0.1");
    assert_eq!(advertised_ip(lo, None).to_string(), "127.0.0.2");
    assert_eq!(
        advertised_ip(lo, Some("10.0.0.1".parse().unwrap())).to_string(),
        "10.0.0.1"
    );
}

#[test]
fn peer_ranges_parse_and_dev_opens_loopback_only() {
    let base = ["--jwt-secret", JWT, "--provider", "embedded"];
    let embedded = |args: &[&str]| match parse(args).unwrap().provider {
        ProviderConfig::Embedded(e) => e,
        other => panic!("expected embedded, got {other:?}"),
    };
    let plain = embedded(&base);
    assert!(plain.allowed_peers.is_empty() && plain.denied_peers.is_empty());
    // --dev refuses a JWT secret: it makes its own.
    let dev = embedded(&["--provider", "embedded", "--dev"]);
    let ranges: Vec<String> = dev.allowed_peers.iter().map(|c| c.to_string()).collect();
    assert_eq!(ranges, ["127.0.0.0/8"]);
    // A TURN server others can reach does not relay into this machine's
    // loopback services, --dev or not: that takes an explicit range.
    for listen in ["0.0.0.0:3478", "198.51.100.7:3478"] {
        let reachable = embedded(&["--provider", "embedded", "--dev", "--turn-listen", listen]);
        assert!(reachable.allowed_peers.is_empty(), "{listen}");
    }
    let mut lab = base.to_vec();
    lab.extend([
        "--turn-allow-peer",
        "10.0.0.0/8",
        "--turn-deny-peer",
        "198.51.100.0/24",
    ]);
    let lab = embedded(&lab);
    assert_eq!(lab.allowed_peers.len(), 1);
    assert_eq!(lab.denied_peers.len(), 1);
    let mut bad = base.to_vec();
    bad.extend(["--turn-allow-peer", "10.0.0.0/40"]);
    assert!(parse(&bad).unwrap_err().0.contains("invalid CIDR"));
}

#[test]
fn turn_tls_needs_its_certificate_and_key() {
    let base = ["--jwt-secret", JWT, "--provider", "embedded"];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        parse(&args)
    };
    assert!(with(&["--turn-tls-listen", "0.0.0.0:443"]).is_err());
    assert!(with(&["--turn-tls-cert", "c.pem", "--turn-tls-key", "k.pem"]).is_err());
    let tls = [
        "--turn-tls-listen",
        "0.0.0.0:443",
        "--turn-tls-cert",
        "c.pem",
        "--turn-tls-key",
        "k.pem",
    ];
    match with(&tls).unwrap().provider {
        ProviderConfig::Embedded(e) => {
            let tls = e.tls.expect("TLS configured");
            assert_eq!(tls.listen.to_string(), "0.0.0.0:443");
            assert_eq!(tls.host, None);
        }
        other => panic!("expected embedded, got {other:?}"),
    }
    let mut named = tls.to_vec();
    named.extend(["--turn-tls-host", "turn.example.com"]);
    assert!(with(&named).is_ok());
    let mut bad = tls.to_vec();
    bad.extend(["--turn-tls-host", "turn.example.com/x"]);
    assert!(with(&bad).unwrap_err().0.contains("--turn-tls-host"));
}
