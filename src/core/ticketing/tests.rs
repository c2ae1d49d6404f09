//! Unit tests of ticketing: the pure decisions, then the store functions on a real SQLite
//! file with a fixed hall clock.

use super::*;
use crate::core::config::HallWindow;
use crate::core::crypto::DataKey;
use crate::core::domain::EvaluationLevel;
use crate::core::outbox::{self, Quota};
use crate::core::platform::wire::{TicketLease, TicketLeaseRequest};

/// 2026-11-27 10:00 hall time.
fn at(hhmm: &str) -> Timestamp {
    format!("2026-11-27T{hhmm}:00+08:00").parse().unwrap()
}

fn cfg() -> TicketingSection {
    let svc = |p: &str, name: &str, cap: u32| HallService {
        prefix: p.into(),
        name: name.into(),
        name_en: String::new(),
        daily_cap: cap,
        opens: "08:30".into(),
        closes: "17:00".into(),
    };
    TicketingSection {
        hall: "test-hall".into(),
        green_age: 65,
        green_priority: 2,
        appointment_priority: 1,
        lease_size: 10,
        lease_low_water: 3,
        services: vec![svc("A", "综合受理", 999), svc("B", "不动产登记", 12)],
        windows: vec![
            HallWindow {
                number: 1,
                services: vec!["A".into()],
            },
            HallWindow {
                number: 2,
                services: vec!["A".into(), "B".into()],
            },
            HallWindow {
                number: 3,
                services: vec!["B".into()],
            },
        ],
        queue: None,
        queue_password_file: None,
    }
}

struct Hall {
    _dir: tempfile::TempDir,
    store: Store,
    key: DataKey,
    cfg: TicketingSection,
}

const QUOTA: Quota = Quota { bytes: 1 << 26 };

impl Hall {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let key = DataKey::create(&dir.path().join("data.key")).unwrap();
        let mut h = Hall {
            _dir: dir,
            store,
            key,
            cfg: cfg(),
        };
        h.lease("A", 1, 20, "2026-11-27");
        h.lease("B", 1, 12, "2026-11-27");
        for w in [1, 2, 3] {
            set_window_open(&mut h.store, &h.cfg, w, true, at("08:00")).unwrap();
        }
        h
    }

    fn lease(&mut self, service: &str, first: u32, last: u32, date: &str) {
        let req = TicketLeaseRequest {
            hall: self.cfg.hall.clone(),
            service: service.into(),
            date: date.into(),
            count: last - first + 1,
            daily_cap: self
                .cfg
                .services
                .iter()
                .find(|s| s.prefix == service)
                .unwrap()
                .daily_cap,
        };
        let lease = TicketLease {
            hall: req.hall.clone(),
            service: req.service.clone(),
            date: req.date.clone(),
            first,
            last,
        };
        record_lease(&mut self.store, &req, &lease, at("08:00")).unwrap();
    }

    fn issue_req(
        &mut self,
        req: IssueRequest,
        now: Timestamp,
    ) -> Result<IssuedTicket, TicketError> {
        issue(&mut self.store, &self.key, QUOTA, &self.cfg, &req, now)
    }

    fn walk_in(&mut self, service: &str) -> IssuedTicket {
        self.issue_req(
            IssueRequest {
                service: service.into(),
                ..Default::default()
            },
            at("10:00"),
        )
        .unwrap()
    }

    fn call(&mut self, window: u16) -> Result<Called, TicketError> {
        Desk::embedded(&mut self.store, &self.key, QUOTA, &self.cfg, window).call_next(at("10:05"))
    }

    fn call_ref(&mut self, window: u16, r: &str, now: Timestamp) -> Result<Called, TicketError> {
        let r = TicketRef::parse(r)?;
        Desk::embedded(&mut self.store, &self.key, QUOTA, &self.cfg, window).call_ticket(&r, now)
    }

    fn serve(&mut self, window: u16) -> Result<Finished, TicketError> {
        Desk::embedded(&mut self.store, &self.key, QUOTA, &self.cfg, window).serve(at("10:20"))
    }

    fn events(&mut self) -> Vec<(String, serde_json::Value)> {
        let items = outbox::list(&mut self.store, false).unwrap();
        items
            .into_iter()
            .map(|i| {
                let payload: Vec<u8> = self
                    .store
                    .conn()
                    .query_row("SELECT payload FROM outbox WHERE id = ?1", [&i.id], |r| {
                        r.get(0)
                    })
                    .unwrap();
                let plain = self.key.open(i.id.as_bytes(), &payload).unwrap();
                (i.kind, serde_json::from_slice(&plain).unwrap())
            })
            .collect()
    }

    /// The queue's invariants: a window's current ticket is called at that window, every
    /// called ticket is some window's current, numbers are unique.
    fn assert_consistent(&mut self) {
        let conn = self.store.conn();
        let orphans: i64 = conn
            .query_row(
                "SELECT count(*) FROM tickets t WHERE t.state = 'called'
                 AND NOT EXISTS (SELECT 1 FROM ticket_windows w WHERE w.current = t.id AND w.number = t.window)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0, "a called ticket that no window holds");
        let wrong: i64 = conn
            .query_row(
                "SELECT count(*) FROM ticket_windows w JOIN tickets t ON t.id = w.current
                 WHERE t.state != 'called' OR t.window != w.number",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            wrong, 0,
            "a window holding a ticket that is not called there"
        );
        let dup: i64 = conn
            .query_row(
                "SELECT count(*) FROM (SELECT current FROM ticket_windows WHERE current IS NOT NULL
                 GROUP BY current HAVING count(*) > 1)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(dup, 0, "one ticket current at two windows");
    }
}

#[test]
fn ticket_numbers_print_with_three_digits_and_parse_back() {
    let n = TicketNumber::parse("a7").unwrap();
    assert_eq!(n.to_string(), "A007");
    assert_eq!(TicketNumber::parse("B123").unwrap().to_string(), "B123");
    for bad in ["", "A", "A000", "A1000", "1A", "AA1", "中1", "A-1"] {
        assert_eq!(TicketNumber::parse(bad), None, "{bad}");
    }
    let r = TicketRef::parse("YKBT:2026-11-26:C042").unwrap();
    assert_eq!(r.date, Some(jiff::civil::date(2026, 11, 26)));
    assert_eq!(r.number.to_string(), "C042");
    assert_eq!(
        TicketRef::parse(&qr_payload(r.date.unwrap(), r.number)).unwrap(),
        r
    );
    assert!(matches!(
        TicketRef::parse("YKBT:2026-13-01:A001"),
        Err(TicketError::BadReference(_))
    ));
}

#[test]
fn announcement_names_number_and_window_in_both_languages() {
    let a = announcement(TicketNumber::parse("A001").unwrap(), 3);
    assert_eq!(a.zh, "请A001号到3号窗口办理");
    assert_eq!(a.en, "Number A001, please go to window 3.");
}

#[test]
fn green_channel_starts_on_the_65th_birthday_or_when_chosen() {
    let today = jiff::civil::date(2026, 11, 27);
    let born = |d: &str| IdNumber::complete(&format!("500103{d}123")).unwrap();
    let sixty_five_today = born("19611127");
    let sixty_five_tomorrow = born("19611128");
    assert_eq!(
        green_reason(false, Some(&sixty_five_today), today, 65),
        Some(GreenReason::Age)
    );
    assert_eq!(
        green_reason(false, Some(&sixty_five_tomorrow), today, 65),
        None
    );
    assert_eq!(
        green_reason(true, Some(&sixty_five_tomorrow), today, 65),
        Some(GreenReason::Chosen)
    );
    assert_eq!(green_reason(false, None, today, 65), None);
    assert_eq!(
        green_reason(false, Some(&sixty_five_tomorrow), today, 60),
        Some(GreenReason::Age)
    );
}

#[test]
fn the_state_machine_allows_exactly_the_window_actions() {
    use Action::*;
    use TicketState::*;
    let states = [Waiting, Called, Held, Served, NoShow, Expired, Withdrawn];
    let actions = [Call, Recall, Skip, Hold, Serve, Transfer, Withdraw];
    for s in states {
        for a in actions {
            let expected = match (s, a) {
                (Waiting | Held, Call) => Some(Called),
                (Called, Recall) => Some(Called),
                (Called, Skip) => Some(NoShow),
                (Called, Hold) => Some(Held),
                (Called, Serve) => Some(Served),
                (Called, Transfer) => Some(Waiting),
                (Waiting, Withdraw) => Some(Withdrawn),
                _ => None,
            };
            assert_eq!(next_state(s, a), expected, "{s:?} {a:?}");
        }
        // Finished tickets never move again.
        if matches!(s, Served | NoShow | Expired | Withdrawn) {
            assert!(actions.iter().all(|a| next_state(s, *a).is_none()));
        }
    }
}

#[test]
fn call_order_is_transferred_then_priority_then_arrival() {
    let c = |transferred, priority, queue_seq| Candidate {
        transferred,
        priority,
        issued_ms: 1_000 * queue_seq as i64,
        queue_seq,
    };
    let waiting = [
        c(false, 0, 1),
        c(false, 2, 5),
        c(false, 1, 3),
        c(false, 2, 4),
        c(true, 0, 9),
    ];
    let mut left: Vec<Candidate> = waiting.to_vec();
    let mut order = Vec::new();
    while let Some(i) = pick_next(&left) {
        order.push(left.remove(i).queue_seq);
    }
    assert_eq!(order, vec![9, 4, 5, 3, 1]);
    assert_eq!(ahead_of(&waiting, &waiting[0]), 4);
    assert_eq!(ahead_of(&waiting, &waiting[4]), 0);
    assert_eq!(pick_next(&[]), None);
}

/// A ticket issued offline and replayed into the hall later has a later `queue_seq` but an
/// earlier time of issue: it keeps the place its citizen took.
#[test]
fn first_come_first_served_is_by_the_time_of_issue_not_of_arrival_in_the_queue() {
    let c = |issued_ms, queue_seq| Candidate {
        transferred: false,
        priority: 0,
        issued_ms,
        queue_seq,
    };
    // Online at 9:00:10 and 9:00:30; replayed at 9:31 but issued offline at 9:00:20.
    let waiting = [c(10_000, 1), c(30_000, 2), c(20_000, 3)];
    let mut left = waiting.to_vec();
    let mut order = Vec::new();
    while let Some(i) = pick_next(&left) {
        order.push(left.remove(i).queue_seq);
    }
    assert_eq!(order, vec![1, 3, 2]);
    assert_eq!(ahead_of(&waiting, &waiting[2]), 1);
    // The same millisecond: arrival decides.
    assert_eq!(pick_next(&[c(5, 9), c(5, 4)]), Some(1));
}

#[test]
fn issuing_hours_include_opening_and_exclude_closing_time() {
    let s = &cfg().services[0];
    let t = |h, m| jiff::civil::time(h, m, 0, 0);
    assert!(!is_issuing(s, t(8, 29)));
    assert!(is_issuing(s, t(8, 30)));
    assert!(is_issuing(s, t(16, 59)));
    assert!(!is_issuing(s, t(17, 0)));
}

#[test]
fn numbers_count_up_per_service_from_the_lease_and_tell_who_is_ahead() {
    let mut h = Hall::new();
    let a1 = h.walk_in("A");
    let a2 = h.walk_in("a");
    let b1 = h.walk_in("B");
    assert_eq!((a1.number.as_str(), a2.number.as_str()), ("A001", "A002"));
    assert_eq!(b1.number, "B001");
    assert_eq!(
        (a1.waiting_before, a2.waiting_before, b1.waiting_before),
        (0, 1, 0)
    );
    assert_eq!(a1.qr, "YKBT:2026-11-27:A001");
    assert_eq!(a1.service_name, "综合受理");
    assert_eq!(a1.date, jiff::civil::date(2026, 11, 27));
    // A green-channel ticket goes ahead of both walk-ins.
    let g = h
        .issue_req(
            IssueRequest {
                service: "A".into(),
                green: true,
                ..Default::default()
            },
            at("10:01"),
        )
        .unwrap();
    assert_eq!(
        (g.number.as_str(), g.kind, g.waiting_before),
        ("A003", TicketKind::Green, 0)
    );
    assert_eq!(lease_remaining(&mut h.store, "A", g.date).unwrap(), 17);
    let kinds: Vec<String> = h.events().into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, vec![EVENT_ISSUED; 4]);
}

#[test]
fn a_second_lease_continues_where_the_first_ends_and_the_next_day_starts_afresh() {
    let mut h = Hall::new();
    h.lease("A", 41, 42, "2026-11-27");
    for _ in 0..20 {
        h.walk_in("A");
    }
    assert_eq!(h.walk_in("A").number, "A041");
    assert_eq!(h.walk_in("A").number, "A042");
    let e = h
        .issue_req(
            IssueRequest {
                service: "A".into(),
                ..Default::default()
            },
            at("10:00"),
        )
        .unwrap_err();
    assert!(matches!(e, TicketError::LeaseExhausted { .. }), "{e}");
    assert!(e.to_string().contains("号段已用完"), "{e}");
    // Tomorrow's lease does not serve today, today's does not serve tomorrow.
    h.lease("A", 1, 5, "2026-11-28");
    let tomorrow: Timestamp = "2026-11-28T09:00:00+08:00".parse().unwrap();
    let t = h
        .issue_req(
            IssueRequest {
                service: "A".into(),
                ..Default::default()
            },
            tomorrow,
        )
        .unwrap();
    assert_eq!(
        (t.number.as_str(), t.date),
        ("A001", jiff::civil::date(2026, 11, 28))
    );
}

#[test]
fn the_daily_cap_is_reported_as_such_once_reached() {
    let mut h = Hall::new();
    for i in 1..=12 {
        assert_eq!(h.walk_in("B").number, format!("B{i:03}"));
    }
    let e = h
        .issue_req(
            IssueRequest {
                service: "B".into(),
                ..Default::default()
            },
            at("10:00"),
        )
        .unwrap_err();
    assert!(matches!(e, TicketError::CapReached { cap: 12, .. }), "{e}");
    assert!(
        lease_requests(&mut h.store, &h.cfg, jiff::civil::date(2026, 11, 27))
            .unwrap()
            .iter()
            .all(|r| r.service != "B")
    );
}

#[test]
fn bad_issue_requests_are_refused_without_using_a_number() {
    let mut h = Hall::new();
    let early = h
        .issue_req(
            IssueRequest {
                service: "A".into(),
                ..Default::default()
            },
            at("08:10"),
        )
        .unwrap_err();
    assert!(matches!(early, TicketError::OutsideHours { .. }));
    assert_eq!(
        early.to_string(),
        "综合受理的取号时间为 08:30–17:00，现在不能取号"
    );
    let unknown = h
        .issue_req(
            IssueRequest {
                service: "Z".into(),
                ..Default::default()
            },
            at("10:00"),
        )
        .unwrap_err();
    assert!(matches!(unknown, TicketError::UnknownService(ref p) if p == "Z"));
    assert_eq!(h.walk_in("A").number, "A001");
}

#[test]
fn appointments_check_in_once_on_their_day_with_their_priority() {
    let mut h = Hall::new();
    let today = jiff::civil::date(2026, 11, 27);
    let appt = |code: &str, date| IssueRequest {
        service: "A".into(),
        appointment: Some(Appointment {
            code: code.into(),
            date,
        }),
        ..Default::default()
    };
    h.walk_in("A");
    let t = h
        .issue_req(appt("YY20261127001", today), at("10:00"))
        .unwrap();
    assert_eq!((t.kind, t.waiting_before), (TicketKind::Appointment, 0));
    let again = h
        .issue_req(appt("YY20261127001", today), at("10:02"))
        .unwrap_err();
    assert_eq!(
        again.to_string(),
        "预约 YY20261127001 已签到（号码 A002），不能重复签到"
    );
    let other_day = h
        .issue_req(
            appt("YY20261128001", jiff::civil::date(2026, 11, 28)),
            at("10:02"),
        )
        .unwrap_err();
    assert!(matches!(other_day, TicketError::AppointmentNotToday { .. }));
    let empty = h.issue_req(appt("  ", today), at("10:02")).unwrap_err();
    assert!(matches!(empty, TicketError::EmptyAppointment));
    // The refusals used no number.
    assert_eq!(h.walk_in("A").number, "A003");
}

#[test]
fn windows_call_green_then_appointments_then_walk_ins_in_arrival_order() {
    let mut h = Hall::new();
    let old = IdNumber::complete("50010319500307123").unwrap();
    h.walk_in("A"); // A001
    h.issue_req(
        IssueRequest {
            service: "A".into(),
            appointment: Some(Appointment {
                code: "YY1".into(),
                date: jiff::civil::date(2026, 11, 27),
            }),
            ..Default::default()
        },
        at("10:00"),
    )
    .unwrap(); // A002
    h.walk_in("A"); // A003
    let g = h
        .issue_req(
            IssueRequest {
                service: "A".into(),
                id_number: Some(old.clone()),
                ..Default::default()
            },
            at("10:00"),
        )
        .unwrap(); // A004, green by age
    assert_eq!(g.kind, TicketKind::Green);
    let mut order = Vec::new();
    for _ in 0..4 {
        let c = h.call(1).unwrap();
        assert_eq!(c.announcement.zh, format!("请{}号到1号窗口办理", c.number));
        order.push(c.number);
        h.serve(1).unwrap();
        h.assert_consistent();
    }
    assert_eq!(order, ["A004", "A002", "A001", "A003"]);
    assert!(matches!(h.call(1), Err(TicketError::NobodyWaiting(1))));
    // No ID number in anything queued for the platform.
    for (_, body) in h.events() {
        assert!(!body.to_string().contains(old.expose()), "{body}");
    }
}

#[test]
fn a_window_calls_only_its_services() {
    let mut h = Hall::new();
    h.walk_in("B");
    assert!(matches!(h.call(1), Err(TicketError::NobodyWaiting(1))));
    assert_eq!(h.call(3).unwrap().number, "B001");
}

#[test]
fn the_same_ticket_cannot_be_called_twice() {
    let mut h = Hall::new();
    h.walk_in("A");
    assert_eq!(h.call(1).unwrap().number, "A001");
    let e = h.call_ref(2, "A001", at("10:06")).unwrap_err();
    assert_eq!(e.to_string(), "A001 号已在 1 号窗口叫号，不能重复叫号");
    // A busy window does not call another.
    h.walk_in("A");
    let busy = h.call(1).unwrap_err();
    assert_eq!(
        busy.to_string(),
        "1 号窗口正在办理 A001 号，请先办结、过号、暂挂或转出"
    );
    h.assert_consistent();
    // Window 2 got nothing; A002 is still there for it.
    assert_eq!(h.call(2).unwrap().number, "A002");
    h.serve(1).unwrap();
    let done = h.call_ref(2, "A001", at("10:30")).unwrap_err();
    assert!(matches!(done, TicketError::WindowBusy { .. }));
    h.serve(2).unwrap();
    let done = h.call_ref(2, "A001", at("10:30")).unwrap_err();
    assert_eq!(done.to_string(), "A001 号已办结，不能再叫号");
    h.assert_consistent();
}

#[test]
fn a_ticket_from_yesterday_is_refused() {
    let mut h = Hall::new();
    let t = h.walk_in("A");
    let tomorrow: Timestamp = "2026-11-28T09:00:00+08:00".parse().unwrap();
    let e = h.call_ref(1, &t.qr, tomorrow).unwrap_err();
    assert_eq!(
        e.to_string(),
        "A001 号是 2026-11-27 的号票，已经失效，请重新取号"
    );
    let e = h.call_ref(1, "A001", tomorrow).unwrap_err();
    assert!(matches!(e, TicketError::UnknownTicket(_)), "{e}");
    assert!(matches!(
        Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1).call_next(tomorrow),
        Err(TicketError::NobodyWaiting(1))
    ));
    // A ticket left current overnight does not block the window the next day.
    h.call(1).unwrap();
    h.lease("A", 1, 3, "2026-11-28");
    h.issue_req(
        IssueRequest {
            service: "A".into(),
            ..Default::default()
        },
        tomorrow,
    )
    .unwrap();
    let c = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
        .call_next(tomorrow)
        .unwrap();
    assert_eq!(c.number, "A001");
    h.assert_consistent();
}

#[test]
fn transfers_go_to_open_windows_or_other_services_and_are_called_first_there() {
    let mut h = Hall::new();
    h.walk_in("A");
    h.walk_in("B");
    set_window_open(&mut h.store, &h.cfg, 3, false, at("10:00")).unwrap();
    h.call(1).unwrap();
    let to_closed = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
        .transfer(&Transfer::Window(3), at("10:10"))
        .unwrap_err();
    assert_eq!(to_closed.to_string(), "3 号窗口未开放");
    let to_unknown = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
        .transfer(&Transfer::Window(9), at("10:10"))
        .unwrap_err();
    assert!(matches!(to_unknown, TicketError::UnknownWindow(9)));
    let to_self = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
        .transfer(&Transfer::Window(1), at("10:10"))
        .unwrap_err();
    assert!(matches!(to_self, TicketError::TransferToSelf));
    // Still at window 1 after the refusals.
    assert_eq!(
        Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
            .recall(at("10:11"))
            .unwrap()
            .calls,
        2
    );
    h.assert_consistent();
    let f = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
        .transfer(&Transfer::Service("b".into()), at("10:12"))
        .unwrap();
    assert_eq!(f.state, TicketState::Waiting);
    // Window 2 serves A and B: the transferred A001 goes before B001, which came earlier.
    assert_eq!(h.call(2).unwrap().number, "A001");
    let f = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 2)
        .transfer(&Transfer::Window(1), at("10:15"))
        .unwrap();
    assert_eq!(f.number, "A001");
    assert_eq!(h.call(2).unwrap().number, "B001");
    assert_eq!(h.call(1).unwrap().number, "A001");
    h.assert_consistent();
    let kinds: Vec<String> = h.events().into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds.iter().filter(|k| *k == EVENT_TRANSFERRED).count(), 2);
}

#[test]
fn held_tickets_come_back_by_number_and_skipped_ones_do_not() {
    let mut h = Hall::new();
    h.walk_in("A");
    h.walk_in("A");
    h.call(1).unwrap();
    assert_eq!(
        Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
            .hold(at("10:06"))
            .unwrap()
            .state,
        TicketState::Held
    );
    // The window is free: the next one is called; the held one is not called by call_next.
    assert_eq!(h.call(1).unwrap().number, "A002");
    let f = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 1)
        .skip(at("10:08"))
        .unwrap();
    assert_eq!((f.number.as_str(), f.state), ("A002", TicketState::NoShow));
    assert!(matches!(h.call(1), Err(TicketError::NobodyWaiting(1))));
    let back = h.call_ref(1, "A001", at("10:09")).unwrap();
    assert_eq!((back.number.as_str(), back.calls), ("A001", 2));
    h.serve(1).unwrap();
    let e = h.call_ref(1, "A002", at("10:30")).unwrap_err();
    assert_eq!(e.to_string(), "A002 号已过号，不能再叫号");
    for action in [Action::Skip, Action::Hold, Action::Serve] {
        let mut q = Embedded {
            store: &mut h.store,
            key: &h.key,
            quota: QUOTA,
            cfg: &h.cfg,
        };
        assert!(matches!(
            q.finish(1, action, None, at("10:31")),
            Err(TicketError::NothingCurrent(1))
        ));
    }
    h.assert_consistent();
}

#[test]
fn closed_and_unknown_windows_call_nothing_and_busy_windows_do_not_close() {
    let mut h = Hall::new();
    h.walk_in("A");
    set_window_open(&mut h.store, &h.cfg, 1, false, at("10:00")).unwrap();
    assert!(matches!(h.call(1), Err(TicketError::WindowClosed(1))));
    assert!(matches!(h.call(7), Err(TicketError::UnknownWindow(7))));
    h.call(2).unwrap();
    let e = set_window_open(&mut h.store, &h.cfg, 2, false, at("10:06")).unwrap_err();
    assert!(matches!(e, TicketError::WindowBusy { window: 2, .. }));
    let st = status(&mut h.store, &h.cfg, at("10:07")).unwrap();
    let w2 = st.windows.iter().find(|w| w.number == 2).unwrap();
    assert_eq!((w2.open, w2.current.as_deref()), (true, Some("A001")));
    assert!(!st.windows[0].open);
    assert_eq!(st.recent_calls, vec![("A001".to_owned(), 2)]);
}

#[test]
fn served_events_carry_waiting_and_service_times_and_evaluations_follow_once() {
    let mut h = Hall::new();
    h.walk_in("A"); // issued 10:00
    let r = TicketRef::parse("A001").unwrap();
    let eval = |h: &mut Hall, level, reasons: &[String]| {
        evaluate(
            &mut h.store,
            &h.key,
            QUOTA,
            &h.cfg,
            &r,
            level,
            reasons,
            at("10:25"),
        )
    };
    assert!(matches!(
        eval(&mut h, EvaluationLevel::Satisfied, &[]),
        Err(TicketError::NotServed { .. })
    ));
    h.call(1).unwrap(); // 10:05
    let f = h.serve(1).unwrap(); // 10:20
    assert_eq!((f.wait_secs, f.service_secs), (Some(300), Some(900)));
    assert!(matches!(
        eval(&mut h, EvaluationLevel::Dissatisfied, &[]),
        Err(TicketError::ReasonRequired("不满意"))
    ));
    eval(
        &mut h,
        EvaluationLevel::Dissatisfied,
        &["等候时间长".to_owned()],
    )
    .unwrap();
    assert!(matches!(
        eval(&mut h, EvaluationLevel::VerySatisfied, &[]),
        Err(TicketError::AlreadyEvaluated { .. })
    ));
    let events = h.events();
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [EVENT_ISSUED, EVENT_CALLED, EVENT_SERVED, EVENT_EVALUATION]
    );
    let served = &events[2].1;
    assert_eq!(served["wait_secs"], 300);
    assert_eq!(served["service_secs"], 900);
    assert_eq!(served["window"], 1);
    assert_eq!(served["number"], "A001");
    assert_eq!(events[3].1["level"], "dissatisfied");
    assert_eq!(events[3].1["score"], 2);
}

#[test]
fn a_desk_calls_and_serves_its_window_s_tickets_with_their_events() {
    let mut h = Hall::new();
    h.walk_in("A");
    h.walk_in("A");
    let mut desk = Desk::embedded(&mut h.store, &h.key, QUOTA, &h.cfg, 2);
    let called = desk.call_next(at("10:05")).unwrap();
    assert_eq!((called.number.as_str(), called.window), ("A001", 2));
    assert!(matches!(
        desk.call_next(at("10:06")),
        Err(TicketError::WindowBusy { window: 2, .. })
    ));
    let done = desk.serve(at("10:20")).unwrap();
    assert_eq!(
        (done.number.as_str(), done.state),
        ("A001", TicketState::Served)
    );
    assert_eq!((done.wait_secs, done.service_secs), (Some(300), Some(900)));
    let status = desk.status(at("10:21")).unwrap();
    assert_eq!(status.windows[1].current, None);
    assert_eq!(
        (status.services[0].waiting, status.services[0].served),
        (1, 1)
    );
    drop(desk);
    h.assert_consistent();
    let events = h.events();
    let (kind, served) = events.last().unwrap();
    assert_eq!(kind, EVENT_SERVED);
    assert_eq!(
        (
            &served["number"],
            &served["window"],
            &served["service_secs"]
        ),
        (&"A001".into(), &2.into(), &900.into())
    );
}

#[test]
fn leases_that_do_not_answer_the_request_or_overlap_are_refused() {
    let mut h = Hall::new();
    let req = TicketLeaseRequest {
        hall: "test-hall".into(),
        service: "A".into(),
        date: "2026-11-27".into(),
        count: 10,
        daily_cap: 999,
    };
    let lease = |first, last, service: &str| TicketLease {
        hall: "test-hall".into(),
        service: service.into(),
        date: "2026-11-27".into(),
        first,
        last,
    };
    for (l, why) in [
        (lease(15, 24, "A"), "overlap"),
        (lease(21, 31, "A"), "more than asked"),
        (lease(0, 5, "A"), "zero"),
        (lease(30, 29, "A"), "reversed"),
        (lease(21, 30, "B"), "other service"),
    ] {
        assert!(
            matches!(
                record_lease(&mut h.store, &req, &l, at("10:00")),
                Err(TicketError::BadLease(_))
            ),
            "{why}"
        );
    }
    record_lease(&mut h.store, &req, &lease(21, 30, "A"), at("10:00")).unwrap();
    assert_eq!(
        lease_remaining(&mut h.store, "A", jiff::civil::date(2026, 11, 27)).unwrap(),
        30
    );
}

#[test]
fn top_up_is_asked_for_services_running_low() {
    let mut h = Hall::new();
    let today = jiff::civil::date(2026, 11, 27);
    assert!(lease_requests(&mut h.store, &h.cfg, today)
        .unwrap()
        .is_empty());
    for _ in 0..18 {
        h.walk_in("A");
    }
    let reqs = lease_requests(&mut h.store, &h.cfg, today).unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (
            reqs[0].service.as_str(),
            reqs[0].count,
            reqs[0].date.as_str()
        ),
        ("A", 10, "2026-11-27")
    );
    // Nothing leased yet for tomorrow: every service asks.
    let tomorrow = jiff::civil::date(2026, 11, 28);
    assert_eq!(
        lease_requests(&mut h.store, &h.cfg, tomorrow)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn without_a_ticketing_section_nothing_is_issued() {
    let mut p = crate::core::config::Profile::demo();
    p.ticketing = None;
    assert!(matches!(section(&p), Err(TicketError::NotConfigured)));
}

mod property {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Issue(bool, bool),
        CallNext(u16),
        CallRef(u16, u32),
        Recall(u16),
        Skip(u16),
        Hold(u16),
        Serve(u16),
        ToWindow(u16, u16),
        ToService(u16, bool),
        Open(u16, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        let w = 1u16..=4;
        prop_oneof![
            3 => (any::<bool>(), any::<bool>()).prop_map(|(b, g)| Op::Issue(b, g)),
            3 => w.clone().prop_map(Op::CallNext),
            1 => (w.clone(), 1u32..8).prop_map(|(w, n)| Op::CallRef(w, n)),
            1 => w.clone().prop_map(Op::Recall),
            1 => w.clone().prop_map(Op::Skip),
            1 => w.clone().prop_map(Op::Hold),
            2 => w.clone().prop_map(Op::Serve),
            1 => (w.clone(), w.clone()).prop_map(|(a, b)| Op::ToWindow(a, b)),
            1 => (w.clone(), any::<bool>()).prop_map(|(a, b)| Op::ToService(a, b)),
            1 => (w, any::<bool>()).prop_map(|(a, b)| Op::Open(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Whatever a hall does, in whatever order, and whatever is refused: numbers stay
        /// unique, every ticket is at most at one window, and each event matches a change.
        #[test]
        fn any_sequence_of_window_actions_keeps_the_queue_consistent(ops in proptest::collection::vec(op(), 1..40)) {
            let mut h = Hall::new();
            let now = at("10:00");
            for op in ops {
                let before = outbox::list(&mut h.store, false).unwrap().len();
                let (k, q, c) = (&h.key, QUOTA, &h.cfg);
                let s = &mut h.store;
                let changed = match op {
                    Op::Issue(b, g) => issue(s, k, q, c, &IssueRequest {
                        service: if b { "B" } else { "A" }.into(), green: g, ..Default::default()
                    }, now).is_ok(),
                    Op::CallNext(w) => Desk::embedded(s, k, q, c, w).call_next(now).is_ok(),
                    Op::CallRef(w, n) => Desk::embedded(s, k, q, c, w).call_ticket(&TicketRef {
                        date: None, number: TicketNumber { prefix: 'A', number: n },
                    }, now).is_ok(),
                    Op::Recall(w) => Desk::embedded(s, k, q, c, w).recall(now).is_ok(),
                    Op::Skip(w) => Desk::embedded(s, k, q, c, w).skip(now).is_ok(),
                    Op::Hold(w) => { let _ = Desk::embedded(s, k, q, c, w).hold(now); false }
                    Op::Serve(w) => Desk::embedded(s, k, q, c, w).serve(now).is_ok(),
                    Op::ToWindow(a, b) => Desk::embedded(s, k, q, c, a).transfer(&Transfer::Window(b), now).is_ok(),
                    Op::ToService(a, b) => Desk::embedded(s, k, q, c, a).transfer(&Transfer::Service(if b { "B" } else { "A" }.into()), now).is_ok(),
                    Op::Open(w, o) => { let _ = set_window_open(s, c, w, o, now); false }
                };
                h.assert_consistent();
                let after = outbox::list(&mut h.store, false).unwrap().len();
                prop_assert_eq!(after, before + usize::from(changed), "{:?}", op);
            }
            let dup: i64 = h.store.conn().query_row(
                "SELECT count(*) FROM (SELECT 1 FROM tickets GROUP BY day, service, number HAVING count(*) > 1)",
                [], |r| r.get(0)).unwrap();
            prop_assert_eq!(dup, 0);
        }
    }
}
