//! A4 documents through a real CUPS (the throwaway `cupsd` of `scripts/test`, its cups-pdf
//! queue writing real PDFs): a certificate the simulator issues is verified, printed, followed
//! to completion, and what comes out is A4, carries the text and a QR code that decodes to the
//! 核验码 the simulator answers. Bad certificates never reach the queue; a paused queue and a
//! scheduler that is down are said in words; the technician's commands.

mod common;

use std::process::Command;
use std::time::Duration;

use common::cups;
use common::sim::Sim;
use ykb_drivers::cups::{Condition, CupsError, Follow, Queue};
use ykb_terminal::core::certificate::{self, Refusal};
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::platform::PlatformClient;
use ykb_terminal::sim::platform::{CertificateFault, CERTIFICATES};
use ykb_terminal::terminal::document_printer::DocumentPrinter;

/// The demo citizen (the simulator knows the name 李喆).
const HOLDER: &str = "500105198511220024";

fn client(sim: &Sim) -> (tempfile::TempDir, PlatformClient) {
    let dir = tempfile::tempdir().unwrap();
    let mut core = ykb_terminal::core::Core::start(Profile::demo(), dir.path()).unwrap();
    let url = sim.url();
    let c = sim.block_on(common::registered_client(&mut core, &url, "a4-test"));
    (dir, c)
}

fn task(title: &str) -> &'static str {
    CERTIFICATES.iter().find(|(_, t)| *t == title).unwrap().0
}

fn printer() -> DocumentPrinter {
    DocumentPrinter::with_queue(Queue::parse(&cups::queue_spec()).unwrap())
}

#[test]
fn a_two_page_certificate_is_verified_printed_and_comes_out_a4_with_its_text_and_a_qr_that_verifies(
) {
    let sim = Sim::start();
    let (_dir, c) = client(&sim);
    let doc = sim
        .block_on(c.certificate(HOLDER, task("社会保险参保证明")))
        .unwrap();
    let cert = certificate::verify(&doc, c.verifying_key()).unwrap();
    assert_eq!(cert.pages, 2);

    let done = printer()
        .print_blocking(&cert.title, &cert.pdf, |_| {})
        .unwrap();
    let pdf = cups::printed(done.job);
    let (pages, sizes) = cups::pages_and_sizes(&pdf);
    assert_eq!(pages, 2, "{sizes:?}");
    for s in &sizes {
        assert!(s.contains("(A4)"), "not A4: {s}");
    }
    // The text of what was sent, and what came out looks the same page for page.
    let sent = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(sent.path(), &cert.pdf).unwrap();
    let text = cups::text(sent.path());
    for want in [
        "社会保险参保证明",
        "李*",
        "企业职工基本养老保险",
        &cert.verification_code,
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in the certificate's text:\n{text}"
        );
    }
    assert!(!text.contains(HOLDER), "the ID number is printed unmasked");
    cups::assert_looks_the_same(sent.path(), &pdf);

    // The QR code is on the second page: it decodes to the verification URL, whose code the
    // platform answers.
    let codes = cups::qr_codes(&pdf, 2);
    let url = codes
        .iter()
        .find(|c| c.contains("code="))
        .unwrap_or_else(|| panic!("no verification QR on page 2: {codes:?}"));
    assert_eq!(url, &doc.verification_url);
    let code = url.split("code=").nth(1).unwrap();
    let check = sim.block_on(c.verify_certificate(code)).unwrap();
    assert!(check.valid);
    assert_eq!(check.title, "社会保险参保证明");
    assert_eq!(check.holder_name_masked, "李*");
    let unknown = sim
        .block_on(c.verify_certificate("0000-0000-0000-0000"))
        .unwrap();
    assert!(!unknown.valid);
}

#[test]
fn every_certificate_prints_on_a4() {
    let sim = Sim::start();
    let (_dir, c) = client(&sim);
    for title in ["无犯罪记录证明", "不动产登记信息查询结果"] {
        let doc = sim.block_on(c.certificate(HOLDER, task(title))).unwrap();
        let cert = certificate::verify(&doc, c.verifying_key()).unwrap();
        let done = printer().print_blocking(title, &cert.pdf, |_| {}).unwrap();
        let pdf = cups::printed(done.job);
        let (_, sizes) = cups::pages_and_sizes(&pdf);
        assert!(sizes.iter().all(|s| s.contains("(A4)")), "{sizes:?}");
        let sent = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(sent.path(), &cert.pdf).unwrap();
        assert!(cups::text(sent.path()).contains(title));
        cups::assert_looks_the_same(sent.path(), &pdf);
        assert_eq!(cups::qr_codes(&pdf, 1), vec![doc.verification_url.clone()]);
    }
}

#[test]
fn a_bad_signature_a_non_pdf_and_an_oversized_pdf_are_refused_before_printing() {
    let sim = Sim::start();
    let (_dir, c) = client(&sim);
    let before = printer().status().unwrap().queued;
    for (fault, want) in [
        (CertificateFault::BadSignature, "签名"),
        (CertificateFault::NotPdf, "不是 PDF"),
        (CertificateFault::Oversize, "过大"),
    ] {
        let mut f = sim.handle().faults();
        f.certificate = fault;
        sim.handle().set_faults(f);
        let doc = sim
            .block_on(c.certificate(HOLDER, task("无犯罪记录证明")))
            .unwrap();
        let refusal = certificate::verify(&doc, c.verifying_key()).unwrap_err();
        let words = refusal.to_string();
        assert!(
            words.contains(want) && words.contains("窗口"),
            "{fault:?}: {words}"
        );
        if fault == CertificateFault::BadSignature {
            assert_eq!(refusal, Refusal::BadSignature);
        }
    }
    // Nothing was sent to the queue.
    assert!(printer().status().unwrap().queued <= before);
}

/// A queue of the test scheduler of its own (so pausing it disturbs no other test), writing
/// to /dev/null.
struct OwnQueue(String);

impl OwnQueue {
    fn new(tag: &str) -> Self {
        let name = format!("ykb-own-{tag}-{}", std::process::id());
        cups::admin(
            "lpadmin",
            &[
                "-p",
                &name,
                "-E",
                "-v",
                "file:///dev/null",
                "-P",
                "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd",
            ],
        );
        Self(name)
    }

    fn spec(&self) -> String {
        format!("{}@{}", self.0, cups::socket())
    }
}

impl Drop for OwnQueue {
    fn drop(&mut self) {
        let sock = cups::socket();
        let _ = Command::new("lpadmin")
            .args(["-h", &sock, "-x", &self.0])
            .output();
    }
}

#[test]
fn a_paused_printer_is_said_in_words_and_nothing_is_left_queued() {
    let own = OwnQueue::new("paused");
    cups::admin("cupsdisable", &[&own.0]);
    let q = Queue::parse(&own.spec()).unwrap();
    let st = q.status().unwrap();
    assert_eq!(st.condition, Condition::Paused, "{st:?}");
    let pdf = ykb_drivers::cups::pdf::render(
        &ykb_drivers::cups::pdf::test_page(),
        ykb_terminal::fonts::UI_FONT,
    )
    .unwrap();
    let e = DocumentPrinter::with_queue(q.clone())
        .print_blocking("paused", &pdf, |_| {})
        .unwrap_err();
    assert!(matches!(e, CupsError::NotReady(Condition::Paused)), "{e:?}");
    assert!(e.to_string().contains("已暂停"), "{e}");

    // Paused while the job is being processed (a long document keeps the filters busy): the
    // job is cancelled after the grace, and that is said in words.
    cups::admin("cupsenable", &[&own.0]);
    let long = ykb_drivers::cups::pdf::render(
        &ykb_drivers::cups::pdf::A4Document {
            title: "长文档".into(),
            blocks: (0..6000)
                .map(|i| ykb_drivers::cups::pdf::Block::Text(format!("第 {i} 行 重庆市渝中区")))
                .collect(),
            footer: String::new(),
        },
        ykb_terminal::fonts::UI_FONT,
    )
    .unwrap();
    let follow = Follow {
        stall_grace: Duration::from_millis(300),
        ..Follow::default()
    };
    let q2 = q.clone();
    let printing = std::thread::spawn(move || q2.print("stalls", &long, follow, |_| {}));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while q.status().unwrap().queued == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    cups::admin("cupsdisable", &[&own.0]);
    let e = printing.join().unwrap().unwrap_err();
    assert!(
        matches!(
            &e,
            CupsError::Stalled {
                condition: Condition::Paused,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("已暂停") && e.to_string().contains("已取消"),
        "{e}"
    );
    assert_eq!(
        q.status().unwrap().queued,
        0,
        "a stalled job is not left behind"
    );
}

#[test]
fn a_scheduler_that_is_down_or_a_queue_that_does_not_exist_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let gone = Queue::parse(&format!("a4@{}", dir.path().join("no.sock").display())).unwrap();
    let e = gone.status().unwrap_err();
    assert!(matches!(e, CupsError::Down(_)), "{e:?}");
    assert!(e.to_string().contains("CUPS"), "{e}");
    let missing = Queue::parse(&format!("no-such-queue@{}", cups::socket())).unwrap();
    let e = missing.status().unwrap_err();
    assert!(e.to_string().contains("no-such-queue"), "{e}");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
}

#[test]
fn print_test_document_printer_exits_0_once_cups_reports_completed_and_the_page_is_a4() {
    let out = bin()
        .args([
            "print",
            "test",
            "--document-printer",
            "--queue",
            &cups::queue_spec(),
        ])
        .output()
        .unwrap();
    common::assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    let job: i32 = said
        .split("任务 ")
        .nth(1)
        .and_then(|s| s.split('，').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no job id in {said:?}"));
    let pdf = cups::printed(job);
    let (pages, sizes) = cups::pages_and_sizes(&pdf);
    assert_eq!(pages, 1);
    assert!(sizes[0].contains("(A4)"), "{sizes:?}");
    // The page the command sends is the drivers' test page, rare name characters included.
    let sent = tempfile::NamedTempFile::new().unwrap();
    let page = ykb_drivers::cups::pdf::render(
        &ykb_drivers::cups::pdf::test_page(),
        ykb_terminal::fonts::UI_FONT,
    )
    .unwrap();
    std::fs::write(sent.path(), page).unwrap();
    let text = cups::text(sent.path());
    assert!(text.contains("王䶮") && text.contains("李喆"), "{text}");
    cups::assert_looks_the_same(sent.path(), &pdf);
    assert_eq!(
        cups::qr_codes(&pdf, 1),
        vec!["https://ykb.example.invalid/print-test-a4".to_owned()]
    );

    // Down: exit 1 and one line that names CUPS.
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "print",
            "test",
            "--document-printer",
            "--queue",
            &format!("a4@{}", dir.path().join("no.sock").display()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CUPS"));
}

#[test]
fn printer_status_document_printer_shows_cups_view_of_the_queue() {
    let out = bin()
        .args([
            "printer",
            "status",
            "--document-printer",
            "--json",
            "--queue",
            &cups::queue_spec(),
        ])
        .output()
        .unwrap();
    common::assert_success(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["can_print"], true, "{v}");
    assert_eq!(v["accepting_jobs"], true);
    assert!(v["printer_state"].as_i64().unwrap() >= 3);

    let own = OwnQueue::new("status");
    cups::admin("cupsdisable", &[&own.0]);
    let out = bin()
        .args([
            "printer",
            "status",
            "--document-printer",
            "--queue",
            &own.spec(),
        ])
        .output()
        .unwrap();
    common::assert_success(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("已暂停"), "{said}");
}
