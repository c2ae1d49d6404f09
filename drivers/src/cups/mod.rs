//! A4 文书打印机 — document printers through the local CUPS scheduler, spoken to in IPP
//! (never by writing to the printer's device file): submit a PDF, follow the job to its end,
//! read the queue's state back. [`pdf`] lays out A4 documents as PDF.
//!
//! Sans-IO: [`ipp`] (requests and responses), [`http`]'s codec, and [`judge`] (what a job's
//! and its printer's attributes mean: wait, done, or stop and say why). IO: [`http::post`]
//! and [`Queue`], one request per call, on the caller's thread.

pub mod http;
pub mod ipp;
pub mod pdf;

use std::time::{Duration, Instant};

pub use http::Server;
use ipp::{tag, Operation, Request, Response};

/// A CUPS queue: its name and the scheduler it lives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// The queue's name (`lpstat -p` lists them).
    pub name: String,
    /// The scheduler.
    pub server: Server,
    /// Per request.
    pub timeout: Duration,
}

/// What a queue reports, in the terms a kiosk acts on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "condition", content = "detail")]
pub enum Condition {
    /// Idle and accepting jobs.
    Ready,
    /// Printing.
    Busy,
    /// Out of paper.
    PaperOut,
    /// Paper jammed.
    Jam,
    /// The printer does not answer its backend.
    Offline,
    /// Stopped by staff (`cupsdisable`) or by the scheduler after an error.
    Paused,
    /// A cover or door is open.
    CoverOpen,
    /// Not accepting jobs (`cupsreject`).
    Rejecting,
    /// Any other error the printer reports (its keyword).
    Error(String),
}

impl Condition {
    /// In words for a citizen or a technician (zh-CN).
    pub fn describe_zh(&self) -> String {
        match self {
            Self::Ready => "正常".into(),
            Self::Busy => "正在打印".into(),
            Self::PaperOut => "A4 打印机缺纸".into(),
            Self::Jam => "A4 打印机卡纸".into(),
            Self::Offline => "A4 打印机未连接".into(),
            Self::Paused => "A4 打印机已暂停".into(),
            Self::CoverOpen => "A4 打印机盖板未关好".into(),
            Self::Rejecting => "A4 打印机暂停接收打印任务".into(),
            Self::Error(k) => format!("A4 打印机故障（{k}）"),
        }
    }

    /// Whether a job can be printed now.
    pub fn can_print(&self) -> bool {
        matches!(self, Self::Ready | Self::Busy)
    }
}

/// A queue's attributes as read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueStatus {
    /// printer-state: 3 idle, 4 processing, 5 stopped.
    pub state: i32,
    /// printer-state-reasons (`none` left out).
    pub reasons: Vec<String>,
    /// printer-state-message.
    pub message: String,
    /// printer-is-accepting-jobs.
    pub accepting: bool,
    /// Jobs waiting or printing (queued-job-count).
    pub queued: i32,
    /// What it means.
    pub condition: Condition,
}

/// Reasons keyword → condition, worst first. Keywords may carry `-error`, `-warning` or
/// `-report`; warnings and reports do not stop a job.
pub fn condition(state: i32, accepting: bool, reasons: &[String]) -> Condition {
    let errors: Vec<&str> = reasons
        .iter()
        .filter(|r| !r.ends_with("-warning") && !r.ends_with("-report") && *r != "none")
        .map(|r| r.strip_suffix("-error").unwrap_or(r))
        .collect();
    let has = |k: &[&str]| errors.iter().any(|r| k.contains(r));
    if has(&["media-empty", "media-needed"]) {
        Condition::PaperOut
    } else if has(&["media-jam"]) {
        Condition::Jam
    } else if has(&["cover-open", "door-open", "interlock-open"]) {
        Condition::CoverOpen
    } else if has(&["offline", "shutdown", "connecting-to-device", "timed-out"]) {
        Condition::Offline
    } else if has(&["paused", "stopped"]) || state == 5 {
        Condition::Paused
    } else if let Some(other) = errors
        .iter()
        .find(|r| !matches!(**r, "moving-to-paused" | "cups-waiting-for-job-completed"))
        .filter(|_| reasons.iter().any(|r| r.ends_with("-error")))
    {
        Condition::Error((*other).to_owned())
    } else if !accepting {
        Condition::Rejecting
    } else if state == 4 {
        Condition::Busy
    } else {
        Condition::Ready
    }
}

/// A job's attributes as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// job-state: 3 pending, 4 held, 5 processing, 6 stopped, 7 canceled, 8 aborted, 9
    /// completed.
    pub state: i32,
    /// job-state-reasons.
    pub reasons: Vec<String>,
    /// job-impressions-completed (pages), when the scheduler counts them.
    pub impressions: Option<i32>,
}

/// What a job's and its printer's state mean for the one waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not done yet, nothing wrong.
    Wait,
    /// The scheduler says completed.
    Done,
    /// It cannot go on while the printer is like this (the job is stuck, not lost).
    Stalled(Condition),
    /// The job ended without printing (canceled, aborted).
    Ended(i32, Vec<String>),
}

/// Judges one observation (sans-IO): completed → [`Verdict::Done`]; canceled or aborted →
/// [`Verdict::Ended`]; a job stopped, or waiting on a printer that cannot print →
/// [`Verdict::Stalled`]; otherwise [`Verdict::Wait`].
pub fn judge(job: &JobStatus, printer: &QueueStatus) -> Verdict {
    match job.state {
        9 => Verdict::Done,
        7 | 8 => Verdict::Ended(job.state, job.reasons.clone()),
        _ if job.state == 6 || !printer.condition.can_print() => {
            let c = if printer.condition.can_print() {
                Condition::Paused
            } else {
                printer.condition.clone()
            };
            // Rejecting new jobs does not stop one already queued.
            if c == Condition::Rejecting {
                Verdict::Wait
            } else {
                Verdict::Stalled(c)
            }
        }
        _ => Verdict::Wait,
    }
}

/// Why a document was not printed.
#[derive(Debug, thiserror::Error)]
pub enum CupsError {
    /// The scheduler does not answer (not running, wrong socket or port).
    #[error("打印服务（CUPS）没有运行或无法连接：{0}")]
    Down(String),
    /// No such queue.
    #[error("没有名为 {0} 的打印队列")]
    NoQueue(String),
    /// The queue refuses jobs, or the printer cannot print (paper out, paused …).
    #[error("{}", .0.describe_zh())]
    NotReady(Condition),
    /// The job was accepted and then could not go on; it was cancelled.
    #[error("打印中断：{}（任务 {job} 已取消）", .condition.describe_zh())]
    Stalled {
        /// The job's id.
        job: i32,
        /// What stopped it.
        condition: Condition,
    },
    /// The job ended without printing.
    #[error("打印任务 {job} 未完成（{}）", describe_job_state(*.state))]
    Ended {
        /// The job's id.
        job: i32,
        /// Its final job-state.
        state: i32,
    },
    /// The job did not complete in time; it was cancelled.
    #[error("打印任务 {0} 超时未完成，已取消")]
    Timeout(i32),
    /// The scheduler refused the request.
    #[error("打印服务拒绝了请求：{0}")]
    Refused(String),
    /// The answer could not be understood.
    #[error("打印服务的应答无法识别：{0}")]
    Protocol(String),
}

impl CupsError {
    /// The broad class, for the UI.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            Self::Timeout(_) => crate::ErrorKind::Timeout,
            _ => crate::ErrorKind::Device,
        }
    }
}

fn describe_job_state(state: i32) -> &'static str {
    match state {
        7 => "已取消",
        8 => "打印失败",
        _ => "未知状态",
    }
}

/// How a finished job went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// The job's id on the scheduler.
    pub job: i32,
    /// Pages as the scheduler counted them, if it did.
    pub pages: Option<i32>,
}

/// Following a job.
#[derive(Debug, Clone, Copy)]
pub struct Follow {
    /// Between two looks at the job.
    pub poll: Duration,
    /// How long a stalled job is given before it is cancelled (paper added, printer resumed).
    pub stall_grace: Duration,
    /// Longest the whole job may take.
    pub deadline: Duration,
}

impl Default for Follow {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(50),
            stall_grace: Duration::from_secs(3),
            deadline: Duration::from_secs(120),
        }
    }
}

const JOB_ATTRS: &[&str] = &[
    "job-state",
    "job-state-reasons",
    "job-impressions-completed",
];
const PRINTER_ATTRS: &[&str] = &[
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "queued-job-count",
];

impl Queue {
    /// `NAME` (on the system's scheduler) or `NAME@SERVER`, SERVER being the scheduler's
    /// socket path or `host:port`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (name, server) = match spec.trim().split_once('@') {
            Some((n, s)) => (n.trim(), Server::parse(s)),
            None => (spec.trim(), Server::system()),
        };
        let valid = !name.is_empty()
            && name.len() <= 127
            && name
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '#' | '@' | '\\'));
        if !valid {
            return Err(format!(
                "打印队列名 {name:?} 无效（应为 CUPS 队列名，如 a4 或 a4@/run/cups/cups.sock）"
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            server,
            timeout: Duration::from_secs(10),
        })
    }

    fn uri(&self) -> String {
        format!("ipp://localhost/printers/{}", self.name)
    }

    fn call(&self, req: Request, document: &[u8]) -> Result<Response, CupsError> {
        let body = req.encode(document);
        let raw = http::post(
            &self.server,
            &format!("/printers/{}", self.name),
            &body,
            self.timeout,
        )
        .map_err(|e| match e {
            http::HttpError::Connect(..) => CupsError::Down(e.to_string()),
            other => CupsError::Protocol(other.to_string()),
        })?;
        let r = Response::decode(&raw).map_err(|e| CupsError::Protocol(e.to_string()))?;
        match r.status {
            s if s < 0x0100 => Ok(r),
            0x0406 => Err(CupsError::NoQueue(self.name.clone())),
            0x0506 => Err(CupsError::NotReady(Condition::Rejecting)),
            s => Err(CupsError::Refused(format!(
                "0x{s:04x} {}",
                r.status_message().unwrap_or_default()
            ))),
        }
    }

    fn request(&self, op: Operation) -> Request {
        Request::new(op, next_request_id(), &self.uri()).text(
            tag::NAME,
            "requesting-user-name",
            "ykb-terminal",
        )
    }

    /// The queue's state, as the scheduler reports it.
    pub fn status(&self) -> Result<QueueStatus, CupsError> {
        let r = self.call(
            self.request(Operation::GetPrinterAttributes)
                .keywords("requested-attributes", PRINTER_ATTRS),
            &[],
        )?;
        let state = r.int("printer-state").unwrap_or(3);
        let reasons: Vec<String> = r
            .texts("printer-state-reasons")
            .into_iter()
            .filter(|x| x != "none")
            .collect();
        let accepting = r.bool("printer-is-accepting-jobs").unwrap_or(true);
        Ok(QueueStatus {
            state,
            condition: condition(state, accepting, &reasons),
            reasons,
            message: r
                .texts("printer-state-message")
                .into_iter()
                .next()
                .unwrap_or_default(),
            accepting,
            queued: r.int("queued-job-count").unwrap_or(0),
        })
    }

    /// Submits `pdf` as one job named `title`; the job's id.
    pub fn submit(&self, title: &str, pdf: &[u8]) -> Result<i32, CupsError> {
        let req = self
            .request(Operation::PrintJob)
            .text(tag::NAME, "job-name", title)
            .text(tag::MIME, "document-format", "application/pdf")
            .job_group()
            .text(tag::KEYWORD, "media", "iso_a4_210x297mm")
            .int("copies", 1);
        let r = self.call(req, pdf)?;
        r.int("job-id")
            .ok_or_else(|| CupsError::Protocol("Print-Job answered without job-id".into()))
    }

    /// One job's state.
    pub fn job(&self, job: i32) -> Result<JobStatus, CupsError> {
        let r = self.call(
            self.request(Operation::GetJobAttributes)
                .int("job-id", job)
                .keywords("requested-attributes", JOB_ATTRS),
            &[],
        )?;
        Ok(JobStatus {
            state: r.int("job-state").unwrap_or(3),
            reasons: r.texts("job-state-reasons"),
            impressions: r.int("job-impressions-completed"),
        })
    }

    /// Cancels a job (a no-op for one already finished).
    pub fn cancel(&self, job: i32) -> Result<(), CupsError> {
        self.call(self.request(Operation::CancelJob).int("job-id", job), &[])
            .map(|_| ())
    }

    /// Prints `pdf` and follows the job until the scheduler says completed: refuses when the
    /// queue cannot print now, and cancels a job that stalls past `follow.stall_grace` or
    /// outlasts `follow.deadline` (so it can be printed again without a second copy coming
    /// out later). `seen` gets every verdict while waiting.
    pub fn print(
        &self,
        title: &str,
        pdf: &[u8],
        follow: Follow,
        mut seen: impl FnMut(&Verdict),
    ) -> Result<Printed, CupsError> {
        let before = self.status()?;
        if !before.condition.can_print() {
            return Err(CupsError::NotReady(before.condition));
        }
        let job = self.submit(title, pdf)?;
        let start = Instant::now();
        let mut stalled_since: Option<Instant> = None;
        loop {
            let status = self.job(job)?;
            let printer = self.status()?;
            let verdict = judge(&status, &printer);
            seen(&verdict);
            match verdict {
                Verdict::Done => {
                    return Ok(Printed {
                        job,
                        pages: status.impressions,
                    })
                }
                Verdict::Ended(state, _) => return Err(CupsError::Ended { job, state }),
                Verdict::Stalled(condition) => {
                    let since = *stalled_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= follow.stall_grace {
                        let _ = self.cancel(job);
                        return Err(CupsError::Stalled { job, condition });
                    }
                }
                Verdict::Wait => stalled_since = None,
            }
            if start.elapsed() >= follow.deadline {
                let _ = self.cancel(job);
                return Err(CupsError::Timeout(job));
            }
            std::thread::sleep(follow.poll);
        }
    }
}

fn next_request_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn reasons_become_conditions_worst_first() {
        assert_eq!(condition(3, true, &[]), Condition::Ready);
        assert_eq!(condition(4, true, &[]), Condition::Busy);
        assert_eq!(
            condition(4, true, &reasons(&["media-empty-error"])),
            Condition::PaperOut
        );
        assert_eq!(
            condition(5, true, &reasons(&["paused", "media-jam-error"])),
            Condition::Jam
        );
        assert_eq!(condition(5, true, &reasons(&["paused"])), Condition::Paused);
        assert_eq!(
            condition(4, true, &reasons(&["offline-report"])),
            Condition::Busy
        );
        assert_eq!(
            condition(4, true, &reasons(&["offline-error"])),
            Condition::Offline
        );
        assert_eq!(
            condition(3, true, &reasons(&["media-low-warning"])),
            Condition::Ready
        );
        assert_eq!(condition(3, false, &[]), Condition::Rejecting);
        assert_eq!(
            condition(3, true, &reasons(&["toner-empty-error"])),
            Condition::Error("toner-empty".into())
        );
        assert_eq!(condition(5, true, &[]), Condition::Paused);
    }

    fn printer(state: i32, r: &[&str]) -> QueueStatus {
        let reasons = reasons(r);
        QueueStatus {
            state,
            condition: condition(state, true, &reasons),
            reasons,
            message: String::new(),
            accepting: true,
            queued: 1,
        }
    }

    fn job(state: i32) -> JobStatus {
        JobStatus {
            state,
            reasons: vec![],
            impressions: None,
        }
    }

    #[test]
    fn a_job_is_done_only_when_completed() {
        assert_eq!(judge(&job(9), &printer(3, &[])), Verdict::Done);
        assert_eq!(judge(&job(5), &printer(4, &[])), Verdict::Wait);
        assert_eq!(judge(&job(3), &printer(4, &[])), Verdict::Wait);
        assert!(matches!(
            judge(&job(8), &printer(3, &[])),
            Verdict::Ended(8, _)
        ));
        assert!(matches!(
            judge(&job(7), &printer(3, &[])),
            Verdict::Ended(7, _)
        ));
    }

    #[test]
    fn a_job_on_a_printer_that_cannot_print_is_stalled_with_the_reason() {
        assert_eq!(
            judge(&job(5), &printer(4, &["media-empty-error"])),
            Verdict::Stalled(Condition::PaperOut)
        );
        assert_eq!(
            judge(&job(3), &printer(5, &["paused"])),
            Verdict::Stalled(Condition::Paused)
        );
        assert_eq!(
            judge(&job(6), &printer(3, &[])),
            Verdict::Stalled(Condition::Paused)
        );
        // A job that completed while the paper ran out still printed.
        assert_eq!(
            judge(&job(9), &printer(5, &["media-empty-error"])),
            Verdict::Done
        );
    }

    #[test]
    fn queue_specs_name_the_queue_and_the_scheduler() {
        let q = Queue::parse("a4").unwrap();
        assert_eq!(q.name, "a4");
        assert_eq!(q.server, Server::system());
        let q = Queue::parse("ykb-pdf@/tmp/x/cups.sock").unwrap();
        assert_eq!(q.server, Server::Unix("/tmp/x/cups.sock".into()));
        let q = Queue::parse("a4@127.0.0.1:8631").unwrap();
        assert_eq!(q.server, Server::Tcp("127.0.0.1:8631".into()));
        for bad in ["", "a/b", "a b", "@/run/cups.sock"] {
            assert!(Queue::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_are_words() {
        let e = CupsError::Stalled {
            job: 12,
            condition: Condition::PaperOut,
        };
        assert_eq!(e.to_string(), "打印中断：A4 打印机缺纸（任务 12 已取消）");
        assert!(CupsError::Down("x".into()).to_string().contains("CUPS"));
    }
}
