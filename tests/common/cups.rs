//! The throwaway CUPS scheduler `scripts/test` starts: its cups-pdf queue (`YKB_TEST_CUPS`,
//! `QUEUE@SOCKET`) and the folder its PDFs land in (`YKB_TEST_CUPS_OUT`). Without them a test
//! fails saying how to run it. Also what the tests read back from a printed PDF, through
//! poppler's own tools (`pdfinfo`, `pdftotext`, `pdftoppm`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const HOW: &str = "run the tests through scripts/test (it installs Debian's cups, \
                   printer-driver-cups-pdf and poppler-utils when missing, starts a throwaway \
                   cupsd with a cups-pdf queue and sets YKB_TEST_CUPS and YKB_TEST_CUPS_OUT)";

/// `QUEUE@SOCKET` of the test scheduler's PDF queue.
pub fn queue_spec() -> String {
    std::env::var("YKB_TEST_CUPS").unwrap_or_else(|_| panic!("YKB_TEST_CUPS is not set: {HOW}"))
}

/// Where the PDF queue writes.
pub fn out_dir() -> PathBuf {
    std::env::var("YKB_TEST_CUPS_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| panic!("YKB_TEST_CUPS_OUT is not set: {HOW}"))
}

/// The scheduler's socket (after the `@`).
pub fn socket() -> String {
    queue_spec()
        .split_once('@')
        .expect("QUEUE@SOCKET")
        .1
        .to_owned()
}

/// The PDF cups-pdf wrote for `job` (it names files `job_N-…`), waiting up to 10 s for the
/// file to be complete.
pub fn printed(job: i32) -> PathBuf {
    // cups-pdf names its files `job_N-TITLE.pdf` or `TITLE-job_N.pdf` (its `Label`).
    let (prefix, suffix) = (format!("job_{job}-"), format!("-job_{job}.pdf"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(out_dir())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    (n.starts_with(&prefix) && n.ends_with(".pdf")) || n.ends_with(&suffix)
                })
            });
        if let Some(p) = found {
            let tail = std::fs::read(&p).unwrap_or_default();
            if tail.len() > 5
                && String::from_utf8_lossy(&tail[tail.len().saturating_sub(64)..]).contains("%%EOF")
            {
                return p;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no PDF for job {job} in {}",
            out_dir().display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether cups-pdf wrote anything for `job`.
pub fn any_output(job: i32) -> bool {
    // cups-pdf names its files `job_N-TITLE.pdf` or `TITLE-job_N.pdf` (its `Label`).
    let (prefix, suffix) = (format!("job_{job}-"), format!("-job_{job}.pdf"));
    std::fs::read_dir(out_dir())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) || n.ends_with(&suffix)
        })
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} not runnable ({e}): {HOW}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pdfinfo`'s page count and the size line of every page.
pub fn pages_and_sizes(pdf: &Path) -> (usize, Vec<String>) {
    let p = pdf.to_str().unwrap();
    let info = tool("pdfinfo", &[p]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|v| v.trim().parse().unwrap())
        .expect("pdfinfo names the pages");
    let sizes = tool("pdfinfo", &["-f", "1", "-l", &pages.to_string(), p])
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains("size:"))
        .map(str::to_owned)
        .collect();
    (pages, sizes)
}

/// The PDF's text, as `pdftotext` extracts it.
pub fn text(pdf: &Path) -> String {
    tool("pdftotext", &[pdf.to_str().unwrap(), "-"])
}

/// Page `page` rendered at 200 dpi (grey), then every QR code on it decoded by the
/// project's decoder.
pub fn qr_codes(pdf: &Path, page: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("page");
    let n = page.to_string();
    tool(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-gray",
            "-png",
            "-f",
            &n,
            "-l",
            &n,
            "-singlefile",
            pdf.to_str().unwrap(),
            base.to_str().unwrap(),
        ],
    );
    let img = image::open(dir.path().join("page.png")).unwrap();
    ykb_drivers::scanner::decode_qr(&img)
}

/// Runs `lpadmin`/`cupsdisable`/… of the test scheduler.
pub fn admin(cmd: &str, args: &[&str]) {
    let sock = socket();
    let mut all = vec!["-h", sock.as_str()];
    all.extend_from_slice(args);
    tool(cmd, &all);
}

/// Page `page` of `pdf` rendered at `dpi` in grey.
pub fn render(pdf: &Path, page: usize, dpi: u32) -> image::GrayImage {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("page");
    let (n, r) = (page.to_string(), dpi.to_string());
    tool(
        "pdftoppm",
        &[
            "-r",
            &r,
            "-gray",
            "-png",
            "-f",
            &n,
            "-l",
            &n,
            "-singlefile",
            pdf.to_str().unwrap(),
            base.to_str().unwrap(),
        ],
    );
    image::open(dir.path().join("page.png")).unwrap().to_luma8()
}

/// Asserts that every page of `printed` looks like the same page of `sent`: rendered at
/// 100 dpi, the same size within a pixel, and averaged over 4×4-pixel cells (so a sub-point
/// shift does not count), under 1 % of cells differing by more than a quarter of the grey
/// range. cups-pdf rewrites the PDF (through PostScript and Ghostscript), which drops the
/// text layer's Unicode map, so the printed text is checked by its looks against the PDF that
/// was sent, whose own text `pdftotext` reads.
pub fn assert_looks_the_same(sent: &Path, printed: &Path) {
    let (pages, _) = pages_and_sizes(sent);
    assert_eq!(pages_and_sizes(printed).0, pages, "page count");
    let cells = |img: &image::GrayImage, w: u32, h: u32| -> Vec<u32> {
        let mut v = Vec::new();
        for cy in 0..h / 4 {
            for cx in 0..w / 4 {
                let mut sum = 0u32;
                for y in 0..4 {
                    for x in 0..4 {
                        sum += u32::from(img.get_pixel(cx * 4 + x, cy * 4 + y).0[0]);
                    }
                }
                v.push(sum / 16);
            }
        }
        v
    };
    for page in 1..=pages {
        let (a, b) = (render(sent, page, 100), render(printed, page, 100));
        assert!(
            a.width().abs_diff(b.width()) <= 1 && a.height().abs_diff(b.height()) <= 1,
            "page {page}: {:?} sent, {:?} printed",
            a.dimensions(),
            b.dimensions()
        );
        let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
        let (ca, cb) = (cells(&a, w, h), cells(&b, w, h));
        let differing = ca
            .iter()
            .zip(&cb)
            .filter(|(x, y)| x.abs_diff(**y) > 64)
            .count();
        let share = differing as f64 / ca.len() as f64;
        assert!(
            share < 0.01,
            "page {page}: {:.2} % of cells differ",
            share * 100.0
        );
        let inked = cb.iter().filter(|v| **v < 200).count();
        assert!(inked > 200, "page {page} is blank ({inked} inked cells)");
    }
}
