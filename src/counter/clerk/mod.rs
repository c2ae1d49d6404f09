//! The clerk's session at a counter terminal (一窗综办) as a plain state machine, unit-tested
//! without Slint: sign-in with staff id and PIN (wrong PINs pause sign-in, doubling), the
//! idle lock, and the citizen being served — ticket, ID card, matter, situation answers,
//! materials ticked as brought, the 邮寄到家 address and phone, the applicant's signature on
//! the pad, the decision, 收费 of the accepted case's fee (`errand::payment`) — and what the
//! citizen-facing pad shows.
//! **Invariant: what the counter does next is decided here, not in `.slint` callbacks.**

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::core::config::CounterSection;
use crate::core::domain::CardExpiry;
use crate::core::domain::{
    Delivery, EvaluationLevel, FieldKind, FormField, Matter, Person, QuestionKind,
};
use crate::core::pin::{SignIn, Throttle};
use crate::core::platform::wire::{PaymentItem, PaymentOrder};
use crate::errand::ink::{Ink, Pen};
use crate::errand::payment::{Payment, PaymentStage, Step};
use crate::errand::signature::is_signature;
use crate::errand::{form, Errand};

use super::prereview::{self, Review};

/// Who is at the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    SignedOut,
    /// Locked after the idle time (or by the clerk): the PIN opens it again.
    Locked {
        staff: String,
    },
    SignedIn {
        staff: String,
    },
}

/// What the clerk decided for the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 受理: the case is in the outbox.
    Accepted {
        case_id: String,
        local_number: String,
    },
    /// 不予受理, with the reason given.
    Rejected { reason: String },
    /// 补齐补正: the materials still missing (names).
    Supplement { missing: Vec<String> },
}

/// The number a 受理回执 carries (受理编号): the platform's unified code, or the local number
/// when the code did not come in time (the receipt says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptNumber {
    Unified(String),
    Local(String),
}

impl ReceiptNumber {
    /// The number itself, as the clerk reads it out.
    pub fn number(&self) -> &str {
        match self {
            Self::Unified(n) | Self::Local(n) => n,
        }
    }

    /// The 受理编号 line of the receipt.
    pub fn printed(&self) -> String {
        match self {
            Self::Unified(n) => n.clone(),
            Self::Local(n) => format!("{n}（本机编号）"),
        }
    }
}

/// The citizen being served: everything personal the counter holds, dropped at 办结.
#[derive(Debug, Clone, Default)]
pub struct Work {
    /// The ticket called to this window (`A001`), if the citizen came with one.
    pub ticket: Option<String>,
    pub person: Option<Person>,
    pub expiry: Option<CardExpiry>,
    pub licences: Vec<String>,
    pub matter: Option<Matter>,
    /// Chosen situation options.
    pub chosen: Vec<String>,
    /// Materials ticked as brought.
    pub brought: BTreeSet<String>,
    /// What the clerk typed for the form (field id → value): the 邮寄到家 address and phone;
    /// the rest of the counter's form is the card.
    pub fields: BTreeMap<String, String>,
    /// 手写签名: what the applicant wrote on the pad (personal: dropped with the work).
    pub signature: Ink,
    pub decision: Option<Decision>,
    /// The platform's unified code of the accepted case (统一受理编号), once delivered.
    pub unified_code: Option<String>,
    /// The 受理编号 its 受理回执 was printed with: the screen shows the same.
    pub receipt_number: Option<ReceiptNumber>,
    /// 收费 of the accepted case (the state machine the kiosk's 缴费 uses too).
    pub payment: Option<Payment>,
}

/// Nothing photographed: the counter's papers are handed over.
static NO_PHOTOS: BTreeMap<String, Vec<u8>> = BTreeMap::new();

/// Why 受理 is refused while a matter that needs the applicant's signature is unsigned.
pub const UNSIGNED: &str =
    "本事项需要申请人本人签名：请点“请申请人签名”，待申请人在评价器上签名后再受理";

impl Work {
    /// The accepted errand as a plain value for the case builder; `None` without a matter or
    /// a card read. The answers are the chosen options of each applicable question.
    pub fn errand(&self) -> Option<Errand<'_>> {
        let matter = self.matter.as_ref()?;
        let mut answers = BTreeMap::new();
        for q in matter.applicable_questions(&self.chosen) {
            let picked: Vec<String> = q
                .options
                .iter()
                .filter(|o| self.chosen.contains(&o.id))
                .map(|o| o.id.clone())
                .collect();
            if !picked.is_empty() {
                answers.insert(q.id.clone(), picked);
            }
        }
        Some(Errand {
            matter,
            bundle: None,
            chosen: self.chosen.clone(),
            answers,
            person: self.person.as_ref()?,
            agent: None,
            licences: &self.licences,
            fields: &self.fields,
            images: &NO_PHOTOS,
        })
    }

    /// The fields the chosen 邮寄到家 answer asks the clerk to fill (address, phone), in the
    /// answer's order; empty when the result is collected at the window.
    pub fn post_fields(&self) -> Vec<&FormField> {
        let Some(m) = &self.matter else {
            return Vec::new();
        };
        m.post_choice(&self.chosen)
            .map(|c| {
                c.fields
                    .iter()
                    .filter_map(|id| m.form_fields.iter().find(|f| &f.id == id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// 取件方式 as the clerk has it (`None`: the matter's result cannot be posted).
    pub fn delivery(&self) -> Option<Delivery> {
        let m = self.matter.as_ref()?;
        let known = form::Known {
            person: self.person.as_ref(),
            agent: None,
        };
        let values = form::values(m, &self.chosen, known, &self.fields);
        crate::errand::case::delivery(m, &self.chosen, &values)
    }

    /// The fee items of the matter as answered (an answer's fees, e.g. 邮寄费, count).
    pub fn fee_items(&self) -> Vec<PaymentItem> {
        self.matter
            .as_ref()
            .map(|m| crate::core::payment::fee_items([m], &self.chosen))
            .unwrap_or_default()
    }

    /// Whether the pad holds a signature (an empty pad or a dot is none).
    pub fn signed(&self) -> bool {
        is_signature(&self.signature.strokes)
    }

    /// Whether the matter asks for the applicant's signature.
    pub fn signature_required(&self) -> bool {
        self.matter.as_ref().is_some_and(|m| m.requires_signature)
    }

    /// 邮寄到家: the address starts as the card's (the clerk may change it).
    fn prefill_post(&mut self) {
        let Some(address) = self.person.as_ref().map(|p| p.address.clone()) else {
            return;
        };
        let first_text = self
            .post_fields()
            .into_iter()
            .find(|f| f.kind == FieldKind::Text)
            .map(|f| f.id.clone());
        if let Some(id) = first_text {
            self.fields.entry(id).or_insert(address);
        }
    }
}

/// What the evaluation pad facing the citizen does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pad {
    /// Shows what the clerk is doing.
    Showing,
    /// 手写签名: the 承诺 line and the signature box, asked for by the clerk.
    Sign,
    /// 收费: the fee's order — its QR, amount, payee and countdown, then how it ended.
    Pay,
    /// 好差评 for the service just finished.
    Evaluate(Evaluation),
    /// 感谢您的评价, until the instant.
    Thanks { until: Instant },
}

/// The evaluation being given on the pad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The ticket evaluated (its 好差评 goes through `ticketing::evaluate`).
    pub ticket: Option<String>,
    /// The case decided, if any (without a ticket, the evaluation names it).
    pub case_id: Option<String>,
    pub task_code: Option<String>,
    pub level: Option<EvaluationLevel>,
    pub reasons: Vec<String>,
    pub note: String,
}

/// How long the pad thanks the citizen.
pub const THANKS: Duration = Duration::from_secs(5);

/// What pressing 登录 (or 解锁) starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStart {
    /// Check the PIN (off the UI thread), then [`Clerk::finish_sign_in`].
    Check,
    /// Answered without a check (sign-in is paused).
    Answered(SignIn),
    /// A check is already running: this press does nothing.
    Busy,
}

/// The clerk's session.
#[derive(Debug)]
pub struct Clerk {
    auth: Auth,
    throttle: Throttle,
    /// The staff id whose PIN is being checked, while a check runs.
    checking: Option<String>,
    last_input: Instant,
    lock_after: Duration,
    work: Work,
    pad: Pad,
}

impl Clerk {
    /// A signed-out counter.
    pub fn new(cfg: &CounterSection, now: Instant) -> Self {
        Self {
            auth: Auth::SignedOut,
            checking: None,
            throttle: Throttle::new(
                cfg.max_failures,
                Duration::from_secs(u64::from(cfg.lockout_secs)),
            ),
            last_input: now,
            lock_after: Duration::from_secs(u64::from(cfg.lock_after_secs)),
            work: Work::default(),
            pad: Pad::Showing,
        }
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The staff id signed in (not while locked).
    pub fn staff(&self) -> Option<&str> {
        match &self.auth {
            Auth::SignedIn { staff } => Some(staff),
            _ => None,
        }
    }

    pub fn work(&self) -> &Work {
        &self.work
    }

    pub fn pad(&self) -> &Pad {
        &self.pad
    }

    /// Whether a citizen is being served at this window: a ticket called here, a person or
    /// a matter on the desk, or the pad asking for 好差评. A software update or a restart
    /// asked by operations waits until this ends.
    pub fn serving(&self) -> bool {
        self.work.ticket.is_some()
            || self.work.person.is_some()
            || self.work.matter.is_some()
            || matches!(self.pad, Pad::Evaluate(_))
    }

    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// The sign-in throttle, to restore it from the store at start.
    pub fn throttle_mut(&mut self) -> &mut Throttle {
        &mut self.throttle
    }

    /// Checks a staff id and PIN against the configured accounts here and now, as the app
    /// does with [`Clerk::begin_sign_in`], a worker and [`Clerk::finish_sign_in`].
    #[cfg(test)]
    pub fn sign_in(
        &mut self,
        staff_id: &str,
        pin: &str,
        accounts: &[crate::core::config::PinAccount],
        now: Instant,
    ) -> SignIn {
        match self.begin_sign_in(staff_id, now) {
            SignInStart::Check => {}
            SignInStart::Answered(r) => return r,
            SignInStart::Busy => panic!("a check is already running"),
        }
        let ok = crate::core::pin::check(
            accounts
                .iter()
                .map(|a| (a.id.as_str(), a.pin_hash.as_str())),
            staff_id.trim(),
            pin,
        );
        self.finish_sign_in(staff_id, ok, now)
            .expect("the check just begun")
    }

    /// A sign-in pressed: whether its PIN is to be checked now (the check takes a tenth of a
    /// second or more: the app runs it on a worker and hands the outcome to
    /// [`Clerk::finish_sign_in`]). While paused nothing is checked; while a check runs, a
    /// second one does not start (so presses cannot run guesses side by side).
    pub fn begin_sign_in(&mut self, staff_id: &str, now: Instant) -> SignInStart {
        if self.checking.is_some() {
            return SignInStart::Busy;
        }
        if let Err(paused) = self.throttle.begin(now) {
            return SignInStart::Answered(paused);
        }
        self.checking = Some(staff_id.trim().to_owned());
        SignInStart::Check
    }

    /// Whether a PIN check is running.
    pub fn checking(&self) -> bool {
        self.checking.is_some()
    }

    /// The outcome of the check [`Clerk::begin_sign_in`] started for `staff_id`; `None` when
    /// no such check runs. While locked, the same clerk unlocks and keeps the citizen's work;
    /// another clerk starts afresh (the ticket at the window stays).
    pub fn finish_sign_in(&mut self, staff_id: &str, ok: bool, now: Instant) -> Option<SignIn> {
        let staff_id = staff_id.trim();
        if self.checking.as_deref() != Some(staff_id) {
            return None;
        }
        self.checking = None;
        let result = self.throttle.record(ok, now);
        if result != SignIn::Ok {
            return Some(result);
        }
        let same = matches!(&self.auth, Auth::Locked { staff } if staff == staff_id);
        if !same {
            let ticket = self.work.ticket.take();
            self.work = Work {
                ticket,
                ..Work::default()
            };
            self.leave_pad();
        }
        self.auth = Auth::SignedIn {
            staff: staff_id.to_owned(),
        };
        self.last_input = now;
        Some(SignIn::Ok)
    }

    /// 签退: forgets the citizen's work; returns who signed out.
    pub fn sign_out(&mut self) -> Option<String> {
        let staff = match std::mem::replace(&mut self.auth, Auth::SignedOut) {
            Auth::SignedIn { staff } | Auth::Locked { staff } => Some(staff),
            Auth::SignedOut => None,
        };
        self.work = Work::default();
        self.pad = Pad::Showing;
        staff
    }

    /// 锁屏 now; returns who was locked out.
    pub fn lock(&mut self) -> Option<String> {
        let staff = self.staff()?.to_owned();
        self.auth = Auth::Locked {
            staff: staff.clone(),
        };
        Some(staff)
    }

    /// Input from the clerk: keeps the session open.
    pub fn touch(&mut self, now: Instant) {
        self.last_input = now;
    }

    /// Advances the clock: locks after the idle time (returns the staff id then) and ends
    /// the pad's thanks.
    pub fn tick(&mut self, now: Instant) -> Option<String> {
        if let Pad::Thanks { until } = self.pad {
            if now >= until {
                self.pad = Pad::Showing;
            }
        }
        if self.staff().is_some() && now.duration_since(self.last_input) >= self.lock_after {
            return self.lock();
        }
        None
    }

    /// A ticket was called to the window: a new citizen. An evaluation nobody gave ends.
    pub fn called(&mut self, number: &str) {
        self.work = Work {
            ticket: Some(number.to_owned()),
            ..Work::default()
        };
        self.pad = Pad::Showing;
    }

    /// The ticket left the window without service (过号, 暂挂, 转出): the work goes with it.
    pub fn ticket_gone(&mut self) {
        self.work = Work::default();
        self.leave_pad();
    }

    /// An ID card was read at the window.
    pub fn card_read(&mut self, person: Person, expiry: Option<CardExpiry>) {
        self.work.person = Some(person);
        self.work.expiry = expiry;
        self.work.licences.clear();
        self.work.decision = None;
        // Someone else's card: nothing typed, signed or charged for the one before carries
        // over (a pending order is withdrawn first, see `withdraw_payment`).
        self.work.fields.clear();
        self.work.signature.rewrite();
        self.work.unified_code = None;
        self.work.receipt_number = None;
        self.work.payment = None;
        self.leave_pad();
        self.work.prefill_post();
    }

    /// The platform's e-licences for `id_number`, if it is still the person at the window.
    pub fn licences(&mut self, id_number: &str, names: Vec<String>) -> bool {
        let same = self
            .work
            .person
            .as_ref()
            .is_some_and(|p| p.id_number.expose() == id_number);
        if same {
            self.work.licences = names;
        }
        same
    }

    /// A matter was chosen from the catalogue: answers and ticks start afresh.
    pub fn choose_matter(&mut self, matter: Matter) {
        self.work.matter = Some(matter);
        self.work.chosen.clear();
        self.work.brought.clear();
        self.work.fields.clear();
        self.work.signature.rewrite();
        self.work.decision = None;
        self.work.unified_code = None;
        self.work.receipt_number = None;
        self.work.payment = None;
        self.leave_pad();
    }

    /// An option of a situation question was picked: single questions take one answer, multi
    /// ones toggle; answers to questions that no longer apply are dropped.
    pub fn answer(&mut self, option: &str) {
        let Some(m) = &self.work.matter else { return };
        let Some(q) = m
            .questions
            .iter()
            .find(|q| q.options.iter().any(|o| o.id == option))
        else {
            return;
        };
        let chosen = &mut self.work.chosen;
        match q.kind {
            QuestionKind::Single => {
                chosen.retain(|c| !q.options.iter().any(|o| &o.id == c));
                chosen.push(option.to_owned());
            }
            QuestionKind::Multi => {
                if let Some(i) = chosen.iter().position(|c| c == option) {
                    chosen.remove(i);
                } else {
                    chosen.push(option.to_owned());
                }
            }
        }
        // Drop answers of questions that stopped applying (until nothing changes).
        loop {
            let applicable: Vec<&str> = m
                .applicable_questions(chosen)
                .flat_map(|q| q.options.iter().map(|o| o.id.as_str()))
                .collect();
            let before = chosen.len();
            let keep: Vec<String> = chosen
                .iter()
                .filter(|c| applicable.contains(&c.as_str()))
                .cloned()
                .collect();
            *chosen = keep;
            if chosen.len() == before {
                break;
            }
        }
        self.work.decision = None;
        self.work.prefill_post();
    }

    /// The clerk typed into a field the chosen answers ask for (the 邮寄到家 address or
    /// phone); anything else is not the counter's to type.
    pub fn type_field(&mut self, id: &str, value: &str) -> bool {
        if !self.work.post_fields().iter().any(|f| f.id == id) {
            return false;
        }
        self.work.fields.insert(id.to_owned(), value.to_owned());
        self.work.decision = None;
        true
    }

    /// The clerk typed the 邮寄到家 address (`FieldKind::Text`) or phone (`FieldKind::Phone`):
    /// into the first such field the chosen answer asks for.
    pub fn type_post(&mut self, kind: FieldKind, value: &str) -> bool {
        let id = self
            .work
            .post_fields()
            .into_iter()
            .find(|f| f.kind == kind)
            .map(|f| f.id.clone());
        id.is_some_and(|id| self.type_field(&id, value))
    }

    /// What the clerk's screen says of the applicant's signature (zh-CN).
    pub fn signature_status(&self) -> &'static str {
        match (self.work.signed(), self.pad == Pad::Sign) {
            (true, _) => "申请人签名：已签名",
            (false, true) => "申请人签名：请申请人在评价器上签名",
            (false, false) if self.work.signature_required() => {
                "申请人签名：未签名（本事项必须签名）"
            }
            (false, false) => "申请人签名：未签名",
        }
    }

    /// 请申请人签名 / 重签: the pad wipes what was written and asks the applicant to sign,
    /// once a person and a matter are at the desk and nothing is decided yet.
    pub fn ask_signature(&mut self) -> bool {
        let w = &self.work;
        if w.person.is_none() || w.matter.is_none() || w.decision.is_some() {
            return false;
        }
        self.work.signature.rewrite();
        self.pad = Pad::Sign;
        true
    }

    /// The applicant's finger on the pad's signature box; whether anything changed. Ink is
    /// taken only while the pad asks for it.
    pub fn sign_pen(&mut self, pen: Pen) -> bool {
        self.pad == Pad::Sign && self.work.decision.is_none() && self.work.signature.apply(pen)
    }

    /// 重签 pressed on the pad by the applicant.
    pub fn clear_signature(&mut self) -> bool {
        if self.pad != Pad::Sign || self.work.decision.is_some() {
            return false;
        }
        self.work.signature.rewrite();
        true
    }

    /// The pad stops asking for a signature or showing the fee (the work it was for changed
    /// or ended).
    fn leave_pad(&mut self) {
        if matches!(self.pad, Pad::Sign | Pad::Pay) {
            self.pad = Pad::Showing;
        }
    }

    /// The platform gave the case `case_id` its unified code: kept when it is the case
    /// accepted here (收费 needs it).
    pub fn coded(&mut self, case_id: &str, unified_code: &str) -> bool {
        let ours = matches!(&self.work.decision,
            Some(Decision::Accepted { case_id: id, .. }) if id == case_id);
        if ours {
            self.work.unified_code = Some(unified_code.to_owned());
        }
        ours
    }

    /// The 受理回执 of the case `case_id` is printed with `number`: kept when it is the case
    /// accepted here, so the screen shows what the citizen holds.
    pub fn receipt_numbered(&mut self, case_id: &str, number: ReceiptNumber) -> bool {
        let ours = matches!(&self.work.decision,
            Some(Decision::Accepted { case_id: id, .. }) if id == case_id);
        if ours {
            self.work.receipt_number = Some(number);
        }
        ours
    }

    /// Whether 收费 may ask for an order now: the accepted case has its unified code and a
    /// fee, it is not paid, and no order is being made or shown.
    pub fn can_charge(&self) -> bool {
        let w = &self.work;
        matches!(w.decision, Some(Decision::Accepted { .. }))
            && w.unified_code.is_some()
            && !w.fee_items().is_empty()
            && w.payment
                .as_ref()
                .is_none_or(|p| !p.busy() && p.paid_order().is_none())
    }

    /// 收费 (or 重新收费 after an order ended): the pad shows the order; the loop asks the
    /// platform for it with the returned attempt. `None` when there is nothing to charge.
    pub fn charge(&mut self) -> Option<Step> {
        if !self.can_charge() {
            return None;
        }
        let step = Payment::open(&mut self.work.payment)?;
        self.pad = Pad::Pay;
        Some(step)
    }

    /// The order the loop asked for, checked (`core::payment::check_order`), or why there is
    /// none; the step to run next, if any.
    pub fn payment_ordered(&mut self, result: Result<Box<PaymentOrder>, String>) -> Option<Step> {
        self.work.payment.as_mut()?.ordered(result).flatten()
    }

    /// The followed order as the platform last answered; the step to run next, if any.
    pub fn payment_update(&mut self, order: Box<PaymentOrder>) -> Option<Step> {
        self.work.payment.as_mut()?.update(order).flatten()
    }

    /// 办结 or a new citizen while an order is pending: it is withdrawn (its QR can no
    /// longer be paid); returns the step that does it.
    pub fn withdraw_payment(&mut self) -> Option<Step> {
        let p = self.work.payment.as_mut().filter(|p| p.busy())?;
        p.later()
    }

    /// What the clerk's screen says of the fee (zh-CN); empty when nothing is due.
    pub fn payment_status(&self) -> String {
        let w = &self.work;
        let items = w.fee_items();
        if items.is_empty() || !matches!(w.decision, Some(Decision::Accepted { .. })) {
            return String::new();
        }
        let amount = crate::core::payment::yuan(crate::core::payment::total_fen(&items));
        match (
            w.unified_code.as_ref(),
            w.payment.as_ref().map(Payment::stage),
        ) {
            (None, _) => format!("需缴费 {amount} 元：取得统一受理编号后可收费"),
            (Some(_), None) => format!("需缴费 {amount} 元，请点“收费”，市民在评价器上扫码支付"),
            (Some(_), Some(PaymentStage::Creating)) => "正在生成缴费订单…".into(),
            (Some(_), Some(PaymentStage::Pending(_))) => {
                format!("待市民扫码支付 {amount} 元（二维码在评价器上）")
            }
            (Some(_), Some(PaymentStage::Paid(o))) => format!(
                "已缴费 {amount} 元，支付流水号 {}",
                o.payment_no.as_deref().unwrap_or("")
            ),
            (Some(_), Some(PaymentStage::Ended(_))) => {
                "缴费订单已过期或已取消，未扣款：可点“重新收费”".into()
            }
            (Some(_), Some(PaymentStage::Unknown(_))) => {
                "暂时无法确认缴费结果：如市民已支付，请勿重复收费；可稍后在办件进度中查看".into()
            }
            (Some(_), Some(PaymentStage::Refused(why))) => format!("暂时不能收费：{why}"),
            (Some(_), Some(PaymentStage::Later)) => {
                format!("未缴费 {amount} 元：可在渝快办App缴费，或点“重新收费”")
            }
        }
    }

    /// Why 受理 cannot store the case yet, in words for the clerk; `None` when it can: the
    /// 邮寄到家 address and phone must be good, and a matter that requires the applicant's
    /// signature (`Matter::requires_signature`) must be signed on the pad.
    pub fn acceptance_refusal(&self) -> Option<String> {
        let w = &self.work;
        for f in w.post_fields() {
            let v = w.fields.get(&f.id).map_or("", |v| v.trim());
            if let Err(e) = form::check(f, v) {
                return Some(format!("邮寄到家：{e}"));
            }
        }
        if w.signature_required() && !w.signed() {
            return Some(UNSIGNED.to_owned());
        }
        None
    }

    /// The clerk ticked (or unticked) a material as brought.
    pub fn toggle_brought(&mut self, material: &str) {
        let b = &mut self.work.brought;
        if !b.remove(material) {
            b.insert(material.to_owned());
        }
        self.work.decision = None;
    }

    /// Pre-review of the current work, once a matter is chosen.
    pub fn review(&self, today: jiff::civil::Date) -> Option<Review> {
        let m = self.work.matter.as_ref()?;
        Some(prereview::review(&prereview::Input {
            matter: m,
            chosen: &self.work.chosen,
            person: self.work.person.as_ref(),
            expiry: self.work.expiry,
            licences: &self.work.licences,
            brought: &self.work.brought,
            today,
        }))
    }

    /// Records the decision (after the outbox took it).
    pub fn decided(&mut self, d: Decision) {
        self.work.decision = Some(d);
        self.leave_pad();
    }

    /// 办结: the citizen's work ends and the pad asks for 好差评. Returns the ticket that was
    /// at the window, to be marked served.
    pub fn finish(&mut self) -> Option<String> {
        let work = std::mem::take(&mut self.work);
        self.leave_pad();
        let case_id = match &work.decision {
            Some(Decision::Accepted { case_id, .. }) => Some(case_id.clone()),
            _ => None,
        };
        if work.ticket.is_some() || case_id.is_some() {
            self.pad = Pad::Evaluate(Evaluation {
                ticket: work.ticket.clone(),
                case_id,
                task_code: work.matter.as_ref().map(|m| m.task_code.to_string()),
                level: None,
                reasons: Vec::new(),
                note: String::new(),
            });
        }
        work.ticket
    }

    /// The citizen picked a level on the pad (reasons reset when it turns good ↔ bad).
    pub fn evaluate_level(&mut self, level: EvaluationLevel) {
        if let Pad::Evaluate(e) = &mut self.pad {
            if e.level.map(EvaluationLevel::is_negative) != Some(level.is_negative()) {
                e.reasons.clear();
            }
            e.level = Some(level);
            e.note.clear();
        }
    }

    /// A reason chip on the pad.
    pub fn toggle_reason(&mut self, reason: &str) {
        if let Pad::Evaluate(e) = &mut self.pad {
            if let Some(i) = e.reasons.iter().position(|r| r == reason) {
                e.reasons.remove(i);
            } else {
                e.reasons.push(reason.to_owned());
            }
            e.note.clear();
        }
    }

    /// What "提交评价" would send, or why not yet (shown on the pad).
    pub fn evaluation_ready(&mut self) -> Option<Evaluation> {
        let Pad::Evaluate(e) = &mut self.pad else {
            return None;
        };
        match e.level {
            None => e.note = "请先点选一个评价".into(),
            Some(l) if l.is_negative() && e.reasons.is_empty() => {
                e.note = "请选择不满意的原因，以便我们改进".into()
            }
            Some(_) => return Some(e.clone()),
        }
        None
    }

    /// The evaluation was stored (or skipped): the pad thanks the citizen.
    pub fn evaluated(&mut self, now: Instant) {
        self.pad = Pad::Thanks {
            until: now + THANKS,
        };
    }

    /// What the pad says about the service in progress (zh-CN).
    pub fn pad_status(&self) -> String {
        let w = &self.work;
        match (&w.decision, &w.matter, &w.person) {
            (Some(Decision::Accepted { .. }), _, _) => "已受理，请取走受理回执".into(),
            (Some(Decision::Supplement { .. }), _, _) => {
                "材料不齐，请按补正清单补齐后再来办理".into()
            }
            (Some(Decision::Rejected { reason }), _, _) => format!("不予受理：{reason}"),
            (None, Some(_), _) => "工作人员正在预审您的材料".into(),
            (None, None, Some(_)) => "身份已核验，正在选择办理事项".into(),
            (None, None, None) if w.ticket.is_some() => "请出示身份证".into(),
            _ => "欢迎，请稍候".into(),
        }
    }
}

#[cfg(test)]
mod tests;
