//! When the initiator restarts ICE, as a state machine driven by ICE states,
//! one timer and TURN credential rejections. The browser edge owns the timer
//! and performs the actions; this module only decides.
//!
//! Policy: a drop starts when the state is `failed`, or `disconnected` for
//! longer than `disconnected_grace_ms`, or when TURN rejects our credentials
//! (401). Each drop gets at most `max_attempts` restarts: the first at once,
//! then after `backoff_base_ms * 2^(n-1)` (1 s, 2 s, ...). An attempt that has
//! not reached connected/completed within `attempt_timeout_ms`, or that ends
//! in `failed`, counts as failed. When all attempts failed: give up (the peer
//! closes). Reaching connected/completed ends the drop and resets the count.

use super::quality::IceState;
use super::retry::{exponential_backoff_ms, MAX_TIMER_MS};

/// Tuning of the ICE-restart policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecoveryConfig {
    /// Restarts per drop (default 3).
    pub max_attempts: u32,
    /// How long `disconnected` may last before it counts as a drop (default 3000).
    pub disconnected_grace_ms: f64,
    /// Backoff base between attempts (default 1000).
    pub backoff_base_ms: f64,
    /// How long one restart may take to reconnect (default 10_000).
    pub attempt_timeout_ms: f64,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_attempts: 3,
            disconnected_grace_ms: 3000.0,
            backoff_base_ms: 1000.0,
            attempt_timeout_ms: 10_000.0,
        }
    }
}

/// What the edge must do. Arming a timer replaces any armed one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Nothing changes (an armed timer stays armed).
    Keep,
    /// Cancel the armed timer.
    CancelTimer,
    /// Arm the timer to fire `on_timer` after this many ms.
    ArmTimer(f64),
    /// Restart ICE now (attempt is 1-based), then arm the timer for `timeout_ms`.
    Restart {
        /// Which restart of this drop (1 = the first).
        attempt: u32,
        /// Arm the timer for this long after restarting.
        timeout_ms: f64,
    },
    /// Every attempt failed: close the peer.
    GiveUp,
    /// Follower: note how much the connection has received so far, then arm
    /// the timer for this many ms.
    Watch(f64),
    /// Follower: the wait is over; measure whether anything was received
    /// since [`Action::Watch`] and report it to [`Recovery::on_liveness`].
    CheckAlive,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Connected, or never connected and no drop seen yet.
    Stable,
    /// `disconnected`, grace timer armed.
    Grace,
    /// Waiting for the backoff timer before restart `attempt`.
    Waiting { attempt: u32 },
    /// Restart `attempt` done, attempt timer armed.
    Restarting { attempt: u32 },
    /// Follower: a drop is under way and the initiator has its budget to recover it.
    Following,
    /// Gave up or closed: every input is ignored.
    Done,
}

/// Margin a follower adds to the initiator's budget for signaling to travel.
pub const FOLLOWER_MARGIN_MS: f64 = 5_000.0;

/// The ICE-restart decisions for one peer. The initiator's machine restarts;
/// the other side's ([`Recovery::follower`]) only waits for it, then gives up.
#[derive(Clone, Debug)]
pub struct Recovery {
    config: RecoveryConfig,
    phase: Phase,
    follower: bool,
}

impl Recovery {
    /// The initiator's machine, in the stable phase.
    pub fn new(config: RecoveryConfig) -> Self {
        Recovery {
            config,
            phase: Phase::Stable,
            follower: false,
        }
    }

    /// The answering side's machine. Only the initiator restarts (the sides
    /// would glare otherwise), so on a drop this one waits as long as the
    /// initiator's whole schedule may take, plus [`FOLLOWER_MARGIN_MS`], then
    /// gives up unless the connection received anything meanwhile.
    /// A drop is `disconnected`/`failed`, or an ICE-restart offer from the
    /// initiator: after one, the browser may go on reporting the dead pair as
    /// `connected`, so the state alone cannot be trusted.
    /// connected/completed → Stable + CancelTimer; a drop while Stable →
    /// Watch(budget); the timer → CheckAlive; closed → Done.
    pub fn follower(config: RecoveryConfig) -> Self {
        Recovery {
            follower: true,
            ..Recovery::new(config)
        }
    }

    /// How long the initiator may spend on one drop: the grace, every
    /// attempt's timeout and the backoffs between them.
    pub fn initiator_budget_ms(&self) -> f64 {
        let c = &self.config;
        let backoffs: f64 = (1..c.max_attempts.min(32))
            .map(|n| backoff_ms(c.backoff_base_ms, n))
            .sum();
        let budget =
            c.disconnected_grace_ms + f64::from(c.max_attempts) * c.attempt_timeout_ms + backoffs;
        budget.clamp(0.0, MAX_TIMER_MS)
    }

    fn follow(&mut self, state: IceState) -> Action {
        match state {
            IceState::Connected | IceState::Completed => {
                self.phase = Phase::Stable;
                Action::CancelTimer
            }
            IceState::Disconnected | IceState::Failed => self.follow_drop(),
            IceState::Closed => {
                self.phase = Phase::Done;
                Action::CancelTimer
            }
            _ => Action::Keep,
        }
    }

    fn follow_drop(&mut self) -> Action {
        if !self.follower || self.phase != Phase::Stable {
            return Action::Keep;
        }
        self.phase = Phase::Following;
        Action::Watch((self.initiator_budget_ms() + FOLLOWER_MARGIN_MS).min(MAX_TIMER_MS))
    }

    /// The initiator sent an ICE-restart offer: it is recovering a drop that
    /// this side may not have seen. Follower: Stable → Watch(budget);
    /// otherwise (and for the initiator) Keep.
    pub fn on_remote_restart(&mut self) -> Action {
        self.follow_drop()
    }

    /// The answer to [`Action::CheckAlive`]. Received something since the
    /// watch began → Stable + CancelTimer (the call lives, whatever the state
    /// says); nothing → Done + GiveUp.
    pub fn on_liveness(&mut self, received: bool) -> Action {
        if self.phase != Phase::Following {
            return Action::Keep;
        }
        if received {
            self.phase = Phase::Stable;
            Action::CancelTimer
        } else {
            self.phase = Phase::Done;
            Action::GiveUp
        }
    }

    /// Every iceConnectionState change.
    /// connected/completed → Stable + CancelTimer (drop over, count reset).
    /// disconnected: Stable → Grace + ArmTimer(grace); otherwise Keep.
    /// failed: Stable/Grace → first attempt (Restart{1}); Restarting{n} → that attempt failed → next;
    ///         Waiting → Keep.
    /// closed → Done + CancelTimer.  new/checking → Keep.
    /// Once Done (gave up or closed), every state gives Keep.
    pub fn on_state(&mut self, state: IceState) -> Action {
        if self.phase == Phase::Done {
            return Action::Keep;
        }
        if self.follower {
            return self.follow(state);
        }
        match state {
            IceState::Connected | IceState::Completed => {
                self.phase = Phase::Stable;
                Action::CancelTimer
            }
            IceState::Disconnected => match self.phase {
                Phase::Stable => {
                    self.phase = Phase::Grace;
                    Action::ArmTimer(self.config.disconnected_grace_ms)
                }
                _ => Action::Keep,
            },
            IceState::Failed => match self.phase {
                Phase::Stable | Phase::Grace => self.first_attempt(),
                Phase::Restarting { attempt } => self.next_attempt(attempt),
                Phase::Waiting { .. } | Phase::Following | Phase::Done => Action::Keep,
            },
            IceState::Closed => {
                self.phase = Phase::Done;
                Action::CancelTimer
            }
            IceState::New | IceState::Checking => Action::Keep,
        }
    }

    /// The armed timer fired. Grace → first attempt; Waiting{n} → Restart{n};
    /// Restarting{n} → attempt n timed out → next; Stable/Done → Keep.
    pub fn on_timer(&mut self) -> Action {
        match self.phase {
            Phase::Grace => self.first_attempt(),
            Phase::Waiting { attempt } => self.restart(attempt),
            Phase::Restarting { attempt } => self.next_attempt(attempt),
            Phase::Following => Action::CheckAlive,
            Phase::Stable | Phase::Done => Action::Keep,
        }
    }

    /// TURN answered 401 to our credentials (the edge refetches servers before restarting).
    /// Stable/Grace → first attempt at once; otherwise Keep (one drop, one schedule).
    /// A follower never restarts: Keep.
    pub fn on_credentials_rejected(&mut self) -> Action {
        match self.phase {
            Phase::Stable | Phase::Grace if !self.follower => self.first_attempt(),
            _ => Action::Keep,
        }
    }

    /// A drop starts: restart 1 at once, or give up when no attempt is allowed.
    fn first_attempt(&mut self) -> Action {
        if self.config.max_attempts == 0 {
            self.phase = Phase::Done;
            return Action::GiveUp;
        }
        self.restart(1)
    }

    fn restart(&mut self, attempt: u32) -> Action {
        self.phase = Phase::Restarting { attempt };
        Action::Restart {
            attempt,
            timeout_ms: self.config.attempt_timeout_ms,
        }
    }

    /// After attempt n failed: n < max → Waiting{n+1} + ArmTimer(backoff_base * 2^(n-1));
    /// else Done + GiveUp. The delay is capped at 2^31 - 1 ms (what `setTimeout` honours).
    fn next_attempt(&mut self, failed_attempt: u32) -> Action {
        if failed_attempt >= self.config.max_attempts {
            self.phase = Phase::Done;
            return Action::GiveUp;
        }
        let delay = backoff_ms(self.config.backoff_base_ms, failed_attempt);
        self.phase = Phase::Waiting {
            attempt: failed_attempt + 1,
        };
        Action::ArmTimer(delay)
    }

    /// True while a drop is being handled (Grace, Waiting or Restarting).
    pub fn is_recovering(&self) -> bool {
        matches!(
            self.phase,
            Phase::Grace | Phase::Waiting { .. } | Phase::Restarting { .. } | Phase::Following
        )
    }
}

/// The wait after failed attempt n (1-based): base * 2^(n-1), 0 for a base
/// that is not positive, capped at what `setTimeout` honours.
fn backoff_ms(base_ms: f64, failed_attempt: u32) -> f64 {
    exponential_backoff_ms(base_ms, failed_attempt.saturating_sub(1), MAX_TIMER_MS)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{Action, Recovery, RecoveryConfig};
    use crate::core::quality::IceState::{self, *};

    fn machine() -> Recovery {
        Recovery::new(RecoveryConfig::default())
    }

    fn restart(attempt: u32) -> Action {
        Action::Restart {
            attempt,
            timeout_ms: 10_000.0,
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(
            RecoveryConfig::default(),
            RecoveryConfig {
                max_attempts: 3,
                disconnected_grace_ms: 3000.0,
                backoff_base_ms: 1000.0,
                attempt_timeout_ms: 10_000.0
            }
        );
        let r = machine();
        assert!(!r.is_recovering());
    }

    #[test]
    fn disconnected_grace_then_three_timed_out_restarts_then_give_up() {
        let mut r = machine();
        assert_eq!(r.on_state(New), Action::Keep);
        assert_eq!(r.on_state(Checking), Action::Keep);
        assert_eq!(r.on_state(Connected), Action::CancelTimer);
        assert!(!r.is_recovering());
        assert_eq!(r.on_state(Disconnected), Action::ArmTimer(3000.0));
        assert!(r.is_recovering());
        // Grace over: restart 1 at once.
        assert_eq!(r.on_timer(), restart(1));
        assert!(r.is_recovering());
        assert_eq!(r.on_state(Checking), Action::Keep);
        // Attempt 1 times out: wait 1 s.
        assert_eq!(r.on_timer(), Action::ArmTimer(1000.0));
        assert!(r.is_recovering());
        assert_eq!(r.on_timer(), restart(2));
        // Attempt 2 times out: wait 2 s.
        assert_eq!(r.on_timer(), Action::ArmTimer(2000.0));
        assert_eq!(r.on_timer(), restart(3));
        // Attempt 3 times out: give up.
        assert_eq!(r.on_timer(), Action::GiveUp);
        assert!(!r.is_recovering());
        // Done: everything is ignored.
        for s in IceState::ALL {
            assert_eq!(r.on_state(s), Action::Keep, "{s:?}");
        }
        assert_eq!(r.on_timer(), Action::Keep);
        assert_eq!(r.on_credentials_rejected(), Action::Keep);
    }

    #[test]
    fn failed_mid_restart_counts_as_that_attempt_failing() {
        let mut r = machine();
        r.on_state(Connected);
        assert_eq!(r.on_state(Failed), restart(1));
        assert_eq!(r.on_state(Checking), Action::Keep);
        assert_eq!(r.on_state(Failed), Action::ArmTimer(1000.0));
        // Still failed while waiting: nothing new.
        assert_eq!(r.on_state(Failed), Action::Keep);
        assert_eq!(r.on_state(Disconnected), Action::Keep);
        assert_eq!(r.on_timer(), restart(2));
        assert_eq!(r.on_state(Failed), Action::ArmTimer(2000.0));
        assert_eq!(r.on_timer(), restart(3));
        assert_eq!(r.on_state(Failed), Action::GiveUp);
        assert_eq!(r.on_timer(), Action::Keep);
    }

    #[test]
    fn failed_during_grace_restarts_at_once() {
        let mut r = machine();
        r.on_state(Connected);
        assert_eq!(r.on_state(Disconnected), Action::ArmTimer(3000.0));
        assert_eq!(r.on_state(Failed), restart(1));
    }

    #[test]
    fn disconnected_while_restarting_keeps_the_attempt_timer() {
        let mut r = machine();
        assert_eq!(r.on_state(Failed), restart(1));
        assert_eq!(r.on_state(Disconnected), Action::Keep);
        assert_eq!(r.on_state(Disconnected), Action::Keep);
        assert_eq!(r.on_timer(), Action::ArmTimer(1000.0));
    }

    #[test]
    fn reconnecting_during_grace_cancels() {
        let mut r = machine();
        r.on_state(Connected);
        assert_eq!(r.on_state(Disconnected), Action::ArmTimer(3000.0));
        assert_eq!(r.on_state(Disconnected), Action::Keep);
        assert_eq!(r.on_state(Connected), Action::CancelTimer);
        assert!(!r.is_recovering());
        // A timer that fires late anyway is ignored.
        assert_eq!(r.on_timer(), Action::Keep);
    }

    #[test]
    fn reconnect_resets_the_count() {
        let mut r = machine();
        r.on_state(Connected);
        assert_eq!(r.on_state(Failed), restart(1));
        assert_eq!(r.on_timer(), Action::ArmTimer(1000.0));
        assert_eq!(r.on_timer(), restart(2));
        // Attempt 2 works.
        assert_eq!(r.on_state(Completed), Action::CancelTimer);
        assert!(!r.is_recovering());
        // The next drop starts over at attempt 1, with three attempts again.
        assert_eq!(r.on_state(Disconnected), Action::ArmTimer(3000.0));
        assert_eq!(r.on_timer(), restart(1));
        assert_eq!(r.on_timer(), Action::ArmTimer(1000.0));
        assert_eq!(r.on_timer(), restart(2));
        assert_eq!(r.on_timer(), Action::ArmTimer(2000.0));
        assert_eq!(r.on_timer(), restart(3));
        assert_eq!(r.on_timer(), Action::GiveUp);
    }

    #[test]
    fn reconnecting_while_waiting_for_backoff_ends_the_drop() {
        let mut r = machine();
        assert_eq!(r.on_state(Failed), restart(1));
        assert_eq!(r.on_timer(), Action::ArmTimer(1000.0));
        assert_eq!(r.on_state(Connected), Action::CancelTimer);
        assert_eq!(r.on_timer(), Action::Keep);
        assert!(!r.is_recovering());
    }

    #[test]
    fn credentials_rejected() {
        // While connected: restart at once.
        let mut r = machine();
        r.on_state(Connected);
        assert_eq!(r.on_credentials_rejected(), restart(1));
        // Already handling the drop: one schedule only.
        assert_eq!(r.on_credentials_rejected(), Action::Keep);
        assert_eq!(r.on_timer(), Action::ArmTimer(1000.0));
        assert_eq!(r.on_credentials_rejected(), Action::Keep);
        // During grace: restart at once.
        let mut r = machine();
        r.on_state(Connected);
        r.on_state(Disconnected);
        assert_eq!(r.on_credentials_rejected(), restart(1));
    }

    #[test]
    fn closed_is_done() {
        for setup in [
            &[][..],
            &[Connected][..],
            &[Connected, Disconnected][..],
            &[Failed][..],
        ] {
            let mut r = machine();
            for s in setup {
                r.on_state(*s);
            }
            assert_eq!(r.on_state(Closed), Action::CancelTimer, "{setup:?}");
            assert!(!r.is_recovering());
            assert_eq!(r.on_state(Failed), Action::Keep);
            assert_eq!(r.on_state(Disconnected), Action::Keep);
            assert_eq!(r.on_state(Connected), Action::Keep);
            assert_eq!(r.on_timer(), Action::Keep);
            assert_eq!(r.on_credentials_rejected(), Action::Keep);
            assert_eq!(r.on_state(Closed), Action::Keep);
        }
    }

    #[test]
    fn zero_max_attempts_gives_up_at_once() {
        let cfg = RecoveryConfig {
            max_attempts: 0,
            ..RecoveryConfig::default()
        };
        let mut r = Recovery::new(cfg);
        assert_eq!(r.on_state(Failed), Action::GiveUp);
        assert_eq!(r.on_timer(), Action::Keep);

        let mut r = Recovery::new(cfg);
        r.on_state(Connected);
        assert_eq!(r.on_state(Disconnected), Action::ArmTimer(3000.0));
        assert_eq!(r.on_timer(), Action::GiveUp);

        let mut r = Recovery::new(cfg);
        assert_eq!(r.on_credentials_rejected(), Action::GiveUp);
    }

    #[test]
    fn one_attempt_and_custom_timings() {
        let cfg = RecoveryConfig {
            max_attempts: 1,
            disconnected_grace_ms: 0.0,
            backoff_base_ms: 250.0,
            attempt_timeout_ms: 4000.0,
        };
        let mut r = Recovery::new(cfg);
        assert_eq!(r.on_state(Disconnected), Action::ArmTimer(0.0));
        assert_eq!(
            r.on_timer(),
            Action::Restart {
                attempt: 1,
                timeout_ms: 4000.0
            }
        );
        assert_eq!(r.on_timer(), Action::GiveUp);
    }

    #[test]
    fn backoff_doubles_and_is_capped_for_absurd_configs() {
        let cfg = RecoveryConfig {
            max_attempts: u32::MAX,
            backoff_base_ms: 500.0,
            ..RecoveryConfig::default()
        };
        let mut r = Recovery::new(cfg);
        assert_eq!(
            r.on_state(Failed),
            Action::Restart {
                attempt: 1,
                timeout_ms: 10_000.0
            }
        );
        let mut delays = Vec::new();
        for attempt in 2..=40 {
            match r.on_timer() {
                Action::ArmTimer(d) => delays.push(d),
                other => panic!("{other:?}"),
            }
            assert_eq!(
                r.on_timer(),
                Action::Restart {
                    attempt,
                    timeout_ms: 10_000.0
                }
            );
        }
        assert_eq!(&delays[..4], &[500.0, 1000.0, 2000.0, 4000.0]);
        assert!(delays
            .iter()
            .all(|d| d.is_finite() && *d <= 2_147_483_647.0));
        assert_eq!(delays.last(), Some(&2_147_483_647.0));

        for base in [f64::NAN, -1.0, 0.0] {
            let mut r = Recovery::new(RecoveryConfig {
                backoff_base_ms: base,
                ..RecoveryConfig::default()
            });
            r.on_state(Failed);
            assert_eq!(r.on_timer(), Action::ArmTimer(0.0), "{base}");
        }
    }

    #[test]
    fn states_before_first_connection() {
        let mut r = machine();
        for s in [New, Checking, New] {
            assert_eq!(r.on_state(s), Action::Keep);
        }
        assert_eq!(r.on_timer(), Action::Keep);
        // Never connected, ICE fails: that is a drop too.
        assert_eq!(r.on_state(IceState::Failed), restart(1));
    }

    #[test]
    fn initiator_budget_is_the_whole_schedule() {
        // Default: 3 s grace + 3 x 10 s attempts + 1 s and 2 s backoffs.
        assert_eq!(machine().initiator_budget_ms(), 36_000.0);
        let none = Recovery::new(RecoveryConfig {
            max_attempts: 0,
            ..RecoveryConfig::default()
        });
        assert_eq!(none.initiator_budget_ms(), 3_000.0);
    }

    #[test]
    fn follower_waits_for_the_initiator_then_checks_liveness() {
        let mut f = Recovery::follower(RecoveryConfig::default());
        let watch = Action::Watch(36_000.0 + super::FOLLOWER_MARGIN_MS);
        assert_eq!(f.on_state(Checking), Action::Keep);
        assert_eq!(f.on_state(Connected), Action::CancelTimer);
        // A drop: one watch for the initiator's whole budget, never a restart.
        assert_eq!(f.on_state(Disconnected), watch);
        assert!(f.is_recovering());
        assert_eq!(f.on_state(Failed), Action::Keep);
        assert_eq!(f.on_remote_restart(), Action::Keep, "one drop, one watch");
        assert_eq!(f.on_credentials_rejected(), Action::Keep);
        // The initiator's restart worked: the drop is over.
        assert_eq!(f.on_state(Connected), Action::CancelTimer);
        assert!(!f.is_recovering());
        // A restart offer while the state still says connected is a drop too.
        assert_eq!(f.on_remote_restart(), watch);
        // At the end of the wait the state is not trusted: liveness decides.
        assert_eq!(f.on_timer(), Action::CheckAlive);
        assert_eq!(f.on_liveness(true), Action::CancelTimer);
        assert!(!f.is_recovering());
        assert_eq!(f.on_liveness(false), Action::Keep, "no check outstanding");
        // Next drop, and this time nothing comes back.
        assert_eq!(f.on_state(Failed), watch);
        assert_eq!(f.on_timer(), Action::CheckAlive);
        assert_eq!(f.on_liveness(false), Action::GiveUp);
        assert_eq!(f.on_state(Connected), Action::Keep, "done after giving up");
        assert_eq!(f.on_timer(), Action::Keep);
    }

    #[test]
    fn the_initiator_ignores_follower_inputs() {
        let mut r = machine();
        assert_eq!(r.on_remote_restart(), Action::Keep);
        assert_eq!(r.on_liveness(false), Action::Keep);
    }

    #[test]
    fn follower_ignores_the_timer_when_stable_and_stops_when_closed() {
        let mut f = Recovery::follower(RecoveryConfig::default());
        assert_eq!(f.on_timer(), Action::Keep);
        assert_eq!(f.on_credentials_rejected(), Action::Keep);
        assert_eq!(f.on_state(Closed), Action::CancelTimer);
        assert_eq!(f.on_state(Failed), Action::Keep);
    }
}
