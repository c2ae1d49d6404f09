//! A stand-in for what can sit on the platform's port instead of the platform: a reverse
//! proxy answering its own pages, a gateway with a JSON refusal for everything, a server that
//! drips its answer one byte a second. Real TCP on loopback, plain blocking threads; each
//! connection gets one answer and is closed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the gateway does with one request (its request line, e.g. `POST /v1/cases HTTP/1.1`).
pub enum Answer {
    /// These bytes, then close.
    Whole(Vec<u8>),
    /// A head, then the body one byte per `every`.
    Drip {
        head: Vec<u8>,
        body: Vec<u8>,
        every: Duration,
    },
    /// Pass the request on to this server (as `Connection: close`) and its answer back.
    Forward(std::net::SocketAddr),
}

/// A gateway on a free loopback port, stopped when dropped.
pub struct Gateway {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Requests answered so far.
    pub requests: Arc<AtomicUsize>,
}

impl Gateway {
    /// Answers every request with `answer(request_line)`.
    pub fn start(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let answer = Arc::new(answer);
        let (s, n) = (stop.clone(), requests.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (answer, n, s) = (answer.clone(), n.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &*answer, &n, &s));
            }
        });
        Self {
            port,
            stop,
            requests,
        }
    }

    /// The base URL a client is configured with.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    mut conn: TcpStream,
    answer: &(dyn Fn(&str) -> Answer + Send + Sync),
    n: &AtomicUsize,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    // Read the head, then as much body as it declares.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
    n.fetch_add(1, Ordering::SeqCst);
    let line = head.lines().next().unwrap_or_default().to_owned();
    match answer(&line) {
        Answer::Whole(bytes) => {
            let _ = conn.write_all(&bytes);
        }
        Answer::Forward(to) => {
            let Ok(mut up) = TcpStream::connect(to) else {
                return;
            };
            let mut head: String = head
                .split("\r\n")
                .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                .collect::<Vec<_>>()
                .join("\r\n");
            // The head ends with an empty line: put the header before it.
            head.truncate(head.len() - 4);
            head.push_str("\r\nConnection: close\r\n\r\n");
            if up.write_all(head.as_bytes()).is_err() || up.write_all(&buf[head_end..]).is_err() {
                return;
            }
            let mut answer = Vec::new();
            let _ = up.read_to_end(&mut answer);
            let _ = conn.write_all(&answer);
        }
        Answer::Drip { head, body, every } => {
            if conn.write_all(&head).is_err() {
                return;
            }
            for b in body {
                if stop.load(Ordering::SeqCst) || conn.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(every);
            }
        }
    }
}

/// A complete HTTP/1.1 answer with `status`, a content type and `body`.
pub fn http(status: &str, content_type: &str, body: &str) -> Answer {
    Answer::Whole(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// nginx's own page for `status` (e.g. `404 Not Found`), as a reverse proxy answers during a
/// deploy or a misroute.
pub fn nginx_page(status: &str) -> Answer {
    http(
        status,
        "text/html",
        &format!(
            "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        ),
    )
}
