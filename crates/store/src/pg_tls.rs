//! TLS to PostgreSQL (rustls with ring): `sslmode=verify-full&sslrootcert=PATH` in a `postgres://` URL
//! encrypts the connection and checks that the server's certificate chains to that CA and names the host
//! connected to. Unverified encryption (`require`) is refused, since it stops eavesdroppers but not an
//! impostor; without TLS, a database that is not on this machine is connected to with a warning.

use crate::{DbError, DbErrorKind};
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls;

/// How to reach the database: the URL for the driver (our own parameters taken out) and, for TLS, the
/// client configuration with the trusted CA.
#[derive(Clone)]
pub(crate) struct Target {
    pub url: String,
    pub tls: Option<MakeRustls>,
}

impl Target {
    /// Connects with TLS when the URL asked for it.
    pub(crate) fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        match &self.tls {
            Some(t) => postgres::Client::connect(&self.url, t.clone()),
            None => postgres::Client::connect(&self.url, postgres::NoTls),
        }
    }
}

fn bad(message: String) -> DbError {
    DbError::new(DbErrorKind::Other, message)
}

/// Reads `sslmode` and `sslrootcert` from a `postgres://` URL.
pub(crate) fn target(url: &str) -> Result<Target, DbError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut keep = Vec::new();
    let (mut mode, mut root) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("sslmode", v) => mode = Some(v.to_owned()),
            ("sslrootcert", v) => root = Some(percent_decode(v)),
            _ => keep.push(pair.to_owned()),
        }
    }
    let host = host_of(base);
    let tls = match mode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => {
            if !host.as_deref().is_none_or(is_local) {
                tracing::warn!(
                    host = host.as_deref().unwrap_or(""),
                    "PostgreSQL is on another machine and the connection is not encrypted: add \
                     ?sslmode=verify-full&sslrootcert=/path/to/ca.pem to the database URL"
                );
            }
            None
        }
        Some("verify-full") => {
            let root = root.ok_or_else(|| {
                bad("sslmode=verify-full needs sslrootcert=PATH: the PEM file of the CA that signed the server's certificate".into())
            })?;
            keep.push("sslmode=require".into());
            Some(MakeRustls(Arc::new(client_config(&root)?)))
        }
        Some("require" | "verify-ca") => {
            return Err(bad(format!(
                "sslmode={} is not supported: it does not check that the server is the one named in the URL; use \
                 sslmode=verify-full&sslrootcert=/path/to/ca.pem",
                mode.unwrap_or_default()
            )))
        }
        Some(other) => {
            return Err(bad(format!("unknown sslmode `{other}`: use disable, or verify-full with sslrootcert=PATH")))
        }
    };
    let url = if keep.is_empty() { base.to_owned() } else { format!("{base}?{}", keep.join("&")) };
    Ok(Target { url, tls })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The host of `postgres://user:pw@host:port/db` (none for a Unix socket or when absent).
fn host_of(base: &str) -> Option<String> {
    let rest = base.split_once("://")?.1;
    let authority = rest.split('/').next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then(|| host.to_owned())
}

fn is_local(host: &str) -> bool {
    host == "localhost" || host.starts_with('/') || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn client_config(root: &str) -> Result<rustls::ClientConfig, DbError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(root)
        .and_then(|it| it.collect())
        .map_err(|e| bad(format!("sslrootcert {root}: cannot read the CA certificate(s): {e}")))?;
    if certs.is_empty() {
        return Err(bad(format!("sslrootcert {root}: no certificate in the file")));
    }
    for c in certs {
        roots.add(c).map_err(|e| bad(format!("sslrootcert {root}: {e}")))?;
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS setup: {e}")))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// The driver's TLS hook, with rustls.
#[derive(Clone)]
pub(crate) struct MakeRustls(Arc<rustls::ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        let name = rustls_pki_types::ServerName::try_from(domain.to_owned()).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("`{domain}` as a TLS server name: {e}"))
        })?;
        Ok(RustlsConnect { config: self.0.clone(), name })
    }
}

pub(crate) struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
    name: rustls_pki_types::ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let s = tokio_rustls::TlsConnector::from(self.config).connect(self.name, stream).await?;
            Ok(RustlsStream(Box::new(s)))
        })
    }
}

pub(crate) struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    /// No channel binding: its hash depends on the certificate's signature algorithm, and a wrong one would
    /// fail SCRAM logins; the certificate check above is what stops an impostor.
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read() {
        let t = target("postgres://postgres@127.0.0.1:5432/db?application_name=x").unwrap();
        assert_eq!(t.url, "postgres://postgres@127.0.0.1:5432/db?application_name=x");
        assert!(t.tls.is_none());
        for (url, says) in [
            ("postgres://db.example.com/x?sslmode=require", "not supported"),
            ("postgres://db.example.com/x?sslmode=verify-ca", "not supported"),
            ("postgres://db.example.com/x?sslmode=verify-full", "needs sslrootcert"),
            ("postgres://db.example.com/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "cannot read"),
            ("postgres://db.example.com/x?sslmode=bogus", "unknown sslmode"),
        ] {
            let e = target(url).err().unwrap_or_else(|| panic!("{url} accepted"));
            assert!(e.to_string().contains(says), "{url}: {e}");
        }
        assert_eq!(host_of("postgres://u:p@db.example.com:5432/x").as_deref(), Some("db.example.com"));
        assert_eq!(host_of("postgres://[::1]:5432/x").as_deref(), Some("::1"));
        assert!(is_local("127.0.0.1") && is_local("localhost") && !is_local("10.0.0.5"));
        assert_eq!(percent_decode("%2Fetc%2Fca.pem"), "/etc/ca.pem");
    }
}
