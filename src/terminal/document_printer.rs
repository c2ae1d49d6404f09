//! The A4 document printer (文书打印机): a CUPS queue, spoken to in IPP through
//! `ykb_drivers::cups`. Jobs run one at a time on a worker thread and are followed until
//! CUPS reports them completed; only then is the citizen told 已打印.

use std::sync::{Arc, Mutex};

use ykb_drivers::cups::{CupsError, Follow, Printed, Queue, QueueStatus, Verdict};

use crate::core::config::DeviceSection;

/// How far a document has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentProgress {
    /// Sent to CUPS, waiting for the printer.
    Queued,
    /// The printer is stuck (paper out, paused …), in words; CUPS is given a moment before
    /// the job is cancelled.
    Stalled(String),
}

/// The document printer of a profile.
#[derive(Clone)]
pub struct DocumentPrinter {
    queue: Queue,
    follow: Follow,
    /// Serialises jobs: one document at a time.
    lock: Arc<Mutex<()>>,
}

impl DocumentPrinter {
    /// The profile's `devices.document_printer`; `Ok(None)` when none is fitted.
    pub fn start(dev: &DeviceSection) -> Result<Option<Self>, String> {
        Ok(super::slots::document_printer(dev)?.map(Self::with_queue))
    }

    /// A printer on `queue`, following jobs the default way.
    pub fn with_queue(queue: Queue) -> Self {
        Self {
            queue,
            follow: Follow::default(),
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// Changes how jobs are followed (tests shorten the stall grace).
    pub fn with_follow(mut self, follow: Follow) -> Self {
        self.follow = follow;
        self
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// CUPS's view of the queue, asked now (on the caller's thread).
    pub fn status(&self) -> Result<QueueStatus, CupsError> {
        self.queue.status()
    }

    /// Prints `pdf` and waits for CUPS to report it completed, on the caller's thread.
    pub fn print_blocking(
        &self,
        title: &str,
        pdf: &[u8],
        progress: impl Fn(DocumentProgress),
    ) -> Result<Printed, CupsError> {
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        progress(DocumentProgress::Queued);
        let mut last: Option<Verdict> = None;
        self.queue.print(title, pdf, self.follow, |v| {
            if last.as_ref() != Some(v) {
                if let Verdict::Stalled(c) = v {
                    progress(DocumentProgress::Stalled(c.describe_zh()));
                }
                last = Some(v.clone());
            }
        })
    }

    /// [`DocumentPrinter::print_blocking`] on a worker thread; `done` gets the pages CUPS
    /// counted, or what to tell the citizen.
    pub fn print(
        &self,
        title: String,
        pdf: Vec<u8>,
        progress: impl Fn(DocumentProgress) + Send + 'static,
        done: impl FnOnce(Result<Printed, String>) + Send + 'static,
    ) {
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("document-print".into())
            .spawn(move || {
                let result = me.print_blocking(&title, &pdf, progress).map_err(|e| {
                    tracing::warn!(queue = %me.queue.name, error = %e, "document not printed");
                    e.to_string()
                });
                done(result);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "document print not started");
        }
    }
}
