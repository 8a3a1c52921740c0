//! Invalidation and the served snapshot: what `POST /v1/invalidate`, `GET /v1/snapshot` and
//! `POST /v1/snapshot/reload` take and give.

use serde::{Deserialize, Serialize};

use crate::error::ErrorDetail;
use crate::response::Watermark;

/// `POST /v1/invalidate`: nodes changed in Neo4j since the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvalidateRequest {
    /// Neo4j node ids.
    pub ids: Vec<u64>,
}

/// The answer to an invalidation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvalidateResponse {
    /// Dirty nodes now (until the next snapshot swap).
    pub dirty: u64,
}

/// `GET /v1/snapshot`: what the sidecar is serving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// The file.
    pub path: String,
    /// The Neo4j address it was exported from (no credentials), if any.
    pub source: String,
    /// The database.
    pub database: String,
    /// The watermark.
    pub watermark: Watermark,
    /// Node count.
    pub nodes: u64,
    /// Relationship count.
    pub relationships: u64,
    /// Seconds since the snapshot was written.
    pub age_seconds: f64,
    /// Nodes invalidated since it was loaded.
    pub dirty: u64,
    /// How many snapshots this process has served (1 for the first).
    pub generation: u64,
    /// The served file was changed in place (not replaced by rename): traversals get 503
    /// `snapshot_modified` until a reload swaps in a verified file (absent when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub modified: bool,
    /// Why the newest reload or refresh failed, when it did (absent after a success): the
    /// detail `/readyz` leaves out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reload_failure: Option<ReloadFailure>,
}

/// A failed reload or refresh, as `GET /v1/snapshot` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReloadFailure {
    /// When it failed (RFC 3339).
    pub at: String,
    /// The attempt's number: reloads and refreshes are numbered as they start.
    pub attempt: u64,
    /// The error it answered.
    pub error: ErrorDetail,
}

/// `POST /v1/snapshot/reload`: load another file, or the same path again.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReloadRequest {
    /// The file to load (default: the file being served, re-read from disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Re-export the graph from Neo4j into the served file first (instead of `path`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub export: bool,
}
