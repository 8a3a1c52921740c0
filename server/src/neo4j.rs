//! What fresh requests need from Neo4j: their own slots and their deadlines.
//!
//! A `"consistency": "fresh"` request takes one of `--max-fresh-in-flight` slots before it
//! waits for one of the shared `--max-in-flight` ones, so requests stuck on a slow or frozen
//! Neo4j hold at most that many of the shared slots and snapshot requests keep their turns.
//! Its deadline (`budget.deadlineMs`, by default and at most the engine's ceiling) counts from
//! its arrival: it bounds the wait for a fresh slot and every Neo4j call it makes, each of
//! which is also capped by `--neo4j-timeout`. Past it the request ends with 504
//! `neo4j_timeout` and its slots are freed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use neotrav_wire::{Budget, Consistency, ErrorCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ApiError, AppState};
use neotrav_neo4j::miss::Neo4jSource;

/// The default limit on one Neo4j call (`neotrav serve --neo4j-timeout`).
pub const DEFAULT_NEO4J_TIMEOUT: Duration = Duration::from_secs(10);

/// The default number of fresh requests that run at once for `in_flight` shared slots: a
/// quarter of them, at least one.
pub fn default_fresh_in_flight(in_flight: usize) -> usize {
    (in_flight / 4).max(1)
}

/// A fresh request's turn: its fresh slot (none for a snapshot request) and its deadline,
/// which the Neo4j calls it makes respect.
pub(super) struct FreshTurn {
    _permit: Option<OwnedSemaphorePermit>,
    deadline: Option<Instant>,
    timeout: Duration,
}

impl FreshTurn {
    /// A miss source on `graph` whose every call ends by the request's deadline and within
    /// the server's Neo4j timeout.
    pub(super) fn source(
        &self,
        graph: neo4rs::Graph,
        handle: tokio::runtime::Handle,
    ) -> Neo4jSource {
        Neo4jSource::new(graph, handle).with_deadline(self.timeout, self.deadline)
    }
}

/// Counts a request waiting for a fresh slot for as long as it waits, even when its future is
/// dropped (the client went away).
struct Waiting<'a>(&'a std::sync::atomic::AtomicU64);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AppState {
    /// Sets how many fresh requests run at once (taken before a shared slot; at least 1).
    pub fn with_fresh_capacity(mut self, in_flight: usize) -> AppState {
        self.fresh_capacity = Arc::new(Semaphore::new(in_flight.max(1)));
        self
    }

    /// Sets the longest one Neo4j call may take ([`DEFAULT_NEO4J_TIMEOUT`] unless set).
    pub fn with_neo4j_timeout(mut self, timeout: Duration) -> AppState {
        self.neo4j_timeout = timeout;
        self
    }

    /// When a request that arrives now must end, if it is a fresh one and this sidecar has
    /// Neo4j (without Neo4j a fresh request fails at once and needs no slot).
    pub(super) fn fresh_deadline(
        &self,
        consistency: Consistency,
        budget: &Budget,
    ) -> Option<Instant> {
        if consistency != Consistency::Fresh || self.neo4j.is_none() {
            return None;
        }
        let limits = self.current.load().engine.limits();
        // A malformed budget is refused by the engine, naming the field; until then it gets
        // the server's deadline.
        Some(
            Instant::now()
                + neotrav_traverser::engine::budget::Budgets::deadline_of(budget, limits),
        )
    }

    /// Waits for a fresh slot until `deadline` (none: a snapshot request, which needs none):
    /// 504 `neo4j_timeout` when the deadline passes first, 503 `over_capacity` when
    /// `max_queued` fresh requests already wait.
    pub(super) async fn fresh_turn(
        &self,
        deadline: Option<Instant>,
    ) -> Result<FreshTurn, ApiError> {
        let mut turn = FreshTurn {
            _permit: None,
            deadline,
            timeout: self.neo4j_timeout,
        };
        let Some(deadline) = deadline else {
            return Ok(turn);
        };
        if let Ok(permit) = self.fresh_capacity.clone().try_acquire_owned() {
            turn._permit = Some(permit);
            return Ok(turn);
        }
        if self.fresh_queued.fetch_add(1, Ordering::SeqCst) >= self.admission.max_waiting() {
            self.fresh_queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::over_capacity());
        }
        let _waiting = Waiting(&self.fresh_queued);
        let started = Instant::now();
        match tokio::time::timeout_at(deadline.into(), self.fresh_capacity.clone().acquire_owned())
            .await
        {
            Ok(Ok(permit)) => {
                turn._permit = Some(permit);
                Ok(turn)
            }
            Ok(Err(_)) => Err(ApiError::over_capacity()),
            Err(_) => Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorCode::Neo4jTimeout,
                format!(
                    "the request's deadline (budget.deadlineMs) passed after {} ms waiting for \
                     one of the fresh-request slots (neotrav serve --max-fresh-in-flight), all \
                     busy reading from Neo4j, which may be slow or frozen. Snapshot requests \
                     (\"consistency\": \"snapshot\") do not need it",
                    started.elapsed().as_millis()
                ),
            )),
        }
    }
}
