//! The sidecar's router called in-process, one request at a time
//! (`tower::ServiceExt::oneshot`): what the sidecar's tests use wherever no real connection
//! matters. Tests of connections, of the accept loop's bounds, and of the typed client over
//! HTTP serve on a socket instead ([`crate::served::in_process`]).
//!
//! The router alone is what [`neotrav_server::serve`] runs for every request, without the
//! accept loop's layers (the request-timeout backstop and the body-size limit, which is
//! axum's default 2 MiB either way); no route reads anything only a real connection sets
//! (no `ConnectInfo`).
//!
//! ```no_run
//! # async fn f(app: axum::Router) {
//! use neotrav_testkit::router::{Method, Payload, call};
//! let answer = call(&app, Method::GET, "/healthz", Payload::Empty, &[]).await;
//! assert_eq!(answer.status, 200);
//! # }
//! ```

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub use axum::http::{Method, StatusCode};

/// A request's body.
pub enum Payload {
    /// None.
    Empty,
    /// JSON, sent with `Content-Type: application/json`.
    Json(Value),
    /// These bytes as they are, with whatever content type the headers give (or none).
    Raw(String),
}

/// A response, its body read to the end.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as text.
    ///
    /// # Panics
    ///
    /// When it is not UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("the body is UTF-8")
    }

    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When it is not JSON (the message holds the status and the body).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered a body that is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends `method path` with `body` and `headers` (name, value) through `app` and reads its
/// whole answer.
///
/// # Panics
///
/// When the request cannot be built, or the answer's body fails to arrive.
pub async fn call(
    app: &Router,
    method: Method,
    path: &str,
    body: Payload,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    let request = match body {
        Payload::Empty => request.body(Body::empty()),
        Payload::Json(value) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&value).unwrap())),
        Payload::Raw(text) => request.body(Body::from(text)),
    }
    .expect("a well-formed request");
    let response = app
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .expect("the answer's body arrives")
        .to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
