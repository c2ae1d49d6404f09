//! The systemd notification protocol (`sd_notify(3)`): one datagram of `KEY=VALUE` lines to
//! the unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
//! Without the variable (not started by systemd with `Type=notify`) every call is a no-op.
//!
//! [`Watchdog`] pings `WATCHDOG=1` from a thread of its own, and only while the loop it
//! watches keeps calling [`Watchdog::alive`]: a slow network call cannot delay a ping, and a
//! loop that is really stuck stops them, so systemd restarts the process.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sends `state` (e.g. `READY=1`, `WATCHDOG=1`, `STATUS=…`); `Ok(false)` when not under
/// systemd.
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    send_to(&path, state)?;
    Ok(true)
}

/// Sends one datagram to the socket `path` (a path, or `@name` in the abstract namespace).
fn send_to(path: &OsStr, state: &str) -> io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path);
    match bytes.split_first() {
        Some((b'@', name)) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sock.send_to_addr(state.as_bytes(), &addr)?;
        }
        Some((b'/', _)) => {
            sock.send_to(state.as_bytes(), path)?;
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "NOTIFY_SOCKET is neither a path nor an abstract name",
            ))
        }
    }
    Ok(())
}

/// systemd's watchdog period, `$WATCHDOG_USEC`, when the watchdog is on and meant for this
/// process (`$WATCHDOG_PID` unset or ours).
pub fn watchdog_period() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// Whether the watched loop is still turning: it showed progress less than `stale_after` ago.
pub fn is_alive(since_progress: Duration, stale_after: Duration) -> bool {
    since_progress < stale_after
}

/// Pings `WATCHDOG=1` from its own thread while the watched loop shows progress; stops the
/// thread when dropped.
#[derive(Debug)]
pub struct Watchdog {
    /// Milliseconds since `epoch` of the loop's last progress.
    progress_ms: Arc<AtomicU64>,
    epoch: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// How often the loop should call [`Watchdog::alive`].
    pub pulse: Duration,
}

impl Watchdog {
    /// For systemd's watchdog (`$WATCHDOG_USEC` and `$NOTIFY_SOCKET`), if it is on: pings every
    /// quarter period while the loop showed progress within half of it, so no two pings are
    /// more than half a period apart while the loop turns, and systemd restarts the process
    /// at most one and a half periods after the loop stopped.
    pub fn from_env() -> Option<Self> {
        let period = watchdog_period()?;
        let socket = std::env::var_os("NOTIFY_SOCKET")?;
        Some(Self::start(socket, period / 4, period / 2))
    }

    /// Pings `socket` every `every` while [`Watchdog::alive`] was called less than
    /// `stale_after` ago (the start counts as progress).
    pub fn start(socket: OsString, every: Duration, stale_after: Duration) -> Self {
        let progress_ms = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let thread = {
            let (progress_ms, stop) = (progress_ms.clone(), stop.clone());
            std::thread::Builder::new()
                .name("watchdog".into())
                .spawn(move || {
                    let mut was_alive = true;
                    while !stop.load(Ordering::Relaxed) {
                        let last = Duration::from_millis(progress_ms.load(Ordering::Relaxed));
                        let alive = is_alive(epoch.elapsed().saturating_sub(last), stale_after);
                        if alive {
                            if let Err(e) = send_to(&socket, "WATCHDOG=1") {
                                tracing::warn!(error = %e, "watchdog ping not sent");
                            }
                        } else if was_alive {
                            tracing::error!(
                                stale_after_ms = stale_after.as_millis() as u64,
                                "the service loop has made no progress: watchdog pings stop, \
                                 systemd will restart the service"
                            );
                        }
                        was_alive = alive;
                        std::thread::park_timeout(every);
                    }
                })
                .ok()
        };
        Self {
            progress_ms,
            epoch,
            stop,
            thread,
            pulse: every,
        }
    }

    /// The watched loop made progress now.
    pub fn alive(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.progress_ms.store(ms, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pings_within(sock: &UnixDatagram, window: Duration) -> usize {
        let end = Instant::now() + window;
        let mut buf = [0u8; 64];
        let mut n = 0;
        while Instant::now() < end {
            if let Ok(len) = sock.recv(&mut buf) {
                assert_eq!(&buf[..len], b"WATCHDOG=1");
                n += 1;
            }
        }
        n
    }

    #[test]
    fn pings_while_the_loop_turns_and_stops_when_it_is_stuck() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let dog = Watchdog::start(
            path.into_os_string(),
            Duration::from_millis(20),
            Duration::from_millis(100),
        );
        // The loop turns for 300 ms: pings all along.
        let end = Instant::now() + Duration::from_millis(300);
        let mut buf = [0u8; 64];
        let mut turning = 0;
        while Instant::now() < end {
            dog.alive();
            if sock.recv(&mut buf).is_ok() {
                turning += 1;
            }
        }
        assert!(turning >= 5, "{turning} pings while the loop turned");
        // Stuck: after at most `stale_after` (and one ping period) the pings stop for good.
        pings_within(&sock, Duration::from_millis(150));
        assert_eq!(pings_within(&sock, Duration::from_millis(300)), 0);
        // Progress again: pings again.
        dog.alive();
        assert!(pings_within(&sock, Duration::from_millis(60)) >= 1);
    }

    #[test]
    fn a_loop_is_alive_only_within_the_limit() {
        let limit = Duration::from_secs(1);
        assert!(is_alive(Duration::from_millis(999), limit));
        assert!(!is_alive(limit, limit));
    }
}
