//! The window's queue actions: each is a [`DeskJob`] run at this window's desk — at once on
//! the embedded queue, on the [`HallDesk`] thread on the hall's database — and its
//! [`DeskOutcome`] is handled here, in one place for both.
//!
//! On the hall's database one clerk action runs at a time: while it runs the screen says what
//! is being done ("正在叫号…") and another queue action is refused in words; the clerk can
//! still read cards, search matters and accept cases.
//!
//! [`HallDesk`]: crate::terminal::desk::HallDesk

use jiff::Timestamp;

use super::{lease_from, Counter};
use crate::core::ticketing::{TicketError, Transfer};
use crate::terminal::desk::{DeskJob, DeskOutcome};

/// Said when a queue action is asked for while another is still with the hall's database.
const BUSY_ZH: &str = "上一个叫号操作还在进行，请稍候";

impl Counter {
    /// Runs `job` at this window's desk; its outcome is handled by [`Counter::desk_done`],
    /// at once or when the hall desk's thread reports it.
    pub(super) fn run_desk(&self, job: DeskJob) {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        if st.hall_desk.is_some() {
            st.queue.stale = true;
            if job.is_clerk_action() {
                if st.desk_busy {
                    st.fail(BUSY_ZH);
                    return;
                }
                st.desk_busy = true;
                st.say(job.working_zh());
            }
            if let Some(hall) = &st.hall_desk {
                hall.send(job);
            }
            return;
        }
        let outcome = job.run(&mut st.desk(), Timestamp::now());
        drop(guard);
        self.desk_done(outcome);
    }

    /// What came of a queue action, whichever way it ran.
    pub(super) fn desk_done(&self, outcome: DeskOutcome) {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        match outcome {
            DeskOutcome::Status(r) => {
                st.queue.status_pending = false;
                super::render::queue_read(st, r);
                return;
            }
            DeskOutcome::Evaluated(r) => {
                // An evaluation that cannot be stored is not worth keeping the citizen for.
                if let Err(e) = r {
                    tracing::warn!(error = %e, "evaluation not stored");
                }
                st.wake_delivery();
                return;
            }
            _ => {
                st.desk_busy = false;
                // Whatever was done at the desk may change the queue shown.
                st.queue.stale = true;
            }
        }
        match outcome {
            DeskOutcome::Opened(true, r) => match r {
                Ok(()) => st.say(format!("{} 号窗口已开放叫号", st.cfg.window)),
                Err(e) => st.fail(e.to_string()),
            },
            DeskOutcome::Opened(false, r) => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "window not closed");
                }
            }
            DeskOutcome::Called(r) => match r {
                Ok(called) => {
                    st.clerk.called(&called.number);
                    st.print_status.clear();
                    st.last_receipt = None;
                    if let Some(c) = &st.terminal.cards {
                        c.lift_demo_card();
                    }
                    st.say(format!("已叫号：{}", called.announcement.zh));
                }
                Err(e) => st.fail(e.to_string()),
            },
            DeskOutcome::Recalled(r) => match r {
                Ok(called) => st.say(format!("已重呼：{}", called.announcement.zh)),
                Err(e) => st.fail(e.to_string()),
            },
            DeskOutcome::Ended(DeskJob::Serve, r) => match r {
                Ok(_) => {
                    drop(guard);
                    self.finished();
                    return;
                }
                Err(e) => st.fail(e.to_string()),
            },
            DeskOutcome::Ended(job, r) => match r {
                Ok(done) => {
                    st.clerk.ticket_gone();
                    st.print_status.clear();
                    let what = match &job {
                        DeskJob::Skip => "已过号".to_owned(),
                        DeskJob::Hold => "已暂挂，可凭号码回到本窗口".to_owned(),
                        DeskJob::Transfer(Transfer::Window(w)) => format!("已转至 {w} 号窗口"),
                        DeskJob::Transfer(Transfer::Service(s)) => {
                            format!("已转至 {s} 类业务队列")
                        }
                        _ => "已离开本窗口".to_owned(),
                    };
                    st.say(format!("{} 号{what}", done.number));
                }
                Err(e) => st.fail(e.to_string()),
            },
            DeskOutcome::Issued {
                req,
                retried,
                result,
            } => match result {
                Err(TicketError::LeaseExhausted { .. })
                    if !retried && st.terminal.platform.is_some() =>
                {
                    // The numbers ran out: top them up from the platform, then once more.
                    if let Some(p) = st.terminal.platform.clone() {
                        lease_from(&p, st);
                    }
                    drop(guard);
                    self.run_desk(DeskJob::Issue { req, retried: true });
                    return;
                }
                Ok(t) => st.say(format!(
                    "演示：市民取得 {} 号（{}），前面还有 {} 人",
                    t.number, t.service_name, t.waiting_before
                )),
                Err(e) => st.fail(e.to_string()),
            },
            DeskOutcome::Status(_) | DeskOutcome::Evaluated(_) => {}
        }
        st.wake_delivery();
    }
}
