//! The sidecar's accept loop on real sockets: connections that send nothing, half a head or
//! half a body are closed or answered in bounded time, idle connections do not keep new
//! clients out, and ordinary requests and keep-alive work as before.

use neotrav_testkit::small;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use neotrav_server::{AppState, ServeOptions, router, serve};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Short bounds, so that the tests take seconds.
fn options() -> ServeOptions {
    ServeOptions {
        idle_timeout: Duration::from_millis(600),
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..ServeOptions::default()
    }
}

/// Serves the small graph on a free port with `options`; returns the address and a guard
/// keeping the snapshot's folder.
async fn start(options: ServeOptions) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.snap");
    small::write(&path, 0);
    let state = AppState::new(path, None, None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        serve(
            listener,
            router(Arc::new(state)),
            options,
            std::future::pending(),
        )
        .await
        .unwrap();
    });
    (addr, dir)
}

/// Reads until the server closes the connection (or 5 s pass): what it sent, and when it
/// closed.
async fn read_to_close(stream: &mut TcpStream) -> (String, Option<Instant>) {
    read_to_close_from(stream).await
}

async fn read_to_close_from(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
) -> (String, Option<Instant>) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(until.into(), stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), None),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&out).into_owned(),
                    Some(Instant::now()),
                );
            }
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

const NEIGHBORS: &str = r#"{"node": 0}"#;

fn neighbors_request(close: bool) -> String {
    format!(
        "POST /v1/neighbors HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{}\r\n{NEIGHBORS}",
        NEIGHBORS.len(),
        if close { "Connection: close\r\n" } else { "" }
    )
}

/// Reads one response with a Content-Length body from `stream`.
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if out.len() >= end + 4 + length {
                let status = text[9..12].parse().unwrap();
                return (status, text[end + 4..end + 4 + length].to_string());
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a response within 5 s")
            .unwrap();
        assert!(n > 0, "closed before a whole response: {text}");
        out.extend_from_slice(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let (addr, _dir) = start(options()).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (sent, closed) = read_to_close(&mut stream).await;
    let took = closed.expect("closed within 5 s") - started;
    assert!(sent.is_empty(), "{sent}");
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_millis(1600),
        "closed after {took:?}, the idle timeout is 600 ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_head_is_closed_after_the_header_timeout() {
    let (addr, _dir) = start(options()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"POST /v1/neighbors HTTP/1.1\r\nHost: t\r\nContent-Len")
        .await
        .unwrap();
    let (_, closed) = read_to_close(&mut stream).await;
    let took = closed.expect("closed within 5 s") - started;
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_millis(550),
        "closed after {took:?}: the header timeout (300 ms) applies, not the idle one (600 ms)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_body_gets_408_in_the_error_shape_and_the_connection_closes() {
    let (addr, _dir) = start(options()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(
            b"POST /v1/traverse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"start\": 0,",
        )
        .await
        .unwrap();
    let (sent, closed) = read_to_close(&mut stream).await;
    let took = closed.expect("closed within 5 s") - started;
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    let body: Value = serde_json::from_str(&sent[sent.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["error"]["code"], "body_timeout", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--body-timeout")
    );
    assert!(
        took < Duration::from_millis(1000),
        "answered and closed after {took:?}, the body timeout is 300 ms"
    );

    // Every route answers a late body so, whatever its extractor makes of the error.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST /v1/snapshot/reload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let (sent, closed) = read_to_close(&mut stream).await;
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains("body_timeout"), "{sent}");
    assert!(closed.is_some());

    // A body trickled a byte at a time still ends at its deadline (a timer that restarted
    // with every byte would wait for the trickle to stop, at 1 s).
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(
            b"POST /v1/traverse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answered = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        let n = reader.read(&mut buf).await.unwrap_or(0);
        (
            String::from_utf8_lossy(&buf[..n]).into_owned(),
            started.elapsed(),
        )
    });
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if writer.write_all(b" ").await.is_err() {
            break;
        }
    }
    let (sent, took) = answered.await.unwrap();
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(took < Duration::from_millis(900), "answered after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_2_mib_is_413_in_the_error_shape() {
    let (addr, _dir) = start(ServeOptions::default()).await;
    let big = format!(
        r#"{{"start": 0, "relationshipFilter": "{}"}}"#,
        "A".repeat(3 << 20)
    );
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/v1/traverse"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_still_sending_a_refused_body_reads_the_413() {
    let (addr, _dir) = start(ServeOptions::default()).await;
    let body = format!(r#"{{"start": 0, "x": "{}"}}"#, "A".repeat(6 << 20));
    // Declared, and chunked: both refused, and the whole body is sent before reading.
    let declared = format!(
        "POST /v1/traverse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let chunked = format!(
        "POST /v1/traverse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    for request in [declared, chunked] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.split();
        let (sent, (answer, closed)) = tokio::join!(
            writer.write_all(request.as_bytes()),
            read_to_close_from(&mut reader)
        );
        sent.unwrap();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
        assert!(answer.contains("body_too_large"), "{answer:.400}");
        assert!(closed.is_some(), "the connection closes after the 413");
    }
    // A client that waits for `100 Continue` is answered from the head and sends nothing.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /v1/traverse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
                Expect: 100-continue\r\nContent-Length: 9000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:.200}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_serves_requests_until_the_connection_idles() {
    let (addr, _dir) = start(options()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for pause in [0, 200, 400] {
        // Pauses shorter than the idle timeout keep the connection.
        tokio::time::sleep(Duration::from_millis(pause)).await;
        stream
            .write_all(neighbors_request(false).as_bytes())
            .await
            .unwrap();
        let (status, body) = read_response(&mut stream).await;
        assert_eq!(status, 200, "{body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["nodes"], serde_json::json!([1, 2]));
    }
    // Idle past the timeout, the server closes it.
    let idle = Instant::now();
    let (sent, closed) = read_to_close(&mut stream).await;
    assert!(sent.is_empty(), "{sent}");
    let took = closed.expect("closed within 5 s") - idle;
    assert!(took < Duration::from_millis(1600), "{took:?}");

    // An ordinary client, many requests on its pooled connections.
    let client = reqwest::Client::new();
    for _ in 0..50 {
        let r = client
            .post(format!("http://{addr}/v1/neighbors"))
            .json(&serde_json::json!({"node": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_idle_connections_do_not_keep_a_new_client_out() {
    // Under the cap: 300 silent connections, and a new client is answered at once.
    let (addr, _dir) = start(ServeOptions {
        idle_timeout: Duration::from_secs(30),
        ..options()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(neighbors_request(true).as_bytes())
        .await
        .unwrap();
    let (status, _) = read_response(&mut stream).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    drop(idle);

    // At the cap: new connections wait in the backlog until the idle ones are closed.
    let (addr, _dir) = start(ServeOptions {
        max_connections: 8,
        ..options()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(neighbors_request(true).as_bytes())
        .await
        .unwrap();
    let (status, _) = read_response(&mut stream).await;
    assert_eq!(status, 200);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(2000),
        "served after {took:?}: once the 8 idle connections were closed (idle timeout 600 ms)"
    );
    for mut s in idle {
        let (_, closed) = read_to_close(&mut s).await;
        assert!(closed.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_nothing_of_an_answer_is_closed_after_the_write_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.snap");
    // Root with a million children: about 16 MB of NDJSON, more than the socket buffers hold.
    small::write(&path, 1_000_000);
    let state = AppState::new(path, None, None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ServeOptions {
        write_timeout: Duration::from_millis(500),
        ..ServeOptions::default()
    };
    tokio::spawn(async move {
        let app = router(Arc::new(state));
        serve(listener, app, options, std::future::pending())
            .await
            .unwrap();
    });
    let body = r#"{"start": 0, "maxLevel": 1, "uniqueness": "NODE_GLOBAL"}"#;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/traverse HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
                 Accept: application/x-ndjson\r\nConnection: close\r\nContent-Length: {}\r\n\r\n\
                 {body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // Once the answer starts, read nothing for a while: the server's writes stall, and it
    // gives up.
    let mut got = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut got))
        .await
        .expect("the answer starts within 30 s")
        .unwrap();
    got.truncate(n);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server did not close the connection");
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(
        !text.contains("\"stats\""),
        "the whole answer ({} bytes) was sent to a client that read none of it",
        got.len()
    );
}
