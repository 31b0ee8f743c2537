//! A one-value cache whose refresh is shared by every concurrent caller.
//!
//! While the value is fresh it is returned as is. Otherwise the first caller
//! starts one fetch (in its own task, so it finishes even if that caller goes
//! away) and every caller that comes before it ends awaits the same result.
//! Failures are not cached: the next caller after a failure starts a new fetch.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::time::Instant;

use super::ProviderError;

type Flight<T> = Shared<BoxFuture<'static, Result<Fresh<T>, ProviderError>>>;

/// A value and the instant until which it may be served from the cache.
#[derive(Clone, Debug)]
pub struct Fresh<T> {
    /// The cached value.
    pub value: T,
    /// Served from the cache before this instant.
    pub fresh_until: Instant,
}

struct State<T> {
    cached: Option<Fresh<T>>,
    flight: Option<Flight<T>>,
}

/// See the module docs.
pub struct SingleFlight<T> {
    state: Mutex<State<T>>,
}

/// Ends the flight when its task ends, however it ends: a flight left behind
/// by a fetch that panicked would answer every later caller with that
/// failure until the process restarts. No new flight can start before it
/// drops (the old one is still there), so it only ever clears its own.
struct Landing<T>(Arc<SingleFlight<T>>);

impl<T> Drop for Landing<T> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.flight = None;
    }
}

impl<T: Clone + Send + Sync + 'static> Default for SingleFlight<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                cached: None,
                flight: None,
            }),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> SingleFlight<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // The lock is never held across an await or a panic-prone call.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached value while fresh, else the result of the one shared `fetch`.
    pub async fn get<F, Fut>(self: &Arc<Self>, fetch: F) -> Result<Fresh<T>, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Fresh<T>, ProviderError>> + Send + 'static,
    {
        let flight = {
            let mut state = self.lock();
            if let Some(fresh) = &state.cached {
                if Instant::now() < fresh.fresh_until {
                    return Ok(fresh.clone());
                }
            }
            match &state.flight {
                Some(flight) => flight.clone(),
                None => {
                    let flight = self.start(fetch());
                    state.flight = Some(flight.clone());
                    flight
                }
            }
        };
        flight.await
    }

    fn start<Fut>(self: &Arc<Self>, fetch: Fut) -> Flight<T>
    where
        Fut: Future<Output = Result<Fresh<T>, ProviderError>> + Send + 'static,
    {
        let landing = Landing(Arc::clone(self));
        let task = tokio::spawn(async move {
            let result = fetch.await;
            if let Ok(fresh) = &result {
                landing.0.lock().cached = Some(fresh.clone());
            }
            result
            // `landing` drops here, or while a panic unwinds the task.
        });
        async move {
            task.await
                .unwrap_or_else(|_| Err(ProviderError("upstream request aborted".into())))
        }
        .boxed()
        .shared()
    }

    /// Forgets the cached value.
    pub fn invalidate(&self) {
        self.lock().cached = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    async fn counted(
        cache: &Arc<SingleFlight<u32>>,
        calls: &Arc<AtomicUsize>,
        ok: bool,
    ) -> Result<u32, ProviderError> {
        let calls = Arc::clone(calls);
        cache
            .get(move || async move {
                let n = calls.fetch_add(1, Ordering::SeqCst) as u32;
                tokio::time::sleep(Duration::from_millis(50)).await;
                if ok {
                    Ok(Fresh {
                        value: n,
                        fresh_until: Instant::now() + Duration::from_secs(60),
                    })
                } else {
                    Err(ProviderError("boom".into()))
                }
            })
            .await
            .map(|f| f.value)
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(SingleFlight::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let results =
            futures_util::future::join_all((0..20).map(|_| counted(&cache, &calls, true))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|r| r == &Ok(0)));
        // Fresh: served from the cache.
        assert_eq!(counted(&cache, &calls, true).await, Ok(0));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache.invalidate();
        assert_eq!(counted(&cache, &calls, true).await, Ok(1));
    }

    /// A fetch that panics fails its callers, and the next caller starts a
    /// new one: a flight left behind would answer everyone with that failure
    /// until the process restarts.
    #[tokio::test]
    async fn a_fetch_that_panics_does_not_stay_in_flight() {
        let cache: Arc<SingleFlight<u32>> = Arc::new(SingleFlight::default());
        let panicked = cache.get(|| async { buggy_fetch() }).await;
        assert_eq!(
            panicked.map(|f| f.value),
            Err(ProviderError("upstream request aborted".into()))
        );
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(counted(&cache, &calls, true).await, Ok(0));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a new fetch ran");
    }

    fn buggy_fetch() -> Result<Fresh<u32>, ProviderError> {
        panic!("a bug in the fetch")
    }

    #[tokio::test]
    async fn failures_are_shared_but_not_cached() {
        let cache = Arc::new(SingleFlight::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let results =
            futures_util::future::join_all((0..5).map(|_| counted(&cache, &calls, false))).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(Result::is_err));
        assert_eq!(counted(&cache, &calls, true).await, Ok(1));
    }
}
