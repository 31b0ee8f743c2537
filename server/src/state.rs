//! What every request handler shares.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::Jwt;
use crate::config::DevConfig;
use crate::providers::Provider;
use crate::signal::Signaling;

/// Shared application state.
pub struct AppState {
    /// JWT keys.
    pub jwt: Jwt,
    /// The ICE servers provider.
    pub provider: Provider,
    /// Dev settings, when `--dev`.
    pub dev: Option<DevConfig>,
    /// The signaling rooms.
    pub signal: Signaling,
    outage: AtomicBool,
}

impl AppState {
    /// State with no simulated outage.
    pub fn new(jwt: Jwt, provider: Provider, dev: Option<DevConfig>, signal: Signaling) -> Self {
        Self {
            jwt,
            provider,
            dev,
            signal,
            outage: AtomicBool::new(false),
        }
    }

    /// Whether the dev "endpoint down" switch is on.
    pub fn outage(&self) -> bool {
        self.outage.load(Ordering::Relaxed)
    }

    /// Turns the simulated outage on or off.
    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::Relaxed);
    }
}
