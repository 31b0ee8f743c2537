//! When a peer restarts ICE, as a state machine driven by ICE states, one
//! timer, TURN credential rejections, liveness and network changes. Either
//! side runs it: perfect negotiation (see [`super::negotiation`]) settles two
//! restarts that cross. The engine owns the timer and performs the actions;
//! this module only decides.
//!
//! Policy: a drop starts when the state is `failed`, or `disconnected` for
//! longer than `disconnected_grace_ms`, or at once when there is evidence the
//! path is gone (media stopped arriving while ICE still says connected, or
//! the device's network changed), or when TURN rejects our credentials (401).
//! Each drop gets at most `max_attempts` restarts: the first at once, then
//! after `backoff_base_ms * 2^(n-1)` (1 s, 2 s, ...). An attempt that has not
//! reached connected/completed within `attempt_timeout_ms` while nothing
//! arrives, or that ends in `failed`, counts as failed. When all attempts
//! failed: give up (the peer closes). Reaching connected/completed ends the
//! drop and resets the count. A restart offer from the other side counts as
//! an attempt under way here, so the two sides do not restart one drop twice.

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

impl RecoveryConfig {
    /// The defaults, as a constant (`core::config` builds its table of
    /// option defaults from it).
    pub const DEFAULT: RecoveryConfig = RecoveryConfig {
        max_attempts: 3,
        disconnected_grace_ms: 3000.0,
        backoff_base_ms: 1000.0,
        attempt_timeout_ms: 10_000.0,
    };
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What the engine must do. Arming the timer replaces any armed one.
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
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Connected, or never connected and no drop seen yet.
    Stable,
    /// `disconnected`, grace timer armed.
    Grace,
    /// Waiting for the backoff timer before restart `attempt`.
    Waiting { attempt: u32 },
    /// Restart `attempt` under way (ours or the other side's), its timer armed.
    Restarting { attempt: u32 },
    /// Gave up or closed: every input is ignored.
    Done,
}

/// The ICE-restart decisions for one peer.
#[derive(Clone, Debug)]
pub struct Recovery {
    config: RecoveryConfig,
    phase: Phase,
}

impl Recovery {
    /// A machine in the stable phase.
    pub fn new(config: RecoveryConfig) -> Self {
        Recovery {
            config,
            phase: Phase::Stable,
        }
    }

    /// Every iceConnectionState change. `urgent`: there is evidence the path
    /// is gone (see the module comment), so `disconnected` needs no grace.
    /// connected/completed → Stable + CancelTimer (drop over, count reset).
    /// disconnected: Stable → Grace + ArmTimer(grace), or the first attempt when urgent;
    ///               Grace and urgent → the first attempt; otherwise Keep.
    /// failed: Stable/Grace → first attempt; Restarting{n} → that attempt failed → next;
    ///         Waiting → Keep.
    /// closed → Done + CancelTimer.  new/checking → Keep.
    /// Once Done (gave up or closed), every input gives Keep.
    pub fn on_state(&mut self, state: IceState, urgent: bool) -> Action {
        match (state, self.phase) {
            (_, Phase::Done) => Action::Keep,
            (IceState::Connected | IceState::Completed, _) => {
                self.phase = Phase::Stable;
                Action::CancelTimer
            }
            (IceState::Disconnected, Phase::Stable | Phase::Grace) if urgent => {
                self.first_attempt()
            }
            (IceState::Disconnected, Phase::Stable) => {
                self.phase = Phase::Grace;
                Action::ArmTimer(self.config.disconnected_grace_ms)
            }
            (IceState::Failed, Phase::Stable | Phase::Grace) => self.first_attempt(),
            (IceState::Failed, Phase::Restarting { attempt }) => self.next_attempt(attempt),
            (IceState::Closed, _) => {
                self.phase = Phase::Done;
                Action::CancelTimer
            }
            _ => Action::Keep,
        }
    }

    /// The armed timer fired. `alive`: media arrived since the last sample.
    /// Grace → first attempt; Waiting{n} → Restart{n};
    /// Restarting{n} → alive: the call lives whatever the state says → Stable + CancelTimer;
    ///                 otherwise attempt n timed out → next;
    /// Stable/Done → Keep.
    pub fn on_timer(&mut self, alive: bool) -> Action {
        match self.phase {
            Phase::Grace => self.first_attempt(),
            Phase::Waiting { attempt } => self.restart(attempt),
            Phase::Restarting { .. } if alive => {
                self.phase = Phase::Stable;
                Action::CancelTimer
            }
            Phase::Restarting { attempt } => self.next_attempt(attempt),
            Phase::Stable | Phase::Done => Action::Keep,
        }
    }

    /// Media arrives on a connected path while an attempt is under way: the
    /// call lives, so the drop is over (Restarting → Stable + CancelTimer).
    /// A restart can succeed without any ICE state change (the browser
    /// keeps saying `connected` while it moves to the new path); without
    /// this, the attempt would stay under way until its timer and swallow
    /// the next drop's evidence. Otherwise Keep.
    pub fn on_alive(&mut self) -> Action {
        match self.phase {
            Phase::Restarting { .. } => {
                self.phase = Phase::Stable;
                Action::CancelTimer
            }
            _ => Action::Keep,
        }
    }

    /// Evidence the path is gone while ICE may not say so yet (media
    /// stopped arriving, the device's network changed while nothing
    /// arrives, TURN refused our credentials): Stable/Grace → the first
    /// attempt at once; otherwise Keep (one drop, one schedule).
    pub fn on_path_lost(&mut self) -> Action {
        match self.phase {
            Phase::Stable | Phase::Grace => self.first_attempt(),
            _ => Action::Keep,
        }
    }

    /// The other side sent an ICE-restart offer: it is recovering a drop,
    /// maybe one this side has not seen. Stable/Grace → Restarting{1};
    /// Waiting{n} → Restarting{n}: either way the attempt timer is armed and
    /// this side does not restart the same drop itself. Otherwise Keep.
    pub fn on_remote_restart(&mut self) -> Action {
        let attempt = match self.phase {
            Phase::Stable | Phase::Grace => 1,
            Phase::Waiting { attempt } => attempt,
            Phase::Restarting { .. } | Phase::Done => return Action::Keep,
        };
        self.phase = Phase::Restarting { attempt };
        Action::ArmTimer(self.config.attempt_timeout_ms)
    }

    /// The peer closed: Done.
    pub fn close(&mut self) {
        self.phase = Phase::Done;
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
        let delay = exponential_backoff_ms(
            self.config.backoff_base_ms,
            failed_attempt.saturating_sub(1),
            MAX_TIMER_MS,
        );
        self.phase = Phase::Waiting {
            attempt: failed_attempt + 1,
        };
        Action::ArmTimer(delay)
    }

    /// A restart attempt (ours or the other side's) is under way.
    pub fn is_restarting(&self) -> bool {
        matches!(self.phase, Phase::Restarting { .. })
    }

    /// True while a drop is being handled (Grace, Waiting or Restarting).
    pub fn is_recovering(&self) -> bool {
        matches!(
            self.phase,
            Phase::Grace | Phase::Waiting { .. } | Phase::Restarting { .. }
        )
    }
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
        assert_eq!(r.on_state(New, false), Action::Keep);
        assert_eq!(r.on_state(Checking, false), Action::Keep);
        assert_eq!(r.on_state(Connected, false), Action::CancelTimer);
        assert!(!r.is_recovering());
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(3000.0));
        assert!(r.is_recovering());
        // Grace over: restart 1 at once.
        assert_eq!(r.on_timer(false), restart(1));
        assert!(r.is_recovering());
        assert_eq!(r.on_state(Checking, false), Action::Keep);
        // Attempt 1 times out: wait 1 s.
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert!(r.is_recovering());
        assert_eq!(r.on_timer(false), restart(2));
        // Attempt 2 times out: wait 2 s.
        assert_eq!(r.on_timer(false), Action::ArmTimer(2000.0));
        assert_eq!(r.on_timer(false), restart(3));
        // Attempt 3 times out: give up.
        assert_eq!(r.on_timer(false), Action::GiveUp);
        assert!(!r.is_recovering());
        // Done: everything is ignored.
        for s in IceState::ALL {
            assert_eq!(r.on_state(s, false), Action::Keep, "{s:?}");
        }
        assert_eq!(r.on_timer(false), Action::Keep);
        assert_eq!(r.on_path_lost(), Action::Keep);
    }

    #[test]
    fn failed_mid_restart_counts_as_that_attempt_failing() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Failed, false), restart(1));
        assert_eq!(r.on_state(Checking, false), Action::Keep);
        assert_eq!(r.on_state(Failed, false), Action::ArmTimer(1000.0));
        // Still failed while waiting: nothing new.
        assert_eq!(r.on_state(Failed, false), Action::Keep);
        assert_eq!(r.on_state(Disconnected, false), Action::Keep);
        assert_eq!(r.on_timer(false), restart(2));
        assert_eq!(r.on_state(Failed, false), Action::ArmTimer(2000.0));
        assert_eq!(r.on_timer(false), restart(3));
        assert_eq!(r.on_state(Failed, false), Action::GiveUp);
        assert_eq!(r.on_timer(false), Action::Keep);
    }

    #[test]
    fn failed_during_grace_restarts_at_once() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(3000.0));
        assert_eq!(r.on_state(Failed, false), restart(1));
    }

    #[test]
    fn disconnected_while_restarting_keeps_the_attempt_timer() {
        let mut r = machine();
        assert_eq!(r.on_state(Failed, false), restart(1));
        assert_eq!(r.on_state(Disconnected, false), Action::Keep);
        assert_eq!(r.on_state(Disconnected, false), Action::Keep);
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
    }

    #[test]
    fn reconnecting_during_grace_cancels() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(3000.0));
        assert_eq!(r.on_state(Disconnected, false), Action::Keep);
        assert_eq!(r.on_state(Connected, false), Action::CancelTimer);
        assert!(!r.is_recovering());
        // A timer that fires late anyway is ignored.
        assert_eq!(r.on_timer(false), Action::Keep);
    }

    #[test]
    fn reconnect_resets_the_count() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Failed, false), restart(1));
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert_eq!(r.on_timer(false), restart(2));
        // Attempt 2 works.
        assert_eq!(r.on_state(Completed, false), Action::CancelTimer);
        assert!(!r.is_recovering());
        // The next drop starts over at attempt 1, with three attempts again.
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(3000.0));
        assert_eq!(r.on_timer(false), restart(1));
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert_eq!(r.on_timer(false), restart(2));
        assert_eq!(r.on_timer(false), Action::ArmTimer(2000.0));
        assert_eq!(r.on_timer(false), restart(3));
        assert_eq!(r.on_timer(false), Action::GiveUp);
    }

    #[test]
    fn reconnecting_while_waiting_for_backoff_ends_the_drop() {
        let mut r = machine();
        assert_eq!(r.on_state(Failed, false), restart(1));
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert_eq!(r.on_state(Connected, false), Action::CancelTimer);
        assert_eq!(r.on_timer(false), Action::Keep);
        assert!(!r.is_recovering());
    }

    #[test]
    fn path_lost() {
        // While connected: restart at once.
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_path_lost(), restart(1));
        // Already handling the drop: one schedule only.
        assert_eq!(r.on_path_lost(), Action::Keep);
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert_eq!(r.on_path_lost(), Action::Keep);
        // During grace: restart at once.
        let mut r = machine();
        r.on_state(Connected, false);
        r.on_state(Disconnected, false);
        assert_eq!(r.on_path_lost(), restart(1));
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
                r.on_state(*s, false);
            }
            assert_eq!(r.on_state(Closed, false), Action::CancelTimer, "{setup:?}");
            assert!(!r.is_recovering());
            assert_eq!(r.on_state(Failed, false), Action::Keep);
            assert_eq!(r.on_state(Disconnected, false), Action::Keep);
            assert_eq!(r.on_state(Connected, false), Action::Keep);
            assert_eq!(r.on_timer(false), Action::Keep);
            assert_eq!(r.on_path_lost(), Action::Keep);
            assert_eq!(r.on_state(Closed, false), Action::Keep);
        }
    }

    #[test]
    fn zero_max_attempts_gives_up_at_once() {
        let cfg = RecoveryConfig {
            max_attempts: 0,
            ..RecoveryConfig::default()
        };
        let mut r = Recovery::new(cfg);
        assert_eq!(r.on_state(Failed, false), Action::GiveUp);
        assert_eq!(r.on_timer(false), Action::Keep);

        let mut r = Recovery::new(cfg);
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(3000.0));
        assert_eq!(r.on_timer(false), Action::GiveUp);

        let mut r = Recovery::new(cfg);
        assert_eq!(r.on_path_lost(), Action::GiveUp);
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
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(0.0));
        assert_eq!(
            r.on_timer(false),
            Action::Restart {
                attempt: 1,
                timeout_ms: 4000.0
            }
        );
        assert_eq!(r.on_timer(false), Action::GiveUp);
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
            r.on_state(Failed, false),
            Action::Restart {
                attempt: 1,
                timeout_ms: 10_000.0
            }
        );
        let mut delays = Vec::new();
        for attempt in 2..=40 {
            match r.on_timer(false) {
                Action::ArmTimer(d) => delays.push(d),
                other => panic!("{other:?}"),
            }
            assert_eq!(
                r.on_timer(false),
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
            r.on_state(Failed, false);
            assert_eq!(r.on_timer(false), Action::ArmTimer(0.0), "{base}");
        }
    }

    #[test]
    fn states_before_first_connection() {
        let mut r = machine();
        for s in [New, Checking, New] {
            assert_eq!(r.on_state(s, false), Action::Keep);
        }
        assert_eq!(r.on_timer(false), Action::Keep);
        // Never connected, ICE fails: that is a drop too.
        assert_eq!(r.on_state(IceState::Failed, false), restart(1));
    }

    #[test]
    fn urgent_disconnected_needs_no_grace() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Disconnected, true), restart(1));
        // During grace, evidence arriving later ends the wait too.
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_state(Disconnected, false), Action::ArmTimer(3000.0));
        assert_eq!(r.on_state(Disconnected, true), restart(1));
        assert_eq!(
            r.on_state(Disconnected, true),
            Action::Keep,
            "one drop, one schedule"
        );
    }

    #[test]
    fn a_live_call_at_the_attempt_timeout_is_not_restarted_again() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_path_lost(), restart(1));
        // The browser kept saying connected, but media arrives: done.
        assert_eq!(r.on_timer(true), Action::CancelTimer);
        assert!(!r.is_recovering());
    }

    #[test]
    fn media_during_an_attempt_ends_the_drop() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_alive(), Action::Keep, "nothing to end");
        assert_eq!(r.on_path_lost(), restart(1));
        assert_eq!(r.on_alive(), Action::CancelTimer);
        assert!(!r.is_recovering());
        // The next drop starts over at once.
        assert_eq!(r.on_state(Disconnected, true), restart(1));
        // Waiting for the backoff is not an attempt under way.
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert_eq!(r.on_alive(), Action::Keep);
    }

    #[test]
    fn remote_restart_counts_as_the_attempt_under_way() {
        let mut r = machine();
        r.on_state(Connected, false);
        assert_eq!(r.on_remote_restart(), Action::ArmTimer(10_000.0));
        assert!(r.is_recovering());
        // This side's own evidence does not start a second restart of the same drop.
        assert_eq!(r.on_path_lost(), Action::Keep);
        assert_eq!(r.on_state(Disconnected, true), Action::Keep);
        assert_eq!(r.on_remote_restart(), Action::Keep);
        // The other side's attempt timed out with nothing arriving: this side goes on.
        assert_eq!(r.on_timer(false), Action::ArmTimer(1000.0));
        assert_eq!(
            r.on_remote_restart(),
            Action::ArmTimer(10_000.0),
            "their attempt 2"
        );
        assert_eq!(r.on_state(Connected, false), Action::CancelTimer);
        assert!(!r.is_recovering());
        let mut done = machine();
        done.close();
        assert_eq!(done.on_remote_restart(), Action::Keep);
    }
}
