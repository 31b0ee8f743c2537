use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/twilio")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn maps_the_published_201_body() {
    let out = map_token_response(&fixture("tokens-201.json")).unwrap();
    assert_eq!(out.ttl, 86_400);
    assert_eq!(out.ice_servers.len(), 4);
    let stun = &out.ice_servers[0];
    assert_eq!(
        stun.urls,
        ["stun:global.stun.twilio.com:3478?transport=udp"]
    );
    assert_eq!(stun.url, stun.urls[0]);
    assert_eq!(stun.username, None);
    let turn = &out.ice_servers[3];
    assert_eq!(turn.urls, ["turn:global.turn.twilio.com:443?transport=tcp"]);
    assert_eq!(turn.credential.as_deref(), Some("tE2DajzSJwnsSbc123"));
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["ttl"], 86_400);
    assert!(json["iceServers"][0].get("username").is_none());
}

#[test]
fn accepts_arrays_numbers_and_legacy_url() {
    let body = br#"{"ttl":60,"ice_servers":[{"url":"stun:a"},{"urls":["turn:b","turn:b"],"username":"u","credential":"c"},{"foo":1}]}"#;
    let out = map_token_response(body).unwrap();
    assert_eq!(out.ttl, 60);
    assert_eq!(out.ice_servers.len(), 2);
    assert_eq!(out.ice_servers[0].urls, ["stun:a"]);
    assert_eq!(out.ice_servers[1].urls, ["turn:b"]);
}

#[test]
fn a_ttl_beyond_a_day_is_capped() {
    let body = br#"{"ttl":"18446744073709551615","ice_servers":[{"urls":"stun:a"}]}"#;
    assert_eq!(map_token_response(body).unwrap().ttl, 86_400);
}

#[test]
fn rejects_bad_bodies() {
    for body in [
        &b"not json"[..],
        br#"{"ttl":"soon","ice_servers":[{"urls":"stun:a"}]}"#,
        br#"{"ttl":"60","ice_servers":[]}"#,
        br#"{"ttl":"60"}"#,
    ] {
        assert!(
            map_token_response(body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn error_description_uses_the_error_body_and_hides_the_token() {
    let token = Secret::new("tok-123");
    let msg = describe_error(401, &fixture("error-401.json"), &token);
    assert_eq!(msg, "twilio answered HTTP 401: error 20003 Authenticate");
    let leaky = br#"{"code":1,"message":"bad token tok-123","status":400}"#;
    assert!(!describe_error(400, leaky, &token).contains("tok-123"));
    assert_eq!(
        describe_error(500, b"<html>", &token),
        "twilio answered HTTP 500"
    );
}
