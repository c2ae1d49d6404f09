//! A device's reading thread with a stop flag, joined when dropped.

use std::sync::Arc;

/// A device's reading thread: started with a stop flag it polls, stopped and joined on drop.
pub struct DeviceThread {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DeviceThread {
    /// Runs `body` on a thread named `name` until it returns; `body` checks the flag.
    pub fn spawn(
        name: &str,
        body: impl FnOnce(&std::sync::atomic::AtomicBool) + Send + 'static,
    ) -> Result<Self, String> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&flag))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for DeviceThread {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
