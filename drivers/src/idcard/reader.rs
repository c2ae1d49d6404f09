//! The SAM reader driver over any [`ByteLink`]: one command at a time, bounded retries,
//! timeouts and cancellation. Blocking; [`super::service`] runs it on its own thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::card::{decode_appended_address, parse_read_payload, IdCard, PayloadError};
use super::frame::{FrameDecoder, FrameError};
use super::photo::{NoPhotoDecoder, PhotoDecoder};
use super::sam::{check_sw3, SamCommand, SamError, SamReply};
use super::text::TextError;
use crate::link::ByteLink;
use crate::status::ErrorKind;

/// Tunables of the SAM driver.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// How long one reply may take (a `30 01` reply is ~112 ms of wire time at 115200).
    pub reply_timeout: Duration,
    /// How many times a command is re-sent after a damaged or missing reply.
    pub retries: u32,
    /// Pause between find-card polls while waiting for a card.
    pub poll_interval: Duration,
    /// Read fingerprints too (`30 10` instead of `30 01`).
    pub with_fingerprint: bool,
    /// Also read the appended address (`30 03`).
    pub appended_address: bool,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        Self {
            reply_timeout: Duration::from_millis(1000),
            retries: 2,
            poll_interval: Duration::from_millis(150),
            with_fingerprint: false,
            appended_address: true,
        }
    }
}

/// Why a reader command failed. Every command ends in a card or exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    /// The SAM answered with a failure status.
    #[error("{command:?}: {error}")]
    Sam {
        /// The command that failed.
        command: SamCommand,
        /// The SAM's status.
        error: SamError,
    },
    /// Replies kept arriving damaged after every retry.
    #[error("{command:?}: damaged reply after retries: {error}")]
    Frame {
        /// The command that failed.
        command: SamCommand,
        /// The last damage seen.
        error: FrameError,
    },
    /// No complete reply within the timeout, after every retry.
    #[error("{command:?}: no reply within {timeout_ms} ms")]
    Timeout {
        /// The command that failed.
        command: SamCommand,
        /// The per-reply timeout.
        timeout_ms: u64,
    },
    /// The wait for a card ran out.
    #[error("no card presented within {0} s")]
    NoCard(u64),
    /// The command was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The link is broken or the device is unplugged.
    #[error("reader {device} offline: {reason}")]
    Offline {
        /// Port path.
        device: String,
        /// The OS error.
        reason: String,
    },
    /// The reply's payload does not add up.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The text block's layout is unknown.
    #[error(transparent)]
    Text(#[from] TextError),
}

impl IdCardError {
    /// The broad class, for the UI to choose between "请重新放置身份证" and "读卡器故障".
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Sam { error, .. } if error.is_card_problem() => ErrorKind::User,
            Self::Sam { .. } | Self::Frame { .. } | Self::Offline { .. } | Self::Payload(_) => {
                ErrorKind::Device
            }
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::NoCard(_) => ErrorKind::Timeout,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::Text(_) => ErrorKind::User,
        }
    }

    /// What to tell the citizen (zh-CN).
    pub fn describe_zh(&self) -> &'static str {
        match self {
            Self::Sam { error, .. } => error.describe_zh(),
            Self::Text(_) => "无法识别的证件类型",
            Self::NoCard(_) => "未检测到身份证，请放置身份证",
            Self::Cancelled => "已取消",
            Self::Timeout { .. } | Self::Frame { .. } | Self::Offline { .. } | Self::Payload(_) => {
                "读卡器故障，请联系工作人员"
            }
        }
    }

    /// Whether the link itself is gone (the service then reconnects).
    pub fn is_link_loss(&self) -> bool {
        matches!(self, Self::Offline { .. })
    }
}

/// A cancellation flag shared between the caller and the driver.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, uncancelled token.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The GA/T 467 SAM driver over a byte link.
pub struct SamReader<L: ByteLink> {
    link: L,
    device: String,
    decoder: FrameDecoder,
    config: ReaderConfig,
    photo: Arc<dyn PhotoDecoder>,
}

const SLICE: Duration = Duration::from_millis(20);

impl<L: ByteLink> SamReader<L> {
    /// Wraps `link`; `device` names it in errors.
    pub fn new(link: L, device: impl Into<String>, config: ReaderConfig) -> Self {
        Self {
            link,
            device: device.into(),
            decoder: FrameDecoder::new(),
            config,
            photo: Arc::new(NoPhotoDecoder),
        }
    }

    /// Uses `decoder` for card photos.
    pub fn with_photo_decoder(mut self, decoder: Arc<dyn PhotoDecoder>) -> Self {
        self.photo = decoder;
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &ReaderConfig {
        &self.config
    }

    /// Changes the configuration (e.g. short timeouts for heartbeats).
    pub fn config_mut(&mut self) -> &mut ReaderConfig {
        &mut self.config
    }

    fn offline(&self, e: std::io::Error) -> IdCardError {
        IdCardError::Offline {
            device: self.device.clone(),
            reason: e.to_string(),
        }
    }

    /// Sends a polling command (find, select) and returns its status for the
    /// [`CardPoller`](super::poller::CardPoller): a card problem (no card, …) is the poller's to
    /// handle, a module fault (self-test, authorisation…) is an error.
    pub(crate) fn poll_status(
        &mut self,
        cmd: SamCommand,
        cancel: &CancelToken,
    ) -> Result<Result<(), SamError>, IdCardError> {
        let reply = self.transact(cmd, cancel)?;
        let status = check_sw3(cmd, &reply);
        if let Err(error) = status {
            // Not "no card" but a module fault (self-test, authorisation…): report it.
            if !error.is_card_problem() {
                return Err(IdCardError::Sam {
                    command: cmd,
                    error,
                });
            }
        }
        Ok(status)
    }

    /// Sends `cmd` and returns the reply whatever its status; retries damaged or missing replies
    /// and SAM-reported transmission errors up to `retries` times.
    pub fn transact(
        &mut self,
        cmd: SamCommand,
        cancel: &CancelToken,
    ) -> Result<SamReply, IdCardError> {
        let mut last = None;
        for _ in 0..=self.config.retries {
            if cancel.is_cancelled() {
                return Err(IdCardError::Cancelled);
            }
            self.link.discard_input().map_err(|e| self.offline(e))?;
            self.decoder.clear();
            self.link.send(&cmd.encode()).map_err(|e| self.offline(e))?;
            match self.await_reply(cmd, cancel)? {
                Ok(reply) if SamError::from_sw3(reply.sw3()).is_transmission_error() => {
                    last = Some(IdCardError::Sam {
                        command: cmd,
                        error: SamError::from_sw3(reply.sw3()),
                    });
                }
                Ok(reply) => return Ok(reply),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(IdCardError::Cancelled))
    }

    /// Waits for one reply frame. The outer error ends the command at once (cancel, link loss);
    /// the inner one is retryable.
    fn await_reply(
        &mut self,
        cmd: SamCommand,
        cancel: &CancelToken,
    ) -> Result<Result<SamReply, IdCardError>, IdCardError> {
        let deadline = Instant::now() + self.config.reply_timeout;
        let mut buf = [0u8; 2048];
        let mut damage = None;
        loop {
            while let Some(frame) = self.decoder.next_frame() {
                match frame {
                    Ok(f) => match SamReply::from_frame(f) {
                        Some(reply) => return Ok(Ok(reply)),
                        None => damage = Some(FrameError::Length(0)),
                    },
                    Err(e) => damage = Some(e),
                }
            }
            if cancel.is_cancelled() {
                return Err(IdCardError::Cancelled);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Err(match damage {
                    Some(error) => IdCardError::Frame {
                        command: cmd,
                        error,
                    },
                    None => IdCardError::Timeout {
                        command: cmd,
                        timeout_ms: self.config.reply_timeout.as_millis() as u64,
                    },
                }));
            }
            let n = self
                .link
                .recv(&mut buf, (deadline - now).min(SLICE))
                .map_err(|e| self.offline(e))?;
            self.decoder.push(&buf[..n]);
        }
    }

    /// Sends `cmd` and checks its status word.
    pub fn command(
        &mut self,
        cmd: SamCommand,
        cancel: &CancelToken,
    ) -> Result<SamReply, IdCardError> {
        let reply = self.transact(cmd, cancel)?;
        check_sw3(cmd, &reply).map_err(|error| IdCardError::Sam {
            command: cmd,
            error,
        })?;
        Ok(reply)
    }

    /// `10 FF`: resets the SAM.
    pub fn reset(&mut self) -> Result<(), IdCardError> {
        self.command(SamCommand::Reset, &CancelToken::new())
            .map(drop)
    }

    /// `11 FF`: checks the SAM is alive and well.
    pub fn status(&mut self) -> Result<(), IdCardError> {
        self.command(SamCommand::Status, &CancelToken::new())
            .map(drop)
    }

    /// `12 FF`: the SAM's id as hex (16 bytes on most modules).
    pub fn sam_id(&mut self) -> Result<String, IdCardError> {
        let reply = self.command(SamCommand::SamId, &CancelToken::new())?;
        Ok(reply
            .data
            .iter()
            .take(64)
            .map(|b| format!("{b:02X}"))
            .collect())
    }

    /// Reads the selected card: text and photo (and fingerprint), then the appended address.
    pub fn read_selected(&mut self, cancel: &CancelToken) -> Result<IdCard, IdCardError> {
        let cmd = if self.config.with_fingerprint {
            SamCommand::ReadTextPhotoFingerprint
        } else {
            SamCommand::ReadTextPhoto
        };
        let reply = self.command(cmd, cancel)?;
        let payload = parse_read_payload(&reply.data, self.config.with_fingerprint)?;
        let mut card = IdCard::from_payload(payload, self.photo.as_ref())?;
        if self.config.appended_address {
            match self.command(SamCommand::ReadAppendedAddress, cancel) {
                Ok(r) => {
                    let a = decode_appended_address(&r.data);
                    card.appended_address = (!a.is_empty()).then_some(a);
                }
                // 0x91: the card has no appended address; other failures do not void the read.
                Err(IdCardError::Sam { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(card)
    }

    /// Polls until a new card is read, `timeout` passes or `cancel` fires. `poller` carries the
    /// field's state across calls, so a card already read is not read again until it has left;
    /// `on_removed` is told each time a card leaves.
    pub fn wait_for_card(
        &mut self,
        poller: &mut super::poller::CardPoller,
        timeout: Duration,
        cancel: &CancelToken,
        on_removed: &mut dyn FnMut(),
    ) -> Result<IdCard, IdCardError> {
        use super::poller::PollAction;
        let deadline = Instant::now() + timeout;
        loop {
            if cancel.is_cancelled() {
                return Err(IdCardError::Cancelled);
            }
            if Instant::now() >= deadline {
                return Err(IdCardError::NoCard(timeout.as_secs()));
            }
            let cmd = poller.next_command();
            let action = if cmd == SamCommand::ReadTextPhoto {
                PollAction::Read
            } else {
                let status = self.poll_status(cmd, cancel)?;
                poller.on_status(cmd, status)
            };
            match action {
                PollAction::Continue => {}
                PollAction::Removed => on_removed(),
                PollAction::Wait => sleep_cancellable(self.config.poll_interval, deadline, cancel),
                PollAction::Read => match self.read_selected(cancel) {
                    Ok(card) => {
                        poller.read_succeeded();
                        return Ok(card);
                    }
                    Err(e) => {
                        poller.read_failed();
                        return Err(e);
                    }
                },
            }
        }
    }
}

/// Sleeps `d` (but not past `deadline`), waking early on cancel.
pub(crate) fn sleep_cancellable(d: Duration, deadline: Instant, cancel: &CancelToken) {
    let end = (Instant::now() + d).min(deadline);
    while !cancel.is_cancelled() {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(SLICE));
    }
}
