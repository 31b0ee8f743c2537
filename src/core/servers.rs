//! The ICE-servers endpoint's response: parsing every accepted shape and
//! normalising each entry into what `RTCPeerConnection` accepts.
//!
//! Accepted: `{ "success": true, "data": { "iceServers" | "ice_servers": [...], "ttl"?: N | "N" } }`,
//! and the same members at the top level when there is no `data` (Twilio's own body).
//! `success: false` is invalid. Entries: `urls` as a string or array, legacy `url` folded in.

use core::fmt;

use super::json::Json;
use super::text::{concat, split_first, split_last};

/// A normalised ICE server: `urls` only (deduplicated, order kept), never `url`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceServer {
    /// At least one `stun:`, `stuns:`, `turn:` or `turns:` URL (scheme in lower case).
    pub urls: Vec<String>,
    /// TURN username, when the entry had a non-empty one.
    pub username: Option<String>,
    /// TURN credential, when the entry had a non-empty one.
    pub credential: Option<String>,
}

/// What a usable response carried.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedServers {
    /// Never empty.
    pub servers: Vec<IceServer>,
    /// Lifetime of the credentials in seconds (`ttl`), when present, finite and >= 0.
    pub ttl_secs: Option<f64>,
}

/// Why a 2xx body was not usable ("invalid-response").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidResponse {
    /// Not JSON at all (the edge reports this when `JSON.parse` throws).
    NotJson,
    /// `success` is false.
    NotSuccessful,
    /// No `iceServers`/`ice_servers` array where the envelope should have one.
    NotAnEnvelope,
    /// An array was there but no entry survived normalisation.
    NoUsableServer,
}

impl InvalidResponse {
    /// What was wrong, e.g. "body is not JSON".
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidResponse::NotJson => "body is not JSON",
            InvalidResponse::NotSuccessful => "success is not true",
            InvalidResponse::NotAnEnvelope => "no iceServers array",
            InvalidResponse::NoUsableServer => "no usable ICE server",
        }
    }
}

impl fmt::Display for InvalidResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a response body that is already JSON.
///
/// The body must be an object. A `success` member, when present, must be `true`
/// (anything else is [`InvalidResponse::NotSuccessful`]). The list is the first
/// array found under `iceServers` then `ice_servers`, looked up in `data` (when it
/// is an object) and then at the top level. `ttl` is read from the object that
/// held the list, else from the top level.
pub fn parse_response(body: &Json) -> Result<ParsedServers, InvalidResponse> {
    if !matches!(body, Json::Object(_)) {
        return Err(InvalidResponse::NotAnEnvelope);
    }
    match body.get("success") {
        None | Some(Json::Bool(true)) => {}
        Some(_) => return Err(InvalidResponse::NotSuccessful),
    }
    let data = body.get("data").filter(|d| matches!(d, Json::Object(_)));
    let with_list = |obj| Some((obj, server_list(obj)?));
    let (holder, list) = (data.and_then(with_list))
        .or_else(|| with_list(body))
        .ok_or(InvalidResponse::NotAnEnvelope)?;
    let servers = normalise(list);
    if servers.is_empty() {
        return Err(InvalidResponse::NoUsableServer);
    }
    let ttl_secs = holder
        .get("ttl")
        .or_else(|| body.get("ttl"))
        .and_then(parse_ttl);
    Ok(ParsedServers { servers, ttl_secs })
}

fn server_list(obj: &Json) -> Option<&[Json]> {
    obj.get("iceServers")
        .and_then(Json::as_array)
        .or_else(|| obj.get("ice_servers").and_then(Json::as_array))
}

/// Normalises a list of entries (from the endpoint or passed explicitly by the app):
/// - `urls` (string or array of strings; non-strings ignored) plus legacy `url`, trimmed, empty dropped, duplicates removed;
/// - a query (`?...`) on a stun:/stuns: URL is dropped;
/// - URLs whose scheme (case-insensitive, before the first ':') is not stun/stuns/turn/turns are dropped;
/// - turn:/turns: URLs are dropped from an entry without both a non-empty string username and credential;
/// - entries left with no URL are dropped; an entry equal to an earlier one is dropped.
///
/// Also: the scheme is written in lower case, and a URL with nothing after the
/// scheme (`stun:`, or `stun:?x` once its query is gone) is dropped, since browsers
/// reject both. Username and credential are kept only when they are non-empty strings.
/// Non-object entries are ignored. Never panics.
pub fn normalise(entries: &[Json]) -> Vec<IceServer> {
    let mut out: Vec<IceServer> = Vec::new();
    for entry in entries {
        if let Some(server) = normalise_entry(entry) {
            if !out.contains(&server) {
                out.push(server);
            }
        }
    }
    out
}

fn non_empty_str(value: Option<&Json>) -> Option<String> {
    match value {
        Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn normalise_entry(entry: &Json) -> Option<IceServer> {
    if !matches!(entry, Json::Object(_)) {
        return None;
    }
    let username = non_empty_str(entry.get("username"));
    let credential = non_empty_str(entry.get("credential"));
    let has_credentials = username.is_some() && credential.is_some();

    let mut urls: Vec<String> = Vec::new();
    let mut add = |value: &Json| {
        if let Some(url) = value
            .as_str()
            .and_then(|s| normalise_url(s, has_credentials))
        {
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
    };
    match entry.get("urls") {
        Some(Json::Array(items)) => items.iter().for_each(&mut add),
        Some(value) => add(value),
        None => {}
    }
    if let Some(value) = entry.get("url") {
        add(value);
    }
    if urls.is_empty() {
        return None;
    }
    Some(IceServer {
        urls,
        username,
        credential,
    })
}

/// One URL normalised, or None when it must be dropped: the STUN/TURN URL
/// rules in one place, for the client's normalisation and for the reference
/// server's `--turn-url` check. The scheme (stun, stuns, turn, turns; any
/// case) is written in lower case; a STUN query is dropped; turn/turns need
/// `has_credentials`; the host and port must be what browsers accept.
pub fn normalise_url(raw: &str, has_credentials: bool) -> Option<String> {
    let (scheme, rest) = split_first(raw.trim_ascii(), b':')?;
    // The scheme lowered where the URL is built, then matched: one match
    // rather than four case-insensitive comparisons.
    // With its ':' from the start: one push_str later, no push of a char.
    let mut url = concat(&[scheme, ":"]);
    url.make_ascii_lowercase();
    let rest = match url.as_str() {
        // Trimmed again: "stun:a ?x" must not leave "stun:a ".
        "stun:" | "stuns:" => split_first(rest, b'?')
            .map_or(rest, |(before, _)| before)
            .trim_ascii_end(),
        "turn:" | "turns:" if has_credentials => rest,
        _ => return None,
    };
    let host_port = split_first(rest, b'?').map_or(rest, |(before, _)| before);
    if !is_host_port(host_port) {
        return None;
    }
    url.push_str(rest);
    Some(url)
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, as browsers accept it: a
/// non-empty host without spaces, and a port from 1 to 65535. One malformed
/// URL would otherwise make the `RTCPeerConnection` constructor throw and
/// take every call down with it.
fn is_host_port(s: &str) -> bool {
    let (host, port) = match s.strip_prefix("[") {
        Some(v6) => match split_first(v6, b']') {
            Some((addr, after))
                if !addr.is_empty()
                    && addr
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') =>
            {
                match after.strip_prefix(":") {
                    Some(port) => (addr, Some(port)),
                    None if after.is_empty() => (addr, None),
                    None => return false,
                }
            }
            _ => return false,
        },
        None => match split_last(s, b':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        },
    };
    // Space and below, DEL and the URL delimiters are not part of a host.
    let host_ok = !host.is_empty()
        && !host
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || matches!(b, b'[' | b']' | b'/' | b'@' | b'#'));
    host_ok && port.is_none_or(is_port)
}

/// At most five digits (checked first: no overflow), from 1 to 65535.
fn is_port(p: &str) -> bool {
    if !(1..=5).contains(&p.len()) {
        return false;
    }
    let mut v = 0u32;
    for b in p.bytes() {
        let Some(d) = digit(b) else {
            return false;
        };
        v = v * 10 + u32::from(d);
    }
    (1..=65535).contains(&v)
}

/// `ttl` as a number or numeric string (e.g. Twilio's "86400"); None when absent,
/// not finite, negative or not a number. A numeric string is decimal digits with an
/// optional fraction (`"86400"`, `" 3600 "`, `"1.5"`), surrounding whitespace allowed;
/// signs and exponents are not accepted.
pub fn parse_ttl(value: &Json) -> Option<f64> {
    let n = match value {
        Json::Number(n) => *n,
        Json::String(s) => parse_decimal(s.trim_ascii())?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some(n)
}

/// The value of an ASCII digit.
fn digit(b: u8) -> Option<u8> {
    b.is_ascii_digit().then(|| b - b'0')
}

/// Digits with an optional `.fraction`.
fn parse_decimal(s: &str) -> Option<f64> {
    let (int, frac) = split_first(s, b'.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut n = 0.0;
    for b in int.bytes() {
        n = n * 10.0 + f64::from(digit(b)?);
    }
    let mut scale = 1.0;
    for b in frac.bytes() {
        scale /= 10.0;
        n += f64::from(digit(b)?) * scale;
    }
    Some(n)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{normalise, parse_response, parse_ttl, IceServer, InvalidResponse, ParsedServers};
    use crate::core::json::Json;

    fn json(s: &str) -> Json {
        serde_json::from_str(s).unwrap()
    }

    fn server(urls: &[&str], username: Option<&str>, credential: Option<&str>) -> IceServer {
        IceServer {
            urls: urls.iter().map(|u| (*u).to_owned()).collect(),
            username: username.map(str::to_owned),
            credential: credential.map(str::to_owned),
        }
    }

    fn norm(s: &str) -> Vec<IceServer> {
        normalise(json(s).as_array().unwrap())
    }

    #[test]
    fn seed_envelope() {
        let body = json(
            r#"{"success":true,"data":{"iceServers":[
                {"urls":"stun:stun.example.com:3478"},
                {"urls":["turn:turn.example.com:3478?transport=udp","turns:turn.example.com:5349"],
                 "username":"u","credential":"p"}
            ],"ttl":86400}}"#,
        );
        assert_eq!(
            parse_response(&body),
            Ok(ParsedServers {
                servers: vec![
                    server(&["stun:stun.example.com:3478"], None, None),
                    server(
                        &[
                            "turn:turn.example.com:3478?transport=udp",
                            "turns:turn.example.com:5349"
                        ],
                        Some("u"),
                        Some("p")
                    ),
                ],
                ttl_secs: Some(86400.0),
            })
        );
    }

    #[test]
    fn twilio_body() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/twilio/tokens-201.json"
        ))
        .unwrap();
        let parsed = parse_response(&json(&text)).unwrap();
        assert_eq!(parsed.ttl_secs, Some(86400.0));
        let user = "dc2d2894d5a9023620c467b0e71cfa6a35457e6679785ed6ae9856fe5bdfa269";
        let pass = "tE2DajzSJwnsSbc123";
        assert_eq!(
            parsed.servers,
            vec![
                // `url` == `urls` folded into one; the STUN query is dropped.
                server(&["stun:global.stun.twilio.com:3478"], None, None),
                server(
                    &["turn:global.turn.twilio.com:3478?transport=udp"],
                    Some(user),
                    Some(pass)
                ),
                server(
                    &["turn:global.turn.twilio.com:3478?transport=tcp"],
                    Some(user),
                    Some(pass)
                ),
                server(
                    &["turn:global.turn.twilio.com:443?transport=tcp"],
                    Some(user),
                    Some(pass)
                ),
            ]
        );
    }

    #[test]
    fn twilio_error_body_is_not_an_envelope() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/twilio/error-401.json"
        ))
        .unwrap();
        assert_eq!(
            parse_response(&json(&text)),
            Err(InvalidResponse::NotAnEnvelope)
        );
    }

    #[test]
    fn ice_servers_snake_case_inside_data() {
        let body = json(r#"{"success":true,"data":{"ice_servers":[{"urls":"stun:a"}]}}"#);
        let parsed = parse_response(&body).unwrap();
        assert_eq!(parsed.servers, vec![server(&["stun:a"], None, None)]);
        assert_eq!(parsed.ttl_secs, None);
    }

    #[test]
    fn camel_case_wins_over_snake_case() {
        let body = json(
            r#"{"data":{"ice_servers":[{"urls":"stun:snake"}],"iceServers":[{"urls":"stun:camel"}]}}"#,
        );
        assert_eq!(
            parse_response(&body).unwrap().servers,
            vec![server(&["stun:camel"], None, None)]
        );
        // A non-array iceServers falls through to ice_servers.
        let body = json(r#"{"iceServers":"nope","ice_servers":[{"urls":"stun:snake"}]}"#);
        assert_eq!(
            parse_response(&body).unwrap().servers,
            vec![server(&["stun:snake"], None, None)]
        );
    }

    #[test]
    fn top_level_list_when_data_lacks_one() {
        let body = json(
            r#"{"success":true,"data":{"other":1},"iceServers":[{"urls":"stun:a"}],"ttl":60}"#,
        );
        let parsed = parse_response(&body).unwrap();
        assert_eq!(parsed.servers, vec![server(&["stun:a"], None, None)]);
        assert_eq!(parsed.ttl_secs, Some(60.0));
        // data that is not an object is ignored.
        let body = json(r#"{"data":null,"iceServers":[{"urls":"stun:a"}]}"#);
        assert!(parse_response(&body).is_ok());
    }

    #[test]
    fn ttl_next_to_data_is_used_when_data_has_none() {
        let body =
            json(r#"{"success":true,"ttl":"120","data":{"iceServers":[{"urls":"stun:a"}]}}"#);
        assert_eq!(parse_response(&body).unwrap().ttl_secs, Some(120.0));
        let body = json(r#"{"ttl":5,"data":{"ttl":7,"iceServers":[{"urls":"stun:a"}]}}"#);
        assert_eq!(parse_response(&body).unwrap().ttl_secs, Some(7.0));
    }

    #[test]
    fn string_ttl_and_bad_ttls() {
        assert_eq!(parse_ttl(&json(r#""86400""#)), Some(86400.0));
        assert_eq!(parse_ttl(&json(r#"" 3600 ""#)), Some(3600.0));
        assert_eq!(parse_ttl(&json(r#""1.5""#)), Some(1.5));
        assert_eq!(parse_ttl(&json(r#""0""#)), Some(0.0));
        assert_eq!(parse_ttl(&json("86400")), Some(86400.0));
        assert_eq!(parse_ttl(&json("0.25")), Some(0.25));
        assert_eq!(parse_ttl(&json("0")), Some(0.0));
        for bad in [
            r#""""#,
            r#"" ""#,
            r#"".""#,
            r#""-1""#,
            r#""+1""#,
            r#""1e3""#,
            r#""abc""#,
            r#""12s""#,
            r#""NaN""#,
            r#""inf""#,
            r#""1.2.3""#,
            "-1",
            "null",
            "true",
            "[]",
            "{}",
        ] {
            assert_eq!(parse_ttl(&json(bad)), None, "{bad}");
        }
        assert_eq!(parse_ttl(&Json::Number(f64::NAN)), None);
        assert_eq!(parse_ttl(&Json::Number(f64::INFINITY)), None);
        // Too many digits overflows to infinity: rejected, not a panic.
        assert_eq!(parse_ttl(&Json::String("9".repeat(400))), None);
        // A bad ttl does not make the response invalid.
        let body =
            json(r#"{"success":true,"data":{"iceServers":[{"urls":"stun:a"}],"ttl":"soon"}}"#);
        assert_eq!(parse_response(&body).unwrap().ttl_secs, None);
    }

    #[test]
    fn url_only() {
        assert_eq!(
            norm(r#"[{"url":"stun:a:3478"}]"#),
            vec![server(&["stun:a:3478"], None, None)]
        );
    }

    #[test]
    fn urls_string_or_array_and_url_folded_in() {
        assert_eq!(
            norm(r#"[{"urls":"stun:a"}]"#),
            vec![server(&["stun:a"], None, None)]
        );
        assert_eq!(
            norm(r#"[{"urls":["stun:a","stun:b"]}]"#),
            vec![server(&["stun:a", "stun:b"], None, None)]
        );
        assert_eq!(
            norm(r#"[{"urls":["stun:a"],"url":"stun:c"}]"#),
            vec![server(&["stun:a", "stun:c"], None, None)]
        );
        // Non-string array items and non-string url are ignored.
        assert_eq!(
            norm(r#"[{"urls":[1,null,"stun:a",["stun:x"],{"u":"stun:y"}],"url":7}]"#),
            vec![server(&["stun:a"], None, None)]
        );
        // urls of the wrong type, with a usable url.
        assert_eq!(
            norm(r#"[{"urls":42,"url":"stun:a"}]"#),
            vec![server(&["stun:a"], None, None)]
        );
    }

    #[test]
    fn trimming_empties_and_duplicates() {
        assert_eq!(
            norm(r#"[{"urls":["  stun:a  ","","   ","stun:a","stun:b","stun:a"],"url":"stun:b"}]"#),
            vec![server(&["stun:a", "stun:b"], None, None)]
        );
        // Duplicates after dropping a STUN query and lower-casing the scheme.
        assert_eq!(
            norm(r#"[{"urls":["stun:a?transport=udp","STUN:a","Stun:a?x"]}]"#),
            vec![server(&["stun:a"], None, None)]
        );
    }

    #[test]
    fn stun_query_dropped_turn_query_kept() {
        assert_eq!(
            norm(
                r#"[{"urls":["stun:a:3478?transport=udp","stuns:b:5349?x=1&y=2",
                "turn:c:3478?transport=tcp","turns:d:443?transport=tcp"],"username":"u","credential":"p"}]"#
            ),
            vec![server(
                &[
                    "stun:a:3478",
                    "stuns:b:5349",
                    "turn:c:3478?transport=tcp",
                    "turns:d:443?transport=tcp"
                ],
                Some("u"),
                Some("p")
            )]
        );
    }

    #[test]
    fn whitespace_left_by_a_dropped_query_is_trimmed() {
        assert_eq!(
            norm(r#"[{"urls":["stun:a ?x","stun: ?"]}]"#),
            vec![server(&["stun:a"], None, None)]
        );
    }

    #[test]
    fn scheme_is_case_insensitive_and_lowered() {
        assert_eq!(
            norm(r#"[{"urls":["STUN:a","TURNS:b:443","Turn:c"],"username":"u","credential":"p"}]"#),
            vec![server(
                &["stun:a", "turns:b:443", "turn:c"],
                Some("u"),
                Some("p")
            )]
        );
    }

    #[test]
    fn bad_schemes_dropped() {
        assert_eq!(
            norm(
                r#"[{"urls":["http://a","https://b","stunx:c","tur:d","ws:e","nocolon","stun","",":x","stun :a","stun:","stun:?q","turn:"],
                "username":"u","credential":"p"},{"urls":"ftp:x"}]"#
            ),
            vec![]
        );
        // Good and bad in one entry: only the good stay.
        assert_eq!(
            norm(r#"[{"urls":["https://x","stun:ok"]}]"#),
            vec![server(&["stun:ok"], None, None)]
        );
    }

    #[test]
    fn turn_without_credentials_dropped() {
        assert_eq!(norm(r#"[{"urls":"turn:a"}]"#), vec![]);
        assert_eq!(norm(r#"[{"urls":"turn:a","username":"u"}]"#), vec![]);
        assert_eq!(norm(r#"[{"urls":"turns:a","credential":"p"}]"#), vec![]);
        assert_eq!(
            norm(r#"[{"urls":"turn:a","username":"","credential":"p"}]"#),
            vec![]
        );
        assert_eq!(
            norm(r#"[{"urls":"turn:a","username":"u","credential":""}]"#),
            vec![]
        );
        assert_eq!(
            norm(r#"[{"urls":"turn:a","username":"u","credential":5}]"#),
            vec![]
        );
        assert_eq!(
            norm(r#"[{"urls":"turn:a","username":null,"credential":"p"}]"#),
            vec![]
        );
        // The entry's STUN URLs survive; the username it had is kept.
        assert_eq!(
            norm(r#"[{"urls":["turn:a","stun:b"],"username":"u"}]"#),
            vec![server(&["stun:b"], Some("u"), None)]
        );
    }

    #[test]
    fn non_objects_ignored_and_equal_entries_deduplicated() {
        assert_eq!(
            norm(
                r#"[null,1,"stun:a",["stun:a"],{"urls":"stun:a"},{"url":"stun:a"},{"urls":["stun:a","stun:a"]},
                {"urls":"stun:a","username":"u","credential":"p"}]"#
            ),
            vec![
                server(&["stun:a"], None, None),
                server(&["stun:a"], Some("u"), Some("p"))
            ]
        );
    }

    #[test]
    fn success_false_and_other_non_true_success() {
        for body in [
            r#"{"success":false,"data":{"iceServers":[{"urls":"stun:a"}]}}"#,
            r#"{"success":"true","data":{"iceServers":[{"urls":"stun:a"}]}}"#,
            r#"{"success":null,"iceServers":[{"urls":"stun:a"}]}"#,
            r#"{"success":false,"error":"nope"}"#,
        ] {
            assert_eq!(
                parse_response(&json(body)),
                Err(InvalidResponse::NotSuccessful),
                "{body}"
            );
        }
    }

    #[test]
    fn no_usable_entry() {
        for body in [
            r#"{"success":true,"data":{"iceServers":[]}}"#,
            r#"{"success":true,"data":{"iceServers":[{"urls":"turn:a"},{"urls":"http://b"},null]}}"#,
            r#"{"ice_servers":[{"urls":[]}]}"#,
        ] {
            assert_eq!(
                parse_response(&json(body)),
                Err(InvalidResponse::NoUsableServer),
                "{body}"
            );
        }
    }

    #[test]
    fn missing_envelope() {
        for body in [
            "null",
            "42",
            r#""stun:a""#,
            r#"[{"urls":"stun:a"}]"#,
            "{}",
            r#"{"success":true}"#,
            r#"{"success":true,"data":{}}"#,
            r#"{"success":true,"data":{"iceServers":{"urls":"stun:a"}}}"#,
            r#"{"success":true,"data":{"iceServers":null}}"#,
            r#"{"servers":[{"urls":"stun:a"}]}"#,
        ] {
            assert_eq!(
                parse_response(&json(body)),
                Err(InvalidResponse::NotAnEnvelope),
                "{body}"
            );
        }
    }

    #[test]
    fn duplicate_keys_in_body_keep_the_last() {
        let body = json(
            r#"{"success":false,"success":true,"data":{"iceServers":[{"urls":"stun:a","urls":"stun:b"}]}}"#,
        );
        assert_eq!(
            parse_response(&body).unwrap().servers,
            vec![server(&["stun:b"], None, None)]
        );
    }

    #[test]
    fn invalid_response_messages() {
        assert_eq!(InvalidResponse::NotJson.to_string(), "body is not JSON");
        assert_eq!(
            InvalidResponse::NotSuccessful.to_string(),
            "success is not true"
        );
        assert_eq!(
            InvalidResponse::NotAnEnvelope.to_string(),
            "no iceServers array"
        );
        assert_eq!(
            InvalidResponse::NoUsableServer.to_string(),
            "no usable ICE server"
        );
    }

    #[test]
    fn unicode_does_not_panic() {
        let out = norm(
            r#"[{"urls":["stün:a","stun:é?ü","ü:x","turn:ß"],"username":"ü","credential":"ß"}]"#,
        );
        assert_eq!(
            out,
            vec![server(&["stun:é", "turn:ß"], Some("ü"), Some("ß"))]
        );
    }

    #[test]
    fn urls_the_browser_would_reject_are_dropped() {
        // Chrome's constructor throws "ICE server parsing failed" for each of these.
        for bad in [
            "stun:[::1",
            "stun:host:99999",
            "turn:host:70000?transport=udp",
            "stun:a b",
            "stun:host:abc",
            "stun:host:",
            "stun::3478",
            "stun:host:0",
            "stun:[]:3478",
            "stun:[::1]x",
            "stun:user@host",
        ] {
            let body = format!(r#"[{{"urls":"{bad}","username":"u","credential":"c"}}]"#);
            assert_eq!(norm(&body), vec![], "{bad}");
        }
        for good in [
            "stun:stun.l.google.com:19302",
            "stun:127.0.0.1",
            "stun:[::1]:3478",
            "stun:[2001:db8::1]",
            "turn:turn.example.com:443?transport=tcp",
            "turns:turn.example.com",
        ] {
            let body = format!(r#"[{{"urls":"{good}","username":"u","credential":"c"}}]"#);
            assert_eq!(norm(&body).len(), 1, "{good}");
        }
    }
}
