//! The endpoint over real HTTP: the JWT matrix, envelope shape, dev routes, headers, CORS.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;

const ENDPOINT: &str = "/api/calls/ice-servers";

#[tokio::test]
async fn jwt_matrix() {
    let server = start(&["--provider", "embedded"]).await;
    let client = http();
    let url = server.url(ENDPOINT);
    let exp = now() + 600;
    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({ "sub": "mallory", "exp": exp }).to_string());
    let alg_none = format!("{header_none}.{claims}.");
    let valid = valid_token("alice");
    let mut tampered = valid.clone();
    tampered.pop();
    tampered.push(if valid.ends_with('A') { 'B' } else { 'A' });

    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("missing header", None, ""),
        ("not bearer", Some(format!("Basic {valid}")), ""),
        ("empty bearer", Some("Bearer ".into()), ""),
        ("malformed", Some("Bearer not.a.jwt".into()), "malformed"),
        ("garbage", Some("Bearer abc".into()), "malformed"),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                sign(&json!({ "sub": "a", "exp": now() - 3600 }), JWT_SECRET)
            )),
            "expired",
        ),
        (
            "wrong signature",
            Some(format!(
                "Bearer {}",
                sign(&json!({ "sub": "a", "exp": exp }), "other-secret")
            )),
            "signature",
        ),
        ("tampered", Some(format!("Bearer {tampered}")), ""),
        ("alg none", Some(format!("Bearer {alg_none}")), ""),
        (
            "alg HS512",
            Some(format!(
                "Bearer {}",
                sign_alg(
                    &json!({ "sub": "a", "exp": exp }),
                    JWT_SECRET,
                    Algorithm::HS512
                )
            )),
            "algorithm",
        ),
        (
            "no exp",
            Some(format!(
                "Bearer {}",
                sign(&json!({ "sub": "a" }), JWT_SECRET)
            )),
            "",
        ),
        (
            "no sub",
            Some(format!(
                "Bearer {}",
                sign(&json!({ "exp": exp }), JWT_SECRET)
            )),
            "",
        ),
    ];
    for (name, auth, needle) in cases {
        let mut req = client.get(&url);
        if let Some(a) = &auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.expect("answered");
        assert_eq!(res.status().as_u16(), 401, "{name}");
        assert!(res.headers().contains_key("www-authenticate"), "{name}");
        let body: serde_json::Value = res.json().await.expect("JSON error body");
        let message = error_message(&body);
        assert!(message.contains(needle), "{name}: {message}");
    }

    let (status, headers, body) = get(&client, &url, Some(&valid)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let data = data(&body);
    assert_eq!(data["ttl"], 86_400);
    let servers = data["iceServers"].as_array().expect("array");
    let turn_addr = server.turn_addr.expect("embedded TURN");
    assert_eq!(servers[0]["urls"][0], format!("stun:{turn_addr}"));
    assert!(servers[0].get("username").is_none());
    assert_eq!(
        servers[1]["urls"][0],
        format!("turn:{turn_addr}?transport=udp")
    );
    let username = servers[1]["username"].as_str().expect("username");
    assert!(username.ends_with(":alice"), "{username}");
    assert!(servers[1]["credential"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));
}

#[tokio::test]
async fn turn_rest_provider_envelope() {
    let server = start(&[
        "--provider",
        "turn-rest",
        "--turn-secret",
        "north-star",
        "--credential-ttl",
        "3600",
        "--turn-url",
        "stun:turn.example.com:3478",
        "--turn-url",
        "turn:turn.example.com:3478?transport=udp",
        "--turn-url",
        "turns:turn.example.com:5349?transport=tcp",
    ])
    .await;
    let (status, _, body) = get(&http(), &server.url(ENDPOINT), Some(&valid_token("bob"))).await;
    assert_eq!(status, 200, "{body}");
    let data = data(&body);
    assert_eq!(data["ttl"], 3600);
    let turn = &data["iceServers"][1];
    assert_eq!(
        turn["urls"],
        json!([
            "turn:turn.example.com:3478?transport=udp",
            "turns:turn.example.com:5349?transport=tcp"
        ])
    );
    let username = turn["username"].as_str().expect("username");
    let (exp, sub) = username.split_once(':').expect("expiry:sub");
    assert_eq!(sub, "bob");
    let exp: u64 = exp.parse().expect("numeric expiry");
    assert!(exp > now() + 3500 && exp <= now() + 3600);
    let secret = ice_peer_server::secret::Secret::new("north-star");
    assert_eq!(
        turn["credential"],
        ice_peer_server::providers::turn_rest::password(&secret, username)
    );
}

#[tokio::test]
async fn without_dev_the_dev_routes_do_not_exist() {
    let server = start(&["--provider", "embedded"]).await;
    let client = http();
    for path in ["/api/dev/token", "/api/dev/outage?down=true"] {
        let res = client
            .post(server.url(path))
            .send()
            .await
            .expect("answered");
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    for path in ["/", "/index.html", "/pkg/ice_peer.js"] {
        let (status, headers, _) = get(&client, &server.url(path), None).await;
        assert_eq!(status, 404, "{path}");
        assert!(headers["content-security-policy"]
            .to_str()
            .is_ok_and(|v| v.contains("frame-ancestors 'none'")));
    }
}

#[tokio::test]
async fn dev_token_and_outage() {
    let server = start(&["--provider", "embedded", "--dev"]).await;
    let client = http();
    let res = client
        .post(server.url("/api/dev/token"))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["sub"], "demo-user");
    let expires_at = body["expiresAt"].as_u64().expect("ms");
    assert!(expires_at > (now() + 3000) * 1000 && expires_at <= (now() + 3600) * 1000);
    let token = body["token"].as_str().expect("token").to_owned();

    let minted_sub = |request: reqwest::RequestBuilder| async move {
        let body: serde_json::Value = request
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("json");
        body["sub"].clone()
    };
    // A JSON body wins over the query; the query alone works too.
    let both = client
        .post(server.url("/api/dev/token?sub=from-query"))
        .json(&json!({ "sub": "carol" }));
    assert_eq!(minted_sub(both).await, "carol");
    let query = client.post(server.url("/api/dev/token?sub=dave"));
    assert_eq!(minted_sub(query).await, "dave");
    let res = client
        .post(server.url("/api/dev/token"))
        .body("{nope")
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 400);

    let url = server.url(ENDPOINT);
    let (status, _, body) = get(&client, &url, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert!(data(&body)["iceServers"][1]["username"]
        .as_str()
        .is_some_and(|u| u.ends_with(":demo-user")));

    // The switch takes the dev token (http_security.rs: and nothing less).
    let bearer = format!("Bearer {token}");
    let res = client
        .post(server.url("/api/dev/outage?down=true"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("answered");
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json"),
        json!({ "down": true })
    );
    let (status, _, body) = get(&client, &url, Some(&token)).await;
    assert_eq!(status, 503);
    assert_eq!(error_message(&body), "simulated outage");
    let res = client
        .post(server.url("/api/dev/outage?down=maybe"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 400);
    client
        .post(server.url("/api/dev/outage?down=false"))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("answered");
    let (status, _, _) = get(&client, &url, Some(&token)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn dev_static_files_have_mime_types_and_csp() {
    let dir = std::env::temp_dir().join(format!("ice-peer-static-{}", std::process::id()));
    let (www, pkg) = (dir.join("www"), dir.join("pkg"));
    std::fs::create_dir_all(&www).expect("mkdir");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(www.join("index.html"), "<!doctype html><title>t</title>").expect("write");
    std::fs::write(www.join("app.js"), "export {};").expect("write");
    std::fs::write(pkg.join("ice_peer_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    std::fs::write(dir.join("secret.txt"), "outside").expect("write");
    let (www_s, pkg_s) = (
        www.to_string_lossy().into_owned(),
        pkg.to_string_lossy().into_owned(),
    );
    let server = start(&[
        "--provider",
        "embedded",
        "--dev",
        "--www-dir",
        &www_s,
        "--pkg-dir",
        &pkg_s,
    ])
    .await;
    let client = http();
    for (path, mime) in [
        ("/", "text/html; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/pkg/ice_peer_bg.wasm", "application/wasm"),
    ] {
        let res = client.get(server.url(path)).send().await.expect("answered");
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], mime, "{path}");
        assert_eq!(
            res.headers()["content-security-policy"],
            ice_peer_server::routes::CSP
        );
    }
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/pkg/../../secret.txt",
        "/missing.js",
    ] {
        let res = client.get(server.url(path)).send().await.expect("answered");
        assert_eq!(res.status().as_u16(), 404, "{path}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let server = start(&[
        "--provider",
        "embedded",
        "--cors-origin",
        "https://app.example.com",
    ])
    .await;
    let client = http();
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, server.url(ENDPOINT))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let res = preflight("https://app.example.com")
        .await
        .expect("answered");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let res = preflight("https://evil.example").await.expect("answered");
    assert!(!res.headers().contains_key("access-control-allow-origin"));

    let plain = start(&["--provider", "embedded"]).await;
    let res = client
        .get(plain.url(ENDPOINT))
        .header("origin", "https://app.example.com")
        .header("authorization", format!("Bearer {}", valid_token("x")))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 200);
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
