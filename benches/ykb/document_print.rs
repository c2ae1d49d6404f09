//! Group "document-printer" (issue 18): tap 确认打印 → the PDF fully written by the CUPS PDF
//! printer, for the two-page 社会保险参保证明 the simulator issues (fetched and its signature
//! verified once, before the loop, as the kiosk does before it shows 确认打印). Measured:
//! `DocumentPrinter::print_blocking` (queue status, IPP Print-Job, Get-Job-Attributes until
//! CUPS says completed) until cups-pdf's output file is complete. Baseline, in the same run,
//! interleaved: CUPS's own `lp` printing the same PDF from the shell, to the same file
//! criterion. Needs the throwaway cupsd of `scripts/test` (`scripts/test bench -- document`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ykb_drivers::cups::Queue;
use ykb_terminal::core::platform::{wire, ClientConfig, PlatformClient};
use ykb_terminal::terminal::document_printer::DocumentPrinter;

use super::{Baseline, Figure};

const GROUP: &str = "document-printer";
const NAME: &str = "tap 确认打印 → 2-page certificate PDF written by cups-pdf (p50)";

fn written(out: &Path, job: i32, deadline: Instant) -> PathBuf {
    // cups-pdf names its files `job_N-TITLE.pdf` or `TITLE-job_N.pdf` (its `Label`).
    let (prefix, suffix) = (format!("job_{job}-"), format!("-job_{job}.pdf"));
    loop {
        if let Some(p) = std::fs::read_dir(out)
            .expect("out dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) || n.ends_with(&suffix))
            })
        {
            let b = std::fs::read(&p).unwrap_or_default();
            if String::from_utf8_lossy(&b[b.len().saturating_sub(64)..]).contains("%%EOF") {
                return p;
            }
        }
        assert!(
            Instant::now() < deadline,
            "cups-pdf wrote nothing for job {job}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn certificate() -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sim =
            ykb_terminal::sim::platform::start("127.0.0.1:0".parse().unwrap(), Default::default())
                .await
                .expect("simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut core = ykb_terminal::core::Core::start(
            ykb_terminal::core::config::Profile::demo(),
            dir.path(),
        )
        .expect("core");
        let client = PlatformClient::new(ClientConfig::from_profile(
            &core.profile.platform,
            Some(&sim.base_url()),
            wire::demo_verifying_key(),
        ))
        .expect("client");
        let request = wire::RegisterRequest::for_terminal(
            &core.profile.terminal,
            ykb_terminal::core::sync::DEMO_ENROLMENT_CODE,
        );
        ykb_terminal::core::credentials::ensure_registered(
            &client,
            &mut core.store,
            &core.key,
            &request,
        )
        .await
        .expect("registered");
        let task = ykb_terminal::sim::platform::CERTIFICATES[0].0;
        let doc = client
            .certificate("500105198511220024", task)
            .await
            .expect("certificate");
        let cert = ykb_terminal::core::certificate::verify(&doc, client.verifying_key())
            .expect("verified");
        assert_eq!(cert.pages, 2);
        sim.shutdown().await;
        cert.pdf
    })
}

/// The group's entry point.
pub fn document_print(out: &mut Vec<Figure>) {
    const N: usize = 30;
    let (Ok(spec), Ok(dir)) = (
        std::env::var("YKB_TEST_CUPS"),
        std::env::var("YKB_TEST_CUPS_OUT"),
    ) else {
        eprintln!(
            "{GROUP}: not measured — YKB_TEST_CUPS is not set; run `scripts/test bench -- document-printer` \
             (it starts a throwaway cupsd with a cups-pdf queue)"
        );
        out.push(Figure {
            group: GROUP,
            name: NAME.into(),
            value: f64::NAN,
            unit: "ms",
            baseline: None,
            note: "NOT MEASURED: no CUPS (run through scripts/test bench)".into(),
        });
        return;
    };
    let out_dir = PathBuf::from(dir);
    let queue = Queue::parse(&spec).expect("YKB_TEST_CUPS");
    let printer = DocumentPrinter::with_queue(queue.clone());
    let pdf = certificate();
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &pdf).expect("pdf written");
    let (server, name) = (queue.server.to_string(), queue.name.clone());

    let (mut ours, mut lp) = (Vec::new(), Vec::new());
    for i in 0..=N {
        let t = Instant::now();
        let done = printer
            .print_blocking("社会保险参保证明", &pdf, |_| {})
            .expect("printed");
        written(&out_dir, done.job, t + Duration::from_secs(60));
        let a = t.elapsed();

        let t = Instant::now();
        let said = Command::new("lp")
            .args(["-h", &server, "-d", &name, "-t", "社会保险参保证明"])
            .arg(file.path())
            .output()
            .expect("lp runs");
        assert!(
            said.status.success(),
            "lp: {}",
            String::from_utf8_lossy(&said.stderr)
        );
        let text = String::from_utf8_lossy(&said.stdout);
        let job: i32 = text
            .split_whitespace()
            .find_map(|w| w.rsplit_once('-').and_then(|(_, n)| n.parse().ok()))
            .expect("lp names the request id");
        written(&out_dir, job, t + Duration::from_secs(60));
        let b = t.elapsed();
        // The first round warms the filters and the font caches; not counted.
        if i > 0 {
            ours.push(a);
            lp.push(b);
        }
    }
    let pct = |v: &mut Vec<Duration>, q: f64| {
        v.sort();
        v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
    };
    let (p50, p99) = (pct(&mut ours, 0.5), pct(&mut ours, 0.99));
    let (lp50, lp99) = (pct(&mut lp, 0.5), pct(&mut lp, 0.99));
    out.push(Figure {
        group: GROUP,
        name: NAME.into(),
        value: p50,
        unit: "ms",
        baseline: Some(Baseline {
            name: "lp printing the same PDF from the shell, to the same file (p50)".into(),
            value: lp50,
        }),
        note: format!(
            "{N} rounds interleaved; p99 {p99:.1} ms (lp p99 {lp99:.1} ms); {} KB PDF; ours \
             includes the queue status check before submitting and polls the job every 50 ms; \
             both wait for cups-pdf's file to end in %%EOF (polled every 2 ms); the UI hop of \
             the tap is not included",
            pdf.len() / 1024
        ),
    });
}
