//! Speech for every terminal: the kiosk's voice prompts (大字模式) and the hall display's
//! announcements ("请A001号到3号窗口办理"). One [`Speaker`] trait; [`Espeak`] speaks through
//! espeak-ng's Mandarin (or English) voice when it is installed, [`Silent`] when it is not, and
//! tests use [`Recorder`] or their own speaker.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::core::config::Language;

/// Something that can say a sentence without blocking the caller.
pub trait Speaker {
    /// Says `text` in `lang`; returns at once.
    fn say(&self, text: &str, lang: Language);
}

/// espeak-ng as a child process (`-v cmn` for Mandarin, `-v en` for English).
pub struct Espeak {
    program: std::path::PathBuf,
    overlap: Overlap,
    current: Arc<Mutex<Option<Child>>>,
}

/// What a new sentence does to one still being spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Cuts it short (the kiosk's prompts: only the current screen matters).
    CutShort,
    /// Waits for it to end (the hall's announcements: every call is heard in full).
    Queue,
}

/// `espeak-ng` from `PATH`, if installed (an executable file). The hall display's
/// announcements use it too.
pub fn find_espeak() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("espeak-ng"))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// espeak-ng saying `text` in `voice` at a calm speed, output discarded; `--` so a text
/// starting with "-" is never read as an option.
pub fn espeak_command(program: &std::path::Path, voice: &str, text: &str) -> Command {
    let mut c = Command::new(program);
    c.args(["-v", voice, "-s", "150", "--", text])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

impl Espeak {
    /// `espeak-ng` from `PATH`, if installed, cutting a sentence short for the next one.
    pub fn find() -> Option<Self> {
        find_espeak().map(Self::at)
    }

    /// A given espeak-ng program, cutting a sentence short for the next one.
    pub fn at(program: std::path::PathBuf) -> Self {
        Self {
            program,
            overlap: Overlap::CutShort,
            current: Arc::new(Mutex::new(None)),
        }
    }

    /// The same, with `overlap` deciding what a new sentence does to the current one.
    pub fn with_overlap(mut self, overlap: Overlap) -> Self {
        self.overlap = overlap;
        self
    }
}

fn voice(lang: Language) -> &'static str {
    match lang {
        Language::ZhCn => "cmn",
        Language::En => "en",
    }
}

impl Speaker for Espeak {
    fn say(&self, text: &str, lang: Language) {
        let mut command = espeak_command(&self.program, voice(lang), text);
        if self.overlap == Overlap::Queue {
            // One sentence at a time on a worker thread (the child is reaped there).
            let lock = self.current.clone();
            let spawned = std::thread::Builder::new()
                .name("speech".into())
                .spawn(move || {
                    let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
                    match command.status() {
                        Ok(s) if s.success() => {}
                        Ok(s) => tracing::warn!(%s, "espeak-ng failed"),
                        Err(e) => tracing::warn!(error = %e, "espeak-ng could not run"),
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "speech thread not started");
            }
            return;
        }
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut old) = current.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        match command.spawn() {
            Ok(child) => *current = Some(child),
            Err(e) => tracing::warn!(error = %e, "espeak-ng could not start"),
        }
    }
}

impl Drop for Espeak {
    fn drop(&mut self) {
        if let Some(mut c) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Says nothing (no speech synthesiser installed).
#[derive(Debug, Default)]
pub struct Silent;

impl Speaker for Silent {
    fn say(&self, text: &str, _lang: Language) {
        tracing::debug!(%text, "not spoken: no speech synthesiser");
    }
}

/// The hall's announcer: espeak-ng when installed (each call heard in full), else silence.
pub fn announcer() -> Box<dyn Speaker> {
    match Espeak::find() {
        Some(e) => {
            tracing::info!(program = %e.program.display(), "announcements spoken by espeak-ng");
            Box::new(e.with_overlap(Overlap::Queue))
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

impl Speaker for Recorder {
    fn say(&self, text: &str, _lang: Language) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn espeak_gets_the_voice_and_the_text_as_one_argument_after_a_double_dash() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let script = dir.path().join("espeak-ng");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > {}.tmp && mv {0}.tmp {0}\n",
                out.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let speaker = Espeak::at(script);
        speaker.say("-请A001号到3号窗口办理", Language::ZhCn);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !out.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "espeak-ng was not run"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let args: Vec<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            args,
            ["-v", "cmn", "-s", "150", "--", "-请A001号到3号窗口办理"]
        );
    }
}
