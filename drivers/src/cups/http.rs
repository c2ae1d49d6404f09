//! The HTTP/1.1 that carries IPP to `cupsd`: a POST request encoded, a response decoded
//! (Content-Length, chunked or to end of stream) — sans-IO, bounded — and the thin transport
//! (a Unix-domain socket or TCP, one connection per request).

use std::io::{Read, Write};
use std::time::Duration;

/// The largest response body accepted (CUPS answers in kilobytes).
pub const MAX_BODY: usize = 1 << 20;

/// Where `cupsd` listens: its Unix-domain socket, or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// A local socket, e.g. `/run/cups/cups.sock`.
    Unix(std::path::PathBuf),
    /// `host:port` (IPP's port is 631).
    Tcp(String),
}

impl Server {
    /// The system's scheduler: its socket.
    pub fn system() -> Self {
        Self::Unix("/run/cups/cups.sock".into())
    }

    /// `/path/to/socket` or `host[:port]` (as CUPS's own `-h` takes it).
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        if s.starts_with('/') {
            Self::Unix(s.into())
        } else if s.contains(':') {
            Self::Tcp(s.to_owned())
        } else {
            Self::Tcp(format!("{s}:631"))
        }
    }

    /// The Host header.
    fn host(&self) -> &str {
        match self {
            Self::Unix(_) => "localhost",
            Self::Tcp(h) => h,
        }
    }
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "{}", p.display()),
            Self::Tcp(h) => f.write_str(h),
        }
    }
}

/// Why an exchange failed below IPP.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// No connection (the scheduler is not running or the address is wrong).
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    /// The connection broke or timed out.
    #[error("I/O with the print scheduler: {0}")]
    Io(#[from] std::io::Error),
    /// The answer was not HTTP, or not 200.
    #[error("print scheduler answered {0}")]
    Bad(String),
}

/// The request: `POST path` with an `application/ipp` body.
pub fn encode_post(host: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    b.extend_from_slice(body);
    b
}

/// The body of a complete response (the stream read to its end); `Err` for anything but a
/// 200 with a body within [`MAX_BODY`].
pub fn decode_response(raw: &[u8]) -> Result<Vec<u8>, HttpError> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| HttpError::Bad("no HTTP header".into()))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") || code != "200" {
        return Err(HttpError::Bad(status.chars().take(80).collect()));
    }
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "content-length" {
            length = v.parse::<usize>().ok();
        } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let rest = &raw[end + 4..];
    if chunked {
        return dechunk(rest);
    }
    let body = match length {
        Some(n) if n > MAX_BODY => return Err(HttpError::Bad(format!("body of {n} bytes"))),
        Some(n) => rest
            .get(..n)
            .ok_or_else(|| HttpError::Bad("body truncated".into()))?,
        None => rest,
    };
    if body.len() > MAX_BODY {
        return Err(HttpError::Bad("body too large".into()));
    }
    Ok(body.to_vec())
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| HttpError::Bad("chunk truncated".into()))?;
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| HttpError::Bad("bad chunk size".into()))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(HttpError::Bad("body too large".into()));
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| HttpError::Bad("chunk truncated".into()))?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

/// One exchange: connect, send `POST path`, read the response to the end, return its body.
pub fn post(
    server: &Server,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, HttpError> {
    let request = encode_post(server.host(), path, body);
    let mut raw = Vec::new();
    match server {
        Server::Unix(p) => {
            let mut s = std::os::unix::net::UnixStream::connect(p)
                .map_err(|e| HttpError::Connect(server.to_string(), e))?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))?;
            s.write_all(&request)?;
            s.take(MAX_BODY as u64 + 64 * 1024).read_to_end(&mut raw)?;
        }
        Server::Tcp(h) => {
            use std::net::ToSocketAddrs;
            let addr = h
                .to_socket_addrs()
                .map_err(|e| HttpError::Connect(server.to_string(), e))?
                .next()
                .ok_or_else(|| {
                    HttpError::Connect(
                        server.to_string(),
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
                    )
                })?;
            let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
                .map_err(|e| HttpError::Connect(server.to_string(), e))?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))?;
            s.write_all(&request)?;
            s.take(MAX_BODY as u64 + 64 * 1024).read_to_end(&mut raw)?;
        }
    }
    decode_response(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_parse_as_cups_names_them() {
        assert_eq!(
            Server::parse("/run/cups/cups.sock"),
            Server::Unix("/run/cups/cups.sock".into())
        );
        assert_eq!(
            Server::parse("127.0.0.1:8631"),
            Server::Tcp("127.0.0.1:8631".into())
        );
        assert_eq!(
            Server::parse("printhost"),
            Server::Tcp("printhost:631".into())
        );
    }

    #[test]
    fn responses_decode_by_length_by_chunks_and_to_the_end() {
        let by_length = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(decode_response(by_length).unwrap(), b"abc");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n";
        assert_eq!(decode_response(chunked).unwrap(), b"abc");
        let to_end = b"HTTP/1.0 200 OK\r\n\r\nxyz";
        assert_eq!(decode_response(to_end).unwrap(), b"xyz");
    }

    #[test]
    fn bad_responses_are_errors() {
        assert!(decode_response(b"HTTP/1.1 401 Unauthorized\r\n\r\n").is_err());
        assert!(decode_response(b"garbage").is_err());
        assert!(decode_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(
            decode_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                .is_err()
        );
        let huge = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(decode_response(huge.as_bytes()).is_err());
    }
}
