//! The sidecar's accept loop: hyper's HTTP/1.1 connection builder (the protocol `axum::serve`
//! spoke here; hyper-util's protocol-detecting builder needs HTTP/2 compiled in for its
//! graceful shutdown) and hyper-util's graceful shutdown, with the bounds `axum::serve` lacks, so that no client can hold
//! the sidecar's connections or memory by sending slowly, reading slowly, or not at all:
//!
//! - **Connection cap.** At most `max_connections` are open; past it the loop stops accepting,
//!   so new connections wait in the listen backlog (1,024; past that the kernel drops new
//!   attempts until there is room, and clients retry) until one closes. None is refused.
//! - **Idle timeout.** A connection with no request in flight that sends nothing for
//!   `idle_timeout` (from its accept, or from the end of its last response) is closed.
//! - **Header timeout.** Once the first byte of a request arrives, its head (request line and
//!   headers) must be complete within `header_timeout`, or the connection is closed.
//! - **Body timeout.** A request's whole body must arrive within `body_timeout` of its head,
//!   or the request gets 408 `body_timeout` (in the error shape) and the connection is closed.
//!   A body over `max_body_bytes` (2 MiB by default) is a 413. A client still sending a body
//!   the route refused may finish (up to 16 MiB more, within the body timeout; that rest is
//!   read and dropped), so it reads the 413 rather than a reset; then the connection closes.
//! - **Write timeout.** A connection whose client reads nothing of a response for
//!   `write_timeout` (its socket buffer full) is closed.
//! - **Request timeout.** A backstop for the routes that run no traversal and no reload
//!   (health, metrics, snapshot info, invalidation, the OpenAPI document): past
//!   `request_timeout` they answer 503 `timed_out`. Traversals end by their own
//!   `budget.deadlineMs`, fresh ones also by their Neo4j deadlines.
//!
//! The future `shutdown` stops the loop: no new connection is accepted, connections with no
//! request in flight are closed (idle ones, new ones that sent nothing, half-sent heads), and
//! the requests in flight finish (hyper-util's graceful shutdown) before [`serve`] returns.

use neotrav_wire::ErrorCode;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

use super::ApiError;
use crate::body::declared_length;
use crate::state::lock;

/// How [`serve`] bounds connections and requests; see the module documentation.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The longest a request's head may take from its first byte.
    pub header_timeout: Duration,
    /// The longest a request's whole body may take from the end of its head.
    pub body_timeout: Duration,
    /// How long a connection with no request in flight may send nothing.
    pub idle_timeout: Duration,
    /// How long a client may read nothing of a response.
    pub write_timeout: Duration,
    /// The backstop for routes that run no traversal or reload.
    pub request_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// The largest request body.
    pub max_body_bytes: usize,
}

/// The default [`ServeOptions::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`ServeOptions::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ServeOptions::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The default [`ServeOptions::write_timeout`].
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ServeOptions::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ServeOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// The default [`ServeOptions::max_body_bytes`]: axum's default JSON body limit, 2 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 << 20;

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests in
/// flight and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let options = Arc::new(options);
    let app = router
        .layer(middleware::from_fn_with_state(options.clone(), backstop))
        .layer(DefaultBodyLimit::max(options.max_body_bytes));
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    // hyper's graceful shutdown leaves a connection that has not yet sent a whole request
    // open until it does; this tells those to close.
    let (stopping, stop) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    'accept: loop {
        // Past the cap, wait for a connection to close before accepting another.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break 'accept,
        };
        let stream = loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => break stream,
                    Err(e) => accept_failed(e).await,
                },
                () = &mut shutdown => break 'accept,
            }
        };
        let (app, options, watcher) = (app.clone(), options.clone(), graceful.watcher());
        let stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            connection(stream, app, &options, watcher, stop).await;
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    tracing::info!(
        connections = graceful.count(),
        "stopped accepting; finishing the requests in flight"
    );
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection until it ends, idles or stalls past its bounds, or shuts down.
async fn connection(
    stream: TcpStream,
    app: Router,
    options: &ServeOptions,
    watcher: hyper_util::server::graceful::Watcher,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let mut io = TimeoutStream::new(stream);
    io.set_write_timeout(Some(options.write_timeout));
    let io = TokioIo::new(Watched {
        io: Box::pin(io),
        activity: activity.clone(),
    });
    let (body_timeout, max_body_bytes) = (options.body_timeout, options.max_body_bytes);
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let in_flight = requests.begin();
        let app = app.clone();
        async move {
            let timed_out = Arc::new(AtomicBool::new(false));
            let (parts, body) = req.into_parts();
            let deadline = Instant::now() + body_timeout;
            // A body the route may stop reading (over the cap, or of unknown length) stays
            // reachable after the route is done, so that its rest can be drained.
            let kept = may_be_left(&parts.headers, max_body_bytes)
                .then(|| Arc::new(Mutex::new(None::<Incoming>)));
            let body = match &kept {
                Some(slot) => {
                    *lock(slot) = Some(body);
                    ReadBody::Kept(slot.clone())
                }
                None => ReadBody::Owned(body),
            };
            let req = Request::from_parts(
                parts,
                Body::new(DeadlineBody::new(body, deadline, timed_out.clone())),
            );
            let mut response = app.oneshot(req).await.unwrap_or_else(|e| match e {});
            let left = kept.and_then(|slot| lock(&slot).take());
            if let Some(rest) = left.filter(|rest| !hyper::body::Body::is_end_stream(rest)) {
                linger(rest, deadline).await;
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            if timed_out.load(Ordering::Relaxed) {
                // Whatever the route made of its body's error, the answer is a 408 (the JSON
                // routes say so themselves, so that the metrics count it), and the rest of the
                // body, which may still be coming, is not read as a request.
                if response.status() != StatusCode::REQUEST_TIMEOUT {
                    response = late_body().into_response();
                }
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            // The request is in flight until its response's body is sent (or dropped).
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _in_flight = &in_flight;
                    frame
                }))
            }))
        }
    });
    // hyper's own header timer runs from the moment it waits for a head, idle time included;
    // the idle and header timeouts are `Activity`'s instead.
    let conn = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None::<Duration>)
        .serve_connection(io, service);
    let conn = watcher.watch(conn);
    tokio::select! {
        served = conn => {
            if let Err(e) = served {
                tracing::debug!("connection ended: {e}");
            }
        }
        why = activity.expired(options.idle_timeout, options.header_timeout, &mut stop) => {
            tracing::debug!("closing a connection: {why}");
        }
    }
}

async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    // Most likely out of file descriptors: wait for some to close.
    tracing::error!("accepting a connection failed: {e}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// What one connection is doing, for its idle and header timeouts.
struct Activity {
    phase: Mutex<Phase>,
    changed: Notify,
}

struct Phase {
    /// Requests whose response is not yet sent.
    in_flight: usize,
    /// With none in flight, whether a byte of the next request has arrived.
    head_started: bool,
    /// When the connection became idle, or when the next request's first byte arrived.
    since: Instant,
}

/// A request in flight on a connection, until dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut p = self.0.lock();
        p.in_flight -= 1;
        if p.in_flight == 0 {
            p.head_started = false;
            p.since = Instant::now();
        }
        drop(p);
        self.0.changed.notify_one();
    }
}

impl Activity {
    fn new() -> Activity {
        Activity {
            phase: Mutex::new(Phase {
                in_flight: 0,
                head_started: false,
                since: Instant::now(),
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.lock().in_flight += 1;
        self.changed.notify_one();
        InFlight(self.clone())
    }

    fn read_some(&self) {
        let mut p = self.lock();
        if p.in_flight == 0 && !p.head_started {
            p.head_started = true;
            p.since = Instant::now();
            drop(p);
            self.changed.notify_one();
        }
    }

    /// Completes when the connection has been idle for `idle`, a request's head has taken
    /// longer than `header`, or the server is stopping with no request in flight, saying which.
    async fn expired(
        &self,
        idle: Duration,
        header: Duration,
        stop: &mut watch::Receiver<bool>,
    ) -> &'static str {
        loop {
            // A server gone without stopping (its future dropped) counts as stopping.
            let stopping = *stop.borrow_and_update() || stop.has_changed().is_err();
            let deadline = {
                let p = self.lock();
                if stopping && p.in_flight == 0 {
                    return "the server is stopping";
                }
                (p.in_flight == 0).then(|| {
                    if p.head_started {
                        (p.since + header, "the request head took too long")
                    } else {
                        (p.since + idle, "idle")
                    }
                })
            };
            match deadline {
                Some((at, why)) if at <= Instant::now() => return why,
                Some((at, _)) => {
                    tokio::select! {
                        () = self.changed.notified() => {}
                        () = tokio::time::sleep_until(at) => {}
                        _ = stop.changed(), if !stopping => {}
                    }
                }
                None => {
                    tokio::select! {
                        () = self.changed.notified() => {}
                        _ = stop.changed(), if !stopping => {}
                    }
                }
            }
        }
    }
}

/// A connection's stream, telling its [`Activity`] when bytes arrive.
struct Watched {
    io: Pin<Box<TimeoutStream<TcpStream>>>,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.io.as_mut().poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }
}

/// The most of a refused body's rest that is read and dropped before its connection closes.
const LINGER_BYTES: u64 = 16 << 20;

/// Whether a route may answer before reading all of this request's body: a declared length
/// over the cap (answered 413 from its head) or a body of unknown length (413 once the cap is
/// passed). Not when the client waits for `100 Continue`: it sends no body unless asked.
fn may_be_left(headers: &axum::http::HeaderMap, cap: usize) -> bool {
    if headers.contains_key(header::EXPECT) {
        return false;
    }
    if headers.contains_key(header::CONTENT_LENGTH) {
        declared_length(headers).is_none_or(|len| len > cap as u64)
    } else {
        headers.contains_key(header::TRANSFER_ENCODING)
    }
}

/// Reads and drops what is left of a body its route did not read, up to [`LINGER_BYTES`] and
/// `deadline`. Closing a connection with unread bytes in its socket resets it, and a client
/// still sending its body then sees the reset instead of the answer (a 413): this lets it
/// finish sending and read the answer, as a lingering close does.
async fn linger(mut rest: Incoming, deadline: Instant) {
    let mut read = 0u64;
    while read <= LINGER_BYTES {
        match tokio::time::timeout_at(deadline, rest.frame()).await {
            Ok(Some(Ok(frame))) => {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
            }
            _ => return,
        }
    }
}

/// A request body as its route reads it: owned, or kept in a slot the connection can take
/// it back from once the route is done.
enum ReadBody {
    Owned(Incoming),
    Kept(Arc<Mutex<Option<Incoming>>>),
}

impl ReadBody {
    fn with<R>(&mut self, f: impl FnOnce(Option<&mut Incoming>) -> R) -> R {
        match self {
            ReadBody::Owned(body) => f(Some(body)),
            ReadBody::Kept(slot) => f(lock(slot).as_mut()),
        }
    }
}

/// The error a request body gives once its deadline passed.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

/// The answer to a request whose body ran past its deadline.
pub(super) fn late_body() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::BodyTimeout,
        "the request body did not arrive within the sidecar's body timeout \
         (neotrav serve --body-timeout)",
    )
}

/// Whether `e` (or an error it wraps) is a request body that ran past its deadline.
pub(super) fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut e = Some(e);
    while let Some(err) = e {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        e = err.source();
    }
    false
}

/// A request body that fails with [`BodyTimedOut`] once its deadline passes: unlike
/// tower-http's `RequestBodyTimeoutLayer`, whose timer restarts with every frame, the deadline
/// bounds the whole body, so a body trickled a byte at a time still ends.
struct DeadlineBody {
    body: ReadBody,
    deadline: Instant,
    /// Made the first time the body is not ready.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Set when the deadline passed.
    timed_out: Arc<AtomicBool>,
}

impl DeadlineBody {
    fn new(body: ReadBody, deadline: Instant, timed_out: Arc<AtomicBool>) -> DeadlineBody {
        DeadlineBody {
            body,
            deadline,
            sleep: None,
            timed_out,
        }
    }
}

impl hyper::body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = this.body.with(|body| match body {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        });
        if let Poll::Ready(frame) = polled {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.timed_out.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(BodyTimedOut.into())))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.body {
            ReadBody::Owned(body) => body.is_end_stream(),
            ReadBody::Kept(slot) => lock(slot)
                .as_ref()
                .is_none_or(hyper::body::Body::is_end_stream),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.body {
            ReadBody::Owned(body) => body.size_hint(),
            ReadBody::Kept(slot) => lock(slot)
                .as_ref()
                .map_or_else(|| SizeHint::with_exact(0), hyper::body::Body::size_hint),
        }
    }
}

/// The routes that may run long by design: traversals end by their budgets, a reload by its
/// export. Every other route gets the request timeout.
const LONG_ROUTES: [&str; 4] = [
    "/v1/traverse",
    "/v1/neighbors",
    "/v1/shortest-path",
    "/v1/snapshot/reload",
];

async fn backstop(State(options): State<Arc<ServeOptions>>, req: Request, next: Next) -> Response {
    if LONG_ROUTES.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    match tokio::time::timeout(options.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TimedOut,
            format!(
                "the sidecar did not answer within {} ms (neotrav serve --request-timeout)",
                options.request_timeout.as_millis()
            ),
        )
        .into_response(),
    }
}
