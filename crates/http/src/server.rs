//! The HTTP server loop: HTTP/1.1 (hyper) on each connection the capped listener accepts, with a
//! header-read timeout (which also ends keep-alive connections idle that long), a deadline on each request
//! (reading its body and running its handler; longer for catalog uploads), and a graceful stop that lets
//! requests in flight finish.

use crate::listener::{LimitedListener, PeerAddr};
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::time::Duration;
use tower::ServiceExt;

/// How long a client may take, and how many may be connected.
#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// Most open connections; past it the longest-idle connection is closed, else new ones wait.
    pub max_connections: usize,
    /// A request's headers must arrive within this; a keep-alive connection idle this long is closed.
    pub header_read: Duration,
    /// Reading a request's body and answering it.
    pub request: Duration,
    /// The same for catalog uploads (`…/import`), which may be tens of megabytes.
    pub upload: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 2048,
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            upload: Duration::from_secs(300),
        }
    }
}

/// How long a stop waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(10);

fn timed_out(limit: Duration) -> Response {
    crate::ApiError::Request {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "timeout",
        message: format!(
            "the request took longer than {} s (a slow upload or a busy server); retry it (money and checkout calls with the same Idempotency-Key are safe to retry)",
            limit.as_secs()
        ),
    }
    .into_response()
}

/// Serves `app` on `listener` until `shutdown` completes, then drains requests in flight (up to 10 s).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut listener = LimitedListener::new(listener, limits.max_connections);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            a = listener.accept() => a,
            _ = &mut shutdown => break,
        };
        let state = io.state();
        let (app, limits_c) = (app.clone(), limits.clone());
        let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (app, state, limits) = (app.clone(), state.clone(), limits_c.clone());
            async move {
                let _in_flight = state.begin_request();
                // A NUL or an invisible character in a URL never reaches a handler (or a database) on any route.
                let uri = req.uri().clone();
                if let Err(e) = crate::extract::clean_url_part(uri.path(), "the path").and_then(|()| {
                    crate::extract::clean_url_part(&uri.query().unwrap_or_default().replace('+', " "), "the query")
                }) {
                    return Ok(e.into_response());
                }
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(PeerAddr(addr)));
                let limit = if req.uri().path().ends_with("/import") { limits.upload } else { limits.request };
                let mut res = match tokio::time::timeout(limit, app.oneshot(req)).await {
                    Ok(Ok(res)) => res,
                    Ok(Err(never)) => match never {},
                    Err(_) => timed_out(limit),
                };
                // The body was refused unread (too large) or the deadline passed mid-body: the connection
                // cannot be reused, so the client is told so rather than finding out on its next request.
                if matches!(res.status(), StatusCode::PAYLOAD_TOO_LARGE | StatusCode::SERVICE_UNAVAILABLE) {
                    res.headers_mut()
                        .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(res)
            }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(io), svc));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => tracing::warn!("stopping with requests still in flight after {DRAIN:?}"),
    }
    Ok(())
}
