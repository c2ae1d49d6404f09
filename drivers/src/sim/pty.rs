//! A serial device emulated on a pseudo-terminal: the driver opens the slave side like any
//! serial port; the emulator answers on the master side. Unplug closes the pty (the driver sees
//! the port vanish); replug opens a new one and moves the stable link to it.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serialport::TTYPort;

/// A device behind the wire: bytes in, bytes out (sans-IO).
pub trait WireDevice: Send + 'static {
    /// Bytes arrived from the host; returns the bytes to send back.
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8>;
    /// Bytes the device sends on its own (a scanned code); polled every few milliseconds.
    fn take_output(&mut self) -> Vec<u8> {
        Vec::new()
    }
    /// Time per byte on the line, when real line timing is wanted (10 bits per byte for 8N1).
    fn byte_time(&self) -> Option<Duration> {
        None
    }
}

/// Time per byte at `baud`, 8N1 (start + 8 data + stop bits).
pub fn byte_time(baud: u32) -> Duration {
    Duration::from_nanos(10_000_000_000 / u64::from(baud.max(1)))
}

/// A running pty emulator around a [`WireDevice`].
pub struct PtyDevice<D: WireDevice> {
    device: Arc<Mutex<D>>,
    plugged: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    path: Arc<Mutex<Option<PathBuf>>>,
    link: Option<PathBuf>,
    thread: Option<JoinHandle<()>>,
}

impl<D: WireDevice> PtyDevice<D> {
    /// Opens a pty and starts answering. If `link` is given, a symlink there always points at
    /// the current pty, so a driver configured with it survives unplug/replug.
    pub fn start(device: D, link: Option<PathBuf>) -> io::Result<Self> {
        let device = Arc::new(Mutex::new(device));
        let plugged = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let path = Arc::new(Mutex::new(None));
        // Open the first pty here so errors reach the caller and the path is known on return.
        let first = open_pty(link.as_deref())?;
        *path.lock().unwrap_or_else(|e| e.into_inner()) = Some(first.1.clone());
        let runner = Runner {
            device: device.clone(),
            plugged: plugged.clone(),
            stop: stop.clone(),
            path: path.clone(),
            link: link.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("pty-device".into())
            .spawn(move || runner.run(Some(first.0)))?;
        Ok(Self {
            device,
            plugged,
            stop,
            path,
            link,
            thread: Some(thread),
        })
    }

    /// The path a driver should open: the stable link if any, else the current pty slave.
    pub fn path(&self) -> PathBuf {
        if let Some(l) = &self.link {
            return l.clone();
        }
        self.pty_path().unwrap_or_default()
    }

    /// The current pty slave path (`None` while unplugged).
    pub fn pty_path(&self) -> Option<PathBuf> {
        self.path.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Locks the emulated device to inspect or change it.
    pub fn device(&self) -> MutexGuard<'_, D> {
        self.device.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pulls the plug: the pty closes and its path disappears.
    pub fn unplug(&self) {
        self.plugged.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.pty_path().is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Plugs back in: a new pty opens (the link, if any, moves to it).
    pub fn replug(&self) {
        self.plugged.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.pty_path().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Whether the device is plugged in.
    pub fn is_plugged(&self) -> bool {
        self.plugged.load(Ordering::SeqCst)
    }
}

impl<D: WireDevice> Drop for PtyDevice<D> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(l) = &self.link {
            let _ = std::fs::remove_file(l);
        }
    }
}

fn open_pty(link: Option<&Path>) -> io::Result<(TTYPort, PathBuf)> {
    let (master, slave) = TTYPort::pair().map_err(io::Error::from)?;
    let name = serialport::SerialPort::name(&slave)
        .ok_or_else(|| io::Error::other("pty has no slave name"))?;
    // Only the driver should hold the slave open, so that closing the master is an unplug.
    drop(slave);
    let path = PathBuf::from(name);
    if let Some(link) = link {
        let tmp = link.with_extension("tmp-link");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&path, &tmp)?;
        std::fs::rename(&tmp, link)?;
    }
    Ok((master, path))
}

struct Runner<D: WireDevice> {
    device: Arc<Mutex<D>>,
    plugged: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    path: Arc<Mutex<Option<PathBuf>>>,
    link: Option<PathBuf>,
}

impl<D: WireDevice> Runner<D> {
    fn set_path(&self, p: Option<PathBuf>) {
        *self.path.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }

    fn run(self, mut port: Option<TTYPort>) {
        let mut buf = [0u8; 4096];
        while !self.stop.load(Ordering::SeqCst) {
            if !self.plugged.load(Ordering::SeqCst) {
                if port.take().is_some() {
                    if let Some(l) = &self.link {
                        let _ = std::fs::remove_file(l);
                    }
                    self.set_path(None);
                }
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let p = match port.as_mut() {
                Some(p) => p,
                None => match open_pty(self.link.as_deref()) {
                    Ok((m, path)) => {
                        self.set_path(Some(path));
                        port.insert(m)
                    }
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    }
                },
            };
            let _ = serialport::SerialPort::set_timeout(p, Duration::from_millis(5));
            let input = match p.read(&mut buf) {
                Ok(n) => &buf[..n],
                Err(e) if e.kind() == io::ErrorKind::TimedOut => &buf[..0],
                Err(_) => {
                    // No one has the slave open: nothing to read or answer.
                    std::thread::sleep(Duration::from_millis(5));
                    &buf[..0]
                }
            };
            let (reply, unsolicited, pace) = {
                let mut d = self.device.lock().unwrap_or_else(|e| e.into_inner());
                let reply = if input.is_empty() {
                    Vec::new()
                } else {
                    d.on_input(input)
                };
                (reply, d.take_output(), d.byte_time())
            };
            for out in [reply, unsolicited] {
                if !out.is_empty() {
                    let _ = write_paced(p, &out, pace, &self.plugged);
                }
            }
        }
    }
}

/// Writes `bytes`, keeping to the line rate if `pace` is given; stops if unplugged meanwhile.
fn write_paced(
    port: &mut TTYPort,
    bytes: &[u8],
    pace: Option<Duration>,
    plugged: &AtomicBool,
) -> io::Result<()> {
    let _ = serialport::SerialPort::set_timeout(port, Duration::from_millis(500));
    let Some(per_byte) = pace else {
        return port.write_all(bytes);
    };
    let start = Instant::now();
    // Chunks of 16 bytes (1.4 ms at 115200) keep the pace within a chunk of the real line.
    for (i, chunk) in bytes.chunks(16).enumerate() {
        if !plugged.load(Ordering::SeqCst) {
            return Ok(());
        }
        let due = start + per_byte * ((i * 16 + chunk.len()) as u32);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        port.write_all(chunk)?;
    }
    Ok(())
}
