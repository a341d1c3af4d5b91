//! Login throttling: after too many wrong passwords for one account, further attempts are
//! refused for a while, whatever password they bring, so that a password cannot be guessed by
//! trying many. Kept in memory per process (a restart clears it; with several instances behind
//! a balancer each counts its own attempts — an attacker gets at most that many more tries).

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// How many failures, within what window, lock an account for how long.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy { max_failures: 5, window: Duration::minutes(15), lockout: Duration::minutes(15) }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
}

/// Most accounts tracked at once; beyond it, entries whose window and lockout are over are
/// dropped, so that a flood of made-up logins cannot grow memory without bound.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<(String, String), Failures>>,
}

fn key(tenant: &str, login: &str) -> (String, String) {
    (tenant.trim().to_lowercase(), login.trim().to_owned())
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> LoginThrottle {
        LoginThrottle { policy, failures: Mutex::new(HashMap::new()) }
    }

    /// Whether the account is locked at `now`.
    pub fn is_locked(&self, tenant: &str, login: &str, now: OffsetDateTime) -> bool {
        let failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.get(&key(tenant, login)).and_then(|f| f.locked_until).is_some_and(|until| now < until)
    }

    /// Records a wrong password; returns whether the account is now locked.
    pub fn record_failure(&self, tenant: &str, login: &str, now: OffsetDateTime) -> bool {
        let policy = self.policy;
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, f| now - f.first_at < policy.window || f.locked_until.is_some_and(|until| now < until));
        }
        let entry =
            failures.entry(key(tenant, login)).or_insert(Failures { count: 0, first_at: now, locked_until: None });
        if now - entry.first_at >= policy.window && entry.locked_until.is_none_or(|until| now >= until) {
            *entry = Failures { count: 0, first_at: now, locked_until: None };
        }
        entry.count += 1;
        if entry.count >= policy.max_failures {
            entry.locked_until = Some(now + policy.lockout);
        }
        entry.locked_until.is_some_and(|until| now < until)
    }

    /// Forgets the account's failures after a successful login.
    pub fn record_success(&self, tenant: &str, login: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&key(tenant, login));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn locks_after_too_many_failures_and_unlocks_later() {
        let throttle = LoginThrottle::new(ThrottlePolicy::default());
        for attempt in 1..=4 {
            assert!(!throttle.record_failure("Acme", "op01", at(attempt)), "attempt {attempt}");
        }
        assert!(!throttle.is_locked("acme", "op01", at(5)));
        assert!(throttle.record_failure("acme", "op01", at(5)));
        assert!(throttle.is_locked("ACME", " op01 ", at(19)));
        assert!(!throttle.is_locked("acme", "op02", at(19)), "other accounts are not affected");
        assert!(!throttle.is_locked("acme", "op01", at(20)), "the lockout ends");
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up_and_success_clears() {
        let throttle = LoginThrottle::new(ThrottlePolicy::default());
        for attempt in 0..4 {
            throttle.record_failure("acme", "op01", at(attempt));
        }
        assert!(!throttle.record_failure("acme", "op01", at(30)), "a new window starts");
        for attempt in 31..34 {
            throttle.record_failure("acme", "op01", at(attempt));
        }
        throttle.record_success("acme", "op01");
        assert!(!throttle.record_failure("acme", "op01", at(35)));
    }
}
