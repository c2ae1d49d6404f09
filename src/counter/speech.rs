//! Spoken announcements for the hall display ("请A001号到3号窗口办理"): a small trait, with
//! espeak-ng's Mandarin voice (`espeak-ng -v cmn`) when it is installed and silence
//! otherwise. Tests use [`Recorder`], so nothing speaks in tests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Something that can say a sentence without blocking the caller.
pub trait Speech {
    /// Says `text` (zh-CN); returns at once.
    fn say(&self, text: &str);
}

/// Says nothing (no speech synthesiser installed).
#[derive(Debug, Default)]
pub struct Silent;

impl Speech for Silent {
    fn say(&self, text: &str) {
        tracing::debug!(%text, "announcement not spoken: no speech synthesiser");
    }
}

/// espeak-ng as a subprocess, one sentence at a time on a worker thread (it is reaped there).
#[derive(Debug)]
pub struct Espeak {
    program: PathBuf,
    /// One announcement at a time: a second call waits for the first to finish.
    lock: Arc<Mutex<()>>,
}

impl Espeak {
    /// espeak-ng from `PATH`, if installed.
    pub fn find() -> Option<Self> {
        crate::kiosk::speech::find_espeak().map(|program| Self {
            program,
            lock: Arc::new(Mutex::new(())),
        })
    }
}

impl Speech for Espeak {
    fn say(&self, text: &str) {
        let program = self.program.clone();
        let lock = self.lock.clone();
        let text = text.to_owned();
        let spawned = std::thread::Builder::new()
            .name("hall-speech".into())
            .spawn(move || {
                let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
                let status = crate::kiosk::speech::espeak_command(&program, "cmn", &text).status();
                match status {
                    Ok(s) if s.success() => {}
                    Ok(s) => tracing::warn!(%s, "espeak-ng failed"),
                    Err(e) => tracing::warn!(error = %e, "espeak-ng could not run"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "speech thread not started");
        }
    }
}

/// espeak-ng when installed, else silence.
pub fn system() -> Box<dyn Speech> {
    match Espeak::find() {
        Some(e) => {
            tracing::info!(program = %e.program.display(), "announcements spoken by espeak-ng");
            Box::new(e)
        }
        None => {
            tracing::info!("espeak-ng not installed: announcements are shown, not spoken");
            Box::new(Silent)
        }
    }
}

/// Remembers what it was asked to say (tests).
#[derive(Debug, Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    /// Everything said so far.
    pub fn said(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Speech for Recorder {
    fn say(&self, text: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.to_owned());
    }
}
