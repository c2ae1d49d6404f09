//! What the clerk's window and the citizen's pad show: pushes the clerk's state into
//! `CounterAdapter` and `PadAdapter` (the queue line, the matter, the checks, the decision).

use slint::ComponentHandle;

use super::*;
use crate::core::domain::QuestionKind;

impl Counter {
    /// Pushes the clerk's session into both windows.
    pub(super) fn render(&self) {
        let (Some(w), Some(pw)) = (self.window.upgrade(), self.pad.upgrade()) else {
            return;
        };
        let a = w.global::<CounterAdapter>();
        let p = pw.global::<PadAdapter>();
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let signed_in = st.clerk.staff().is_some();
        a.set_auth(match st.clerk.auth() {
            Auth::SignedOut => 0,
            Auth::Locked { .. } => 1,
            Auth::SignedIn { .. } => 2,
        });
        if let Auth::Locked { staff } = st.clerk.auth() {
            if a.get_staff_input().is_empty() {
                a.set_staff_input(staff.clone().into());
            }
        }
        let staff = st.clerk.staff().unwrap_or_default().to_owned();
        a.set_staff(staff.clone().into());
        a.set_sign_in_note(st.sign_in_note.clone().into());
        a.set_message(st.message.clone().into());
        a.set_message_error(st.message_error);

        let work = st.clerk.work().clone();
        let ticket = work.ticket.clone().unwrap_or_default();
        a.set_ticket(ticket.clone().into());
        a.set_queue_line(queue_line(st).into());
        a.set_ops_notice(if st.maintenance {
            super::operations::MAINTENANCE_ZH.into()
        } else {
            SharedString::new()
        });
        a.set_targets(model(targets(st)));
        a.set_card_status(
            if st.terminal.cards.is_some() {
                "请申请人将身份证放在读卡器上"
            } else {
                "本机未接入可用的身份证阅读器，请人工核验身份"
            }
            .into(),
        );
        // Nothing personal on screen while locked or signed out.
        let person = work.person.as_ref().filter(|_| signed_in);
        match person {
            Some(pp) => {
                a.set_person_name(pp.name.clone().into());
                a.set_person_id(pp.id_number.masked().into());
                let today = ticketing::hall_date(Timestamp::now());
                let age = pp
                    .id_number
                    .age_on(today)
                    .map(|a| format!("{a} 岁"))
                    .unwrap_or_default();
                let valid = match work.expiry {
                    Some(CardExpiry::On(d)) => format!(" · 证件有效期至 {d}"),
                    Some(CardExpiry::LongTerm) => " · 证件长期有效".into(),
                    None => String::new(),
                };
                let licences = if work.licences.is_empty() {
                    String::new()
                } else {
                    format!(" · 电子证照 {} 项", work.licences.len())
                };
                a.set_person_detail(format!("{age}{valid}{licences}").into());
            }
            None => {
                a.set_person_name(SharedString::new());
                a.set_person_id(SharedString::new());
                a.set_person_detail(SharedString::new());
            }
        }
        a.set_matters(model(if signed_in {
            st.matches.clone()
        } else {
            Vec::new()
        }));
        let matter = work.matter.as_ref().filter(|_| signed_in);
        a.set_has_matter(matter.is_some());
        let today = ticketing::hall_date(Timestamp::now());
        let review = st.clerk.review(today).filter(|_| signed_in);
        match matter {
            Some(m) => {
                a.set_matter_name(m.name.clone().into());
                a.set_matter_detail(
                    format!(
                        "{} · {} · 承诺时限 {}",
                        m.department,
                        m.implementing_body.name,
                        m.promised_time_limit.display_zh()
                    )
                    .into(),
                );
                a.set_questions(model(
                    m.applicable_questions(&work.chosen)
                        .map(|q| CounterQuestion {
                            text: q.text.clone().into(),
                            single: q.kind == QuestionKind::Single,
                            options: model(
                                q.options
                                    .iter()
                                    .map(|o| CounterOption {
                                        id: o.id.clone().into(),
                                        label: o.label.clone().into(),
                                        selected: work.chosen.contains(&o.id),
                                    })
                                    .collect::<Vec<_>>(),
                            ),
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            None => {
                a.set_matter_name(SharedString::new());
                a.set_matter_detail(SharedString::new());
                a.set_questions(ModelRc::default());
            }
        }
        a.set_checks(model(
            review
                .as_ref()
                .map(|r| {
                    r.checks
                        .iter()
                        .map(|c| {
                            let (material, name, exempt) = match (&c.subject, matter) {
                                (Subject::Material(id), Some(m)) => {
                                    let mat = m.materials.iter().find(|x| &x.id == id);
                                    let exempt = mat
                                        .and_then(|x| x.exempted_by_licence.as_ref())
                                        .is_some_and(|l| work.licences.contains(l));
                                    (
                                        id.clone(),
                                        mat.map(|x| x.name.clone()).unwrap_or_default(),
                                        exempt,
                                    )
                                }
                                _ => (String::new(), String::new(), false),
                            };
                            CounterCheck {
                                brought: work.brought.contains(&material),
                                material: material.into(),
                                name: name.into(),
                                text: c.text.clone().into(),
                                status: match c.status {
                                    Status::Met => 0,
                                    Status::Missing => 1,
                                    Status::Note => 2,
                                },
                                exempt,
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        ));
        a.set_can_accept(review.as_ref().is_some_and(|r| r.can_accept()));
        let decision = match &work.decision {
            Some(Decision::Accepted { local_number, .. }) => {
                format!("已受理（本机编号 {local_number}）")
            }
            Some(Decision::Supplement { missing }) => {
                format!("已出具补齐补正告知：{}", missing.join("、"))
            }
            Some(Decision::Rejected { reason }) => format!("不予受理：{reason}"),
            None => String::new(),
        };
        a.set_decision(decision.into());
        // 受理编号: what the 受理回执 says, to read out to the citizen; a unified code that came
        // after a receipt with the local number is shown under it.
        let receipt_number = work.receipt_number.as_ref().filter(|_| signed_in);
        a.set_acceptance_number(
            receipt_number
                .map(|n| n.number().to_owned())
                .unwrap_or_default()
                .into(),
        );
        a.set_acceptance_local(matches!(receipt_number, Some(ReceiptNumber::Local(_))));
        a.set_acceptance_code_later(match (receipt_number, &work.unified_code) {
            (Some(ReceiptNumber::Local(_)), Some(code)) => code.clone().into(),
            _ => SharedString::new(),
        });
        a.set_print_status(st.print_status.clone().into());

        // 邮寄到家: the address and phone the clerk fills in.
        let post = if signed_in {
            work.post_fields()
        } else {
            Vec::new()
        };
        let value_of = |kind: FieldKind| -> SharedString {
            post.iter()
                .find(|f| f.kind == kind)
                .and_then(|f| work.fields.get(&f.id))
                .map(|v| v.as_str().into())
                .unwrap_or_default()
        };
        a.set_posting(!post.is_empty());
        // 收费: the clerk sees where the fee stands.
        a.set_payment_status(if signed_in {
            st.clerk.payment_status().into()
        } else {
            SharedString::new()
        });
        a.set_can_charge(signed_in && st.clerk.can_charge());
        a.set_charged_before(work.payment.is_some());
        a.set_post_address(value_of(FieldKind::Text));
        a.set_post_phone(value_of(FieldKind::Phone));

        // The pad: what the clerk is doing, then 好差评.
        p.set_staff(staff.into());
        p.set_ticket(ticket.into());
        p.set_matter(
            work.matter
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default()
                .into(),
        );
        p.set_status(st.clerk.pad_status().into());
        match st.clerk.pad() {
            Pad::Showing => p.set_mode(0),
            Pad::Sign => p.set_mode(3),
            Pad::Pay => p.set_mode(4),
            Pad::Thanks { .. } => p.set_mode(2),
            Pad::Evaluate(e) => {
                p.set_mode(1);
                p.set_level(e.level.map_or(0, |l| i32::from(l.score())));
                p.set_note(e.note.clone().into());
                p.set_reasons(model(
                    e.level
                        .map(crate::errand::case::reasons_for)
                        .unwrap_or_default()
                        .iter()
                        .map(|r| Chip {
                            id: (*r).into(),
                            label: (*r).into(),
                            selected: e.reasons.iter().any(|x| x == r),
                        })
                        .collect::<Vec<_>>(),
                ));
            }
        }
        if !matches!(st.clerk.pad(), Pad::Evaluate(_)) {
            p.set_level(0);
            p.set_note(SharedString::new());
            p.set_reasons(ModelRc::default());
        }
        // The fee's order on the pad: its QR, amount, payee and countdown.
        let pay = pw.global::<PaymentAdapter>();
        if st.clerk.pad() == &Pad::Pay {
            let stage = work.payment.as_ref().map(|p| p.stage());
            crate::ui::show_payment(&pay, stage, &work.fee_items(), Timestamp::now(), &|zh| {
                zh.to_owned()
            });
            if matches!(stage, Some(PaymentStage::Ended(_))) {
                // The clerk, not the citizen, asks again here.
                pay.set_note("未扣款。如需缴费，请工作人员重新收费，或稍后在渝快办App缴费".into());
            }
        } else {
            crate::ui::clear_payment(&pay);
        }
        drop(guard);
        self.render_signature();
    }

    /// 手写签名: the ink on the pad and the signed line on the clerk's screen. The strokes are
    /// personal: they leave both screens with the work.
    pub(super) fn render_signature(&self) {
        let (Some(w), Some(pw)) = (self.window.upgrade(), self.pad.upgrade()) else {
            return;
        };
        let a = w.global::<CounterAdapter>();
        let s = pw.global::<SignatureAdapter>();
        let st = self.state.borrow();
        let work = st.clerk.work();
        let signed_in = st.clerk.staff().is_some();
        a.set_signing(st.clerk.pad() == &Pad::Sign);
        a.set_signed(work.signed());
        a.set_signature_status(if signed_in {
            st.clerk.signature_status().into()
        } else {
            SharedString::new()
        });
        s.set_wanted(st.clerk.pad() == &Pad::Sign);
        s.set_required(work.signature_required());
        s.set_by_agent(false);
        s.set_ink(crate::ui::ink_path(work.signature.all()).into());
        s.set_refusal(SharedString::new());
    }
}

/// The 本窗口等候 line as last read, and when to read it again.
#[derive(Debug, Default)]
pub(super) struct QueueLine {
    text: String,
    read_at: Option<Instant>,
    failed: bool,
    /// Something changed (a desk action here, or the hall's announcement): read again.
    pub(super) stale: bool,
    /// The hall database's change listener (`None` on the embedded queue).
    pub(super) listener: Option<crate::core::hall::listen::Listener>,
    /// A read is with the hall desk's thread.
    pub(super) status_pending: bool,
}

/// On a hall database the line is read when a change is announced, and at least this often.
const SAFETY_READ: Duration = Duration::from_secs(30);
/// After a failed read, the next one waits this long (the hall may be down).
const RETRY_READ: Duration = Duration::from_secs(5);

/// "本窗口业务等候 3 人（A 综合受理 2 · C 社保医保 1）", read again when due: always on the
/// embedded queue (a local read), on a hall database only when something changed.
pub(super) fn queue_line(st: &mut State) -> String {
    let now = Instant::now();
    let q = &st.queue;
    let due = st.ticketing.queue.is_none()
        || q.read_at.is_none_or(|t| {
            let age = now.duration_since(t);
            age >= if q.failed { RETRY_READ } else { SAFETY_READ } || (q.stale && !q.failed)
        });
    if due {
        if let Some(hall) = &st.hall_desk {
            // Read on the hall desk's thread; the line changes when it answers.
            if !st.queue.status_pending {
                st.queue.status_pending = true;
                st.queue.read_at = Some(now);
                st.queue.stale = false;
                hall.send(crate::terminal::desk::DeskJob::Status);
            }
        } else {
            let r = st.desk().status(Timestamp::now());
            queue_read(st, r);
            st.queue.stale = false;
        }
    }
    st.queue.text.clone()
}

/// Shows what a read of the queue came to.
pub(super) fn queue_read(
    st: &mut State,
    status: Result<crate::core::ticketing::HallStatus, crate::core::ticketing::TicketError>,
) {
    let (text, failed) = line_of(st, status);
    st.queue.text = text;
    st.queue.failed = failed;
    st.queue.read_at = Some(Instant::now());
}

/// The line for this window's services, or what to say when the read failed.
fn line_of(
    st: &State,
    status: Result<crate::core::ticketing::HallStatus, crate::core::ticketing::TicketError>,
) -> (String, bool) {
    let Some(w) = st
        .ticketing
        .windows
        .iter()
        .find(|w| w.number == st.cfg.window)
    else {
        return (String::new(), false);
    };
    let services = &w.services;
    match status {
        Ok(s) => {
            let mine: Vec<_> = s
                .services
                .iter()
                .filter(|x| services.contains(&x.prefix))
                .collect();
            let total: u32 = mine.iter().map(|x| x.waiting).sum();
            let parts: Vec<String> = mine
                .iter()
                .map(|x| format!("{} {} {}", x.prefix, x.name, x.waiting))
                .collect();
            (
                format!("本窗口业务等候 {total} 人（{}）", parts.join(" · ")),
                false,
            )
        }
        // Never "0 人" because a read failed.
        Err(e) => {
            tracing::warn!(error = %e, "queue status");
            ("本窗口等候人数暂不可知（叫号服务中断）".to_owned(), true)
        }
    }
}

/// Where the clerk may send the ticket: the other windows, then the other services.
pub(super) fn targets(st: &State) -> Vec<CounterTarget> {
    let windows = st
        .ticketing
        .windows
        .iter()
        .filter(|w| w.number != st.cfg.window)
        .map(|w| CounterTarget {
            label: format!("转至 {} 号窗口", w.number).into(),
            window: i32::from(w.number),
            service: SharedString::new(),
        });
    let services = st.ticketing.services.iter().map(|s| CounterTarget {
        label: format!("转至 {} {}", s.prefix, s.name).into(),
        window: 0,
        service: s.prefix.clone().into(),
    });
    windows.chain(services).collect()
}
