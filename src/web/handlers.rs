//! What the app passes to `createPeer`: validated once, typed from then on.

use super::convert::servers_from_js;
use super::error::type_error;
use super::property::get;
use crate::core::servers::IceServer;
use crate::core::usage::UsageError;
use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MediaStream;

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
            return Err(type_error(UsageError::Handlers));
        }
        Ok(Handlers {
            on_signal: handler(value, "onSignal")?,
            on_connect: handler(value, "onConnect")?,
            on_stream: handler(value, "onStream")?,
            on_ice_state_change: handler(value, "onIceStateChange")?,
            on_close: handler(value, "onClose")?,
            on_error: handler(value, "onError")?,
            on_network_quality_change: handler(value, "onNetworkQualityChange")?,
        })
    }
}

/// The member `key` of `PeerEventHandlers`: absent (`undefined` or `null`) or a function.
fn handler(handlers: &JsValue, key: &'static str) -> Result<Option<Function>, JsValue> {
    let value = get(handlers, key);
    if value.is_null_or_undefined() {
        Ok(None)
    } else if value.is_function() {
        Ok(Some(value.unchecked_into()))
    } else {
        Err(type_error(UsageError::Handler(key)))
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
            return Err(type_error(UsageError::PeerOptions));
        }
        let initiator = match get(options, "initiator") {
            v if v.is_undefined() => false,
            v => v
                .as_bool()
                .ok_or_else(|| type_error(UsageError::Initiator))?,
        };
        let stream = match get(options, "stream") {
            v if v.is_null_or_undefined() => None,
            v if v.has_type::<MediaStream>() => Some(v.unchecked_into()),
            _ => return Err(type_error(UsageError::Stream)),
        };
        let explicit_servers = match get(options, "iceServers") {
            v if v.is_null_or_undefined() => None,
            v => Some(servers_from_js(&v).ok_or_else(|| type_error(UsageError::PeerIceServers))?),
        };
        let policy = get(options, "iceTransportPolicy");
        let relay = match policy.as_string().as_deref() {
            Some("relay") => true,
            Some("all") => false,
            None if policy.is_undefined() => false,
            _ => return Err(type_error(UsageError::IceTransportPolicy)),
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
