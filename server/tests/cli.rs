//! The binary itself: --help, bad values, the startup line, SIGTERM, no secrets in output.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ice-peer-server");
/// A JWT secret of the minimum length (32 bytes).
const JWT: &str = "cli-test-jwt-secret-0123456789ab";
/// A valid start on ephemeral loopback ports.
const EPHEMERAL: [&str; 6] = [
    "--jwt-secret",
    JWT,
    "--listen",
    "127.0.0.1:0",
    "--turn-listen",
    "127.0.0.1:0",
];

/// Runs the binary to completion (killed after 10 s, so a bug cannot hang the suite).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("JWT_SECRET")
        .envs(env.iter().copied())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn help_lists_flags_and_hides_secret_env_values() {
    let (code, out) = run(
        &["--help"],
        &[
            ("JWT_SECRET", "env-jwt-secret-value"),
            ("TURN_SECRET", "env-turn-secret"),
            ("REDIS_URL", "redis://:env-redis-password@127.0.0.1:1/"),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    for flag in [
        "--listen",
        "--jwt-secret",
        "--provider",
        "--turn-listen",
        "--turn-realm",
        "--turn-secret",
        "--turn-url",
        "--credential-ttl",
        "--twilio-base-url",
        "--dev",
        "--www-dir",
        "--pkg-dir",
        "--cors-origin",
        "--jwt-audience",
        "--jwt-issuer",
        "--http-header-timeout-ms",
        "--http-request-timeout-ms",
        "--http-max-connections",
        "--redis-url",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}");
    }
    assert!(
        !out.contains("env-jwt-secret-value")
            && !out.contains("env-turn-secret")
            && !out.contains("env-redis-password"),
        "{out}"
    );
}

#[test]
fn bad_values_exit_non_zero_with_a_clear_error() {
    let cases: [(&[&str], &str); 5] = [
        (&["--provider", "embedded"], "--jwt-secret"),
        (
            &["--jwt-secret", JWT, "--listen", "not-an-address"],
            "--listen",
        ),
        (&["--jwt-secret", JWT, "--provider", "nope"], "--provider"),
        (
            &[
                "--jwt-secret",
                JWT,
                "--provider",
                "turn-rest",
                "--turn-secret",
                "s",
            ],
            "--turn-url",
        ),
        (
            &["--jwt-secret", JWT, "--credential-ttl", "1"],
            "--credential-ttl",
        ),
    ];
    for (args, needle) in cases {
        let (code, out) = run(args, &[]);
        assert!(code.is_some_and(|c| c != 0), "{args:?} should fail: {out}");
        assert!(out.contains(needle), "{args:?}: {out}");
    }
    // Only one of the Twilio variables set: an error naming both, not a silent fallback.
    let (code, out) = run(&EPHEMERAL, &[("TWILIO_ACCOUNT_SID", "AC1")]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("TWILIO_AUTH_TOKEN"), "{out}");
}

#[test]
fn a_short_jwt_secret_and_dev_with_a_jwt_secret_refuse_to_start() {
    let ephemeral = ["--listen", "127.0.0.1:0", "--turn-listen", "127.0.0.1:0"];
    // 31 bytes: one short of the minimum; a 1-byte secret as the issue found.
    for secret in [&JWT[1..], "k"] {
        let (code, out) = run(&ephemeral, &[("JWT_SECRET", secret)]);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("at least 32 bytes"), "{out}");
        assert!(!out.contains("listening on"), "{out}");
    }
    let mut dev = ephemeral.to_vec();
    dev.push("--dev");
    for (args, env) in [
        (dev.clone(), vec![("JWT_SECRET", JWT)]),
        ([dev.as_slice(), &["--jwt-secret", JWT]].concat(), vec![]),
    ] {
        let (code, out) = run(&args, &env);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("--dev refuses"), "{out}");
        assert!(!out.contains(JWT), "the secret is not echoed: {out}");
    }
}

#[test]
fn prints_the_startup_line_and_stops_on_sigterm_without_leaking_secrets() {
    let mut child = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--turn-listen",
            "127.0.0.1:0",
            "--dev",
        ])
        .env("TURN_SECRET", "turn-secret-never-printed")
        .env("RUST_LOG", "debug")
        .env_remove("TWILIO_ACCOUNT_SID")
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("startup line");
    assert!(
        line.starts_with("ice-peer-server listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.contains("(provider: embedded, TURN on 127.0.0.1:"),
        "{line}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "graceful exit: {exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut rest)
        .expect("stderr");
    let all = format!("{line}{rest}");
    assert!(all.contains("dev mode: demo at http://127.0.0.1:"), "{all}");
    assert!(
        !all.contains("never-printed"),
        "a secret was printed:\n{all}"
    );
}

#[test]
fn an_unreachable_redis_fails_the_start_without_printing_its_url() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let url = "redis://:redis-password-never-printed@127.0.0.1:1/";
    let args = [&EPHEMERAL[..], &["--provider", "embedded"]].concat();
    for (args, env) in [
        ([&args[..], &["--redis-url", url]].concat(), vec![]),
        (args.clone(), vec![("REDIS_URL", url)]),
    ] {
        let (code, out) = run(&args, &env);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("cannot reach Redis"), "{out}");
        assert!(
            !out.contains("never-printed"),
            "the Redis URL was printed:\n{out}"
        );
    }
}
