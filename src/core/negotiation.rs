//! Offer/answer as the perfect-negotiation pattern (W3C webrtc-pc §10.7):
//! either side may offer, one side is polite. When offers cross, the
//! impolite side ignores the remote offer and the polite side rolls its own
//! back (implicitly, in `setRemoteDescription`) and answers. Roles come from
//! `initiator`: the initiator is impolite, so an initial collision always
//! resolves towards the offer the app's call flow expects.
//!
//! The browser runs offer/answer operations one at a time in its
//! "operations chain", and settles their promises in the order they were
//! queued. This module mirrors that chain as a FIFO of [`Pending`]
//! operations, so each result can be matched to what it was for.

use super::sdp::is_ice_restart;
use std::collections::VecDeque;

/// `RTCSdpType` of an offer or an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdpKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

impl SdpKind {
    /// "offer" | "answer".
    pub fn as_str(self) -> &'static str {
        match self {
            SdpKind::Offer => "offer",
            SdpKind::Answer => "answer",
        }
    }

    /// From "offer" | "answer"; anything else (including "pranswer",
    /// "rollback") is `None`: the app never sends those.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "offer" => Some(SdpKind::Offer),
            "answer" => Some(SdpKind::Answer),
            _ => None,
        }
    }
}

/// A session description, as carried by `SignalData`.
#[derive(Clone, Debug, PartialEq)]
pub struct Description {
    /// Offer or answer.
    pub kind: SdpKind,
    /// The SDP text.
    pub sdp: String,
}

/// One operation for the connection's operations chain.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<P> {
    /// `setLocalDescription()` without arguments: the browser creates the
    /// offer (stable) or the answer (have-remote-offer) itself.
    SetLocal,
    /// `setRemoteDescription(description)` (rolling back a local offer if
    /// one is pending, as browsers do implicitly).
    SetRemote(Description),
    /// `addIceCandidate(candidate)`.
    AddCandidate(P),
}

/// Who hears about an operation's failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// The app's `signal()` call: its promise is this operation's.
    Caller,
    /// `onError`: the operation was the peer's own idea.
    Event,
    /// Nobody: a candidate of an offer that was ignored in a collision.
    Quiet,
}

/// An operation handed to the browser whose result has not come back yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    kind: PendingKind,
    /// Who hears about a failure.
    pub report: Report,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PendingKind {
    /// `SetLocal` in stable: makes an offer.
    SetLocal(SdpKind),
    SetRemote(SdpKind),
    AddCandidate,
}

/// What an operation's result means for the peer.
#[derive(Clone, Debug, PartialEq)]
pub enum Settled {
    /// Nothing further to do.
    Nothing,
    /// A local description was set: send it to the other side.
    Send(Description),
    /// A remote offer was set: answer it with [`Op::SetLocal`].
    Answer,
}

/// The perfect-negotiation state of one peer.
#[derive(Debug)]
pub struct Negotiation<P> {
    polite: bool,
    making_offer: bool,
    ignore_offer: bool,
    setting_remote_answer: bool,
    /// A remote description went into the chain: candidates can follow it.
    remote_described: bool,
    /// An offer/answer exchange completed once (a polite side waits for it
    /// before offering, so that the first offer is the initiator's).
    negotiated: bool,
    remote_sdp: Option<String>,
    /// Our offer, sent and not yet answered or rolled back.
    unanswered: Option<Description>,
    /// The last remote offer we answered, and our answer, for an offer
    /// that comes again.
    answered: Option<(String, Description)>,
    /// Remote candidates that arrived before any remote description.
    queued: Vec<P>,
    chain: VecDeque<Pending>,
}

/// What to do with a remote description.
#[derive(Debug, PartialEq)]
pub enum RemoteStep<P> {
    /// Impolite side, offers crossed: drop the remote offer. Also a
    /// description that is already in place (sent again after an outage).
    Ignore,
    /// The offer we answered came again: its sender missed our answer.
    SendAgain(Description),
    /// Apply it with these operations (the remote description first).
    /// `restart`: it is an ICE-restart offer.
    Apply {
        /// Operations for the chain, in order.
        ops: Vec<(Op<P>, Report)>,
        /// True when it restarts ICE (new ice-ufrag/ice-pwd).
        restart: bool,
    },
}

impl<P> Negotiation<P> {
    /// `polite` is `!initiator`.
    pub fn new(polite: bool) -> Self {
        Negotiation {
            polite,
            making_offer: false,
            ignore_offer: false,
            setting_remote_answer: false,
            remote_described: false,
            negotiated: false,
            remote_sdp: None,
            unanswered: None,
            answered: None,
            queued: Vec::new(),
            chain: VecDeque::new(),
        }
    }

    /// `negotiationneeded`: the offer to make, or `None` when this side
    /// must not offer now (one is being made; or the polite side before the
    /// first exchange: the initiator's offer will cover its tracks, and the
    /// browser fires the event again once stable if it does not).
    pub fn on_negotiation_needed(&mut self) -> Option<(Op<P>, Report)> {
        if self.making_offer || (self.polite && !self.negotiated) {
            return None;
        }
        self.making_offer = true;
        Some(self.push(
            Op::SetLocal,
            PendingKind::SetLocal(SdpKind::Offer),
            Report::Event,
        ))
    }

    /// A description from the other side. `stable`: the connection's
    /// signaling state is "stable" right now.
    pub fn on_remote_description(
        &mut self,
        description: Description,
        stable: bool,
    ) -> RemoteStep<P> {
        let offer = description.kind == SdpKind::Offer;
        // An answer to no offer of ours in flight, or one already in place,
        // answers nothing: it was sent again for an exchange settled here.
        let in_place = self.remote_sdp.as_deref() == Some(description.sdp.as_str());
        if !offer && (self.unanswered.is_none() || in_place) {
            return RemoteStep::Ignore;
        }
        // An offer sent again (see `unanswered_offer`) is already in place
        // here: a new one always differs, if only in its session version.
        // Its sender has not had our answer yet (lost, or on its way): that
        // answer goes again, whatever happened here since (the sender
        // ignores a repeat it already has).
        if offer && in_place {
            return match &self.answered {
                Some((answered, answer)) if *answered == description.sdp => {
                    RemoteStep::SendAgain(answer.clone())
                }
                _ => RemoteStep::Ignore,
            };
        }
        let ready_for_offer = !self.making_offer && (stable || self.setting_remote_answer);
        let collision = offer && !ready_for_offer;
        self.ignore_offer = !self.polite && collision;
        if self.ignore_offer {
            return RemoteStep::Ignore;
        }
        self.setting_remote_answer = !offer;
        // A remote offer rolls ours back; a remote answer answers it.
        self.unanswered = None;
        let restart = offer
            && self
                .remote_sdp
                .as_deref()
                .is_some_and(|previous| is_ice_restart(previous, &description.sdp));
        self.remote_sdp = Some(description.sdp.clone());
        self.remote_described = true;
        let kind = PendingKind::SetRemote(description.kind);
        let mut ops = vec![self.push(Op::SetRemote(description), kind, Report::Caller)];
        for candidate in std::mem::take(&mut self.queued) {
            ops.push(self.push(
                Op::AddCandidate(candidate),
                PendingKind::AddCandidate,
                Report::Event,
            ));
        }
        RemoteStep::Apply { ops, restart }
    }

    /// A candidate from the other side: the operation to add it, or `None`
    /// when it waits for the remote description.
    pub fn on_remote_candidate(&mut self, candidate: P) -> Option<(Op<P>, Report)> {
        if !self.remote_described {
            // (A candidate of an offer we ignored would never fit.)
            if !self.ignore_offer {
                self.queued.push(candidate);
            }
            return None;
        }
        // Candidates of an offer we ignored fail to add; that is expected.
        let report = if self.ignore_offer {
            Report::Quiet
        } else {
            Report::Caller
        };
        Some(self.push(
            Op::AddCandidate(candidate),
            PendingKind::AddCandidate,
            report,
        ))
    }

    /// The oldest operation in the chain settled; `local` is the
    /// connection's local description after it (on success).
    /// Returns what it means, and who hears about a failure.
    pub fn on_settled(&mut self, ok: bool, local: Option<Description>) -> (Settled, Report) {
        let Some(pending) = self.chain.pop_front() else {
            return (Settled::Nothing, Report::Quiet);
        };
        let settled = match pending.kind {
            PendingKind::SetLocal(expected) => {
                if expected == SdpKind::Offer {
                    self.making_offer = false;
                } else if ok {
                    self.negotiated = true;
                }
                // Only what was asked for goes out: an offer rolled back
                // before its result came is not sent.
                // An offer rolled back before its result came is not sent.
                // An answer that came out an offer (the state changed under
                // it) is a real offer now, and goes out as one.
                match local {
                    Some(description)
                        if ok && (expected == SdpKind::Answer || description.kind == expected) =>
                    {
                        match description.kind {
                            SdpKind::Offer => {
                                self.unanswered = Some(description.clone());
                            }
                            SdpKind::Answer => {
                                let offer = self.remote_sdp.clone().unwrap_or_default();
                                self.answered = Some((offer, description.clone()));
                            }
                        }
                        Settled::Send(description)
                    }
                    _ => Settled::Nothing,
                }
            }
            PendingKind::SetRemote(kind) => {
                self.setting_remote_answer = false;
                match kind {
                    SdpKind::Offer if ok => {
                        // It rolled back any offer of ours, even one whose
                        // own result came in after this offer arrived.
                        self.unanswered = None;
                        Settled::Answer
                    }
                    SdpKind::Answer if ok => {
                        self.negotiated = true;
                        Settled::Nothing
                    }
                    _ => Settled::Nothing,
                }
            }
            PendingKind::AddCandidate => Settled::Nothing,
        };
        (settled, pending.report)
    }

    /// The answer to a remote offer, after [`Settled::Answer`].
    pub fn answer(&mut self) -> (Op<P>, Report) {
        self.push(
            Op::SetLocal,
            PendingKind::SetLocal(SdpKind::Answer),
            Report::Event,
        )
    }

    /// Our offer that has gone out and has not been answered (or rolled
    /// back) yet: after a signaling outage it may have been lost, and
    /// sending it again is how the exchange resumes.
    pub fn unanswered_offer(&self) -> Option<&Description> {
        self.unanswered.as_ref()
    }

    /// Operations handed out and not settled yet.
    pub fn in_flight(&self) -> usize {
        self.chain.len()
    }

    /// An offer of ours is being made (set, not yet answered or rolled back
    /// as far as this side knows).
    pub fn is_making_offer(&self) -> bool {
        self.making_offer
    }

    /// Drops queued candidates (the peer closed).
    pub fn clear(&mut self) {
        self.queued.clear();
    }

    /// Puts `op` in the chain (its report goes with it) and hands it back to go out.
    fn push(&mut self, op: Op<P>, kind: PendingKind, report: Report) -> (Op<P>, Report) {
        self.chain.push_back(Pending { kind, report });
        (op, report)
    }
}
