//! The real SAM driver over a pseudo-terminal against the wire-level emulator.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use ykb_drivers::idcard::frame::encode_frame;
use ykb_drivers::idcard::poller::CardPoller;
use ykb_drivers::idcard::{
    CancelToken, CardKind, CardText, IdCardError, IdCardReader, IdReader, ReaderConfig,
    ReaderEvent, SamCommand, SamError, SamReader, ServiceConfig,
};
use ykb_drivers::link::{SerialConnector, SerialLink};
use ykb_drivers::sim::{IdCardSim, SamFault};
use ykb_drivers::{DeviceState, ErrorKind};

fn card_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    [
        "resident-wang-yan.toml",
        "resident-li-zhe.toml",
        "permit-hk-chen.toml",
        "foreign-2017-smith.toml",
        "foreign-2023-brown.toml",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect()
}

struct Rig {
    sim: IdCardSim,
    reader: IdCardReader,
    _dir: tempfile::TempDir,
}

fn rig_with(config: ServiceConfig) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("idcard");
    let sim = IdCardSim::start(&card_files(), Some(link.clone())).unwrap();
    let reader = IdCardReader::spawn(SerialConnector::new(link, 115_200), config);
    wait_state(&reader, DeviceState::Online, Duration::from_secs(3));
    Rig {
        sim,
        reader,
        _dir: dir,
    }
}

fn rig() -> Rig {
    rig_with(ServiceConfig::default())
}

fn wait_state(reader: &IdCardReader, want: DeviceState, within: Duration) -> Duration {
    let start = Instant::now();
    while reader.state() != want {
        assert!(
            start.elapsed() < within,
            "reader state {:?}, wanted {want:?} within {within:?}",
            reader.state()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

fn wait_event(
    rx: &Receiver<ReaderEvent>,
    within: Duration,
    pred: impl Fn(&ReaderEvent) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let left = within
            .checked_sub(start.elapsed())
            .expect("event did not arrive in time");
        match rx.recv_timeout(left) {
            Ok(e) if pred(&e) => return start.elapsed(),
            Ok(_) => {}
            Err(e) => panic!("event did not arrive in time: {e}"),
        }
    }
}

/// Waits for `want` among the reader's events; returns how long that took.
fn wait_status(rx: &Receiver<ReaderEvent>, want: DeviceState, within: Duration) -> Duration {
    wait_event(
        rx,
        within,
        |e| matches!(e, ReaderEvent::Status(s) if s.state == want),
    )
}

/// Places card `slot` of the emulator's deck and reads it.
fn read_placed(rig: &Rig, slot: usize) -> ykb_drivers::idcard::IdCard {
    rig.sim.control(&format!("place {slot}")).unwrap();
    read(rig).unwrap()
}

/// A read waiting (up to 30 s) for a card that is not there, once it has waited `settle`;
/// and the time it was handed back.
fn pending_read(rig: &Rig, settle: Duration) -> (ykb_drivers::idcard::PendingRead, Instant) {
    let pending = rig.reader.read_card(Duration::from_secs(30));
    std::thread::sleep(settle);
    (pending, Instant::now())
}

fn read(rig: &Rig) -> Result<ykb_drivers::idcard::IdCard, IdCardError> {
    rig.reader.read_card(Duration::from_secs(3)).wait()
}

#[test]
fn reads_all_four_card_kinds_in_turn() {
    let rig = rig();
    let expected = [
        (CardKind::Resident, "王䶮"),
        (CardKind::Resident, "李喆"),
        (CardKind::HkMoTwPermit, "陈嘉欣"),
        (CardKind::ForeignPermanent2017, "史密斯"),
        (CardKind::ForeignPermanent2023, "布朗"),
    ];
    for (kind, name) in expected {
        rig.sim.control("next").unwrap();
        let card = read(&rig).unwrap();
        assert_eq!(card.kind(), kind);
        assert_eq!(card.text.name(), name);
        assert_eq!(card.photo.wlt.len(), 1024);
        assert!(
            card.photo.decoded.is_err(),
            "no decoder configured, yet the read succeeded"
        );
        match &card.text {
            CardText::Resident(t) if name == "王䶮" => {
                assert_eq!(t.id_number, "500103199003070017");
                assert_eq!(card.text.nation(), Some("汉"));
                assert_eq!(t.valid_to.to_string(), "长期");
                assert_eq!(
                    card.appended_address.as_deref(),
                    Some("重庆市渝北区龙溪街道金开大道88号")
                );
                assert_eq!(card.id_checksum_ok, Some(true));
            }
            CardText::Resident(t) => {
                assert_eq!(card.text.nation(), Some("土家"));
                assert_eq!(t.birth_date.to_string(), "1985-11-22");
                assert_eq!(card.appended_address, None);
            }
            CardText::HkMoTwPermit(t) => {
                assert_eq!(t.pass_number, "H12345678");
                assert_eq!(t.issue_count, "02");
                assert_eq!(card.id_checksum_ok, Some(true));
            }
            CardText::ForeignPermanent2017(t) => {
                assert_eq!(t.name_en, "SMITH, JOHN");
                assert_eq!(t.nationality, "USA");
                assert_eq!(card.id_checksum_ok, None);
            }
            CardText::ForeignPermanent2023(t) => {
                assert_eq!(t.name_en, "BROWN, EMILY ROSE");
                assert_eq!(t.nationality, "GBR");
                assert_eq!(card.id_checksum_ok, Some(true));
            }
        }
        let json = serde_json::to_string(&card.summary(false)).unwrap();
        assert!(!json.contains(card.text.id_number()), "unmasked: {json}");
        let revealed = serde_json::to_string(&card.summary(true)).unwrap();
        assert!(revealed.contains(card.text.id_number()));
    }
}

#[test]
fn card_read_once_is_not_read_again_until_it_leaves_the_field() {
    let rig = rig();
    let events = rig.reader.subscribe();
    rig.sim.control("place 0").unwrap();
    read(&rig).unwrap();
    // Card still lying there: the next read must wait rather than read it again.
    let second = rig.reader.read_card(Duration::from_millis(800)).wait();
    assert!(matches!(second, Err(IdCardError::NoCard(_))), "{second:?}");
    let reads = |rig: &Rig| {
        rig.sim
            .sam()
            .log
            .iter()
            .filter(|c| **c == SamCommand::ReadTextPhoto)
            .count()
    };
    assert_eq!(reads(&rig), 1);
    // Find answers 0x80 all the while (the quirk); the poller confirmed presence with select.
    rig.sim.control("lift").unwrap();
    wait_event(&events, Duration::from_secs(2), |e| {
        *e == ReaderEvent::CardRemoved
    });
    rig.sim.control("place 0").unwrap();
    read(&rig).unwrap();
    assert_eq!(reads(&rig), 2);
}

#[test]
fn damaged_replies_are_retried_and_the_read_succeeds() {
    let rig = rig();
    for fault in ["bad-checksum", "garbage", "short-frame"] {
        rig.sim.control("lift").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        rig.sim.control(&format!("fault {fault} 1 read")).unwrap();
        rig.sim.control("place 1").unwrap();
        let card = read(&rig).unwrap_or_else(|e| panic!("{fault}: {e}"));
        assert_eq!(card.text.name(), "李喆", "{fault}");
    }
    // Garbage on every reply for a while: heartbeats and reads resynchronise.
    rig.sim.control("lift").unwrap();
    rig.sim.control("fault garbage 20").unwrap();
    assert_eq!(read_placed(&rig, 2).kind(), CardKind::HkMoTwPermit);
}

#[test]
fn persistent_faults_end_in_typed_errors() {
    let rig = rig();
    rig.sim.control("place 0").unwrap();
    rig.sim.control("fault no-reply 3 read").unwrap();
    let e = read(&rig).unwrap_err();
    assert!(
        matches!(
            e,
            IdCardError::Timeout {
                command: SamCommand::ReadTextPhoto,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Timeout);

    rig.sim.control("lift").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    rig.sim.control("place 0").unwrap();
    rig.sim.control("fault bad-checksum 3 read").unwrap();
    let e = read(&rig).unwrap_err();
    assert!(matches!(e, IdCardError::Frame { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Device);
    assert_eq!(e.describe_zh(), "读卡器故障，请联系工作人员");

    // Card lifted mid-read: the SAM answers 0x41, which the citizen can fix.
    rig.sim.control("lift").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    rig.sim.control("place 0").unwrap();
    rig.sim.control("fault sw 41 1 read").unwrap();
    let e = read(&rig).unwrap_err();
    assert_eq!(
        e,
        IdCardError::Sam {
            command: SamCommand::ReadTextPhoto,
            error: SamError::ReadFailed
        }
    );
    assert_eq!(e.kind(), ErrorKind::User);
    // Placed again (still there, not read): the next read succeeds.
    assert_eq!(read(&rig).unwrap().text.name(), "王䶮");

    // A SAM that fails its self-test is a hardware error, not a user error.
    rig.sim.control("fault sw 60 1").unwrap();
    wait_state(
        &rig.reader,
        DeviceState::HardwareError,
        Duration::from_secs(2),
    );
    wait_state(&rig.reader, DeviceState::Online, Duration::from_secs(2));
}

#[test]
fn pending_read_is_cancelled_promptly() {
    let rig = rig();
    let (pending, t) = pending_read(&rig, Duration::from_millis(300));
    pending.cancel();
    assert_eq!(pending.wait().unwrap_err(), IdCardError::Cancelled);
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "cancel took {:?}",
        t.elapsed()
    );
    // The reader is still usable.
    assert_eq!(read_placed(&rig, 3).kind(), CardKind::ForeignPermanent2017);
}

#[test]
fn unplug_goes_offline_within_two_seconds_and_replug_recovers() {
    let rig = rig();
    let events = rig.reader.subscribe();
    rig.sim.unplug();
    let took = wait_status(&events, DeviceState::Offline, Duration::from_secs(2));
    eprintln!("offline after {took:?}");
    // A read while unplugged waits for its deadline, then fails as offline.
    let e = rig
        .reader
        .read_card(Duration::from_millis(500))
        .wait()
        .unwrap_err();
    assert!(matches!(e, IdCardError::Offline { .. }), "{e:?}");
    rig.sim.replug();
    wait_status(&events, DeviceState::Online, Duration::from_secs(3));
    assert_eq!(read_placed(&rig, 4).kind(), CardKind::ForeignPermanent2023);
}

#[test]
fn silent_reader_goes_offline_and_comes_back() {
    let rig = rig();
    let events = rig.reader.subscribe();
    rig.sim.control("fault no-reply 1000 status").unwrap();
    wait_status(&events, DeviceState::Offline, Duration::from_secs(2));
    rig.sim.control("clear").unwrap();
    wait_state(&rig.reader, DeviceState::Online, Duration::from_secs(3));
}

#[test]
fn read_at_real_115200_baud_timing_with_fingerprint() {
    let mut config = ServiceConfig::default();
    config.reader.with_fingerprint = true;
    let rig = rig_with(config);
    rig.sim.control("timing on").unwrap();
    rig.sim.control("place 1").unwrap();
    let t = Instant::now();
    let card = read(&rig).unwrap();
    let took = t.elapsed();
    assert_eq!(card.fingerprint.as_ref().map(Vec::len), Some(1024));
    // The 30 10 reply alone is 2321 bytes: ≥ 201 ms on the wire.
    assert!(
        took >= Duration::from_millis(200),
        "faster than the wire: {took:?}"
    );
    eprintln!("read with fingerprint at 115200 baud took {took:?}");
}

#[test]
fn sync_driver_over_a_serial_link_without_the_service_thread() {
    let dir = tempfile::tempdir().unwrap();
    let sim = IdCardSim::start(&card_files(), Some(dir.path().join("r"))).unwrap();
    let path = std::fs::canonicalize(sim.path()).unwrap();
    let link = SerialLink::open(&path.to_string_lossy(), 115_200).unwrap();
    let mut reader = SamReader::new(link, "pty", ReaderConfig::default());
    reader.reset().unwrap();
    reader.status().unwrap();
    assert_eq!(reader.sam_id().unwrap().len(), 32);
    let cancel = CancelToken::new();
    let err = reader.command(SamCommand::FindCard, &cancel).unwrap_err();
    assert_eq!(
        err,
        IdCardError::Sam {
            command: SamCommand::FindCard,
            error: SamError::FindFailed
        }
    );
    sim.sam().place(Some(2)).unwrap();
    let mut poller = CardPoller::new();
    let card = reader
        .wait_for_card(&mut poller, Duration::from_secs(2), &cancel, &mut || {})
        .unwrap();
    assert_eq!(card.kind(), CardKind::HkMoTwPermit);
    // A frame with a bad checksum sent to the SAM is answered with 0x10, typed.
    sim.sam()
        .inject(SamFault::Status(0x10), 3, Some(SamCommand::Status));
    let err = reader.status().unwrap_err();
    assert_eq!(
        err,
        IdCardError::Sam {
            command: SamCommand::Status,
            error: SamError::Checksum
        }
    );
    let _ = encode_frame(&[0x11, 0xFF]);
}

#[test]
fn find_select_read_at_115200_is_close_to_the_wire_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let sim = IdCardSim::start(&card_files(), Some(dir.path().join("r"))).unwrap();
    let path = std::fs::canonicalize(sim.path()).unwrap();
    let config = ReaderConfig {
        appended_address: false,
        ..Default::default()
    };
    let mut reader = SamReader::new(
        SerialLink::open(&path.to_string_lossy(), 115_200).unwrap(),
        "pty",
        config,
    );
    sim.control("timing on").unwrap();
    let cancel = CancelToken::new();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        sim.control("lift").unwrap();
        sim.control("place 0").unwrap();
        let t = Instant::now();
        reader.command(SamCommand::FindCard, &cancel).unwrap();
        reader.command(SamCommand::SelectCard, &cancel).unwrap();
        reader.read_selected(&cancel).unwrap();
        best = best.min(t.elapsed());
    }
    // Bytes on the wire: three 10-byte commands; replies of 11, 19 and 1295 bytes.
    let bytes = 3 * 10 + 11 + 19 + 1295;
    let limit = Duration::from_nanos(bytes as u64 * 10 * 1_000_000_000 / 115_200);
    let ratio = best.as_secs_f64() / limit.as_secs_f64();
    eprintln!("find+select+read: {best:?}, wire-time limit {limit:?}, ratio {ratio:.3}");
    assert!(ratio < 1.5, "{best:?} vs wire limit {limit:?}");
}

#[test]
fn dropping_the_reader_cancels_a_pending_read() {
    let rig = rig();
    let (pending, t) = pending_read(&rig, Duration::from_millis(200));
    drop(rig.reader);
    assert_eq!(pending.wait().unwrap_err(), IdCardError::Cancelled);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        t.elapsed()
    );
}
