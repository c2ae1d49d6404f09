//! Remote maintenance and restart: they wait for the citizen being served.

use crate::kiosk::session::*;
use std::time::{Duration, Instant};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

#[test]
fn maintenance_closes_the_home_screen_but_lets_the_citizen_finish() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::Open(Screen::Find), t);
    // Operations ask for maintenance while a citizen searches: they go on.
    s.handle(
        Event::Operations {
            maintenance: true,
            restart: false,
        },
        t,
    );
    assert!(s.out_of_service());
    s.handle(Event::Open(Screen::Departments), t);
    assert_eq!(s.current(), &Screen::Departments);
    // Back home, the services are closed, also after the wipe.
    s.handle(Event::Home, t);
    assert!(s.out_of_service());
    for e in [
        Event::Open(Screen::Find),
        Event::Open(Screen::Tickets),
        Event::OpenEvaluate,
    ] {
        assert_eq!(s.handle(e, t), Outcome::None);
        assert_eq!(s.current(), &Screen::Home);
    }
    // The technician's gesture still opens the PIN pad.
    for _ in 0..5 {
        s.handle(Event::TitleTapped, t);
    }
    assert_eq!(s.current(), &Screen::TechLogin);
    s.handle(Event::Home, t);
    s.handle(
        Event::Operations {
            maintenance: false,
            restart: false,
        },
        t,
    );
    s.handle(Event::Open(Screen::Find), t);
    assert_eq!(s.current(), &Screen::Find);
}

#[test]
fn a_restart_waits_until_nobody_is_served_and_is_asked_once() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::Open(Screen::Find), t);
    drain(&mut s);
    let ask = Event::Operations {
        maintenance: false,
        restart: true,
    };
    s.handle(ask.clone(), t);
    assert!(!drain(&mut s).contains(&Effect::Restart));
    s.handle(Event::Home, t);
    drain(&mut s);
    s.handle(ask.clone(), t);
    assert_eq!(
        drain(&mut s)
            .iter()
            .filter(|e| **e == Effect::Restart)
            .count(),
        1
    );
    s.handle(ask, t);
    assert!(!drain(&mut s).contains(&Effect::Restart));
}

#[test]
fn the_ticket_tile_follows_the_printer_and_recovers_without_a_restart() {
    use crate::core::health::DeviceHealth;
    use ykb_drivers::escpos::PaperState;
    use ykb_drivers::DeviceState;
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    let printer = |state, paper| Event::DeviceHealth {
        slot: "printer".into(),
        health: DeviceHealth {
            state,
            paper: Some(paper),
        },
    };
    assert_eq!(s.blocked(Service::Tickets), None);
    assert_eq!(
        s.handle(printer(DeviceState::Online, PaperState::Out), t),
        Outcome::Changed
    );
    assert_eq!(
        s.blocked(Service::Tickets),
        Some("打印机缺纸，暂不能取号，请到服务台")
    );
    assert_eq!(s.handle(Event::Open(Screen::Tickets), t), Outcome::None);
    assert_eq!(s.current(), &Screen::Home);
    // Kept across the wipe at the end of a session.
    s.handle(Event::Open(Screen::Find), t);
    s.handle(Event::Home, t);
    assert!(s.blocked(Service::Tickets).is_some());
    s.handle(printer(DeviceState::Offline, PaperState::Unknown), t);
    assert_eq!(
        s.blocked(Service::Tickets),
        Some("打印机故障，暂不能取号，请到服务台")
    );
    // Paper back: open again.
    s.handle(printer(DeviceState::Online, PaperState::NearEnd), t);
    assert_eq!(s.blocked(Service::Tickets), None);
    s.handle(Event::Open(Screen::Tickets), t);
    assert_eq!(s.current(), &Screen::Tickets);
    // The reader down: the tile says so, the page (渝快码 too) still opens.
    s.handle(Event::Home, t);
    s.handle(
        Event::DeviceHealth {
            slot: "id_reader".into(),
            health: DeviceHealth {
                state: DeviceState::NoDevice,
                paper: None,
            },
        },
        t,
    );
    assert!(s.blocked(Service::Identify).is_some());
    s.handle(Event::Open(Screen::Identify), t);
    assert_eq!(s.current(), &Screen::Identify);
}
