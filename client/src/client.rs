//! A typed async client for the sidecar's HTTP API.
//!
//! One [`Client`] holds a connection pool; clone it freely (clones share the pool). Every call
//! has a timeout; calls that change nothing (every call but `invalidate` and `reload`: a
//! traversal only reads) are retried on connection failures and 502/503/504 with a short
//! back-off. A failed call is a [`ClientError`] carrying the sidecar's
//! `{"error": {"code", "message"}}` when it sent one.
//!
//! ```no_run
//! # #![recursion_limit = "256"]
//! # async fn run() -> Result<(), neotrav_client::ClientError> {
//! use neotrav_client::Client;
//! use neotrav_wire::{ReturnForm, TraverseRequest, Uniqueness};
//!
//! let client = Client::new("http://127.0.0.1:7475")?;
//! let mut request = TraverseRequest::from_start(0u64);
//! request.relationship_filter = Some("CHILD_A>|CHILD_B>".into());
//! request.uniqueness = Uniqueness::NodeGlobal;
//! request.return_form = ReturnForm::Count;
//! let response = client.traverse(&request).await?;
//! println!("{:?} in {} ms", response.answer, response.stats.elapsed_ms);
//! # Ok(()) }
//! ```

#[cfg(feature = "cypher-fallback")]
use std::sync::{Arc, Mutex};
use std::time::Duration;
#[cfg(feature = "cypher-fallback")]
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "cypher-fallback")]
use crate::fallback::Fallback;
use crate::wire::cypher::{CypherRequest, CypherResponse};
use crate::wire::{
    ErrorBody, ErrorCode, InvalidateRequest, InvalidateResponse, NeighborsRequest, ReloadRequest,
    ShortestPathRequest, ShortestPathResponse, SnapshotInfo, TraverseRequest, TraverseResponse,
};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL is not a URL.
    #[error("`{0}` is not a sidecar URL (http://host:port, like http://127.0.0.1:7475)")]
    BadUrl(String),
    /// The sidecar could not be reached, or did not answer in time.
    #[error("cannot reach the sidecar at {url}: {message}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The sidecar answered with an error.
    #[error("the sidecar answered {status} {code}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The error code ([`ErrorCode::Unknown`] when the answer had no error body).
        code: ErrorCode,
        /// The message.
        message: String,
    },
    /// The sidecar's answer was not the JSON expected.
    #[error("the sidecar's answer to {url} could not be read: {message}")]
    BadAnswer {
        /// The URL called.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The Cypher fallback (feature `cypher-fallback`) cannot answer this request as the
    /// sidecar would, so it refuses rather than answer differently.
    #[error("the Cypher fallback cannot answer `{field}` as the sidecar would: {message}")]
    Unsupported {
        /// The request field (`expandByLabel`, `uniqueness`, ...).
        field: String,
        /// Why.
        message: String,
    },
    /// The Cypher fallback's query failed (Neo4j unreachable or refusing, an unknown node, a
    /// deadline).
    #[error("the Cypher fallback failed: {message}")]
    Fallback {
        /// What went wrong.
        message: String,
    },
}

impl ClientError {
    /// Whether retrying might help (the sidecar unreachable, restarting or overloaded).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Api { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }
}

/// A client of one sidecar.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    retries: u32,
    #[cfg(feature = "cypher-fallback")]
    fallback: Option<Arc<FallbackState>>,
}

/// The fallback and what the client knows of the sidecar's health.
#[cfg(feature = "cypher-fallback")]
#[derive(Debug)]
struct FallbackState {
    fallback: Fallback,
    recheck: Duration,
    /// When the sidecar was last found unreachable, while it is not known to be back.
    down_since: Mutex<Option<Instant>>,
}

#[cfg(feature = "cypher-fallback")]
impl FallbackState {
    fn down(&self) -> Option<Instant> {
        *self.down_since.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_down(&self, down: bool) {
        *self.down_since.lock().unwrap_or_else(|e| e.into_inner()) = down.then(Instant::now);
    }
}

impl Client {
    /// A client of the sidecar at `base` (`http://host:port`), with a 30 s timeout and two
    /// retries for calls that change nothing.
    pub fn new(base: &str) -> Result<Client, ClientError> {
        Client::builder(base).build()
    }

    /// A builder, to set the token, timeout and retries.
    pub fn builder(base: &str) -> ClientBuilder {
        ClientBuilder {
            base: base.trim_end_matches('/').to_string(),
            token: None,
            timeout: Duration::from_secs(30),
            retries: 2,
            #[cfg(feature = "cypher-fallback")]
            fallback: None,
            #[cfg(feature = "cypher-fallback")]
            recheck: Duration::from_secs(1),
        }
    }

    /// `POST /v1/traverse`; with a [fallback](ClientBuilder::fallback), answered by APOC
    /// when the sidecar is unreachable.
    pub async fn traverse(&self, r: &TraverseRequest) -> Result<TraverseResponse, ClientError> {
        #[cfg(feature = "cypher-fallback")]
        if let Some(state) = &self.fallback {
            return self
                .or_fallback(state, "/v1/traverse", r, state.fallback.traverse(r))
                .await;
        }
        self.post("/v1/traverse", r, true).await
    }

    /// `POST /v1/neighbors`; with a [fallback](ClientBuilder::fallback), answered by APOC
    /// when the sidecar is unreachable.
    pub async fn neighbors(&self, r: &NeighborsRequest) -> Result<TraverseResponse, ClientError> {
        #[cfg(feature = "cypher-fallback")]
        if let Some(state) = &self.fallback {
            return self
                .or_fallback(state, "/v1/neighbors", r, state.fallback.neighbors(r))
                .await;
        }
        self.post("/v1/neighbors", r, true).await
    }

    /// `POST /v1/shortest-path`; with a [fallback](ClientBuilder::fallback), answered by
    /// Cypher's `shortestPath` when the sidecar is unreachable.
    pub async fn shortest_path(
        &self,
        r: &ShortestPathRequest,
    ) -> Result<ShortestPathResponse, ClientError> {
        #[cfg(feature = "cypher-fallback")]
        if let Some(state) = &self.fallback {
            return self
                .or_fallback(
                    state,
                    "/v1/shortest-path",
                    r,
                    state.fallback.shortest_path(r),
                )
                .await;
        }
        self.post("/v1/shortest-path", r, true).await
    }

    /// `POST /v1/cypher`: one read-only Cypher statement, answered from the sidecar's snapshot
    /// or by Neo4j behind it (`answered_by`, `forwarded_because`); values in the plain
    /// encoding. With a [fallback](ClientBuilder::fallback), run on Neo4j directly while the
    /// sidecar is unreachable (`answered_by` Neo4j, `forwarded_because` saying so).
    pub async fn cypher(&self, r: &CypherRequest) -> Result<CypherResponse, ClientError> {
        #[cfg(feature = "cypher-fallback")]
        if let Some(state) = &self.fallback {
            return self
                .or_fallback(state, "/v1/cypher", r, state.fallback.cypher(r))
                .await;
        }
        self.post("/v1/cypher", r, true).await
    }

    /// [`Client::cypher`] of `statement` with `parameters` (a JSON object: plain or typed
    /// values; anything else is no parameters).
    pub async fn cypher_statement(
        &self,
        statement: &str,
        parameters: serde_json::Value,
    ) -> Result<CypherResponse, ClientError> {
        let mut r = CypherRequest::new(statement);
        if let serde_json::Value::Object(p) = parameters {
            r.parameters = p;
        }
        self.cypher(&r).await
    }

    /// Asks the sidecar, or `fallback` when it is unreachable. Once it was found unreachable,
    /// calls go straight to the fallback until `recheck` has passed; then one call tries the
    /// sidecar again (without retries), and a success switches back.
    #[cfg(feature = "cypher-fallback")]
    async fn or_fallback<B: Serialize, T: DeserializeOwned>(
        &self,
        state: &FallbackState,
        path: &str,
        body: &B,
        fallback: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        let retries = match state.down() {
            Some(since) if since.elapsed() < state.recheck => return fallback.await,
            Some(_) => 0,
            None => self.retries,
        };
        let url = format!("{}{path}", self.base);
        match self
            .attempts(reqwest::Method::POST, &url, Some(body), retries + 1)
            .await
        {
            Err(ClientError::Unreachable { .. }) => {
                state.set_down(true);
                fallback.await
            }
            other => {
                state.set_down(false);
                other
            }
        }
    }

    /// `POST /v1/invalidate`: marks nodes changed since the snapshot (not retried).
    pub async fn invalidate(&self, ids: &[u64]) -> Result<InvalidateResponse, ClientError> {
        let r = InvalidateRequest { ids: ids.to_vec() };
        self.post("/v1/invalidate", &r, false).await
    }

    /// `GET /v1/snapshot`.
    pub async fn snapshot(&self) -> Result<SnapshotInfo, ClientError> {
        self.call(reqwest::Method::GET, "/v1/snapshot", None::<&()>, true)
            .await
    }

    /// `POST /v1/snapshot/reload`: swaps in `path` (default: the served file, re-read); not
    /// retried.
    pub async fn reload(&self, path: Option<&str>) -> Result<SnapshotInfo, ClientError> {
        let r = ReloadRequest {
            path: path.map(str::to_string),
            export: false,
        };
        self.post("/v1/snapshot/reload", &r, false).await
    }

    /// `POST /v1/snapshot/reload` with `export`: the sidecar re-exports the graph from Neo4j
    /// into its snapshot file and swaps it in; not retried.
    pub async fn refresh(&self) -> Result<SnapshotInfo, ClientError> {
        let r = ReloadRequest {
            path: None,
            export: true,
        };
        self.post("/v1/snapshot/reload", &r, false).await
    }

    /// `GET /readyz`: whether the sidecar serves a snapshot and its last reload succeeded.
    pub async fn ready(&self) -> Result<bool, ClientError> {
        let url = format!("{}/readyz", self.base);
        match self.http.get(&url).send().await {
            Ok(r) => Ok(r.status().is_success()),
            Err(e) => Err(ClientError::Unreachable {
                url,
                message: e.to_string(),
            }),
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotent: bool,
    ) -> Result<T, ClientError> {
        self.call(reqwest::Method::POST, path, Some(body), idempotent)
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let attempts = if idempotent { self.retries + 1 } else { 1 };
        self.attempts(method, &url, body, attempts).await
    }

    async fn attempts<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
        attempts: u32,
    ) -> Result<T, ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.once(method.clone(), url, body).await;
            match result {
                Err(e) if e.is_transient() && attempt < attempts => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn once<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let mut request = self.http.request(method, url);
        if let Some(t) = &self.token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(b) => ClientError::Api {
                    status: status.as_u16(),
                    code: b.error.code,
                    message: b.error.message,
                },
                Err(_) => ClientError::Api {
                    status: status.as_u16(),
                    code: ErrorCode::Unknown,
                    message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                },
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer {
            url: url.to_string(),
            message: e.to_string(),
        })
    }
}

/// Builds a [`Client`].
///
/// ```
/// let client = neotrav_client::Client::builder("http://127.0.0.1:7475/")
///     .token("s3cret")
///     .timeout(std::time::Duration::from_secs(5))
///     .retries(0)
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base: String,
    token: Option<String>,
    timeout: Duration,
    retries: u32,
    #[cfg(feature = "cypher-fallback")]
    fallback: Option<Fallback>,
    #[cfg(feature = "cypher-fallback")]
    recheck: Duration,
}

impl ClientBuilder {
    /// The bearer token the sidecar was started with (`--token-file`).
    pub fn token(mut self, token: impl Into<String>) -> ClientBuilder {
        self.token = Some(token.into());
        self
    }

    /// The time a call may take, connection included.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// Retries for calls that change nothing.
    pub fn retries(mut self, retries: u32) -> ClientBuilder {
        self.retries = retries;
        self
    }

    /// Answers `traverse`, `neighbors` and `shortest_path` with Cypher and APOC on Neo4j when
    /// the sidecar cannot be reached (a connection failure or timeout, after the retries); the
    /// answer's `stats.answeredBy` says `cypherFallback`. Other calls, and sidecar errors such
    /// as 400 or 503, are not redirected. See [`crate::fallback`] for how close the answers are
    /// and which requests it refuses.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), neotrav_client::ClientError> {
    /// use neotrav_client::Client;
    /// use neotrav_client::fallback::Fallback;
    ///
    /// let fallback = Fallback::connect("127.0.0.1:7687", "neo4j", "password")?;
    /// let client = Client::builder("http://127.0.0.1:7475").fallback(fallback).build()?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cypher-fallback")]
    pub fn fallback(mut self, fallback: Fallback) -> ClientBuilder {
        self.fallback = Some(fallback);
        self
    }

    /// How long calls go straight to the fallback after the sidecar was found unreachable,
    /// before one tries the sidecar again (1 s by default).
    ///
    /// ```
    /// let builder = neotrav_client::Client::builder("http://127.0.0.1:7475")
    ///     .fallback_recheck(std::time::Duration::from_millis(200));
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "cypher-fallback")]
    pub fn fallback_recheck(mut self, every: Duration) -> ClientBuilder {
        self.recheck = every;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, ClientError> {
        let parsed =
            reqwest::Url::parse(&self.base).map_err(|_| ClientError::BadUrl(self.base.clone()))?;
        // The sidecar serves plain HTTP, on loopback by default.
        if parsed.scheme() != "http" {
            return Err(ClientError::BadUrl(self.base));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                message: e.to_string(),
            })?;
        Ok(Client {
            http,
            base: self.base,
            token: self.token,
            retries: self.retries,
            #[cfg(feature = "cypher-fallback")]
            fallback: self.fallback.map(|fallback| {
                Arc::new(FallbackState {
                    fallback,
                    recheck: self.recheck,
                    down_since: Mutex::new(None),
                })
            }),
        })
    }
}
