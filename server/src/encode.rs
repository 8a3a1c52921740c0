//! Running a request off the reactor under admission, and encoding its answer: JSON under
//! the response cap and the request's memory budget, or NDJSON lines for large answers.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use neotrav_wire::{Budget, BudgetName, ErrorCode, TraverseRequest, TraverseResponse};

use tokio::sync::OwnedSemaphorePermit;

use crate::admission::Held;
use neotrav_neo4j::miss::Neo4jSource;
use neotrav_traverser::engine::budget::{self, Budgets};
use neotrav_traverser::engine::fresh::DirtySet;

use crate::error::ApiError;
use crate::state::{AppState, Loaded};

pub(crate) fn worker_failed() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "the request's worker failed",
    )
}

/// Runs `f` off the reactor (on this thread, its async worker handed on, or on the blocking
/// pool: see below) with the current snapshot, a miss source when Neo4j is
/// configured, and the dirty set, once the request's memory (`budget.maxMemory`, as capped)
/// is reserved and a traversal slot is free. Waits at most the request's deadline for both.
/// The slot is freed when `f` returns; the memory reservation is handed back to be held
/// while the answer is sent.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Arc<AppState>,
    budget: &Budget,
    fresh: Option<std::time::Instant>,
    f: impl FnOnce(&Loaded, &DirtySet, Option<&mut Neo4jSource>) -> Result<T, ApiError> + Send + 'static,
) -> Result<(T, OwnedSemaphorePermit), ApiError> {
    // A fresh request first takes one of its own slots (bounded by its deadline), so that
    // requests stuck on Neo4j hold few of the shared ones.
    let fresh = state.fresh_turn(fresh).await?;
    let limits = state.limits;
    let wait = Budgets::deadline_of(budget, limits);
    let reserved = state
        .admission
        .memory(Budgets::memory_of(budget, limits), wait)
        .await
        .map_err(ApiError::refused)?;
    let slot = state
        .admission
        .slot(wait)
        .await
        .map_err(ApiError::refused)?;
    let loaded = state.current.load_full();
    loaded.usable()?; // flagged while this request waited for its turn
    let neo4j = state.neo4j.clone();
    let handle = tokio::runtime::Handle::current();
    let multi_thread = handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread;
    let run = move || {
        let _slot = slot;
        let dirty = loaded
            .dirty
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut source = neo4j.map(|g| fresh.source(g, handle));
        f(&loaded, &dirty, source.as_mut())
    };
    // On a multi-threaded runtime the work runs on this thread, which hands its async
    // worker to another thread first (`block_in_place`): the reactor keeps running and the
    // request waits for no thread to wake. Elsewhere (a current-thread runtime: tests,
    // embedders) it goes to the blocking pool.
    let value = if multi_thread {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tokio::task::block_in_place(run)
        }))
        .map_err(|_| worker_failed())?
    } else {
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|_| worker_failed())?
    }?;
    Ok((value, reserved))
}

/// An answer as it leaves [`blocking`]: encoded JSON, or the answer itself to be
/// streamed as NDJSON lines.
pub(crate) enum Encoded {
    Json(Vec<u8>, Box<neotrav_wire::Stats>),
    Lines(TraverseResponse),
}

/// Answers a traversal (a `/v1/traverse` body, or a `/v1/neighbors` one turned into one).
/// The walk and the JSON encoding both run through [`blocking`], under the request's slot.
pub(crate) async fn answer_traversal(
    state: &Arc<AppState>,
    req: TraverseRequest,
    body: OwnedSemaphorePermit,
    ndjson: bool,
) -> Result<Response, ApiError> {
    let budget = req.budget.clone();
    let (limits, cap) = (state.limits, state.max_response_bytes);
    let fresh = state.fresh_deadline(req.consistency, &req.budget);
    let (encoded, reserved) = blocking(state, &budget, fresh, move |l, dirty, source| {
        let response = match source {
            Some(s) => l.engine.traverse_fresh(&req, dirty, s),
            None => l.engine.traverse(&req),
        }?;
        if ndjson {
            return Ok(Encoded::Lines(response));
        }
        let room = Budgets::memory_of(&req.budget, limits)
            .saturating_sub(budget::answer_bytes(&response.answer));
        let json = encode_json(cap, &response, room)?;
        Ok(Encoded::Json(json, Box::new(response.stats)))
    })
    .await?;
    let permits = vec![body, reserved];
    match encoded {
        Encoded::Lines(response) => {
            state.metrics.record_stats(&response.stats);
            Ok(ndjson_answer(state, response, permits))
        }
        Encoded::Json(json, stats) => {
            state.metrics.record_stats(&stats);
            Ok(json_response(json, permits))
        }
    }
}

pub(crate) fn too_large(cap: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::ResponseTooLarge,
        format!(
            "the answer is larger than this sidecar's {cap} byte cap: narrow the request, set `limit`, ask for `count` or `groupBy`, or for NDJSON lines with `Accept: application/x-ndjson`"
        ),
    )
}

/// A `Vec` that refuses to grow past `cap` bytes, and asks the allocator without aborting.
pub(crate) struct CappedWriter {
    pub(crate) buf: Vec<u8>,
    pub(crate) cap: usize,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let need = self.buf.len() + data.len();
        if need > self.cap {
            return Err(std::io::Error::other("over the cap"));
        }
        if need > self.buf.capacity() {
            let grown = need.max(self.buf.capacity() * 2).max(4096).min(self.cap);
            self.buf
                .try_reserve_exact(grown - self.buf.len())
                .map_err(std::io::Error::other)?;
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The answer as JSON, or 413 over the response cap (`cap` bytes), or 422 when its encoding
/// does not fit in what is left of the request's memory budget (`room` bytes).
pub(crate) fn encode_json<T: serde::Serialize>(
    cap: usize,
    value: &T,
    room: u64,
) -> Result<Vec<u8>, ApiError> {
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    let mut out = CappedWriter {
        buf: Vec::new(),
        cap: cap.min(room),
    };
    if serde_json::to_writer(&mut out, value).is_ok() {
        return Ok(out.buf);
    }
    if room >= cap {
        return Err(too_large(cap));
    }
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::BudgetExceeded,
        format!(
            "the answer's JSON does not fit in what is left of the request's memory budget \
             ({room} bytes, budget.maxMemory): ask for NDJSON lines with `Accept: \
             application/x-ndjson`, set `limit`, or raise the budget"
        ),
    )
    .with_details(serde_json::json!({ "budget": BudgetName::MaxMemory })))
}

/// A JSON body that holds `permits` until it is sent.
pub(crate) fn json_response(json: Vec<u8>, permits: Vec<OwnedSemaphorePermit>) -> Response {
    let body = Held::body(axum::body::Body::from(json), permits);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The bytes of one NDJSON chunk: lines are encoded a chunk at a time as the client reads.
pub(crate) const NDJSON_CHUNK: usize = 64 << 10;

/// A traversal's nodes or paths as NDJSON, encoded a chunk at a time as the client reads
/// them (the answer itself is already counted in the request's budget), then a line with
/// `partial` and `stats`; a line that would pass the response cap ends the stream with an
/// error line. `permits` are held until the last chunk is sent.
pub(crate) fn ndjson_answer(
    state: &AppState,
    response: TraverseResponse,
    permits: Vec<OwnedSemaphorePermit>,
) -> Response {
    use neotrav_wire::Answer;
    let cap = state.max_response_bytes;
    let TraverseResponse {
        answer,
        partial,
        stats,
    } = response;
    let trailer = serde_json::json!({ "partial": partial, "stats": stats });
    let total = match &answer {
        Answer::Nodes(n) => n.len(),
        Answer::Paths(p) => p.len(),
        _ => 1,
    };
    let line = move |answer: &Answer, i: usize, out: &mut Vec<u8>| {
        let _ = match answer {
            Answer::Nodes(n) => {
                serde_json::to_writer(&mut *out, &serde_json::json!({ "node": n[i] }))
            }
            Answer::Paths(p) => serde_json::to_writer(&mut *out, &p[i]),
            other => serde_json::to_writer(&mut *out, other),
        };
        out.push(b'\n');
    };
    // (next line, bytes sent, whether the stream is over)
    let start = (answer, 0usize, 0usize, false);
    let stream = futures::stream::unfold(start, move |(answer, mut i, mut sent, done)| {
        let trailer = trailer.clone();
        async move {
            if done {
                return None;
            }
            let mut chunk = Vec::with_capacity(NDJSON_CHUNK + 1024);
            let mut over = false;
            while chunk.len() < NDJSON_CHUNK {
                let before = chunk.len();
                if i < total {
                    line(&answer, i, &mut chunk);
                    i += 1;
                } else {
                    let _ = serde_json::to_writer(&mut chunk, &trailer);
                    chunk.push(b'\n');
                    over = true;
                }
                if sent + chunk.len() > cap {
                    chunk.truncate(before);
                    chunk.extend_from_slice(
                        br#"{"error":{"code":"response_too_large","message":"the answer passed the response cap; narrow the request or set limit"}}"#,
                    );
                    chunk.push(b'\n');
                    over = true;
                }
                if over {
                    break;
                }
            }
            sent += chunk.len();
            Some((Ok::<_, std::io::Error>(chunk), (answer, i, sent, over)))
        }
    });
    let body = Held::body(axum::body::Body::from_stream(stream), permits);
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
}

pub(crate) fn wants_ndjson(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/x-ndjson"))
}
