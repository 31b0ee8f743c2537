//! Values crossing the boundary: JSON trees in, ICE servers and figures out.

use super::error::{get, members, network_quality_stats, quality_figures, set};
use crate::core::json::Json;
use crate::core::network_quality::{Direction, Score};
use crate::core::servers::{normalise, IceServer};
use crate::core::stats::PeerStats;
use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};

/// Nesting deeper than this reads as `Null`: app-given values may be cyclic.
const MAX_DEPTH: u32 = 16;

/// Any JS value as a JSON tree; functions, symbols and the like become `Null`.
/// A direct walk rather than serde-wasm-bindgen: serde's error machinery
/// formats floats and costs more than this whole module.
pub fn json_from_js(value: &JsValue) -> Json {
    json_at_depth(value, 0)
}

fn json_at_depth(value: &JsValue, depth: u32) -> Json {
    if let Some(b) = value.as_bool() {
        Json::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Json::Number(n)
    } else if let Some(s) = value.as_string() {
        Json::String(s)
    } else if depth >= MAX_DEPTH || !value.is_object() {
        Json::Null
    } else if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let mut items = Vec::new();
        for at in 0..array.length() {
            items.push(json_at_depth(&array.get(at), depth + 1));
        }
        Json::Array(items)
    } else {
        let flat = members(value);
        let mut pairs = Vec::new();
        let mut at = 0;
        while at < flat.length() {
            if let Some(key) = flat.get(at).as_string() {
                pairs.push((key, json_at_depth(&flat.get(at + 1), depth + 1)));
            }
            at += 2;
        }
        Json::Object(pairs)
    }
}

/// ICE servers given by the app (`iceServers`, `fallbackIceServers`), normalised
/// by the same rules as the endpoint's. `None` when `value` is not an array.
pub fn servers_from_js(value: &JsValue) -> Option<Vec<IceServer>> {
    match json_from_js(value) {
        Json::Array(entries) => Some(normalise(&entries)),
        _ => None,
    }
}

/// `[{ urls: [...], username?, credential? }]`, a fresh array each call.
/// Plain loops: iterator adapters over JS arrays cost the wasm far more.
pub fn servers_to_js(servers: &[IceServer]) -> Array {
    let out = Array::new();
    for server in servers {
        let entry = Object::new();
        set(&entry, "urls", &strings_to_js(&server.urls));
        if let Some(username) = &server.username {
            set(&entry, "username", &username.into());
        }
        if let Some(credential) = &server.credential {
            set(&entry, "credential", &credential.into());
        }
        out.push(&entry);
    }
    out
}

/// The strings as a JS array.
pub fn strings_to_js<'a>(strings: impl IntoIterator<Item = &'a String>) -> Array {
    let out = Array::new();
    for string in strings {
        out.push(&JsValue::from_str(string));
    }
    out
}

/// `NetworkQualityStats` for `onNetworkQualityChange`.
pub fn network_score_to_js(score: &Score) -> JsValue {
    let direction = |d: Option<Direction>| {
        d.map_or(JsValue::NULL, |d| {
            quality_figures(d.mos, d.loss_pct, d.jitter_ms)
        })
    };
    network_quality_stats(
        &quality_figures(score.mos, score.loss_pct, score.jitter_ms),
        score.rtt_ms,
        &direction(score.send),
        &direction(score.receive),
    )
}

/// Contract `PeerStats`.
pub fn stats_to_js(stats: &PeerStats) -> JsValue {
    let out = Object::new();
    let opt = |value: Option<f64>| value.map_or(JsValue::NULL, JsValue::from_f64);
    let candidate = stats
        .local_candidate_type
        .as_deref()
        .map_or(JsValue::NULL, JsValue::from_str);
    set(&out, "localCandidateType", &candidate);
    set(&out, "roundTripTimeMs", &opt(stats.round_trip_time_ms));
    set(&out, "packetsLost", &opt(stats.packets_lost));
    set(&out, "jitterMs", &opt(stats.jitter_ms));
    set(&out, "bytesSent", &stats.bytes_sent.into());
    set(&out, "bytesReceived", &stats.bytes_received.into());
    out.into()
}

/// A numeric option: `None` when absent; a value that is not a number reads
/// as NaN, which the validation in `core::config` rejects with a clear message.
pub fn number_option(options: &JsValue, key: &str) -> Option<f64> {
    let value = get(options, key);
    if value.is_null_or_undefined() {
        None
    } else {
        Some(value.as_f64().unwrap_or(f64::NAN))
    }
}
