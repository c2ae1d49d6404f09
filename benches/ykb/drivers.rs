//! Group "drivers" (issue 3): the ID-card read at real line speed beside the wire-time limit,
//! QR decoding beside zbarimg on the same generated frames, and receipt rendering (text vs
//! raster lines). Issue 16: dense QR codes (the generated set of `scanner::dense_set`, held-out
//! seed) beside zbarimg, rxing alone and rqrr alone in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{GrayImage, Luma};
use ykb_drivers::escpos::{load_font_static, Receipt, ReceiptItem, ReceiptRenderer, ReceiptStyle};
use ykb_drivers::idcard::{CancelToken, ReaderConfig, SamCommand, SamReader};
use ykb_drivers::link::{ByteLink, SerialLink};
use ykb_drivers::scanner::camera::{decode_gray, decode_zxing};
use ykb_drivers::scanner::{decode_qr_luma, dense_set};
use ykb_drivers::sim::IdCardSim;

use super::{median, us, Baseline, Figure};

const GROUP: &str = "drivers";

/// Counts the bytes that cross a link, both ways.
struct Counting<L> {
    inner: L,
    bytes: Arc<AtomicUsize>,
}

impl<L: ByteLink> ByteLink for Counting<L> {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.bytes.fetch_add(bytes.len(), Ordering::SeqCst);
        self.inner.send(bytes)
    }
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> std::io::Result<usize> {
        let n = self.inner.recv(buf, timeout)?;
        self.bytes.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
}

fn idcard_read(out: &mut Vec<Figure>) {
    const RUNS: usize = 10;
    const BAUD: u32 = 115_200;
    let dir = tempfile::tempdir().expect("temp dir");
    let card =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("drivers/tests/data/resident-wang-yan.toml");
    let sim = IdCardSim::start(&[card], Some(dir.path().join("reader"))).expect("emulator");
    let port = std::fs::canonicalize(sim.path()).expect("pty");
    let bytes = Arc::new(AtomicUsize::new(0));
    let link = Counting {
        inner: SerialLink::open(&port.to_string_lossy(), BAUD).expect("open pty"),
        bytes: bytes.clone(),
    };
    let config = ReaderConfig {
        appended_address: false,
        ..Default::default()
    };
    let mut reader = SamReader::new(link, "pty", config);
    sim.control("timing on").expect("timing");
    let cancel = CancelToken::new();
    let mut runs: Vec<(Duration, usize)> = Vec::new();
    for _ in 0..RUNS {
        sim.control("lift").expect("lift");
        sim.control("place 0").expect("place");
        bytes.store(0, Ordering::SeqCst);
        let t = Instant::now();
        reader.command(SamCommand::FindCard, &cancel).expect("find");
        reader
            .command(SamCommand::SelectCard, &cancel)
            .expect("select");
        reader.read_selected(&cancel).expect("read");
        runs.push((t.elapsed(), bytes.load(Ordering::SeqCst)));
    }
    runs.sort();
    let (took, n) = runs[runs.len() / 2];
    let limit = Duration::from_secs_f64(n as f64 * 10.0 / f64::from(BAUD));
    let ratio = took.as_secs_f64() / limit.as_secs_f64();
    out.push(Figure {
        group: GROUP,
        name: "ID card: find + select + read (30 01) over a pty at 115200 8N1".into(),
        value: took.as_secs_f64() * 1e3,
        unit: "ms",
        baseline: Some(Baseline {
            name: format!("wire-time limit: {n} bytes × 10 bits / 115200"),
            value: limit.as_secs_f64() * 1e3,
        }),
        note: format!(
            "median of {RUNS}; ratio {ratio:.3} (goal ≤ 1.10: {}); the emulator paces its replies, \
             commands cross the pty at once, so a ratio a little under 1 is expected",
            if ratio <= 1.10 { "met" } else { "NOT met" }
        ),
    });
}

/// A QR frame: the code rendered with the `qrcode` crate, centred on paper grey.
fn qr_frame(text: &str, w: u32, h: u32) -> GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("qr");
    let n = code.width() as u32;
    let colors = code.to_colors();
    let module = ((h as f32 * 0.5) / (n + 8) as f32).max(2.0) as u32;
    let (x0, y0) = ((w - n * module) / 2, (h - n * module) / 2);
    GrayImage::from_fn(w, h, |x, y| {
        let inside = x >= x0 && y >= y0 && x < x0 + n * module && y < y0 + n * module;
        let dark = inside
            && colors[(((y - y0) / module) * n + (x - x0) / module) as usize]
                == qrcode::Color::Dark;
        Luma([if dark { 25 } else { 230 }])
    })
}

fn sample(img: &GrayImage, sx: f32, sy: f32) -> u8 {
    let (w, h) = img.dimensions();
    if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f32 || sy >= (h - 1) as f32 {
        return 230;
    }
    let (x, y) = (sx as u32, sy as u32);
    let (fx, fy) = (sx - x as f32, sy - y as f32);
    let p = |dx, dy| f32::from(img.get_pixel(x + dx, y + dy).0[0]);
    let top = p(0, 0) * (1.0 - fx) + p(1, 0) * fx;
    let bottom = p(0, 1) * (1.0 - fx) + p(1, 1) * fx;
    (top * (1.0 - fy) + bottom * fy) as u8
}

fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = img.dimensions();
    let (c, s) = (degrees.to_radians().cos(), degrees.to_radians().sin());
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    GrayImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        Luma([sample(img, c * dx + s * dy + cx, -s * dx + c * dy + cy)])
    })
}

/// A camera looking at the code from below: a true projective warp (straight lines stay
/// straight) that narrows the top edge of the frame to 80 % of the bottom.
fn perspective(img: &GrayImage) -> GrayImage {
    let (w, h) = img.dimensions();
    let (wf, hf) = (w as f64, h as f64);
    // Where the source frame's corners land: (0,0) (1,0) (1,1) (0,1) → this quad.
    let quad = [(0.1 * wf, 0.0), (0.9 * wf, 0.0), (wf, hf), (0.0, hf)];
    let m = square_to_quad(quad);
    let inv = invert(m);
    GrayImage::from_fn(w, h, |x, y| {
        let (px, py) = (f64::from(x), f64::from(y));
        let z = inv[2][0] * px + inv[2][1] * py + inv[2][2];
        let u = (inv[0][0] * px + inv[0][1] * py + inv[0][2]) / z;
        let v = (inv[1][0] * px + inv[1][1] * py + inv[1][2]) / z;
        Luma([sample(img, (u * wf) as f32, (v * hf) as f32)])
    })
}

/// The homography taking the unit square to `q` (Heckbert's square-to-quad).
fn square_to_quad(q: [(f64, f64); 4]) -> [[f64; 3]; 3] {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
    let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (sx * dy2 - dx2 * sy) / den;
    let h = (dx1 * sy - sx * dy1) / den;
    [
        [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
        [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
        [g, h, 1.0],
    ]
}

/// The inverse of a 3×3 matrix up to scale (its adjugate), enough for a homography.
fn invert(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)],
        [-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)],
        [c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)],
    ]
}

fn noise(img: &GrayImage, amplitude: i16, seed: u32) -> GrayImage {
    let mut s = seed;
    let mut out = img.clone();
    for p in out.pixels_mut() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = ((s >> 16) % (2 * amplitude as u32 + 1)) as i16 - amplitude;
        p.0[0] = (i16::from(p.0[0]) + n).clamp(0, 255) as u8;
    }
    out
}

fn low_contrast(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        // 25..230 → 112..152
        p.0[0] = (112.0 + (f32::from(p.0[0]) - 25.0) * 40.0 / 205.0) as u8;
    }
    out
}

struct QrSample {
    path: PathBuf,
    text: String,
}

fn generate(dir: &Path, w: u32, h: u32) -> Vec<QrSample> {
    let payloads = [
        "https://ykb.example.invalid/c/01J9Z7K2M4",
        "YKB:CQ:500103:ticket:A0042",
        "渝快码 500***********0017 2026-11-27",
        "https://ykb.example.invalid/case/01JD2F7Q8R5T0V3W6X9Y2Z4A6B?sig=4f9a",
        "重庆市渝中区解放碑街道民族路188号 一件事一次办",
    ];
    let mut out = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let base = qr_frame(p, w, h);
        let variants: [(&str, GrayImage); 6] = [
            ("clean", base.clone()),
            ("rot", rotate(&base, 17.0 + 11.0 * i as f32)),
            ("blur", image::imageops::blur(&base, 1.2 + 0.2 * i as f32)),
            ("noise", noise(&base, 45, 7 + i as u32)),
            ("persp", perspective(&base)),
            ("lowc", noise(&low_contrast(&base), 4, 99 + i as u32)),
        ];
        for (name, img) in variants {
            let path = dir.join(format!("{w}x{h}-{i}-{name}.png"));
            img.save(&path).expect("save frame");
            out.push(QrSample {
                path,
                text: p.to_string(),
            });
        }
    }
    out
}

/// zbarimg on the same files: the files it missed (one run per file, `-Sbinary` so that its
/// charset guessing does not garble UTF-8 payloads) and its mean time per frame (one run over
/// all files, as a batch job would use it).
fn zbar(samples: &[QrSample]) -> Result<(Vec<String>, Duration), String> {
    let args = ["-q", "--nodbus", "-Sdisable", "-Sqrcode.enable"];
    let t = Instant::now();
    let status = Command::new("zbarimg")
        .args(args)
        .args(samples.iter().map(|s| &s.path))
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    let took = t.elapsed();
    // zbarimg exits 4 when some image had no code; anything else above that is a failure.
    if status.code().is_none_or(|c| c > 4) {
        return Err(format!("zbarimg failed: {status}"));
    }
    let mut missed = Vec::new();
    for s in samples {
        let out = Command::new("zbarimg")
            .args(args)
            .args(["--raw", "-Sbinary"])
            .arg(&s.path)
            .output()
            .map_err(|e| e.to_string())?;
        let data = out.stdout.strip_suffix(b"\n").unwrap_or(&out.stdout);
        if data != s.text.as_bytes() {
            missed.push(stem(&s.path));
        }
    }
    Ok((missed, took / samples.len() as u32))
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn qr_decode(out: &mut Vec<Figure>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let zbar_version = Command::new("zbarimg").arg("--version").output().ok();
    for (w, h) in [(640, 480), (1280, 720)] {
        let samples = generate(dir.path(), w, h);
        let n = samples.len();
        let mut times = Vec::new();
        let mut decode_only = Vec::new();
        let mut hits = 0;
        let mut missed = Vec::new();
        for s in &samples {
            let t = Instant::now();
            let img = image::open(&s.path).expect("frame").into_luma8();
            let t_dec = Instant::now();
            let found = decode_qr_luma(&img);
            decode_only.push(t_dec.elapsed());
            times.push(t.elapsed());
            if found.contains(&s.text) {
                hits += 1;
            } else {
                missed.push(stem(&s.path));
            }
        }
        times.sort();
        decode_only.sort();
        let (ours_time, ours_decode) = (times[n / 2], decode_only[n / 2]);
        let (zbar_rate, zbar_time, zbar_note) = match (&zbar_version, zbar(&samples)) {
            (Some(_), Ok((zm, zt))) => (
                Some((n - zm.len()) as f64 * 100.0 / n as f64),
                Some(zt),
                format!(
                    "; zbarimg missed: {}",
                    if zm.is_empty() {
                        "none".into()
                    } else {
                        zm.join(" ")
                    }
                ),
            ),
            _ => (
                None,
                None,
                "; zbarimg unavailable: apt-get install zbar-tools".to_string(),
            ),
        };
        out.push(Figure {
            group: GROUP,
            name: format!("QR decode rate, {w}×{h}, {n} frames (clean/rot/blur/noise/persp/lowc)"),
            value: hits as f64 * 100.0 / n as f64,
            unit: "%",
            baseline: zbar_rate.map(|v| Baseline {
                name: "zbarimg hit rate, same files".into(),
                value: v,
            }),
            note: format!(
                "rqrr + preprocessing; missed: {}{zbar_note}",
                if missed.is_empty() {
                    "none".into()
                } else {
                    missed.join(" ")
                }
            ),
        });
        out.push(Figure {
            group: GROUP,
            name: format!("QR time per frame, {w}×{h} (PNG load + decode, median)"),
            value: ours_time.as_secs_f64() * 1e3,
            unit: "ms",
            baseline: zbar_time.map(|t| Baseline {
                name: "zbarimg mean per frame, one run over the same files".into(),
                value: t.as_secs_f64() * 1e3,
            }),
            note: format!(
                "decode alone {:.1} ms median{}",
                ours_decode.as_secs_f64() * 1e3,
                if zbar_time.is_none() {
                    zbar_note.as_str()
                } else {
                    "; zbarimg --nodbus, one process for all frames"
                }
            ),
        });
    }
}

/// The dense set's seed the decoder was tuned on (and the test uses).
const DENSE_TUNING_SEED: u64 = 1;
/// The held-out seed the figures are reported on.
const DENSE_SEED: u64 = 2;
/// Frames of the set: every sixth is code-free.
const DENSE_FRAMES: usize = 60;

/// One decoder's results over the dense set.
#[derive(Default)]
struct DenseScore {
    hits: usize,
    wrong: usize,
    false_positives: usize,
    missed: Vec<String>,
    times: Vec<Duration>,
}

impl DenseScore {
    fn add(&mut self, f: &dense_set::DenseFrame, label: String, found: &[String], took: Duration) {
        self.times.push(took);
        match &f.payload {
            Some(p) if found.contains(p) => self.hits += 1,
            Some(_) => {
                if !found.is_empty() {
                    self.wrong += 1;
                }
                self.missed.push(label);
            }
            None if !found.is_empty() => self.false_positives += 1,
            None => {}
        }
    }
    fn rate(&self, codes: usize) -> f64 {
        self.hits as f64 * 100.0 / codes as f64
    }
    fn ms(&mut self, q: f64) -> f64 {
        self.times.sort();
        let i = ((self.times.len() as f64 * q) as usize).min(self.times.len() - 1);
        self.times[i].as_secs_f64() * 1e3
    }
}

/// zbarimg on one file: what it printed (raw bytes, `-Sbinary` so that its charset guessing
/// does not garble UTF-8 payloads).
fn zbar_one(path: &Path) -> Result<Vec<u8>, String> {
    let out = Command::new("zbarimg")
        .args([
            "-q",
            "--nodbus",
            "-Sdisable",
            "-Sqrcode.enable",
            "--raw",
            "-Sbinary",
        ])
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.code().is_none_or(|c| c > 4) {
        return Err(format!("zbarimg failed: {}", out.status));
    }
    Ok(out
        .stdout
        .strip_suffix(b"\n")
        .unwrap_or(&out.stdout)
        .to_vec())
}

fn dense_qr(out: &mut Vec<Figure>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let zbar_here = Command::new("zbarimg").arg("--version").output().is_ok();
    let mut ours = DenseScore::default();
    let mut rxing = DenseScore::default();
    let mut rqrr = DenseScore::default();
    let mut zbar = DenseScore::default();
    let mut zbar_error = None;
    let mut codes = 0;
    let mut empty = 0;
    for i in 0..DENSE_FRAMES {
        let f = dense_set::frame(DENSE_SEED, i);
        let label = f.label(i);
        if f.payload.is_some() {
            codes += 1;
        } else {
            empty += 1;
        }
        let timed = |decode: &dyn Fn(&GrayImage) -> Vec<String>| {
            let t = Instant::now();
            let found = decode(&f.image);
            (found, t.elapsed())
        };
        let (found, took) = timed(&decode_qr_luma);
        ours.add(&f, label.clone(), &found, took);
        let (found, took) = timed(&decode_zxing);
        rxing.add(&f, label.clone(), &found, took);
        let (found, took) = timed(&decode_gray);
        rqrr.add(&f, label.clone(), &found, took);
        if zbar_here && zbar_error.is_none() {
            let path = dir.path().join(format!("dense-{i:02}.png"));
            f.image.save(&path).expect("save frame");
            let t = Instant::now();
            match zbar_one(&path) {
                Ok(bytes) => {
                    let found: Vec<String> = if bytes.is_empty() {
                        Vec::new()
                    } else {
                        vec![String::from_utf8_lossy(&bytes).into_owned()]
                    };
                    zbar.add(&f, label, &found, t.elapsed());
                }
                Err(e) => zbar_error = Some(e),
            }
        }
    }
    let zbar_ok = zbar_here && zbar_error.is_none();
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(" ")
        }
    };
    let zbar_note = match (&zbar_error, zbar_here) {
        (Some(e), _) => format!("zbarimg unavailable: {e}"),
        (None, false) => "zbarimg unavailable: apt-get install zbar-tools".to_string(),
        (None, true) => format!(
            "zbarimg {:.1} % ({} false positives, {} wrong)",
            zbar.rate(codes),
            zbar.false_positives,
            zbar.wrong
        ),
    };
    out.push(Figure {
        group: GROUP,
        name: format!(
            "dense QR (v10–25) exact hit rate, 1280×720, held-out seed {DENSE_SEED}: \
             {codes} codes + {empty} code-free frames"
        ),
        value: ours.rate(codes),
        unit: "%",
        baseline: zbar_ok.then(|| Baseline {
            name: "zbarimg, same frames (PNG files)".into(),
            value: zbar.rate(codes),
        }),
        note: format!(
            "ours (rxing passes, then rqrr): {} false positives, {} wrong; {zbar_note}; rxing \
             alone {:.1} % ({} fp); rqrr alone {:.1} % ({} fp); tuned on seed \
             {DENSE_TUNING_SEED}; ours missed: {}; zbarimg missed: {}",
            ours.false_positives,
            ours.wrong,
            rxing.rate(codes),
            rxing.false_positives,
            rqrr.rate(codes),
            rqrr.false_positives,
            list(&ours.missed),
            if zbar_ok {
                list(&zbar.missed)
            } else {
                "-".into()
            },
        ),
    });
    let budget = ykb_terminal::terminal::scan::CAMERA_SCAN_INTERVAL.as_secs_f64() * 1e3;
    let (median, p95) = (ours.ms(0.5), ours.ms(0.95));
    out.push(Figure {
        group: GROUP,
        name: "dense QR decode time per frame, 1280×720 grey frame in memory (median)".into(),
        value: median,
        unit: "ms",
        baseline: zbar_ok.then(|| Baseline {
            name: "zbarimg per frame, one process per PNG (median)".into(),
            value: zbar.ms(0.5),
        }),
        note: format!(
            "ours p95 {p95:.1} ms, max {:.1} ms; camera budget {budget:.0} ms \
             (CAMERA_SCAN_INTERVAL: p95 {}); rxing alone median {:.1} / p95 {:.1} ms; rqrr \
             alone median {:.1} / p95 {:.1} ms{}",
            ours.ms(1.0),
            if p95 <= budget {
                "within"
            } else {
                "NOT within"
            },
            rxing.ms(0.5),
            rxing.ms(0.95),
            rqrr.ms(0.5),
            rqrr.ms(0.95),
            if zbar_ok {
                format!(
                    "; zbarimg p95 {:.1} ms (includes process start and PNG load)",
                    zbar.ms(0.95)
                )
            } else {
                format!("; {zbar_note}")
            },
        ),
    });
}

fn receipt(lines: usize, rare: bool) -> Receipt {
    let name = if rare { "王䶮" } else { "王岩" };
    Receipt {
        title: "渝快办 办件回执".into(),
        items: (0..lines)
            .map(|i| ReceiptItem::Row {
                label: format!("申请人{i}"),
                value: format!("{name} 重庆市渝中区"),
            })
            .collect(),
        footer: vec![],
    }
}

fn receipt_render(out: &mut Vec<Figure>) {
    const LINES: usize = 20;
    let font = load_font_static(ykb_terminal::fonts::UI_FONT).ok();
    let renderer = ReceiptRenderer::new(font, ReceiptStyle::default());
    let (text, raster) = (receipt(LINES, false), receipt(LINES, true));
    let (text_bytes, text_stats) = renderer.to_escpos(&text).expect("text receipt");
    let (raster_bytes, raster_stats) = renderer.to_escpos(&raster).expect("raster receipt");
    let t_text = median(50, || {
        std::hint::black_box(renderer.to_escpos(&text).unwrap());
    });
    let t_raster = median(20, || {
        std::hint::black_box(renderer.to_escpos(&raster).unwrap());
    });
    out.push(Figure {
        group: GROUP,
        name: format!("receipt → ESC/POS, {LINES} rows with a rare name (raster lines)"),
        value: us(t_raster),
        unit: "µs",
        baseline: Some(Baseline {
            name: format!(
                "same rows in GB 2312 (text lines), {} bytes",
                text_bytes.len()
            ),
            value: us(t_text),
        }),
        note: format!(
            "{} bytes; {} raster + {} text lines vs {} text lines",
            raster_bytes.len(),
            raster_stats.raster_lines,
            raster_stats.text_lines,
            text_stats.text_lines
        ),
    });
    let row = |rare: bool| {
        let with = renderer
            .to_escpos(&receipt(1, rare))
            .expect("one row")
            .0
            .len();
        let without = renderer
            .to_escpos(&receipt(0, rare))
            .expect("no rows")
            .0
            .len();
        (with - without) as f64
    };
    out.push(Figure {
        group: GROUP,
        name: "receipt bytes per row: raster line (rare name)".into(),
        value: row(true),
        unit: "B",
        baseline: Some(Baseline {
            name: "text line (GB18030 + commands)".into(),
            value: row(false),
        }),
        note: "80 mm paper, 576 dots, 24-dot lines, GS v 0".into(),
    });
}

/// The group's entry point.
pub fn drivers(out: &mut Vec<Figure>) {
    idcard_read(out);
    qr_decode(out);
    dense_qr(out);
    receipt_render(out);
}
