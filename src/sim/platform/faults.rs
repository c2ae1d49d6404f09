//! Fault injection: the faults in force, connections reset on accept, the `/v1` guard
//! (latency, outages, injected errors, then authentication) and answers cut short.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{authenticate, error, Shared, MAX_REQUEST_BYTES};
use crate::core::platform::wire;
/// Faults the simulator injects into `/v1` answers. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before every answer, in milliseconds.
    pub latency_ms: u64,
    /// Fraction (0–1) of requests answered with `error_status` instead.
    pub error_rate: f64,
    /// The status of injected errors: 500, 503 or 429 (503 and 429 carry Retry-After).
    pub error_status: u16,
    /// Retry-After seconds on injected 503/429 and during outages.
    pub retry_after_secs: u64,
    /// Fraction (0–1) of new connections reset before any answer.
    pub reset_rate: f64,
    /// Fraction (0–1) of answers cut short half-way through the body.
    pub truncate_rate: f64,
    /// The platform is down: every `/v1` request gets 503 with Retry-After.
    pub outage: bool,
    /// Unix seconds until which the platform is down (an outage window), if any.
    pub outage_until: Option<i64>,
    /// Seconds added to the simulator's clock (request checks and `x-ykb-server-time`).
    pub clock_skew_secs: i64,
    /// Catalogue documents carry a signature that does not verify.
    pub bad_signature: bool,
    /// What certificates (证明开具) come as: good, badly signed, not a PDF, or oversized.
    pub certificate: super::certificates::CertificateFault,
    /// Seconds a new payment order stays payable (default 300).
    pub payment_ttl_secs: Option<u64>,
    /// A payment does not wake the long-polls waiting on its order (the next poll sees it).
    pub payment_lost_notification: bool,
    /// The phone's payment lands even on an order that expired or was cancelled.
    pub payment_after_expiry: bool,
}

/// Accepts connections, resetting a fraction of them (fault `reset_rate`) before any answer.
pub(super) struct FaultyListener {
    pub(super) inner: tokio::net::TcpListener,
    pub(super) shared: Arc<Shared>,
}

impl axum::serve::Listener for FaultyListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.shared.chance(self.shared.faults().reset_rate) {
                        self.shared.count(super::RequestKind::Refused);
                        // SO_LINGER 0: closing sends RST instead of FIN.
                        let _ = stream.set_zero_linger();
                        drop(stream);
                        continue;
                    }
                    return (stream, addr);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Fault injection, then request authentication, then the handler; stamps the platform
/// clock on every answer.
pub(super) async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    s.count(super::RequestKind::of_path(req.uri().path()));
    let faults = s.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if s.chance(faults.reset_rate) {
        // Also on connections opened before the fault was set: the body fails before the
        // headers go out, so the client sees the connection drop with no answer.
        return Response::new(Body::from_stream(futures_core_like::Fail));
    }
    let now = s.now();
    let mut resp = inject_or_run(&s, &faults, now, req, next).await;
    if let Ok(v) = HeaderValue::from_str(&now.to_string()) {
        resp.headers_mut().insert(wire::H_SERVER_TIME, v);
    }
    if faults.reset_rate > 0.0 {
        // New connection per request, so connection-level faults apply to every request.
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    if s.chance(faults.truncate_rate) {
        resp = truncate(resp).await;
    }
    resp
}

async fn inject_or_run(s: &Shared, f: &Faults, now: i64, req: Request, next: Next) -> Response {
    let retry_after = |mut r: Response| {
        if let Ok(v) = HeaderValue::from_str(&f.retry_after_secs.max(1).to_string()) {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        r
    };
    let real_now = jiff::Timestamp::now().as_second();
    if f.outage || f.outage_until.is_some_and(|t| real_now < t) {
        return retry_after(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "outage",
            "政务服务平台维护中，请稍后再试",
        ));
    }
    if s.chance(f.error_rate) {
        let status =
            StatusCode::from_u16(f.error_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let r = error(status, "injected", "模拟平台注入的故障");
        return if matches!(status.as_u16(), 429 | 503) {
            retry_after(r)
        } else {
            r
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("请求体超过 {MAX_REQUEST_BYTES} 字节"),
            )
        }
    };
    let path_q = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    if !path_q.ends_with("/devices/register") {
        if let Err(r) = authenticate(s, &parts.method, &path_q, &parts.headers, &bytes, now) {
            return *r;
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Sends headers and the first half of the body, then breaks the connection.
async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
        parts.headers.insert(axum::http::header::CONTENT_LENGTH, v);
    }
    let stream = futures_stream(half);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// A body stream: one chunk, then an error (hyper aborts the connection).
fn futures_stream(
    first: Bytes,
) -> impl futures_core_like::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_core_like::TwoStep::new(first)
}

/// A minimal stream without pulling in a futures crate.
mod futures_core_like {
    pub use futures_core::Stream;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct TwoStep {
        first: Option<axum::body::Bytes>,
        // A pause after the first chunk, so headers and half the body reach the client
        // before the connection breaks (a cut body, not a refused connection).
        pause: Pin<Box<tokio::time::Sleep>>,
        done: bool,
    }

    impl TwoStep {
        pub fn new(first: axum::body::Bytes) -> Self {
            Self {
                first: Some(first),
                pause: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(100))),
                done: false,
            }
        }
    }

    /// A body that fails at once.
    pub struct Fail;

    impl Stream for Fail {
        type Item = Result<axum::body::Bytes, std::io::Error>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated reset",
            ))))
        }
    }

    impl Stream for TwoStep {
        type Item = Result<axum::body::Bytes, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if let Some(b) = self.first.take() {
                return Poll::Ready(Some(Ok(b)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.done = true;
            Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "simulated truncation",
            ))))
        }
    }
}
