//! TLS to the hall database server: libpq's `sslmode=verify-full` with the hall's CA
//! (`sslrootcert=PATH`) in `ticketing.queue`, on rustls (already in the tree for the platform
//! client, with the ring provider).
//!
//! tokio-postgres understands `sslmode` only up to `require` and has no `sslrootcert`:
//! [`split`] takes libpq's verify options out of the URI, and [`Connector`] checks the server's
//! certificate chain against the hall CA and its name against the host connected to (a host
//! name or an IP address, as libpq's `verify-full` does).

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The profile key the URI is in, named in every sentence.
const KEY: &str = "ticketing.queue";

/// `uri` without libpq's verify options, and the hall CA file when it asks for `verify-full`.
///
/// Refused, in words: `verify-ca` (it would not check the server's name), `require` or
/// `prefer` (encryption without knowing whom one talks to; a hall uses `verify-full`),
/// `verify-full` without `sslrootcert`, and `sslrootcert` without `verify-full`.
pub fn split(uri: &str) -> Result<(String, Option<PathBuf>), String> {
    let Some((base, query)) = uri.split_once('?') else {
        return Ok((uri.to_owned(), None));
    };
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => mode = Some(decode(v)),
            Some(("sslrootcert", v)) => root = Some(PathBuf::from(decode(v))),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    match (mode.as_deref(), root) {
        (Some("verify-full"), Some(root)) => Ok((rest, Some(root))),
        (Some("verify-full"), None) => Err(format!(
            "{KEY} 要求 sslmode=verify-full，但没有写大厅 CA 证书：请在地址后加上 &sslrootcert=/etc/ykb-terminal/hall-ca.pem（大厅信息员提供的 CA 证书文件）"
        )),
        (Some("verify-ca"), _) => Err(format!(
            "{KEY} 的 sslmode=verify-ca 不核对服务器名称：请改用 sslmode=verify-full 并写 sslrootcert"
        )),
        (Some("require" | "prefer"), _) => Err(format!(
            "{KEY} 的 sslmode 只加密、不核验服务器：请改用 sslmode=verify-full 并写 sslrootcert（大厅 CA 证书），只在本机回环地址上可以不写 sslmode"
        )),
        (Some("disable") | None, None) => Ok((rest, None)),
        (Some("disable") | None, Some(_)) => Err(format!(
            "{KEY} 写了 sslrootcert 却没有 sslmode=verify-full：请加上 &sslmode=verify-full"
        )),
        (Some(other), _) => Err(format!(
            "{KEY} 的 sslmode={other} 无法识别：大厅应使用 sslmode=verify-full"
        )),
    }
}

/// `%XX` escapes of a URI query value.
fn decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes the TLS session of each connection: the hall CA's roots, the host's name checked.
#[derive(Clone)]
pub struct Connector(Arc<rustls::ClientConfig>);

impl Connector {
    /// Trusts only the certificates in the PEM file `root` (the hall CA).
    pub fn new(root: &Path) -> Result<Self, String> {
        let unreadable = |e: &dyn std::fmt::Display| {
            format!(
                "{KEY} 的 sslrootcert（{}）无法读取（{e}）：请确认大厅 CA 证书文件存在且本终端的用户可读",
                root.display()
            )
        };
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(root).map_err(|e| unreadable(&e))?;
        for cert in certs {
            let cert = cert.map_err(|e| unreadable(&e))?;
            roots.add(cert).map_err(|e| {
                format!(
                    "{KEY} 的 sslrootcert（{}）中有无法使用的证书（{e}）",
                    root.display()
                )
            })?;
        }
        if roots.is_empty() {
            return Err(format!(
                "{KEY} 的 sslrootcert（{}）里没有证书（应为 PEM 格式的大厅 CA 证书）",
                root.display()
            ));
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS 设置出错（{e}）"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Self(Arc::new(config)))
    }
}

impl<S> MakeTlsConnect<S> for Connector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> Result<Connect, Self::Error> {
        Ok(Connect {
            config: self.0.clone(),
            name: ServerName::try_from(host.to_owned())?,
        })
    }
}

/// One connection's TLS handshake, to `name`.
pub struct Connect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { connector.connect(self.name, stream).await.map(Stream) })
    }
}

/// A connection's stream once TLS is up.
pub struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Stream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM still authenticates both ways; binding to the certificate would need its hash
        // algorithm parsed, which the hall does not need on top of verify-full.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Whether `e` is a failure of the TLS session (a certificate not trusted, a wrong name, a
/// server without TLS), for the sentence that names `sslrootcert`.
pub(crate) fn is_tls_failure(e: &postgres::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return true;
            }
        }
        cur = err.source();
    }
    e.to_string().contains("TLS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_full_and_its_root_are_taken_out_and_the_rest_kept() {
        let (rest, root) = split(
            "postgresql://hall-db-1,hall-db-2/ykb_hall?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=%2Fetc%2Fykb%20terminal%2Fca.pem",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgresql://hall-db-1,hall-db-2/ykb_hall?target_session_attrs=read-write"
        );
        assert_eq!(root, Some(PathBuf::from("/etc/ykb terminal/ca.pem")));
        let (rest, root) =
            split("postgresql://h/db?sslrootcert=/ca.pem&sslmode=verify-full").unwrap();
        assert_eq!(
            (rest.as_str(), root),
            ("postgresql://h/db", Some("/ca.pem".into()))
        );
        assert_eq!(
            split("postgresql://127.0.0.1/db").unwrap(),
            ("postgresql://127.0.0.1/db".to_owned(), None)
        );
    }

    #[test]
    fn modes_that_do_not_verify_the_server_are_refused_naming_the_key() {
        for uri in [
            "postgresql://h/db?sslmode=verify-full",
            "postgresql://h/db?sslmode=verify-ca&sslrootcert=/ca.pem",
            "postgresql://h/db?sslmode=require",
            "postgresql://h/db?sslmode=prefer",
            "postgresql://h/db?sslrootcert=/ca.pem",
            "postgresql://h/db?sslmode=verify",
        ] {
            let e = split(uri).unwrap_err();
            assert!(e.contains("ticketing.queue"), "{uri}: {e}");
            assert!(e.contains("verify-full"), "{uri}: {e}");
        }
    }

    #[test]
    fn a_root_file_without_certificates_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = Connector::new(&empty).err().unwrap();
        assert!(e.contains("没有证书"), "{e}");
        let e = Connector::new(&dir.path().join("missing.pem"))
            .err()
            .unwrap();
        assert!(e.contains("无法读取"), "{e}");
    }
}
