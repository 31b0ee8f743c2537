//! Every way the app can call the package wrongly, and the sentence its
//! `TypeError` says. The edge only picks the variant; what the app reads is
//! written here, once.

use super::config::OptionError;
use super::text::concat;
use std::borrow::Cow;

/// A call the package refuses with a `TypeError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageError {
    /// `new PeerManager(x)` with `x` not an object.
    ManagerOptions,
    /// `token` neither a string nor a function.
    Token,
    /// `endpoint` present but not a non-empty string.
    Endpoint,
    /// A numeric option its rule refuses.
    Number(OptionError),
    /// `fallbackIceServers` present but with no usable server.
    FallbackIceServers,
    /// `createPeer(x)` with `x` not an object.
    PeerOptions,
    /// `initiator` present but not a boolean.
    Initiator,
    /// `stream` present but not a `MediaStream`.
    Stream,
    /// `iceServers` present but not an array.
    PeerIceServers,
    /// `iceTransportPolicy` present but neither "all" nor "relay".
    IceTransportPolicy,
    /// `handlers` present but not an object.
    Handlers,
    /// A member of `handlers`, by its name, present but not a function.
    Handler(&'static str),
    /// `peer.subscribe(x)` with `x` not a function.
    Listener,
    /// `peer.signal(x)` with no string `type`.
    SignalShape,
    /// `peer.signal(x)` with a `type` other than the three.
    SignalType,
    /// An offer or answer without a string `sdp`.
    SignalSdp,
    /// A candidate message without a `candidate` object.
    SignalCandidate,
    /// `classifyQuality(x)` with `x` not an ICE connection state.
    IceState,
    /// `qualityLabel(x)` with `x` not a quality.
    Quality,
    /// `preflight({ timeoutMs })` with a deadline that is not 1 to 60000 ms.
    PreflightTimeout,
    /// `preflight({ iceServers })` with something that is not a list of servers.
    PreflightIceServers,
}

impl UsageError {
    /// What the `TypeError` says: which value, and what it must be.
    pub fn message(self) -> Cow<'static, str> {
        let sentence = match self {
            UsageError::ManagerOptions => "PeerManager needs an options object with a token",
            UsageError::Token => "PeerManagerOptions.token must be a string or a function",
            UsageError::Endpoint => "PeerManagerOptions.endpoint must be a non-empty string",
            UsageError::Number(error) => return error.message().into(),
            UsageError::FallbackIceServers => {
                "PeerManagerOptions.fallbackIceServers must be an array of usable ICE servers"
            }
            UsageError::PeerOptions => "createPeer needs an options object ({ initiator })",
            UsageError::Initiator => "PeerOptions.initiator must be a boolean",
            UsageError::Stream => "PeerOptions.stream must be a MediaStream",
            UsageError::PeerIceServers => "PeerOptions.iceServers must be an array",
            UsageError::IceTransportPolicy => {
                "PeerOptions.iceTransportPolicy must be \"all\" or \"relay\""
            }
            UsageError::Handlers => "PeerEventHandlers must be an object",
            UsageError::Handler(name) => {
                return concat(&["PeerEventHandlers.", name, " must be a function"]).into()
            }
            UsageError::Listener => "subscribe needs a function",
            UsageError::SignalShape => {
                "signal: expected { type: \"offer\" | \"answer\" | \"candidate\", ... }"
            }
            UsageError::SignalType => {
                "signal: unknown type (expected \"offer\", \"answer\" or \"candidate\")"
            }
            UsageError::SignalSdp => "signal: an offer or answer needs an sdp string",
            UsageError::SignalCandidate => "signal: a candidate message needs a candidate object",
            UsageError::IceState => "classifyQuality: unknown ICE connection state",
            UsageError::Quality => "qualityLabel: unknown quality",
            UsageError::PreflightTimeout => {
                "PreflightOptions.timeoutMs must be a number of ms from 1 to 60000"
            }
            UsageError::PreflightIceServers => {
                "PreflightOptions.iceServers must be an array of ICE servers"
            }
        };
        Cow::Borrowed(sentence)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::UsageError;
    use crate::core::config::OptionError;

    #[test]
    fn each_error_has_its_own_sentence() {
        let all = [
            UsageError::ManagerOptions,
            UsageError::Token,
            UsageError::Endpoint,
            UsageError::Number(OptionError {
                option: "retries",
                expected: "a whole number from 0 to 10",
            }),
            UsageError::FallbackIceServers,
            UsageError::PeerOptions,
            UsageError::Initiator,
            UsageError::Stream,
            UsageError::PeerIceServers,
            UsageError::IceTransportPolicy,
            UsageError::Handlers,
            UsageError::Handler("onSignal"),
            UsageError::Listener,
            UsageError::SignalShape,
            UsageError::SignalType,
            UsageError::SignalSdp,
            UsageError::SignalCandidate,
            UsageError::IceState,
            UsageError::Quality,
            UsageError::PreflightTimeout,
            UsageError::PreflightIceServers,
        ];
        let mut seen = Vec::new();
        for error in all {
            let message = error.message();
            assert!(!message.is_empty() && !message.ends_with('.'), "{message}");
            assert!(!seen.contains(&message), "two errors say {message}");
            seen.push(message);
        }
        assert_eq!(
            UsageError::Handler("onClose").message(),
            "PeerEventHandlers.onClose must be a function"
        );
        assert_eq!(
            UsageError::Number(OptionError {
                option: "timeoutMs",
                expected: "a finite number > 0",
            })
            .message(),
            "PeerManagerOptions.timeoutMs must be a finite number > 0"
        );
    }
}
