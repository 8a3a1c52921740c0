//! `POST /v1/cypher` and `POST /db/{name}/query/v2`: read-only Cypher, answered from the
//! snapshot when it can, else forwarded to Neo4j in a read transaction (or refused).
//!
//! - The body is Neo4j's Query API request ([`CypherRequest`]), as `application/json` or
//!   `application/vnd.neo4j.query`; parameters may be plain or typed JSON.
//! - `Accept` picks the answer's encoding ([`Encoding::from_accept`]: typed for
//!   `application/vnd.neo4j.query*`, else plain); `Accept: application/x-ndjson` streams a line
//!   `{"fields": [...]}`, one line per row (an array of values, plain), then a line with
//!   `answeredBy`, `forwardedBecause` and `stats`.
//! - Parse, then plan against the served snapshot (parses and plans are cached by statement
//!   text in a bounded LRU, emptied when the snapshot is swapped: a hit skips the parser). A
//!   plan the snapshot answers runs under the same admission and budgets as traversals
//!   (`budget.deadlineMs`, `budget.maxMemory`, `budget.maxVisited` as units of work): on the
//!   worker that read the request while it stays under [`INLINE_WORK`], else off the reactor
//!   as traversals run. A statement the snapshot cannot answer is forwarded to Neo4j
//!   ([`Unsupported::Forward`]) or refused with 422 `cypher_unsupported` naming the construct
//!   ([`Unsupported::Refuse`]).
//! - `EXPLAIN ...` answers with the plan's text in `plan` (or the construct that forces Neo4j)
//!   and no rows.
//! - On `/db/{name}/query/v2`, errors are Neo4j's Query API shape, `{"errors": [{"code",
//!   "message"}]}` with Neo4j's status codes, and `{name}` must be the served database.

// A failure is made at most once per request, on its way out: its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neotrav_cypher::{CypherError, Forward, Limits, Params, Prepared};
use neotrav_wire::cypher::{
    CypherAnsweredBy, CypherData, CypherRequest, CypherResponse, CypherStats, Encoding,
    QueryApiError, QueryApiErrors, Value,
};
use neotrav_wire::{ErrorBody, ErrorCode};
use tokio::sync::OwnedSemaphorePermit;

use neotrav_traverser::engine::budget::Budgets;

use crate::body::Admitted;
use crate::encode::{blocking, encode_json, json_response, wants_ndjson};
use crate::error::ApiError;
use crate::state::{AppState, lock};

/// What the sidecar does with a statement its snapshot cannot answer (`neotrav serve
/// --unsupported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// Run it on Neo4j in a read transaction (needs a Neo4j connection).
    Forward,
    /// Answer 422 `cypher_unsupported`, naming the construct, its line and column.
    Refuse,
}

/// Plans kept per snapshot.
pub const PLAN_CACHE_ENTRIES: usize = 256;

/// A statement's planning decision, cached by its text for one snapshot generation: a hit skips
/// the parser too (which costs more than running most small plans).
pub(crate) struct Cached {
    /// Whether it starts with `EXPLAIN` (or `PROFILE`).
    explain: bool,
    decision: Prepared,
    /// Runs left to send straight off the reactor ([`blocking`]): set when a run on the request's own
    /// worker passed [`INLINE_WORK`], counted down by each run it skips (so a statement that
    /// is large for one input and small for the next is tried inline again now and then).
    pooled: AtomicU32,
}

/// Units of work a statement may do right on the async worker that read its request. Past
/// it the run stops and starts again through [`blocking`] with the rest of the request's own
/// budget, which first hands the worker to another thread (a thread wake-up this path saves):
/// so a worker is never held by a run longer than this much work. (A cap of 250 µs instead,
/// tried, sent more statements off the reactor and measured slower in the bench.)
const INLINE_WORK: u64 = 65_536;

/// Runs a statement that passed [`INLINE_WORK`] sends straight off the reactor before it is
/// tried inline again.
const POOLED_RUNS: u32 = 16;

/// A bounded LRU of plans for one snapshot generation.
#[derive(Default)]
pub(crate) struct PlanCache {
    generation: u64,
    tick: u64,
    entries: HashMap<String, (u64, Arc<Cached>)>,
}

impl PlanCache {
    fn get(&mut self, generation: u64, text: &str) -> Option<Arc<Cached>> {
        if self.generation != generation {
            self.entries.clear();
            self.generation = generation;
        }
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(text).map(|(used, c)| {
            *used = tick;
            c.clone()
        })
    }

    fn put(&mut self, generation: u64, text: &str, c: Arc<Cached>) {
        if self.generation != generation {
            self.entries.clear();
            self.generation = generation;
        }
        if self.entries.len() >= PLAN_CACHE_ENTRIES
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.tick += 1;
        self.entries.insert(text.to_owned(), (self.tick, c));
    }
}

/// What the Cypher routes share, in [`AppState`].
pub(crate) struct CypherState {
    pub(crate) unsupported: Unsupported,
    pub(crate) plans: Mutex<PlanCache>,
    /// The database element ids carry, once learned from Neo4j.
    pub(crate) database_id: Mutex<DatabaseId>,
    /// The name `/db/{name}/query/v2` must give.
    pub(crate) database: String,
}

impl CypherState {
    pub(crate) fn new(neo4j: bool) -> CypherState {
        CypherState {
            unsupported: if neo4j {
                Unsupported::Forward
            } else {
                Unsupported::Refuse
            },
            plans: Mutex::new(PlanCache::default()),
            database_id: Mutex::new(DatabaseId::Unknown),
            database: "neo4j".into(),
        }
    }
}

impl AppState {
    /// Sets what happens to statements the snapshot cannot answer (default: forward when the
    /// state has Neo4j, else refuse). Forward without Neo4j refuses, saying so.
    pub fn with_unsupported(mut self, unsupported: Unsupported) -> AppState {
        self.cypher.unsupported = unsupported;
        self
    }

    /// Sets the database name `/db/{name}/query/v2` answers for (default `neo4j`).
    pub fn with_database_name(mut self, name: impl Into<String>) -> AppState {
        self.cypher.database = name.into();
        self
    }
}

/// Which route, for the error shape.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Neotrav,
    QueryApi,
}

/// A Cypher route's error: the API's error, and Neo4j's status code for the Query API shape.
pub(crate) struct CypherFailure {
    error: ApiError,
    neo4j_code: &'static str,
    neo4j_code_owned: Option<String>,
    shape: Shape,
}

impl CypherFailure {
    fn new(error: ApiError, neo4j_code: &'static str) -> CypherFailure {
        CypherFailure {
            error,
            neo4j_code,
            neo4j_code_owned: None,
            shape: Shape::Neotrav,
        }
    }
}

/// `error` as `/db/{name}/query/v2` answers it (Neo4j's Query API shape), for the layers in
/// front of that route (the token check).
pub(crate) fn query_api_response(error: ApiError) -> Response {
    let mut f = CypherFailure::from(error);
    f.shape = Shape::QueryApi;
    f.into_response()
}

impl From<ApiError> for CypherFailure {
    fn from(error: ApiError) -> CypherFailure {
        let neo4j_code = match error.body.error.code {
            ErrorCode::BudgetExceeded => "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
            ErrorCode::OverCapacity | ErrorCode::SnapshotModified | ErrorCode::TimedOut => {
                "Neo.TransientError.General.DatabaseUnavailable"
            }
            ErrorCode::Neo4jUnavailable => "Neo.TransientError.General.DatabaseUnavailable",
            ErrorCode::Neo4jTimeout => "Neo.ClientError.Transaction.TransactionTimedOut",
            ErrorCode::Unauthorized => "Neo.ClientError.Security.Unauthorized",
            ErrorCode::BodyTooLarge | ErrorCode::ResponseTooLarge => {
                "Neo.ClientError.Request.Invalid"
            }
            ErrorCode::Internal => "Neo.DatabaseError.General.UnknownError",
            _ => "Neo.ClientError.Request.Invalid",
        };
        CypherFailure::new(error, neo4j_code)
    }
}

impl IntoResponse for CypherFailure {
    fn into_response(self) -> Response {
        match self.shape {
            Shape::Neotrav => self.error.into_response(),
            Shape::QueryApi => {
                let body = QueryApiErrors {
                    errors: vec![QueryApiError {
                        code: self
                            .neo4j_code_owned
                            .unwrap_or_else(|| self.neo4j_code.to_owned()),
                        message: self.error.body.error.message,
                    }],
                };
                let mut r = (self.error.status, axum::Json(body)).into_response();
                if let Some(secs) = self.error.retry_after {
                    r.headers_mut().insert(header::RETRY_AFTER, secs.into());
                }
                r
            }
        }
    }
}

fn bad(code: ErrorCode, neo4j: &'static str, message: String) -> CypherFailure {
    CypherFailure::new(ApiError::new(StatusCode::BAD_REQUEST, code, message), neo4j)
}

/// The failure for a statement's error (not [`CypherError::NeedsNeo4j`], which is forwarded).
fn cypher_failure(e: CypherError) -> CypherFailure {
    let message = e.to_string();
    match e {
        CypherError::Syntax(s) => {
            let mut f = bad(
                ErrorCode::CypherSyntax,
                "Neo.ClientError.Statement.SyntaxError",
                format!("{s}\n{}", s.rendered),
            );
            f.error = f.error.with_details(serde_json::json!({
                "line": s.line, "column": s.column, "message": s.message, "rendered": s.rendered,
            }));
            f
        }
        // 400, not 403: nothing about who asks would let a write through; the statement
        // itself is outside what this endpoint takes (Neo4j answers a write in a read
        // transaction with this same code).
        CypherError::Write { construct } => {
            let mut f = bad(
                ErrorCode::CypherWrite,
                "Neo.ClientError.Statement.AccessMode",
                message,
            );
            f.error = f
                .error
                .with_details(serde_json::json!({ "construct": construct }));
            f
        }
        CypherError::MissingParameter { name } => {
            let mut f = bad(
                ErrorCode::CypherParameter,
                "Neo.ClientError.Statement.ParameterMissing",
                message,
            );
            f.error = f
                .error
                .with_details(serde_json::json!({ "parameter": name }));
            f
        }
        CypherError::BadParameter { name, .. } => {
            let mut f = bad(
                ErrorCode::CypherParameter,
                "Neo.ClientError.Statement.TypeError",
                message,
            );
            f.error = f
                .error
                .with_details(serde_json::json!({ "parameter": name }));
            f
        }
        CypherError::Semantic(_) => bad(
            ErrorCode::CypherSemantic,
            "Neo.ClientError.Statement.SyntaxError",
            message,
        ),
        CypherError::Runtime(m) => {
            let code = if m.contains("zero") || m.contains("overflow") {
                "Neo.ClientError.Statement.ArithmeticError"
            } else {
                "Neo.ClientError.Statement.TypeError"
            };
            bad(ErrorCode::CypherRuntime, code, message)
        }
        CypherError::Budget { budget, .. } => {
            let neo4j = if budget == "deadlineMs" {
                "Neo.ClientError.Transaction.TransactionTimedOut"
            } else {
                "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
            };
            CypherFailure::new(
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::BudgetExceeded,
                    message,
                )
                .with_details(serde_json::json!({ "budget": budget })),
                neo4j,
            )
        }
        CypherError::NeedsNeo4j(f) => refused(&f, "the snapshot cannot answer it"),
        _ => bad(
            ErrorCode::BadRequest,
            "Neo.ClientError.Request.Invalid",
            message,
        ),
    }
}

/// 422 `cypher_unsupported`: the construct that needs Neo4j, and why it is not forwarded.
fn refused(f: &Forward, why_not: &str) -> CypherFailure {
    CypherFailure::new(
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CypherUnsupported,
            format!(
                "{} at line {}, column {} needs Neo4j: {}; {why_not}",
                f.construct, f.line, f.column, f.reason
            ),
        )
        .with_details(serde_json::json!({
            "construct": f.construct, "line": f.line, "column": f.column, "reason": f.reason,
        })),
        "Neo.ClientError.Statement.NotSupported",
    )
}

/// What the answer of one statement is, before it is encoded.
struct Answered {
    fields: Vec<String>,
    rows: Vec<Vec<Value>>,
    by: CypherAnsweredBy,
    because: Option<String>,
    plan: Option<String>,
    held: Vec<OwnedSemaphorePermit>,
    room: u64,
}

/// What `/v1/cypher` and `/db/{name}/query/v2` answer, for their OpenAPI documents.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // Only read by the OpenAPI derive.
pub(crate) enum CypherResponses {
    #[response(
        status = 200,
        description = "The answer, from the snapshot or Neo4j (`answeredBy`); with `Accept: application/x-ndjson`, a line with `fields`, one line per row, then a line with `answeredBy` and `stats`"
    )]
    Answer(CypherResponse),
    #[response(
        status = 400,
        description = "`cypher_syntax` (with `details.line`, `column`, `rendered`), `cypher_write`, `cypher_parameter` (`details.parameter`), `cypher_semantic`, `cypher_runtime`, `neo4j_refused` (Neo4j's own refusal of a forwarded statement, `details.neo4jCode`), or a malformed body"
    )]
    BadRequest(ErrorBody),
    #[response(status = 401, description = "A token is needed")]
    Unauthorized(ErrorBody),
    #[response(
        status = 404,
        description = "`database_not_found`: `/db/{name}/query/v2` names a database this sidecar does not serve"
    )]
    NotFound(ErrorBody),
    #[response(
        status = 408,
        description = "`body_timeout`: the request body did not arrive within the body timeout"
    )]
    BodyTimeout(ErrorBody),
    #[response(
        status = 413,
        description = "The request body or the answer is over its cap"
    )]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "The body is not JSON")]
    NotJson(ErrorBody),
    #[response(
        status = 422,
        description = "`budget_exceeded` (`details.budget`), or `cypher_unsupported`: the statement needs Neo4j and is not forwarded (`details.construct`, `line`, `column`)"
    )]
    Unprocessable(ErrorBody),
    #[response(
        status = 503,
        description = "Over capacity (`Retry-After`), Neo4j unreachable for a forwarded statement, or the served file was changed in place"
    )]
    Unavailable(ErrorBody),
    #[response(
        status = 504,
        description = "`neo4j_timeout`: Neo4j did not answer a forwarded statement in time"
    )]
    Neo4jTimeout(ErrorBody),
}

/// Read-only Cypher: answered from the snapshot when it can, else by Neo4j in a read
/// transaction (`answeredBy`, `forwardedBecause`), or refused (`neotrav serve --unsupported
/// refuse`). Errors are `{"error": {...}}`.
#[utoipa::path(post, path = "/v1/cypher", request_body(content = CypherRequest,
        content_type = "application/json"),
    responses(CypherResponses), security(("bearer" = [])))]
pub(crate) async fn cypher(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Admitted<CypherRequest>, ApiError>,
) -> Result<Response, CypherFailure> {
    let body = body?;
    answer(&state, &headers, body.value, body.reserved).await
}

/// Neo4j's Query API path: the same as `/v1/cypher`, with errors in the Query API's shape
/// (`{"errors": [{"code", "message"}]}`, Neo4j's status codes). `{name}` must be the served
/// database.
#[utoipa::path(post, path = "/db/{name}/query/v2", request_body(content = CypherRequest,
        content_type = "application/json"),
    params(("name" = String, Path, description = "The database: the one this sidecar serves")),
    responses((status = 200, description = "The answer", body = CypherResponse),
        (status = 400, description = "A statement or request error, with Neo4j's status code", body = QueryApiErrors),
        (status = 401, description = "A token is needed", body = QueryApiErrors),
        (status = 404, description = "`Neo.ClientError.Database.DatabaseNotFound`: not the served database", body = QueryApiErrors),
        (status = 408, description = "The request body did not arrive in time", body = QueryApiErrors),
        (status = 413, description = "The request body or the answer is over its cap", body = QueryApiErrors),
        (status = 415, description = "The body is not JSON", body = QueryApiErrors),
        (status = 422, description = "A budget was exceeded, or the statement needs Neo4j and is not forwarded", body = QueryApiErrors),
        (status = 503, description = "Over capacity, or Neo4j unreachable for a forwarded statement", body = QueryApiErrors),
        (status = 504, description = "Neo4j did not answer a forwarded statement in time", body = QueryApiErrors)),
    security(("bearer" = [])))]
pub(crate) async fn query_v2(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Admitted<CypherRequest>, ApiError>,
) -> Result<Response, CypherFailure> {
    let query_api = |mut f: CypherFailure| {
        f.shape = Shape::QueryApi;
        f
    };
    if name != state.cypher.database {
        let mut f = CypherFailure::new(
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::DatabaseNotFound,
                format!(
                    "this sidecar serves database `{}` only (a snapshot of it), not `{}`",
                    state.cypher.database,
                    name.chars().take(100).collect::<String>()
                ),
            ),
            "Neo.ClientError.Database.DatabaseNotFound",
        );
        f.shape = Shape::QueryApi;
        return Err(f);
    }
    let body = body.map_err(|e| query_api(e.into()))?;
    answer(&state, &headers, body.value, body.reserved)
        .await
        .map_err(query_api)
}

/// The statement without a leading `EXPLAIN` (blanked, so lines and columns stay those of
/// the text as sent), and whether it had one. The parser may not take `EXPLAIN` itself.
fn strip_explain(text: &str) -> (std::borrow::Cow<'_, str>, bool) {
    let start = text.len() - text.trim_start().len();
    let rest = &text[start..];
    let explain = rest
        .get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("explain"))
        && rest[7..].starts_with(char::is_whitespace);
    if explain {
        let mut t = text.to_owned();
        t.replace_range(start..start + 7, "       ");
        (t.into(), true)
    } else {
        (text.into(), false)
    }
}

async fn answer(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    req: CypherRequest,
    body: OwnedSemaphorePermit,
) -> Result<Response, CypherFailure> {
    let started = Instant::now();
    let encoding = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map_or(Encoding::Plain, Encoding::from_accept);
    let ndjson = wants_ndjson(headers);
    let result = run(state, req, body).await;
    match &result {
        Ok(a) => state.metrics.record_cypher(
            match a.by {
                CypherAnsweredBy::Snapshot => "snapshot",
                CypherAnsweredBy::Neo4j => "neo4j",
            },
            "ok",
        ),
        Err(f) => state
            .metrics
            .record_cypher("none", f.error.body.error.code.as_str()),
    }
    let a = result?;
    let stats = CypherStats {
        rows: a.rows.len() as u64,
        elapsed_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        warnings: Vec::new(),
    };
    if ndjson {
        return Ok(ndjson_response(a, stats, state.max_response_bytes));
    }
    let response = CypherResponse {
        data: CypherData {
            values: a
                .rows
                .iter()
                .map(|r| r.iter().map(|v| v.encode(encoding)).collect())
                .collect(),
            fields: a.fields,
        },
        answered_by: a.by,
        forwarded_because: a.because,
        bookmarks: Vec::new(),
        counters: None,
        stats,
        plan: a.plan,
    };
    let json = encode_json(state.max_response_bytes, &response, a.room)?;
    let mut r = json_response(json, a.held);
    if encoding == Encoding::Typed {
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/vnd.neo4j.query"),
        );
    }
    Ok(r)
}

/// The answer as NDJSON lines; a row that would pass the response cap (`cap` bytes) ends the
/// lines with an error line instead, as a traversal's NDJSON does.
fn ndjson_response(a: Answered, stats: CypherStats, cap: usize) -> Response {
    let mut out = Vec::new();
    let _ = serde_json::to_writer(&mut out, &serde_json::json!({ "fields": a.fields }));
    out.push(b'\n');
    for row in &a.rows {
        let before = out.len();
        let line: Vec<serde_json::Value> = row.iter().map(|v| v.encode(Encoding::Plain)).collect();
        let _ = serde_json::to_writer(&mut out, &line);
        out.push(b'\n');
        if out.len() > cap {
            out.truncate(before);
            out.extend_from_slice(
                br#"{"error":{"code":"response_too_large","message":"the answer passed the response cap; add a LIMIT or narrow the statement"}}"#,
            );
            out.push(b'\n');
            let body = crate::admission::Held::body(axum::body::Body::from(out), a.held);
            return ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response();
        }
    }
    let mut trailer = serde_json::json!({ "answeredBy": a.by, "stats": stats });
    if let Some(b) = &a.because {
        trailer["forwardedBecause"] = serde_json::Value::String(b.clone());
    }
    if let Some(p) = &a.plan {
        trailer["plan"] = serde_json::Value::String(p.clone());
    }
    let _ = serde_json::to_writer(&mut out, &trailer);
    out.push(b'\n');
    let body = crate::admission::Held::body(axum::body::Body::from(out), a.held);
    ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
}

/// Parses, plans (cached) and answers one statement.
async fn run(
    state: &Arc<AppState>,
    req: CypherRequest,
    body: OwnedSemaphorePermit,
) -> Result<Answered, CypherFailure> {
    let budget = req.budget.clone().unwrap_or_default();
    let limits = state.limits;
    let budgets = Budgets::of(&budget, limits).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            e.to_string(),
        )
        .with_details(serde_json::json!({ "field": e.field }))
    })?;
    let (text, stripped) = strip_explain(&req.statement);
    let params = Params::from_map(&req.parameters).map_err(cypher_failure)?;
    let loaded = state.current.load_full();
    loaded.usable()?;
    let prepared = prepare(state, &loaded, &text)?;
    let explain = stripped || prepared.explain;
    let forward = match &prepared.decision {
        Prepared::Forward(f) => f.clone(),
        Prepared::Local(plan) => {
            if explain {
                return Ok(Answered {
                    fields: Vec::new(),
                    rows: Vec::new(),
                    by: CypherAnsweredBy::Snapshot,
                    because: None,
                    plan: Some(plan.to_string()),
                    held: vec![body],
                    room: budgets.max_memory,
                });
            }
            let database_id = database_id(state).await;
            let mut cypher_limits = Limits {
                deadline: budgets.deadline,
                max_memory: budgets.max_memory,
                max_work: budgets.max_visited,
                database_id,
            };
            let tried = Instant::now();
            if let Some(ran) = inline(
                state,
                &loaded,
                plan,
                &prepared,
                &params,
                &cypher_limits,
                &budget,
            )? {
                return answered(ran, body, budgets.max_memory);
            }
            // What an attempt that stopped at the inline caps took is the request's time too.
            cypher_limits.deadline = cypher_limits.deadline.saturating_sub(tried.elapsed());
            let generation = loaded.generation;
            let prepared = prepared.clone();
            let planning = state.clone();
            let text = text.into_owned();
            let ran = blocking(state, &budget, None, move |l, _, _| {
                // A swap while this request waited: plan again on the snapshot it now reads
                // (rare, so the cache keeps plans only and this parses again on a miss).
                let prepared = if l.generation == generation {
                    prepared
                } else {
                    prepare(&planning, l, &text).map_err(|f| f.error)?
                };
                Ok(match &prepared.decision {
                    Prepared::Local(plan) => plan.run(l.engine.snapshot(), &params, &cypher_limits),
                    Prepared::Forward(f) => Err(CypherError::NeedsNeo4j(f.clone())),
                })
            })
            .await?;
            match ran {
                (Err(CypherError::NeedsNeo4j(f)), _) => f,
                ran => return answered(ran, body, budgets.max_memory),
            }
        }
    };
    if explain {
        return Ok(Answered {
            fields: Vec::new(),
            rows: Vec::new(),
            by: CypherAnsweredBy::Neo4j,
            because: Some(forward.to_string()),
            plan: Some(format!(
                "Forward to Neo4j: {} (line {}, column {}): {}",
                forward.construct, forward.line, forward.column, forward.reason
            )),
            held: vec![body],
            room: budgets.max_memory,
        });
    }
    forward_to_neo4j(
        state,
        &req,
        &forward,
        budgets.deadline,
        body,
        budgets.max_memory,
    )
    .await
}

/// A snapshot run's outcome, with the memory reserved for it.
type Ran = (
    Result<neotrav_cypher::Answer, CypherError>,
    OwnedSemaphorePermit,
);

/// A snapshot run's answer as [`Answered`], holding the request body's reservation and the
/// run's; a run that needs Neo4j is not passed here.
fn answered(
    ran: Ran,
    body: OwnedSemaphorePermit,
    max_memory: u64,
) -> Result<Answered, CypherFailure> {
    let (answer, reserved) = ran;
    let answer = answer.map_err(cypher_failure)?;
    let held = budget::answer_room(&answer.rows);
    Ok(Answered {
        fields: answer.fields,
        rows: answer.rows,
        by: CypherAnsweredBy::Snapshot,
        because: None,
        plan: None,
        held: vec![body, reserved],
        room: max_memory.saturating_sub(held),
    })
}

/// Runs `plan` on this async worker, capped at [`INLINE_WORK`], when a traversal slot is free
/// at once and the statement has not lately passed the cap. `None`: run it through
/// [`blocking`] instead (no free slot or memory at once, lately large, or it passed the cap
/// this time).
fn inline(
    state: &AppState,
    loaded: &crate::state::Loaded,
    plan: &neotrav_cypher::Plan,
    cached: &Cached,
    params: &Params,
    limits: &Limits,
    budget: &neotrav_wire::Budget,
) -> Result<Option<Ran>, CypherFailure> {
    let skip = cached.pooled.load(Ordering::Relaxed);
    if skip > 0 {
        cached.pooled.store(skip - 1, Ordering::Relaxed);
        return Ok(None);
    }
    // Both at once or neither: a request that would wait for either waits on the pool's
    // path, which bounds waiting.
    let Some(reserved) = state
        .admission
        .try_memory(Budgets::memory_of(budget, state.limits))
    else {
        return Ok(None);
    };
    let Some(slot) = state.admission.try_slot() else {
        return Ok(None);
    };
    let inline_limits = Limits {
        max_work: limits.max_work.min(INLINE_WORK),
        ..limits.clone()
    };
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        plan.run(loaded.engine.snapshot(), params, &inline_limits)
    }))
    .map_err(|_| CypherFailure::from(crate::encode::worker_failed()))?;
    drop(slot);
    // Past this path's own cap (not the request's, when that is lower): again off the
    // reactor.
    match ran {
        Err(CypherError::Budget {
            budget: "maxVisited",
            ..
        }) if INLINE_WORK < limits.max_work => {
            cached.pooled.store(POOLED_RUNS, Ordering::Relaxed);
            Ok(None)
        }
        ran => Ok(Some((ran, reserved))),
    }
}

mod budget {
    /// A rough count of the bytes an answer's rows hold.
    pub(super) fn answer_room(rows: &[Vec<neotrav_wire::cypher::Value>]) -> u64 {
        rows.iter().map(|r| 24 + 48 * r.len() as u64).sum()
    }
}

/// The cached parse and plan of `text` on `loaded`, parsing and planning it on a miss.
fn prepare(
    state: &AppState,
    loaded: &crate::state::Loaded,
    text: &str,
) -> Result<Arc<Cached>, CypherFailure> {
    if let Some(c) = lock(&state.cypher.plans).get(loaded.generation, text) {
        return Ok(c);
    }
    let statement = neotrav_cypher::parse(text).map_err(cypher_failure)?;
    let c = Arc::new(Cached {
        pooled: AtomicU32::new(0),
        explain: statement.is_explain(),
        decision: statement
            .plan(loaded.engine.snapshot())
            .map_err(cypher_failure)?,
    });
    lock(&state.cypher.plans).put(loaded.generation, text, c.clone());
    Ok(c)
}

/// Starts learning the database id, when the state has Neo4j and this runs in a runtime, so
/// that the first Cypher request finds it known.
pub(crate) fn learn_database_id(state: &Arc<AppState>) {
    if state.neo4j.is_none() {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let state = state.clone();
        runtime.spawn(async move { database_id(&state).await });
    }
}

/// What the sidecar knows of the database id element ids carry.
pub(crate) enum DatabaseId {
    /// Not yet asked.
    Unknown,
    /// Being learned; the receiver sees `true` when the attempt is over. Requests wait for
    /// the first attempt only, not for retries after a failure.
    Learning {
        over: tokio::sync::watch::Receiver<bool>,
        first: bool,
        started: Instant,
    },
    /// The last attempt failed (Neo4j down, slow, or an empty database) at this time.
    Failed(Instant),
    Known(String),
}

/// How long a request waits for the database id while it is being learned.
const DATABASE_ID_WAIT: Duration = Duration::from_secs(3);
/// How long after a failed attempt requests go without the database id before one tries again.
const DATABASE_ID_RETRY: Duration = Duration::from_secs(10);

/// The database id for element ids: Neo4j's, learned once (empty without Neo4j, or until the
/// database has a node). Only the first attempt is waited for, and only until
/// [`DATABASE_ID_WAIT`] after it started; once it failed (Neo4j down, slow or refusing) requests do not wait on
/// Neo4j for it at all: one attempt at a time runs in the background, at most one per
/// [`DATABASE_ID_RETRY`], and until one succeeds element ids carry an empty database id.
async fn database_id(state: &Arc<AppState>) -> String {
    let Some(graph) = &state.neo4j else {
        return String::new();
    };
    let (mut over, started) = {
        let mut known = lock(&state.cypher.database_id);
        match &*known {
            DatabaseId::Known(id) => return id.clone(),
            DatabaseId::Failed(at) if at.elapsed() < DATABASE_ID_RETRY => return String::new(),
            DatabaseId::Learning { first: false, .. } => return String::new(),
            DatabaseId::Learning { over, started, .. } => (over.clone(), *started),
            DatabaseId::Unknown | DatabaseId::Failed(_) => {
                let first = matches!(*known, DatabaseId::Unknown);
                let (done, over) = tokio::sync::watch::channel(false);
                let started = Instant::now();
                *known = DatabaseId::Learning {
                    over: over.clone(),
                    first,
                    started,
                };
                let (state, graph) = (state.clone(), graph.clone());
                tokio::spawn(async move {
                    let learned = tokio::time::timeout(
                        state.neo4j_timeout,
                        neotrav_neo4j::forward::database_id(&graph),
                    )
                    .await;
                    let now = match learned {
                        Ok(Ok(Some(id))) => DatabaseId::Known(id),
                        Ok(Ok(None)) => DatabaseId::Failed(Instant::now()),
                        Ok(Err(e)) => {
                            tracing::warn!(
                                "learning the database id from Neo4j failed (element ids carry \
                                 none until it is learned; retrying in {} s): {e}",
                                DATABASE_ID_RETRY.as_secs()
                            );
                            DatabaseId::Failed(Instant::now())
                        }
                        Err(_) => {
                            tracing::warn!(
                                "Neo4j did not tell the database id within {} ms (element ids \
                                 carry none until it is learned; retrying in {} s)",
                                state.neo4j_timeout.as_millis(),
                                DATABASE_ID_RETRY.as_secs()
                            );
                            DatabaseId::Failed(Instant::now())
                        }
                    };
                    *lock(&state.cypher.database_id) = now;
                    let _ = done.send(true);
                });
                if !first {
                    return String::new();
                }
                (over, started)
            }
        }
    };
    let until = tokio::time::Instant::from_std(started + DATABASE_ID_WAIT);
    let _ = tokio::time::timeout_at(until, over.wait_for(|over| *over)).await;
    match &*lock(&state.cypher.database_id) {
        DatabaseId::Known(id) => id.clone(),
        _ => String::new(),
    }
}

async fn forward_to_neo4j(
    state: &Arc<AppState>,
    req: &CypherRequest,
    forward: &Forward,
    deadline: Duration,
    body: OwnedSemaphorePermit,
    room: u64,
) -> Result<Answered, CypherFailure> {
    let graph = match (state.cypher.unsupported, &state.neo4j) {
        (Unsupported::Refuse, _) => {
            return Err(refused(
                forward,
                "this sidecar does not forward (neotrav serve --unsupported refuse)",
            ));
        }
        (Unsupported::Forward, None) => {
            return Err(refused(
                forward,
                "this sidecar has no Neo4j to forward it to (neotrav serve --no-neo4j)",
            ));
        }
        (Unsupported::Forward, Some(g)) => g.clone(),
    };
    let params: Vec<(String, Value)> = req
        .parameters
        .iter()
        .map(|(k, v)| {
            Value::from_parameter(v)
                .map(|v| (k.clone(), v))
                .map_err(|e| {
                    cypher_failure(CypherError::BadParameter {
                        name: k.clone(),
                        message: e.0,
                    })
                })
        })
        .collect::<Result<_, _>>()?;
    // Forwarded statements hold Neo4j connections: they take the fresh requests' slots.
    let until = Instant::now() + deadline;
    let _turn = state.fresh_turn(Some(until)).await?;
    let database_id = database_id(state).await;
    let limit = until
        .saturating_duration_since(Instant::now())
        .min(state.neo4j_timeout);
    let ran = tokio::time::timeout(
        limit,
        neotrav_neo4j::forward::forward(&graph, &database_id, &req.statement, &params),
    )
    .await;
    use neotrav_neo4j::forward::ForwardError;
    match ran {
        Ok(Ok(answer)) => Ok(Answered {
            fields: answer.fields,
            rows: answer.rows,
            by: CypherAnsweredBy::Neo4j,
            because: Some(forward.to_string()),
            plan: None,
            held: vec![body],
            room,
        }),
        Ok(Err(ForwardError::Refused { code, message })) => {
            let status = if code.starts_with("Neo.ClientError.") {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let api_code = if status == StatusCode::BAD_REQUEST {
                ErrorCode::Neo4jRefused
            } else {
                ErrorCode::Neo4jUnavailable
            };
            let mut f = CypherFailure::new(
                ApiError::new(
                    status,
                    api_code,
                    format!("Neo4j refused the forwarded statement: {message}"),
                )
                .with_details(serde_json::json!({ "neo4jCode": code })),
                "",
            );
            f.neo4j_code_owned = Some(code);
            Err(f)
        }
        Ok(Err(ForwardError::Value(m))) => Err(CypherFailure::new(
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::CypherRuntime,
                format!("Neo4j's answer holds a value neotrav cannot carry: {m}"),
            ),
            "Neo.ClientError.Statement.TypeError",
        )),
        Ok(Err(e)) => {
            tracing::warn!("forwarding a statement to Neo4j failed: {e}");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Neo4jUnavailable,
                "Neo4j could not be reached to answer a statement the snapshot cannot; \
                 statements the snapshot answers keep working",
            )
            .into())
        }
        Err(_) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::Neo4jTimeout,
            format!(
                "Neo4j did not answer the forwarded statement within {} ms \
                 (budget.deadlineMs, at most --neo4j-timeout)",
                limit.as_millis()
            ),
        )
        .into()),
    }
}
