//! `GET /metrics`: Prometheus counters and histograms of requests, misses, Cypher round trips,
//! snapshot age and reload failures.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use neotrav_wire::ErrorBody;
use neotrav_wire::ErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::ApiError;
use crate::routes::info;
use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) endpoint: String,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct EndpointLabels {
    pub(crate) endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CypherLabels {
    pub(crate) answered_by: String,
    pub(crate) outcome: String,
}

/// The sidecar's Prometheus metrics.
pub(crate) struct Metrics {
    pub(crate) registry: Registry,
    pub(crate) requests: Family<RouteLabels, Counter>,
    pub(crate) latency: Family<EndpointLabels, Histogram>,
    pub(crate) misses: Counter,
    pub(crate) round_trips: Counter,
    pub(crate) snapshot_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    pub(crate) reload_failures: Counter,
    pub(crate) memory_reserved: Gauge,
    pub(crate) cypher: Family<CypherLabels, Counter>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("neotrav");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<EndpointLabels, Histogram>::new_with_constructor(|| {
            // 10 µs to about 10 s.
            Histogram::new(exponential_buckets(1e-5, 2.0, 21))
        });
        let misses = Counter::default();
        let round_trips = Counter::default();
        let snapshot_age = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let reload_failures = Counter::default();
        let memory_reserved = Gauge::default();
        let cypher = Family::<CypherLabels, Counter>::default();
        registry.register(
            "cypher_requests",
            "Cypher statements (/v1/cypher, /db/{name}/query/v2) by who answered (snapshot, neo4j, none) and outcome (ok or the error code)",
            cypher.clone(),
        );
        registry.register(
            "memory_reserved_bytes",
            "Memory reserved by requests now (their bodies and budget.maxMemory), of --max-memory",
            memory_reserved.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by endpoint and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by endpoint",
            latency.clone(),
        );
        registry.register(
            "misses",
            "Nodes read from Neo4j for fresh requests",
            misses.clone(),
        );
        registry.register(
            "cypher_round_trips",
            "Cypher round trips for misses",
            round_trips.clone(),
        );
        registry.register(
            "snapshot_age_seconds",
            "Seconds since the served snapshot was written",
            snapshot_age.clone(),
        );
        registry.register(
            "reload_failures",
            "Snapshot reloads that failed (the previous snapshot kept serving)",
            reload_failures.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            misses,
            round_trips,
            snapshot_age,
            reload_failures,
            memory_reserved,
            cypher,
        }
    }

    pub(crate) fn record_cypher(&self, answered_by: &str, outcome: &str) {
        self.cypher
            .get_or_create(&CypherLabels {
                answered_by: answered_by.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub(crate) fn record_stats(&self, stats: &neotrav_wire::Stats) {
        self.misses.inc_by(stats.misses);
        self.round_trips.inc_by(stats.cypher_round_trips);
    }
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text"), (status = 401, description = "A token is needed", body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let age = info(&state, &state.current.load()).age_seconds;
    state.metrics.snapshot_age.set(age);
    let reserved = state.admission.memory_total() - state.admission.memory_free();
    state
        .metrics
        .memory_reserved
        .set(i64::try_from(reserved).unwrap_or(i64::MAX));
    let mut out = String::new();
    match prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            out,
        )
            .into_response(),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "encoding the metrics failed",
        )
        .into_response(),
    }
}

/// Counts every request by endpoint (the route, not the raw path) and status, and times it.
pub(crate) async fn observe(
    State(state): State<Arc<AppState>>,
    matched: Option<axum::extract::MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let endpoint = matched.map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    state
        .metrics
        .latency
        .get_or_create(&EndpointLabels {
            endpoint: endpoint.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .requests
        .get_or_create(&RouteLabels {
            endpoint,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
