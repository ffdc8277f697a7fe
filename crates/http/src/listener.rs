//! Connections: a cap on open connections that idle sockets cannot exhaust. Each accepted connection
//! carries its state (last time bytes moved, requests in flight); when every slot is taken, the connection
//! idle the longest with no request in flight is closed to make room, so a crowd of idle or half-open
//! sockets never keeps a shopper out. TCP_NODELAY on every socket.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A connection idle at least this long may be closed when a new one needs its slot.
pub const EVICT_IDLE_AFTER: Duration = Duration::from_millis(500);

fn clock_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// What the listener knows of an open connection.
#[derive(Debug)]
pub struct ConnState {
    last_io_ms: AtomicU64,
    in_flight: AtomicUsize,
    closing: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            last_io_ms: AtomicU64::new(clock_ms()),
            in_flight: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            waker: Mutex::new(None),
        }
    }
    fn touch(&self) {
        self.last_io_ms.store(clock_ms(), Ordering::Relaxed);
    }
    fn idle_for_ms(&self) -> u64 {
        clock_ms().saturating_sub(self.last_io_ms.load(Ordering::Relaxed))
    }
    /// Asks the connection to close at its next read (it reads end-of-stream).
    fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            w.wake();
        }
    }
    /// Counts a request as in flight until the guard drops.
    pub fn begin_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        InFlight(self.clone())
    }
}

/// A request in flight on a connection (the connection is not idle while it lives).
pub struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct LimitedListener {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    open: Vec<Weak<ConnState>>,
    evicted: Arc<AtomicU64>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, max_connections: usize) -> Self {
        LimitedListener {
            inner,
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            open: Vec::new(),
            evicted: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Closes the connection idle the longest (no request in flight, idle past [`EVICT_IDLE_AFTER`]).
    fn evict_one(&mut self) -> bool {
        self.open.retain(|w| w.strong_count() > 0);
        let victim = self
            .open
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|c| !c.closing.load(Ordering::SeqCst) && c.in_flight.load(Ordering::SeqCst) == 0)
            .filter(|c| c.idle_for_ms() >= EVICT_IDLE_AFTER.as_millis() as u64)
            .max_by_key(|c| c.idle_for_ms());
        match victim {
            Some(c) => {
                c.close();
                let n = self.evicted.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::debug!(idle_ms = c.idle_for_ms(), evicted = n, "closed an idle connection to make room");
                true
            }
            None => false,
        }
    }

    pub async fn accept(&mut self) -> (LimitedStream, std::net::SocketAddr) {
        let slot = loop {
            if let Ok(p) = self.slots.clone().try_acquire_owned() {
                break p;
            }
            // Full: make room from an idle connection, then wait for a slot (re-checking for idle ones).
            self.evict_one();
            tokio::select! {
                p = self.slots.clone().acquire_owned() => match p {
                    Ok(p) => break p,
                    Err(_) => std::future::pending().await, // the semaphore is never closed
                },
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        };
        loop {
            match self.inner.accept().await {
                Ok((io, addr)) => {
                    let _ = io.set_nodelay(true);
                    let state = Arc::new(ConnState::new());
                    if self.open.len() > 4 * self.slots.available_permits().max(64) {
                        self.open.retain(|w| w.strong_count() > 0);
                    }
                    self.open.push(Arc::downgrade(&state));
                    return (LimitedStream { io, state, _slot: slot }, addr);
                }
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// An accepted connection holding one of the listener's slots until it is dropped.
pub struct LimitedStream {
    io: TcpStream,
    state: Arc<ConnState>,
    _slot: OwnedSemaphorePermit,
}

impl LimitedStream {
    pub fn state(&self) -> Arc<ConnState> {
        self.state.clone()
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.state.closing.load(Ordering::SeqCst) {
            return Poll::Ready(Ok(())); // end of stream: the server closes the connection
        }
        {
            let mut w = self.state.waker.lock().unwrap_or_else(|e| e.into_inner());
            if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *w = Some(cx.waker().clone());
            }
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.touch();
        }
        r
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.state.touch();
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.state.touch();
        }
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The peer of a connection, as a request extension (`ConnectInfo<PeerAddr>`).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub std::net::SocketAddr);
