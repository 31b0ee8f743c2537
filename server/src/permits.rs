//! Places counted against a cap per key (a client IP, a subject): taking one
//! returns a permit that gives the place back when it drops, so whatever
//! ends a connection or socket, its count goes down with it.

use std::collections::HashMap;
use std::hash::Hash;
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
