//! Admission control: what the sidecar as a whole may hold, and who waits for it.
//!
//! - [`Admission`] owns two pools: traversal slots (`--max-in-flight`: how many run at once)
//!   and memory (`--max-memory`, in KiB: what all requests together may hold). A request
//!   reserves memory twice, before it holds anything: for its body while it is read and parsed
//!   ([`body_reservation`]), and for its run, its `budget.maxMemory` (the engine enforces
//!   that budget where the memory is spent). Both reservations live until the response's last
//!   byte is sent ([`Held`]), so the bytes of an answer being written count too.
//! - Waiting is bounded twice over: at most `--max-queued` requests wait at once (past that,
//!   503 `over_capacity` at once), and none waits longer than its own deadline.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The most bytes a request's JSON can become per byte of its text: the densest text is a
/// list of one-digit ids (`1,`: two bytes an element), each parsed into a node selector.
const PARSE_FACTOR: u64 = (size_of::<neotrav_wire::NodeSelector>() / 2 + 1) as u64;

/// The memory a request's body is reserved while it is read and parsed: its text and what
/// it may parse into.
pub fn body_reservation(body_bytes: u64) -> u64 {
    body_bytes.saturating_mul(PARSE_FACTOR + 1)
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many requests already wait, or the wait passed its bound.
    Busy,
    /// The reservation is larger than the whole server may hold.
    TooLarge {
        /// The bytes asked for.
        asked: u64,
        /// The server's total.
        total: u64,
    },
}

/// The sidecar's pools.
#[derive(Debug)]
pub struct Admission {
    slots: Arc<Semaphore>,
    memory: Arc<Semaphore>,
    memory_kib: u64,
    waiting: AtomicU64,
    max_waiting: u64,
}

impl Admission {
    /// `in_flight` traversals at once, `memory` bytes in all, `queued` requests waiting.
    pub fn new(in_flight: usize, memory: u64, queued: u64) -> Admission {
        let memory_kib = (memory / 1024).clamp(1, Semaphore::MAX_PERMITS as u64);
        Admission {
            slots: Arc::new(Semaphore::new(in_flight)),
            memory: Arc::new(Semaphore::new(memory_kib as usize)),
            memory_kib,
            waiting: AtomicU64::new(0),
            max_waiting: queued,
        }
    }

    /// The same slots and queue bound, with a memory pool of `memory` bytes (a builder step:
    /// nothing may hold a reservation yet).
    pub fn with_memory(self, memory: u64) -> Admission {
        Admission::new(self.slots.available_permits(), memory, self.max_waiting)
    }

    /// How many requests may wait at once.
    pub fn max_waiting(&self) -> u64 {
        self.max_waiting
    }

    /// The memory pool's size, in bytes.
    pub fn memory_total(&self) -> u64 {
        self.memory_kib * 1024
    }

    /// The memory free now, in bytes.
    pub fn memory_free(&self) -> u64 {
        self.memory.available_permits() as u64 * 1024
    }

    /// A traversal slot, waiting at most `wait`.
    pub async fn slot(&self, wait: Duration) -> Result<OwnedSemaphorePermit, Refused> {
        self.take(&self.slots, 1, wait).await
    }

    /// A traversal slot if one is free now.
    pub fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// `bytes` of memory if they are free now (and fit in the pool at all).
    pub fn try_memory(&self, bytes: u64) -> Option<OwnedSemaphorePermit> {
        let kib = self.kib(bytes).ok()?;
        self.memory.clone().try_acquire_many_owned(kib).ok()
    }

    /// The pool's permits for `bytes` (whole KiB, at least one), or why the pool can never
    /// give them.
    fn kib(&self, bytes: u64) -> Result<u32, Refused> {
        let kib = bytes.div_ceil(1024).max(1);
        if kib > self.memory_kib {
            return Err(Refused::TooLarge {
                asked: bytes,
                total: self.memory_total(),
            });
        }
        // `kib` fits in u32: the pool itself is at most `Semaphore::MAX_PERMITS` KiB, and a
        // larger request was refused above.
        Ok(u32::try_from(kib).unwrap_or(u32::MAX))
    }

    /// `bytes` of memory, waiting at most `wait`.
    pub async fn memory(
        &self,
        bytes: u64,
        wait: Duration,
    ) -> Result<OwnedSemaphorePermit, Refused> {
        let kib = self.kib(bytes)?;
        self.take(&self.memory, kib, wait).await
    }

    async fn take(
        &self,
        pool: &Arc<Semaphore>,
        n: u32,
        wait: Duration,
    ) -> Result<OwnedSemaphorePermit, Refused> {
        if let Ok(p) = pool.clone().try_acquire_many_owned(n) {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Refused::Busy);
        }
        // Counted until the wait ends, also when this future is dropped (the client left).
        let _waiting = Waiting(&self.waiting);
        let got = tokio::time::timeout(wait, pool.clone().acquire_many_owned(n)).await;
        match got {
            Ok(Ok(p)) => Ok(p),
            _ => Err(Refused::Busy),
        }
    }
}

/// One waiting request, counted off when dropped.
struct Waiting<'a>(&'a AtomicU64);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps a request's reservations until its last byte is sent (or the
/// client goes away).
pub struct Held {
    inner: Body,
    _permits: Vec<OwnedSemaphorePermit>,
}

impl Held {
    /// `inner`, holding `permits` while it is sent.
    pub fn body(inner: Body, permits: Vec<OwnedSemaphorePermit>) -> Body {
        Body::new(Held {
            inner,
            _permits: permits,
        })
    }
}

impl HttpBody for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_past_the_pool_waits_then_is_refused() {
        let a = Admission::new(4, 10 << 20, 8);
        let first = a.memory(8 << 20, Duration::from_millis(10)).await.unwrap();
        assert_eq!(
            a.memory(4 << 20, Duration::from_millis(20))
                .await
                .unwrap_err(),
            Refused::Busy
        );
        drop(first);
        assert!(a.memory(4 << 20, Duration::from_millis(20)).await.is_ok());
        assert!(matches!(
            a.memory(11 << 20, Duration::ZERO).await,
            Err(Refused::TooLarge { .. })
        ));
    }

    #[tokio::test]
    async fn past_the_queue_bound_a_request_is_refused_at_once() {
        let a = Arc::new(Admission::new(1, 1 << 20, 1));
        let _slot = a.slot(Duration::ZERO).await.unwrap();
        let waiter = {
            let a = a.clone();
            tokio::spawn(async move { a.slot(Duration::from_secs(5)).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        assert_eq!(
            a.slot(Duration::from_secs(5)).await.unwrap_err(),
            Refused::Busy
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        drop(_slot);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test]
    async fn a_waiter_that_goes_away_frees_its_place_in_the_queue() {
        let a = Arc::new(Admission::new(1, 1 << 20, 1));
        let _slot = a.slot(Duration::ZERO).await.unwrap();
        let gone = {
            let a = a.clone();
            tokio::spawn(async move { a.slot(Duration::from_secs(60)).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        gone.abort();
        let _ = gone.await;
        // The place is free again: the next request waits (and times out) instead of being
        // refused at once.
        let started = std::time::Instant::now();
        assert_eq!(
            a.slot(Duration::from_millis(200)).await.unwrap_err(),
            Refused::Busy
        );
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}
