//! What the app passes to `createPeer`: validated once, typed from then on.

use super::convert::servers_from_js;
use super::error::type_error;
use super::property::get;
use crate::core::servers::IceServer;
use crate::core::text::concat;
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MediaStream;

/// The members of `PeerEventHandlers`, in the order of [`Handlers`]' fields.
const HANDLER_NAMES: [&str; 7] = [
    "onSignal",
    "onConnect",
    "onStream",
    "onIceStateChange",
    "onClose",
    "onError",
    "onNetworkQualityChange",
];

/// `PeerEventHandlers`, each optional.
#[derive(Default)]
pub struct Handlers {
    pub on_signal: Option<Function>,
    pub on_connect: Option<Function>,
    pub on_stream: Option<Function>,
    pub on_ice_state_change: Option<Function>,
    pub on_close: Option<Function>,
    pub on_error: Option<Function>,
    pub on_network_quality_change: Option<Function>,
}

impl Handlers {
    /// `undefined`/`null` → no handlers; a member that is neither absent nor a function is a TypeError.
    pub fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        if value.is_null_or_undefined() {
            return Ok(Handlers::default());
        }
        if !value.is_object() {
            return Err(type_error("PeerEventHandlers must be an object"));
        }
        // One loop rather than seven inlined copies of it; the names by
        // reference (by value, the array was copied to the stack first).
        let mut picked: [Option<Function>; 7] = Default::default();
        for (slot, key) in picked.iter_mut().zip(&HANDLER_NAMES) {
            let v = get(value, key);
            if !v.is_null_or_undefined() {
                if !v.is_function() {
                    return Err(type_error(&concat(&[
                        "PeerEventHandlers.",
                        key,
                        " must be a function",
                    ])));
                }
                *slot = Some(v.unchecked_into());
            }
        }
        let [on_signal, on_connect, on_stream, on_ice_state_change, on_close, on_error, on_network_quality_change] =
            picked;
        Ok(Handlers {
            on_signal,
            on_connect,
            on_stream,
            on_ice_state_change,
            on_close,
            on_error,
            on_network_quality_change,
        })
    }
}

/// `PeerOptions`, validated.
pub struct PeerSetup {
    pub initiator: bool,
    pub stream: Option<MediaStream>,
    /// `iceServers` normalised; `None` when absent.
    pub explicit_servers: Option<Vec<IceServer>>,
    pub relay: bool,
    pub handlers: Handlers,
}

impl PeerSetup {
    pub fn from_js(options: &JsValue) -> Result<Self, JsValue> {
        if !options.is_object() {
            return Err(type_error(
                "createPeer needs an options object ({ initiator })",
            ));
        }
        let initiator = match get(options, "initiator") {
            v if v.is_undefined() => false,
            v => v
                .as_bool()
                .ok_or_else(|| type_error("PeerOptions.initiator must be a boolean"))?,
        };
        let stream = match get(options, "stream") {
            v if v.is_null_or_undefined() => None,
            v if v.has_type::<MediaStream>() => Some(v.unchecked_into()),
            _ => return Err(type_error("PeerOptions.stream must be a MediaStream")),
        };
        let explicit_servers = match get(options, "iceServers") {
            v if v.is_null_or_undefined() => None,
            v => Some(
                servers_from_js(&v)
                    .ok_or_else(|| type_error("PeerOptions.iceServers must be an array"))?,
            ),
        };
        let policy = get(options, "iceTransportPolicy");
        let relay = match policy.as_string().as_deref() {
            Some("relay") => true,
            Some("all") => false,
            None if policy.is_undefined() => false,
            _ => {
                return Err(type_error(
                    "PeerOptions.iceTransportPolicy must be \"all\" or \"relay\"",
                ))
            }
        };
        Ok(PeerSetup {
            initiator,
            stream,
            explicit_servers,
            relay,
            handlers: Handlers::from_js(&get(options, "handlers"))?,
        })
    }
}
