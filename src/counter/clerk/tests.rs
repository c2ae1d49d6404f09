//! The clerk's session, driven as the counter drives it.

use super::*;
use crate::core::config::PinAccount;
use crate::core::domain::IdNumber;

fn cfg() -> CounterSection {
    CounterSection {
        window: 3,
        lock_after_secs: 60,
        max_failures: 3,
        lockout_secs: 30,
        staff: vec![PinAccount {
            id: "S0001".into(),
            pin_hash: crate::core::pin::PinHash::new(
                "123456",
                b"saltsalt",
                crate::core::pin::MIN_ITERATIONS,
            )
            .to_string(),
        }],
    }
}

fn signed_in(t: Instant) -> Clerk {
    let c = cfg();
    let mut k = Clerk::new(&c, t);
    assert_eq!(k.sign_in("S0001", "123456", &c.staff, t), SignIn::Ok);
    k
}

fn person() -> Person {
    Person {
        name: "李喆".into(),
        id_number: IdNumber::parse("500105198511220024").unwrap(),
        address: String::new(),
    }
}

fn renewal() -> Matter {
    crate::core::catalog::demo_matter("居民身份证换领")
}

#[test]
fn a_citizen_is_served_from_the_call_until_the_evaluation_is_given() {
    let t = Instant::now();
    let mut k = signed_in(t);
    assert!(!k.serving(), "signed in, nobody called");
    k.called("A001");
    assert!(k.serving(), "a ticket at the window");
    k.finish();
    assert!(matches!(k.pad(), Pad::Evaluate(_)));
    assert!(k.serving(), "the citizen is still at the pad");
    k.evaluated(t);
    assert!(!k.serving());
    k.card_read(person(), None);
    assert!(k.serving(), "a walk-in's card on the desk");
}

#[test]
fn wrong_pins_pause_sign_in_and_the_pause_doubles() {
    let c = cfg();
    let t = Instant::now();
    let mut k = Clerk::new(&c, t);
    assert_eq!(
        k.sign_in("S0001", "1", &c.staff, t),
        SignIn::Wrong { left: 2 }
    );
    assert_eq!(
        k.sign_in("nobody", "123456", &c.staff, t),
        SignIn::Wrong { left: 1 }
    );
    assert_eq!(
        k.sign_in("S0001", "2", &c.staff, t),
        SignIn::Paused { secs: 30 }
    );
    // Even the right PIN is not checked while paused.
    assert_eq!(
        k.sign_in("S0001", "123456", &c.staff, t + Duration::from_secs(10)),
        SignIn::StillPaused { secs: 20 }
    );
    assert_eq!(k.auth(), &Auth::SignedOut);
    let later = t + Duration::from_secs(31);
    assert_eq!(
        k.sign_in("S0001", "3", &c.staff, later),
        SignIn::Paused { secs: 60 }
    );
    let later = later + Duration::from_secs(61);
    assert!(matches!(
        k.sign_in("S0001", "123456", &c.staff, later),
        SignIn::Ok
    ));
    assert_eq!(k.staff(), Some("S0001"));
    // Success forgets the failures.
    k.sign_out();
    assert_eq!(
        k.sign_in("S0001", "9", &c.staff, later),
        SignIn::Wrong { left: 2 }
    );
}

#[test]
fn a_check_off_the_ui_thread_admits_no_second_press_and_takes_only_its_own_outcome() {
    let c = cfg();
    let t = Instant::now();
    let mut k = Clerk::new(&c, t);
    assert_eq!(k.begin_sign_in(" S0001 ", t), SignInStart::Check);
    assert!(k.checking());
    // A second press while the worker hashes starts no second guess.
    assert_eq!(k.begin_sign_in("S0001", t), SignInStart::Busy);
    // An outcome for someone else's check (a stale report) changes nothing.
    assert_eq!(k.finish_sign_in("S0002", true, t), None);
    assert_eq!(k.auth(), &Auth::SignedOut);
    assert_eq!(
        k.finish_sign_in("S0001", false, t),
        Some(SignIn::Wrong { left: 2 })
    );
    assert!(!k.checking());
    for _ in 0..2 {
        assert_eq!(k.begin_sign_in("S0001", t), SignInStart::Check);
        k.finish_sign_in("S0001", false, t);
    }
    // Paused: answered at once, nothing to check.
    assert_eq!(
        k.begin_sign_in("S0001", t + Duration::from_secs(1)),
        SignInStart::Answered(SignIn::StillPaused { secs: 29 })
    );
    assert!(!k.checking());
    let later = t + Duration::from_secs(31);
    assert_eq!(k.begin_sign_in("S0001", later), SignInStart::Check);
    assert_eq!(k.finish_sign_in("S0001", true, later), Some(SignIn::Ok));
    assert_eq!(k.staff(), Some("S0001"));
}

#[test]
fn the_session_locks_when_idle_and_the_same_clerk_keeps_the_work() {
    let t = Instant::now();
    let mut k = signed_in(t);
    k.called("A001");
    k.card_read(person(), None);
    assert_eq!(k.tick(t + Duration::from_secs(59)), None);
    k.touch(t + Duration::from_secs(30));
    assert_eq!(k.tick(t + Duration::from_secs(89)), None);
    assert_eq!(k.tick(t + Duration::from_secs(90)), Some("S0001".into()));
    assert_eq!(
        k.auth(),
        &Auth::Locked {
            staff: "S0001".into()
        }
    );
    assert_eq!(k.staff(), None);
    let c = cfg();
    let now = t + Duration::from_secs(100);
    assert!(matches!(
        k.sign_in("S0001", "123456", &c.staff, now),
        SignIn::Ok
    ));
    assert!(k.work().person.is_some(), "the same clerk carries on");
    // Signing out forgets everything personal.
    assert_eq!(k.sign_out(), Some("S0001".into()));
    assert!(k.work().person.is_none() && k.work().ticket.is_none());
}

#[test]
fn answers_ticks_and_the_review_follow_the_matter() {
    let t = Instant::now();
    let mut k = signed_in(t);
    k.called("A001");
    assert_eq!(k.pad_status(), "请出示身份证");
    k.card_read(person(), Some(CardExpiry::LongTerm));
    assert!(k.licences("500105198511220024", vec!["居民户口簿".into()]));
    assert!(!k.licences("110105198501010028", vec![]));
    k.choose_matter(renewal());
    for o in ["o_damaged", "o_expiry", "o_minor_no", "o_pick_window"] {
        k.answer(o);
    }
    assert_eq!(
        k.work().chosen,
        vec!["o_expiry", "o_minor_no", "o_pick_window"]
    );
    let today = jiff::civil::date(2026, 11, 27);
    let r = k.review(today).unwrap();
    assert!(!r.can_accept());
    k.toggle_brought("m_photo_receipt");
    assert!(k.review(today).unwrap().can_accept());
    k.toggle_brought("m_photo_receipt");
    assert!(!k.review(today).unwrap().can_accept());
    assert_eq!(k.pad_status(), "工作人员正在预审您的材料");
}

#[test]
fn finishing_asks_the_pad_for_an_evaluation_that_needs_a_reason_when_bad() {
    let t = Instant::now();
    let mut k = signed_in(t);
    k.called("A001");
    k.decided(Decision::Accepted {
        case_id: "c1".into(),
        local_number: "1".into(),
    });
    assert_eq!(k.finish(), Some("A001".into()));
    assert!(k.work().ticket.is_none());
    assert!(k.evaluation_ready().is_none());
    k.evaluate_level(EvaluationLevel::Dissatisfied);
    assert!(k.evaluation_ready().is_none());
    let Pad::Evaluate(e) = k.pad() else { panic!() };
    assert_eq!(e.note, "请选择不满意的原因，以便我们改进");
    k.toggle_reason("等候时间长");
    let e = k.evaluation_ready().unwrap();
    assert_eq!(e.ticket.as_deref(), Some("A001"));
    assert_eq!(e.case_id.as_deref(), Some("c1"));
    k.evaluated(t);
    assert!(matches!(k.pad(), Pad::Thanks { .. }));
    k.tick(t + THANKS);
    assert_eq!(k.pad(), &Pad::Showing);
}

fn at_desk(t: Instant) -> Clerk {
    let mut k = signed_in(t);
    k.called("A001");
    k.card_read(
        Person {
            address: "重庆市渝中区解放碑街道1号".into(),
            ..person()
        },
        Some(CardExpiry::LongTerm),
    );
    k.choose_matter(renewal());
    k
}

fn sign(k: &mut Clerk) {
    for pen in [Pen::Down(100, 500), Pen::Move(600, 520), Pen::Up] {
        k.sign_pen(pen);
    }
}

#[test]
fn a_matter_that_needs_a_signature_is_refused_unsigned_and_the_pad_takes_ink_only_when_asked() {
    let t = Instant::now();
    let mut k = at_desk(t);
    for o in ["o_expiry", "o_minor_no", "o_pick_window"] {
        k.answer(o);
    }
    assert!(k.work().signature_required());
    assert_eq!(k.acceptance_refusal().as_deref(), Some(UNSIGNED));
    // Not asked: the pad shows the service and takes no ink.
    sign(&mut k);
    assert!(!k.work().signed());
    assert!(k.ask_signature());
    assert_eq!(k.pad(), &Pad::Sign);
    // A tap is a dot, not a signature.
    k.sign_pen(Pen::Down(10, 10));
    k.sign_pen(Pen::Up);
    assert!(!k.work().signed());
    assert_eq!(k.acceptance_refusal().as_deref(), Some(UNSIGNED));
    sign(&mut k);
    assert!(k.work().signed());
    assert_eq!(k.acceptance_refusal(), None);
    // 重签 on the pad, or asked again by the clerk, wipes it.
    assert!(k.clear_signature());
    assert!(!k.work().signed());
    sign(&mut k);
    assert!(k.ask_signature());
    assert!(!k.work().signed());
    sign(&mut k);
    // The case carries it exactly as the kiosk's does.
    let mut case = crate::errand::new_case(&k.work().errand().unwrap(), 1);
    crate::errand::signature::attach(&mut case, &k.work().signature.strokes);
    assert_eq!(
        case.form
            .get(crate::errand::signature::IMAGE_KEY)
            .map(String::as_str),
        Some(crate::errand::signature::MATERIAL_ID)
    );
    assert!(case
        .form
        .contains_key(crate::errand::signature::STROKES_KEY));
    assert!(case
        .images
        .iter()
        .any(|(id, png)| id == crate::errand::signature::MATERIAL_ID && !png.is_empty()));
    // Decided: the pad stops taking ink; another matter starts unsigned.
    k.decided(Decision::Accepted {
        case_id: "c1".into(),
        local_number: "1".into(),
    });
    assert_eq!(k.pad(), &Pad::Showing);
    assert!(!k.sign_pen(Pen::Down(1, 1)));
    k.choose_matter(renewal());
    assert!(!k.work().signed());
}

#[test]
fn posting_starts_at_the_card_address_needs_a_phone_and_the_case_carries_the_delivery() {
    let t = Instant::now();
    let mut k = at_desk(t);
    for o in ["o_expiry", "o_minor_no", "o_pick_window"] {
        k.answer(o);
    }
    assert!(k.work().post_fields().is_empty());
    assert_eq!(k.work().delivery(), Some(Delivery::Window));
    assert!(
        !k.type_field("f_post_address", "别处"),
        "not asked at the window"
    );
    k.answer("o_pick_post");
    let asked: Vec<&str> = k
        .work()
        .post_fields()
        .iter()
        .map(|f| f.label.as_str())
        .collect();
    assert_eq!(asked, ["邮寄地址", "联系电话"]);
    assert_eq!(
        k.work().fields.get("f_post_address").map(String::as_str),
        Some("重庆市渝中区解放碑街道1号"),
        "the card's address to start with"
    );
    k.ask_signature();
    sign(&mut k);
    assert_eq!(
        k.acceptance_refusal().as_deref(),
        Some("邮寄到家：请填写联系电话")
    );
    assert!(k.type_field("f_phone", "1380000"));
    assert_eq!(
        k.acceptance_refusal().as_deref(),
        Some("邮寄到家：手机号应为11位数字，以1开头")
    );
    assert!(k.type_field("f_phone", "13800000000"));
    assert!(k.type_field("f_post_address", "重庆市江北区观音桥步行街8号"));
    assert!(!k.type_field("f_name", "别人"), "the name is the card's");
    assert_eq!(k.acceptance_refusal(), None);
    let post = Delivery::Post {
        address: "重庆市江北区观音桥步行街8号".into(),
        phone: "13800000000".into(),
    };
    assert_eq!(k.work().delivery(), Some(post.clone()));
    let case = crate::errand::new_case(&k.work().errand().unwrap(), 1);
    assert_eq!(case.delivery, Some(post));
    // Back to the window: nothing posted, nothing to fill.
    k.answer("o_pick_window");
    assert_eq!(k.acceptance_refusal(), None);
    let case = crate::errand::new_case(&k.work().errand().unwrap(), 1);
    assert_eq!(case.delivery, Some(Delivery::Window));
}

#[test]
fn a_fee_is_charged_once_the_case_has_its_code_one_order_at_a_time_and_again_after_expiry() {
    use crate::core::platform::wire::PaymentState;
    let t = Instant::now();
    let mut k = at_desk(t);
    for o in ["o_expiry", "o_minor_no", "o_pick_window"] {
        k.answer(o);
    }
    assert!(!k.can_charge(), "nothing accepted yet");
    k.decided(Decision::Accepted {
        case_id: "c1".into(),
        local_number: "1".into(),
    });
    assert!(!k.can_charge(), "no unified code yet");
    assert_eq!(
        k.payment_status(),
        "需缴费 20.00 元：取得统一受理编号后可收费"
    );
    assert!(!k.coded("c2", "UC-2"), "someone else's case");
    assert!(k.coded("c1", "UC-1"));
    assert!(k.can_charge());
    assert_eq!(k.charge(), Some(Step::Create { attempt: 0 }));
    assert_eq!(k.pad(), &Pad::Pay);
    assert!(!k.can_charge(), "never a second order while one is made");
    assert_eq!(k.charge(), None);
    let order = |id: &str, state| {
        Box::new(PaymentOrder {
            order_id: id.into(),
            case_code: "UC-1".into(),
            items: k_items(),
            amount_fen: 2000,
            payee: "收款单位".into(),
            qr_url: format!("https://127.0.0.1:8480/pay/{id}"),
            expires_at: "2099-01-01T00:00:00Z".into(),
            state,
            payment_no: (state == PaymentState::Paid).then(|| "ZF1".into()),
            fiscal_receipt_url: None,
        })
    };
    let pending = order("p1", PaymentState::Pending);
    assert_eq!(
        k.payment_ordered(Ok(pending.clone())),
        Some(Step::Follow(pending))
    );
    assert_eq!(
        k.payment_status(),
        "待市民扫码支付 20.00 元（二维码在评价器上）"
    );
    assert_eq!(k.payment_update(order("p1", PaymentState::Expired)), None);
    assert!(k.payment_status().contains("已过期"));
    assert!(k.can_charge(), "expired: offered again");
    assert_eq!(k.charge(), Some(Step::Create { attempt: 1 }));
    k.payment_ordered(Ok(order("p2", PaymentState::Pending)));
    assert_eq!(
        k.payment_update(order("p2", PaymentState::Paid)),
        Some(Step::Receipt)
    );
    assert!(!k.can_charge(), "paid");
    assert_eq!(k.payment_status(), "已缴费 20.00 元，支付流水号 ZF1");
    assert_eq!(k.withdraw_payment(), None, "a paid order stays paid");
    k.finish();
    assert!(k.work().payment.is_none(), "the fee leaves with the work");
}

fn k_items() -> Vec<PaymentItem> {
    crate::core::payment::fee_items([&renewal()], &[])
}

#[test]
fn the_acceptance_number_shown_is_the_one_the_receipt_was_printed_with() {
    let t = Instant::now();
    let mut k = at_desk(t);
    assert!(
        !k.receipt_numbered("c1", ReceiptNumber::Unified("UC-1".into())),
        "nothing accepted yet"
    );
    k.decided(Decision::Accepted {
        case_id: "c1".into(),
        local_number: "7".into(),
    });
    assert!(!k.receipt_numbered("c2", ReceiptNumber::Local("8".into())));
    assert_eq!(k.work().receipt_number, None, "someone else's receipt");
    // The code came too late for the receipt: the screen keeps the local number printed.
    assert!(k.receipt_numbered("c1", ReceiptNumber::Local("7".into())));
    assert!(k.coded("c1", "UC-1"));
    let n = k.work().receipt_number.clone().unwrap();
    assert_eq!((n.number(), n.printed().as_str()), ("7", "7（本机编号）"));
    assert_eq!(ReceiptNumber::Unified("UC-1".into()).printed(), "UC-1");
    // The next citizen's matter, or 办结, takes it off the screen.
    k.choose_matter(renewal());
    assert_eq!(k.work().receipt_number, None);
    k.decided(Decision::Accepted {
        case_id: "c3".into(),
        local_number: "9".into(),
    });
    assert!(k.receipt_numbered("c3", ReceiptNumber::Unified("UC-3".into())));
    k.finish();
    assert_eq!(k.work().receipt_number, None);
}
