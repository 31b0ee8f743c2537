//! Whether a call's path is alive, from successive stats samples: the
//! engine's evidence for restarting before ICE says so, and for not
//! restarting a call that merely went quiet.

use super::stats::{received_since, PeerStats};

/// What arrives, from successive stats samples: media (RTP), and anything
/// at all on any candidate pair (RTCP and consent checks go on when the
/// other side stops sending media, e.g. to mute, and stop with the path).
#[derive(Debug, Default)]
pub(crate) struct Liveness {
    pub(crate) packets: f64,
    pub(crate) received: Vec<(u64, f64)>,
    pub(crate) media_seen: bool,
    /// When something was last seen to arrive (ms).
    pub(crate) progress_at: f64,
    /// A stall was acted on and nothing has come since.
    pub(crate) silence_reported: bool,
    /// When the last sample was noted (ms).
    pub(crate) sampled_at: Option<f64>,
}

impl Liveness {
    /// Notes a sample; true when anything arrived since the last one.
    pub(crate) fn sample(&mut self, stats: &PeerStats, now: f64) -> bool {
        let packets = stats.packets_received.unwrap_or(0.0);
        let media = packets > self.packets;
        self.packets = self.packets.max(packets);
        self.media_seen |= media;
        let path = received_since(&self.received, &stats.received_by_pair);
        self.received.clone_from(&stats.received_by_pair);
        let advanced = media || path;
        self.sampled_at = Some(now);
        if advanced {
            self.progress_at = now;
            self.silence_reported = false;
        }
        advanced
    }
}
