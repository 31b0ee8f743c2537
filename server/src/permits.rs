//! Places counted against a cap per key (a client address, a subject):
//! taking one returns a permit that gives the place back when it drops, so
//! whatever ends a connection or socket, its count goes down with it; and
//! which key a client address counts as.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Open places per key. A key is kept only while it holds a place, so the
/// map never holds more keys than there are live permits.
pub struct Counter<K>(Mutex<HashMap<K, usize>>);

/// A place counted against one key; given back on drop.
#[must_use]
pub struct Permit<K: Eq + Hash + Clone> {
    counter: Arc<Counter<K>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Counter<K> {
    /// No places taken.
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(HashMap::new())))
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<K, usize>> {
        // Never held across an await or a call that can panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for `key`, unless it already holds `cap`.
    pub fn take(self: &Arc<Self>, key: K, cap: usize) -> Option<Permit<K>> {
        let mut counts = self.counts();
        let count = counts.entry(key.clone()).or_default();
        if *count >= cap {
            if *count == 0 {
                counts.remove(&key);
            }
            return None;
        }
        *count += 1;
        Some(Permit {
            counter: Arc::clone(self),
            key,
        })
    }

    /// The places `key` holds.
    pub fn count(&self, key: &K) -> usize {
        self.counts().get(key).copied().unwrap_or(0)
    }
}

impl<K: Eq + Hash + Clone> Drop for Permit<K> {
    fn drop(&mut self) {
        let mut counts = self.counter.counts();
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Whose share a client address counts against: itself, or for IPv6 its
/// /64, since one host is given a whole /64 and picks any address in it. An
/// IPv4 address seen through a dual-stack socket counts as itself.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_counts_as_its_ipv4_address_or_its_ipv6_64() {
        let key =
            |s: &str| client_key(s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))).to_string();
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }
}
