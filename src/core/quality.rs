//! ICE connection states and the call quality shown for them.

/// `RTCPeerConnection.iceConnectionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IceState {
    /// "new"
    New,
    /// "checking"
    Checking,
    /// "connected"
    Connected,
    /// "completed"
    Completed,
    /// "disconnected"
    Disconnected,
    /// "failed"
    Failed,
    /// "closed"
    Closed,
}

impl IceState {
    /// Every state, in the order the contract lists them.
    pub const ALL: [IceState; 7] = [
        IceState::New,
        IceState::Checking,
        IceState::Connected,
        IceState::Completed,
        IceState::Disconnected,
        IceState::Failed,
        IceState::Closed,
    ];

    /// Exact lower-case names; None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        // A search of the names: one comparison in a loop, where a match
        // inlines one per name.
        for state in &Self::ALL {
            if state.as_str() == s {
                return Some(*state);
            }
        }
        None
    }

    /// The lower-case name, as the browser reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            IceState::New => "new",
            IceState::Checking => "checking",
            IceState::Connected => "connected",
            IceState::Completed => "completed",
            IceState::Disconnected => "disconnected",
            IceState::Failed => "failed",
            IceState::Closed => "closed",
        }
    }

    /// connected | completed.
    pub fn is_connected(self) -> bool {
        matches!(self, IceState::Connected | IceState::Completed)
    }
}

/// Contract `Quality`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    /// "good": connected or completed.
    Good,
    /// "connecting": new or checking.
    Connecting,
    /// "poor": disconnected.
    Poor,
    /// "failed": failed or closed.
    Failed,
}

impl Quality {
    /// connected/completed → Good; checking/new → Connecting; disconnected → Poor; failed/closed → Failed.
    pub fn of(state: IceState) -> Self {
        match state {
            IceState::Connected | IceState::Completed => Quality::Good,
            IceState::New | IceState::Checking => Quality::Connecting,
            IceState::Disconnected => Quality::Poor,
            IceState::Failed | IceState::Closed => Quality::Failed,
        }
    }

    /// Exact lower-case names ("good", ...); None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        // As IceState::parse: one comparison in a loop.
        for quality in &[
            Quality::Good,
            Quality::Connecting,
            Quality::Poor,
            Quality::Failed,
        ] {
            if quality.as_str() == s {
                return Some(*quality);
            }
        }
        None
    }

    /// "good" | "connecting" | "poor" | "failed".
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Good => "good",
            Quality::Connecting => "connecting",
            Quality::Poor => "poor",
            Quality::Failed => "failed",
        }
    }

    /// "Good" | "Connecting..." | "Poor" | "Failed".
    pub fn label(self) -> &'static str {
        match self {
            Quality::Good => "Good",
            Quality::Connecting => "Connecting...",
            Quality::Poor => "Poor",
            Quality::Failed => "Failed",
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{IceState, Quality};

    const ALL: [IceState; 7] = IceState::ALL;

    #[test]
    fn mapping_and_labels_for_all_seven_states() {
        let table = [
            (
                "new",
                Quality::Connecting,
                "connecting",
                "Connecting...",
                false,
            ),
            (
                "checking",
                Quality::Connecting,
                "connecting",
                "Connecting...",
                false,
            ),
            ("connected", Quality::Good, "good", "Good", true),
            ("completed", Quality::Good, "good", "Good", true),
            ("disconnected", Quality::Poor, "poor", "Poor", false),
            ("failed", Quality::Failed, "failed", "Failed", false),
            ("closed", Quality::Failed, "failed", "Failed", false),
        ];
        for (name, quality, qname, label, connected) in table {
            let state = IceState::parse(name).unwrap();
            assert_eq!(state.as_str(), name);
            assert_eq!(state.is_connected(), connected, "{name}");
            let q = Quality::of(state);
            assert_eq!(q, quality, "{name}");
            assert_eq!(q.as_str(), qname);
            assert_eq!(q.label(), label);
            assert_eq!(Quality::parse(qname), Some(q));
        }
        assert_eq!(ALL.len(), table.len());
        for state in ALL {
            assert_eq!(IceState::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for bad in [
            "",
            "Connected",
            "CLOSED",
            " new",
            "new ",
            "open",
            "disconnect",
        ] {
            assert_eq!(IceState::parse(bad), None, "{bad:?}");
        }
        for bad in ["", "Good", "bad", "Connecting...", "fail"] {
            assert_eq!(Quality::parse(bad), None, "{bad:?}");
        }
    }
}
