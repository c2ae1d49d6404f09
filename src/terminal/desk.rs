//! A window's ticketing desk as jobs: what the clerk asked of the queue ([`DeskJob`]) and
//! what came of it ([`DeskOutcome`]). On the embedded queue a job runs at once on the UI
//! thread (a local SQLite write); on the hall's database it runs on the [`HallDesk`] thread,
//! so a slow or unreachable hall server never freezes the clerk's screen, and the outcome
//! comes back through the [`Inbox`] as [`Report::Desk`]. Both ways the app handles the same
//! outcome in one place.

use std::path::PathBuf;
use std::sync::mpsc;

use jiff::Timestamp;

use super::inbox::{Inbox, Report};
use crate::core::config::TicketingSection;
use crate::core::domain::EvaluationLevel;
use crate::core::hall::{Hall, HallLink, DOWN_ZH};
use crate::core::store::Store;
use crate::core::ticketing::{
    Called, Desk, Finished, HallStatus, IssueRequest, IssuedTicket, TicketError, TicketRef,
    Transfer, Unavailable,
};

/// What the clerk asked of the window's desk.
#[derive(Debug, Clone)]
pub enum DeskJob {
    /// Open (after sign-in) or close (at sign-out) the window for calls.
    Open(bool),
    CallNext,
    Recall,
    /// 过号.
    Skip,
    /// 暂挂.
    Hold,
    /// 办结.
    Serve,
    Transfer(Transfer),
    /// A ticket issued from this desk (the demo's "a citizen takes a ticket"); `retried`
    /// once the numbers were topped up after the lease ran out.
    Issue {
        req: IssueRequest,
        retried: bool,
    },
    /// 好差评 for a ticket served here.
    Evaluate {
        reference: TicketRef,
        level: EvaluationLevel,
        reasons: Vec<String>,
    },
    /// Read the queue (the 本窗口等候 line).
    Status,
}

/// What came of a [`DeskJob`].
#[derive(Debug)]
pub enum DeskOutcome {
    Opened(bool, Result<(), TicketError>),
    Called(Result<Called, TicketError>),
    Recalled(Result<Called, TicketError>),
    /// 过号, 暂挂, 办结 or a transfer: the job, and the ticket that left the window.
    Ended(DeskJob, Result<Finished, TicketError>),
    Issued {
        req: IssueRequest,
        retried: bool,
        result: Result<IssuedTicket, TicketError>,
    },
    Evaluated(Result<(), TicketError>),
    Status(Result<HallStatus, TicketError>),
}

impl DeskJob {
    /// Runs the job at `desk`.
    pub fn run(self, desk: &mut Desk<'_>, now: Timestamp) -> DeskOutcome {
        match self {
            DeskJob::Open(open) => DeskOutcome::Opened(open, desk.set_open(open, now)),
            DeskJob::CallNext => DeskOutcome::Called(desk.call_next(now)),
            DeskJob::Recall => DeskOutcome::Recalled(desk.recall(now)),
            DeskJob::Skip => {
                let r = desk.skip(now);
                DeskOutcome::Ended(self, r)
            }
            DeskJob::Hold => {
                let r = desk.hold(now);
                DeskOutcome::Ended(self, r)
            }
            DeskJob::Serve => {
                let r = desk.serve(now);
                DeskOutcome::Ended(self, r)
            }
            DeskJob::Transfer(ref to) => {
                let r = desk.transfer(to, now);
                DeskOutcome::Ended(self, r)
            }
            DeskJob::Issue { req, retried } => {
                let result = desk.issue(&req, now);
                DeskOutcome::Issued {
                    req,
                    retried,
                    result,
                }
            }
            DeskJob::Evaluate {
                reference,
                level,
                reasons,
            } => {
                DeskOutcome::Evaluated(desk.evaluate(&reference, level, &reasons, now).map(|_| ()))
            }
            DeskJob::Status => DeskOutcome::Status(desk.status(now)),
        }
    }

    /// Whether the clerk asked for it and waits for it (one at a time); an evaluation and a
    /// read of the queue go along beside.
    pub fn is_clerk_action(&self) -> bool {
        !matches!(self, DeskJob::Evaluate { .. } | DeskJob::Status)
    }

    /// What the clerk's screen says while the job runs on the hall's database.
    pub fn working_zh(&self) -> &'static str {
        match self {
            DeskJob::Open(true) => "正在开放本窗口叫号…",
            DeskJob::Open(false) => "正在关闭本窗口叫号…",
            DeskJob::CallNext => "正在叫号…",
            DeskJob::Recall => "正在重呼…",
            DeskJob::Skip => "正在过号…",
            DeskJob::Hold => "正在暂挂…",
            DeskJob::Serve => "正在办结…",
            DeskJob::Transfer(_) => "正在转出…",
            DeskJob::Issue { .. } => "正在取号…",
            DeskJob::Evaluate { .. } | DeskJob::Status => "",
        }
    }
}

/// The window's desk on the hall's database, on a thread of its own: jobs go in one at a
/// time, in order; each outcome is posted to the inbox. The thread holds its own hall link
/// and its own connection to the terminal's store (numbers issued here come from this
/// terminal's lease), and ends when this value is dropped.
pub struct HallDesk {
    jobs: Option<mpsc::Sender<DeskJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HallDesk {
    /// Starts the desk of `window` on `cfg.queue`, the store at `store_path` beside it.
    pub fn start(
        cfg: TicketingSection,
        store_path: PathBuf,
        terminal: String,
        window: u16,
        inbox: Inbox,
    ) -> Result<Self, String> {
        let (tx, rx) = mpsc::channel::<DeskJob>();
        let thread = std::thread::Builder::new()
            .name("hall-desk".into())
            .spawn(move || {
                let mut store = match Store::open(&store_path) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::error!(error = %e, "hall desk: the store could not be opened");
                        None
                    }
                };
                let mut link = HallLink::default();
                for job in rx {
                    let now = Timestamp::now();
                    let outcome = match (&mut store, link.get(&cfg)) {
                        (Some(store), Ok(db)) => job.run(
                            &mut Desk::new(
                                Hall {
                                    db,
                                    store,
                                    cfg: &cfg,
                                    terminal: &terminal,
                                },
                                window,
                            ),
                            now,
                        ),
                        (None, _) => job.run(
                            &mut Desk::new(
                                Unavailable("本机数据文件打不开，不能叫号：请联系技术人员".into()),
                                window,
                            ),
                            now,
                        ),
                        (_, Err(e)) => {
                            tracing::warn!(error = %e, "hall database not reached");
                            job.run(
                                &mut Desk::new(Unavailable(format!("{DOWN_ZH}。{e}")), window),
                                now,
                            )
                        }
                    };
                    inbox.post(Report::Desk(outcome));
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            jobs: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `job`; its outcome comes back as [`Report::Desk`].
    pub fn send(&self, job: DeskJob) {
        if let Some(tx) = &self.jobs {
            if tx.send(job).is_err() {
                tracing::error!("hall desk thread has ended");
            }
        }
    }
}

impl Drop for HallDesk {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop after the job in hand.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
