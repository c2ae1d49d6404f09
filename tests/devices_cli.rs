//! The device commands as a technician uses them: the real binary against the wire-level
//! emulators, each run by the same binary (`devsim …`) as a child process over a real
//! pseudo-terminal or TCP loopback.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"));
    c.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("RUST_LOG");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = bin().args(args).output().expect("binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The arguments of `idcard read` on `port` with JSON output.
fn idcard_read_json<'a>(port: &'a str, timeout: &'a str) -> [&'a str; 7] {
    [
        "idcard",
        "read",
        "--port",
        port,
        "--json",
        "--timeout",
        timeout,
    ]
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn card(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("drivers/tests/data")
        .join(name)
        .display()
        .to_string()
}

/// An emulator running as `ykb-terminal devsim …`; killed when dropped.
struct Devsim {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    /// The first line it printed: the port path or printer URI.
    address: String,
}

impl Devsim {
    fn start(args: &[&str]) -> Self {
        let mut child = bin()
            .arg("devsim")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("devsim starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let address = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("devsim prints its address");
        Self {
            child,
            stdin,
            lines,
            address,
        }
    }

    /// Sends a control line and returns the emulator's answer.
    fn control(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let answer = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("devsim answers");
        assert!(!answer.starts_with("错误"), "{line}: {answer}");
        answer
    }
}

impl Drop for Devsim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn sorted(k: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = k.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn idcard_read_waits_for_a_card_and_prints_json_with_the_id_masked() {
    let mut sim = Devsim::start(&[
        "idcard",
        "--card",
        &card("resident-wang-yan.toml"),
        "--card",
        &card("permit-hk-chen.toml"),
    ]);
    let port = sim.address.clone();
    assert!(port.starts_with("/dev/pts/"), "{port}");
    // The reader waits: the card is placed after the command started.
    let read = bin()
        .args(idcard_read_json(&port, "10"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    sim.control("place 0");
    let out = read.wait_with_output().unwrap();
    common::assert_success(&out);
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        keys(&v),
        sorted(&[
            "kind",
            "name",
            "sex",
            "nation",
            "birth_date",
            "valid_from",
            "valid_to",
            "address",
            "id_number",
            "authority",
            "id_checksum_ok"
        ])
    );
    assert_eq!(v["kind"], "resident");
    assert_eq!(v["name"], "王䶮");
    assert_eq!(v["sex"], "男");
    assert_eq!(v["nation"], "汉");
    assert_eq!(v["birth_date"], "1990-03-07");
    assert_eq!(v["valid_to"], "长期");
    assert_eq!(v["id_number"], "500***********0017");
    assert_eq!(v["id_checksum_ok"], true);

    // The same card is not read twice without leaving the field.
    let (code, _, err) = run(&["idcard", "read", "--port", &port, "--timeout", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("读卡失败［timeout］"), "{err}");

    // A J card, revealed, as text.
    sim.control("next");
    let (code, out, err) = run(&[
        "idcard",
        "read",
        "--port",
        &port,
        "--reveal",
        "--timeout",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("证件类型：港澳台居民居住证"), "{out}");
    assert!(out.contains("证件号码：810000198808080021"), "{out}");
    assert!(out.contains("通行证号码：H12345678"), "{out}");
    assert!(out.contains("校验位：正确"), "{out}");
}

#[test]
fn idcard_read_decodes_every_card_kind_through_the_binary() {
    let files = [
        "resident-li-zhe.toml",
        "permit-hk-chen.toml",
        "foreign-2017-smith.toml",
        "foreign-2023-brown.toml",
    ];
    let mut args = vec!["idcard".to_string()];
    for f in files {
        args.push("--card".into());
        args.push(card(f));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut sim = Devsim::start(&args);
    let port = sim.address.clone();
    let mut kinds = Vec::new();
    for (i, file) in files.iter().enumerate() {
        sim.control("lift");
        sim.control(&format!("place {i}"));
        let (code, out, err) = run(&idcard_read_json(&port, "5"));
        assert_eq!(code, 0, "{file}: {err}");
        let v = json(&out);
        match v["kind"].as_str().unwrap() {
            "hk_mo_tw_permit" => {
                assert!(
                    v["pass_number"].is_string() && v["issue_count"].is_string(),
                    "{v}"
                );
                assert!(v.get("nation").is_none(), "{v}");
            }
            k if k.starts_with("foreign_permanent") => {
                assert!(v["nationality"].is_string(), "{v}");
                assert!(v["name_en"].is_string(), "{v}");
                assert!(v.get("nation").is_none(), "{v}");
            }
            "resident" => assert!(v["nation"].is_string(), "{v}"),
            other => panic!("unexpected kind {other}"),
        }
        // Dates are ISO; the ID number is masked.
        assert!(v["birth_date"].as_str().unwrap().len() == 10, "{v}");
        assert!(v["id_number"].as_str().unwrap().contains('*'), "{v}");
        kinds.push(v["kind"].as_str().unwrap().to_string());
    }
    assert_eq!(
        kinds,
        [
            "resident",
            "hk_mo_tw_permit",
            "foreign_permanent_2017",
            "foreign_permanent_2023"
        ]
    );
}

#[test]
fn a_failed_read_exits_non_zero_with_the_typed_cause_in_one_line() {
    let mut sim = Devsim::start(&["idcard", "--card", &card("resident-wang-yan.toml")]);
    let port = sim.address.clone();
    let one_line = |err: &str| {
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("读卡失败")).collect();
        assert_eq!(lines.len(), 1, "{err}");
        lines[0].to_string()
    };
    // No card on the reader.
    let (code, _, err) = run(&["idcard", "read", "--port", &port, "--timeout", "1"]);
    assert_eq!(code, 1);
    assert!(
        one_line(&err).starts_with("读卡失败［timeout］：未检测到身份证"),
        "{err}"
    );

    // The card is lifted mid-read: SW3 0x41 on every read attempt.
    sim.control("place");
    sim.control("fault sw 41 5 read");
    let (code, _, err) = run(&["idcard", "read", "--port", &port, "--timeout", "3"]);
    assert_eq!(code, 1);
    let line = one_line(&err);
    assert!(line.starts_with("读卡失败［user］"), "{line}");

    // The reader answers nothing at all.
    sim.control("clear");
    sim.control("fault no-reply 20");
    let (code, _, err) = run(&["idcard", "read", "--port", &port, "--timeout", "3"]);
    assert_eq!(code, 1);
    let line = one_line(&err);
    assert!(
        line.starts_with("读卡失败［timeout］：读卡器故障"),
        "{line}"
    );
    assert!(line.contains("no reply"), "{line}");

    // No such port.
    let (code, _, err) = run(&["idcard", "read", "--port", "/dev/ykb-no-such-port"]);
    assert_eq!(code, 1);
    assert!(one_line(&err).starts_with("读卡失败［device］"), "{err}");
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The emulator writes the PNG in one go, but let it finish.
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn print_test_and_printer_status_against_the_tcp_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let mut sim = Devsim::start(&["printer", "--tcp", "127.0.0.1:0", "--out", &out]);
    let uri = sim.address.clone();
    assert!(uri.starts_with("tcp://127.0.0.1:"), "{uri}");

    let (code, stdout, err) = run(&["printer", "status", "--printer", &uri, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&stdout);
    assert_eq!(v["state"], "online");
    assert_eq!(v["paper"], "full");
    assert_eq!(v["cover_open"], false);
    let (_, text, _) = run(&["printer", "status", "--printer", &uri]);
    assert!(text.contains("正常，纸充足，机盖关闭"), "{text}");

    let preview = dir.path().join("preview.png");
    let (code, stdout, err) = run(&[
        "print",
        "test",
        "--printer",
        &uri,
        "--preview",
        &preview.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("测试页已发送"), "{stdout}");
    // The rare name characters went out as a raster line.
    assert!(stdout.contains("图像行 1"), "{stdout}");
    let job = dir.path().join("job-0001.png");
    wait_for(&job);
    // The emulator's rendering of the bytes it received carries a QR code that decodes.
    let (code, stdout, err) = run(&["qr", "decode", "--json", &job.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json(&stdout)[0]["text"],
        "https://ykb.example.invalid/print-test"
    );

    sim.control("near-end on");
    let v = json(&run(&["printer", "status", "--printer", &uri, "--json"]).1);
    assert_eq!(v["paper"], "near_end");
    assert_eq!(v["can_print"], true);

    sim.control("paper-out on");
    let v = json(&run(&["printer", "status", "--printer", &uri, "--json"]).1);
    assert_eq!(v["paper"], "out");
    assert_eq!(v["can_print"], false);
    let (code, _, err) = run(&["print", "test", "--printer", &uri]);
    assert_eq!(code, 1);
    assert!(err.contains("打印机缺纸"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    sim.control("paper-out off");
    sim.control("cover-open on");
    let v = json(&run(&["printer", "status", "--printer", &uri, "--json"]).1);
    assert_eq!(v["cover_open"], true);
    assert_eq!(v["can_print"], false);
}

#[test]
fn printer_on_a_pty_a_device_file_and_bad_uris() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jobs");
    let sim = Devsim::start(&["printer", "--pty", "--out", &out.display().to_string()]);
    let uri = sim.address.clone();
    assert!(uri.starts_with("serial:///dev/pts/"), "{uri}");
    let (code, stdout, err) = run(&["printer", "status", "--printer", &uri]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("纸充足"), "{stdout}");
    let (code, _, err) = run(&["print", "test", "--printer", &uri]);
    assert_eq!(code, 0, "{err}");
    wait_for(&out.join("job-0001.png"));

    // A device file is one-way: status is unknown, never "paper OK"; the job is written.
    let lp = dir.path().join("lp0");
    std::fs::write(&lp, b"").unwrap();
    let file_uri = format!("file://{}", lp.display());
    let (code, stdout, _) = run(&["printer", "status", "--printer", &file_uri, "--json"]);
    assert_eq!(code, 0);
    assert_eq!(json(&stdout)["paper"], "unknown");
    let (code, _, err) = run(&["print", "test", "--printer", &file_uri]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&lp).unwrap();
    assert_eq!(&bytes[..2], b"\x1b@", "starts with ESC @");

    for (uri, said) in [
        ("lpt://1", "打印机地址无效"),
        ("tcp://127.0.0.1:1", "打印机无法连接"),
    ] {
        let (code, _, err) = run(&["printer", "status", "--printer", uri]);
        assert_eq!(code, 1, "{uri}");
        assert!(err.starts_with(said), "{err}");
    }
}

#[test]
fn scan_prints_each_code_as_it_arrives() {
    let mut sim = Devsim::start(&["scanner"]);
    let port = sim.address.clone();
    let mut scan = bin()
        .args(["scan", "--port", &port, "--count", "2", "--timeout", "15"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the scanner is open (its status line), so no code is sent into the void.
    let stderr = scan.stderr.take().unwrap();
    let (tx, status) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining, so the command never writes into a closed pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let status = status.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(status.contains("正常"), "{status}");
    sim.control("scan https://ykb.example.invalid/code/1");
    sim.control("encoding gb18030");
    sim.control("term crlf");
    sim.control("scan 渝快码 二号");
    let out = scan.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "https://ykb.example.invalid/code/1\n渝快码 二号\n"
    );
}

/// A QR code rendered with the `qrcode` crate onto a grey frame.
fn qr_png(path: &Path, text: &str, w: u32, h: u32) {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    let n = code.width() as u32;
    let colors = code.to_colors();
    let module = 6;
    let (x0, y0) = ((w - n * module) / 2, (h - n * module) / 2);
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        let inside = x >= x0 && y >= y0 && x < x0 + n * module && y < y0 + n * module;
        let dark = inside
            && colors[(((y - y0) / module) * n + (x - x0) / module) as usize]
                == qrcode::Color::Dark;
        image::Luma([if dark { 20 } else { 235 }])
    });
    img.save(path).unwrap();
}

#[test]
fn qr_decode_prints_text_or_none_and_the_decode_time_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code.png");
    let blank = dir.path().join("blank.png");
    qr_png(&code, "https://ykb.example.invalid/c/渝快码-7", 640, 480);
    image::GrayImage::from_pixel(320, 240, image::Luma([200]))
        .save(&blank)
        .unwrap();
    let (c, b) = (code.display().to_string(), blank.display().to_string());

    let (status, out, err) = run(&["qr", "decode", "--json", &c, &b]);
    assert_eq!(status, 0, "{err}");
    let v = json(&out);
    assert_eq!(v[0]["file"], c.as_str());
    assert_eq!(v[0]["text"], "https://ykb.example.invalid/c/渝快码-7");
    assert!(v[0]["decode_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(v[1]["text"], Value::Null);
    assert!(v[1]["decode_ms"].is_number());

    let (status, out, _) = run(&["qr", "decode", &c, &b]);
    assert_eq!(status, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(&c) && lines[0].ends_with("https://ykb.example.invalid/c/渝快码-7")
    );
    assert!(lines[0].contains(" ms\t"), "{out}");
    assert!(lines[1].ends_with("（未识别到二维码）"), "{out}");

    let missing = dir.path().join("missing.png").display().to_string();
    let (status, out, _) = run(&["qr", "decode", &c, &missing]);
    assert_eq!(status, 1);
    assert!(out.contains("无法读取图片"), "{out}");
}

#[test]
fn camera_snap_writes_a_jpeg_under_the_cap_from_pattern_file_and_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap.jpg");
    let o = out.display().to_string();
    let (code, stdout, err) = run(&[
        "camera",
        "snap",
        "--device",
        "pattern:1920x1080",
        "--out",
        &o,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.starts_with("已保存"), "{stdout}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() <= 1_000_000);
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (1920, 1080));

    // A folder of pages (a demo document camera), with a tight cap.
    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    qr_png(
        &pages.join("page-1.png"),
        "https://ykb.example.invalid/m/1",
        1280,
        960,
    );
    let (code, _, err) = run(&[
        "camera",
        "snap",
        "--device",
        &pages.display().to_string(),
        "--out",
        &o,
        "--max-kb",
        "60",
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() <= 60_000, "{}", bytes.len());
    // The page's QR code is still legible in the captured JPEG.
    let (code, stdout, _) = run(&["qr", "decode", "--json", &o]);
    assert_eq!(code, 0);
    assert_eq!(json(&stdout)[0]["text"], "https://ykb.example.invalid/m/1");

    let (code, _, err) = run(&[
        "camera",
        "snap",
        "--device",
        "/nonexistent/cam",
        "--out",
        &o,
    ]);
    assert_eq!(code, 1);
    assert!(err.starts_with("摄像头无法打开"), "{err}");
}

#[test]
fn devices_list_and_help_serve_a_technician() {
    let (code, out, err) = run(&["devices", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert!(v["serial"].is_array() && v["cameras"].is_array() && v["printers"].is_array());
    let (code, out, _) = run(&["devices", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("串口"), "{out}");

    let (_, help, _) = run(&["--help"]);
    for cmd in [
        "devsim", "devices", "idcard", "print", "printer", "scan", "qr", "camera",
    ] {
        assert!(help.contains(cmd), "--help lacks {cmd}");
    }
    let (_, help, _) = run(&["devsim", "idcard", "--help"]);
    assert!(help.contains("--card") && help.contains("place"), "{help}");
    let (_, help, _) = run(&["idcard", "read", "--help"]);
    assert!(
        help.contains("--reveal") && help.contains("--timeout"),
        "{help}"
    );
}

#[test]
fn devsim_idcard_with_a_link_survives_unplug_and_replug() {
    let dir = tempfile::tempdir().unwrap();
    let link: PathBuf = dir.path().join("idcard");
    let mut sim = Devsim::start(&[
        "idcard",
        "--card",
        &card("resident-wang-yan.toml"),
        "--link",
        &link.display().to_string(),
        "--place",
    ]);
    assert_eq!(sim.address, link.display().to_string());
    let l = link.display().to_string();
    let (code, _, err) = run(&["idcard", "read", "--port", &l, "--timeout", "5"]);
    assert_eq!(code, 0, "{err}");
    sim.control("unplug");
    let (code, _, err) = run(&["idcard", "read", "--port", &l, "--timeout", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("读卡失败［device］"), "{err}");
    sim.control("replug");
    sim.control("next");
    let (code, out, err) = run(&["idcard", "read", "--port", &l, "--json", "--timeout", "5"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["name"], "王䶮");
}

#[test]
fn devsim_xfs4iot_serves_the_publisher_and_takes_faults_on_its_console() {
    use ykb_drivers::xfs4iot::{get_services, ClientConfig, Command, ServiceClient, Stage};
    let mut sim = Devsim::start(&["xfs4iot", "--listen", "127.0.0.1:0"]);
    assert!(
        sim.address.starts_with("ws://127.0.0.1:") && sim.address.ends_with("/xfs4iot/v1.0"),
        "{}",
        sim.address
    );
    let publisher = get_services(&sim.address, ClientConfig::default()).expect("publisher");
    let printer_uri = format!("{}/Printer", sim.address);
    assert!(publisher.services.contains(&printer_uri), "{publisher:?}");
    let printer = ServiceClient::connect(&printer_uri, ClientConfig::default()).expect("printer");
    let print = || {
        Command::new("Printer.PrintRaw")
            .with("inputData", "no")
            .with("data", "G0A=")
            .timeout(Duration::from_millis(300))
    };
    printer.call(print()).expect("a print");
    assert_eq!(sim.control("jobs"), "1 jobs");
    sim.control("fault Printer.PrintRaw slow 5000");
    let err = printer.call(print()).unwrap_err();
    assert_eq!(
        err,
        ykb_drivers::xfs4iot::Xfs4IotError::Timeout {
            stage: Stage::Completion
        }
    );
    sim.control("clear");
    printer.call(print()).expect("a print after clear");
    writeln!(sim.stdin, "bogus").unwrap();
    sim.stdin.flush().unwrap();
    let answer = sim.lines.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(answer.starts_with("错误"), "{answer}");
}
