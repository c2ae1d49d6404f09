//! The profile's loading and checks.

use super::*;

#[test]
fn terminal_kind_names_match_the_profile_spelling() {
    for k in [
        TerminalKind::Kiosk,
        TerminalKind::Counter,
        TerminalKind::Bank,
        TerminalKind::Post,
        TerminalKind::HallDisplay,
    ] {
        let toml = toml::to_string(&std::collections::BTreeMap::from([("k", k)])).unwrap();
        assert_eq!(toml.trim(), format!("k = \"{}\"", k.as_str()));
    }
}

#[test]
fn demo_profile_is_valid() {
    let p = Profile::demo();
    assert_eq!(p.terminal.kind, TerminalKind::Kiosk);
    assert_eq!(p.platform.mode, PlatformMode::Simulator);
    assert_eq!(p.data.catalog, CatalogSource::Bundled);
}

#[test]
fn typo_names_the_key() {
    let text = DEMO_PROFILE.replace("idle_timeout_secs", "idle_timout_secs");
    let e = Profile::parse(&text, "x.toml").unwrap_err();
    assert_eq!(e.file, "x.toml");
    assert!(e.key.starts_with("terminal"), "{e}");
    assert!(e.message.contains("idle_timout_secs"), "{e}");
}

#[test]
fn metrics_are_refused_on_other_interfaces() {
    let e = Profile::parse(&with_metrics(DEMO_PROFILE, "0.0.0.0:9464"), "x.toml").unwrap_err();
    assert_eq!(e.key, "health.metrics_listen", "{e}");
    let ok = Profile::parse(&with_metrics(DEMO_PROFILE, "127.0.0.1:9464"), "x.toml").unwrap();
    assert_eq!(
        ok.health.metrics_addr(),
        Some("127.0.0.1:9464".parse().unwrap())
    );
}

/// The demo profile with its `[health]` section replaced by one listening on `addr`.
fn with_metrics(text: &str, addr: &str) -> String {
    let base = text.split("\n[health]").next().unwrap_or(text);
    format!("{base}\n[health]\nmetrics_listen = \"{addr}\"\n")
}

#[test]
fn check_config_refuses_unparsable_urls_and_absurd_iteration_counts() {
    let remote = |url: &str| {
        DEMO_PROFILE
            .replace("mode = \"simulator\"", "mode = \"remote\"")
            .replace("base_url = \"\"", &format!("base_url = \"{url}\""))
    };
    for url in [
        // Userinfo: the host is evil.example, not localhost.
        "http://localhost:80@evil.example/v1",
        "https://exa mple.gov.cn/v1",
        "https://",
        "https://[::1/v1",
    ] {
        let err = Profile::parse(&remote(url), "p.toml").unwrap_err();
        assert_eq!(err.key, "platform.base_url", "{url}: {err}");
    }
    assert!(Profile::parse(&remote("https://ykb.cq.gov.cn/v1"), "p.toml").is_ok());
    assert!(Profile::parse(&remote("http://127.0.0.1:8480/v1"), "p.toml").is_ok());

    // A PIN hash whose cost would freeze sign-in: Argon2id over 4 GiB, or PBKDF2
    // iterations that run for an hour; and one too cheap to protect a PIN.
    let good = "$argon2id$v=19$m=65536,t=3,p=1$";
    assert!(DEMO_PROFILE.contains(good), "demo profile changed");
    for (bad, words) in [
        ("$argon2id$v=19$m=4194304,t=3,p=1$", "内存"),
        ("$argon2id$v=19$m=4096,t=1,p=1$", "内存"),
        ("$argon2i$v=19$m=65536,t=3,p=1$", "argon2id"),
    ] {
        let err = Profile::parse(&DEMO_PROFILE.replace(good, bad), "p.toml").unwrap_err();
        assert!(err.key.ends_with("pin_hash"), "{err}");
        assert!(err.message.contains(words), "{bad}: {err}");
    }
    let hash_line = DEMO_PROFILE
        .lines()
        .find(|l| l.starts_with("pin_hash = "))
        .expect("a technician account");
    let pbkdf2 = crate::core::pin::PinHash::new("246810", b"saltsalt", 10_000)
        .to_string()
        .replace("$10000$", "$4294967295$");
    let absurd = DEMO_PROFILE.replace(hash_line, &format!("pin_hash = \"{pbkdf2}\""));
    let err = Profile::parse(&absurd, "p.toml").unwrap_err();
    assert!(err.key.ends_with("pin_hash"), "{err}");
    assert!(err.message.contains("迭代次数"), "{err}");
}

#[test]
fn plain_http_platform_only_on_loopback() {
    assert!(is_loopback_http("http://127.0.0.1:8480/v1"));
    assert!(is_loopback_http("http://[::1]:8480/v1"));
    assert!(is_loopback_http("http://localhost/v1"));
    assert!(!is_loopback_http("http://10.0.0.1/v1"));
    assert!(!is_loopback_http("http://127.0.0.1.evil.example/v1"));
}

#[test]
fn shipped_ticketing_sections_parse_and_are_optional() {
    let t = Profile::demo().ticketing.expect("the demo issues tickets");
    assert_eq!(t.services[0].prefix, "A");
    assert_eq!(
        parse_hh_mm(&t.services[0].closes),
        Some(jiff::civil::Time::MAX)
    );
    let without = DEMO_PROFILE.split("\n[ticketing]").next().unwrap();
    assert_eq!(Profile::parse(without, "x.toml").unwrap().ticketing, None);
}

#[test]
fn bad_ticketing_values_name_the_key() {
    let cases = [
        (
            "prefix = \"B\"",
            "prefix = \"A\"",
            "ticketing.services[1].prefix",
        ),
        (
            "prefix = \"C\"",
            "prefix = \"CC\"",
            "ticketing.services[2].prefix",
        ),
        (
            "daily_cap = 400",
            "daily_cap = 1000",
            "ticketing.services[0].daily_cap",
        ),
        (
            "opens = \"00:00\"",
            "opens = \"8:30\"",
            "ticketing.services[0].opens",
        ),
        (
            "closes = \"24:00\"",
            "closes = \"00:00\"",
            "ticketing.services[0].closes",
        ),
        ("green_age = 65", "green_age = 30", "ticketing.green_age"),
        (
            "green_priority = 2",
            "green_priority = 10",
            "ticketing.green_priority",
        ),
        (
            "lease_low_water = 10",
            "lease_low_water = 50",
            "ticketing.lease_low_water",
        ),
        ("lease_size = 50", "lease_size = 1", "ticketing.lease_size"),
        (
            "services = [\"B\"]",
            "services = [\"Q\"]",
            "ticketing.windows[3].services",
        ),
        ("number = 5", "number = 3", "ticketing.windows[3].number"),
        ("hall = ", "hal = ", "ticketing"),
        (
            "lease_size = 50",
            "lease_size = 50\nqueue = \"mysql://hall/ykb\"",
            "ticketing.queue",
        ),
        (
            "lease_size = 50",
            "lease_size = 50\nqueue = \"postgresql://ykb:secret@hall-db/ykb_hall\"",
            "ticketing.queue",
        ),
        (
            "lease_size = 50",
            "lease_size = 50\nqueue = \"postgresql://hall-db/ykb_hall?sslmode=sometimes\"",
            "ticketing.queue",
        ),
        (
            "lease_size = 50",
            "lease_size = 50\nqueue_password_file = \"/etc/ykb/pw\"",
            "ticketing.queue_password_file",
        ),
        (
            "lease_size = 50",
            "lease_size = 50\nqueue = \"postgresql://hall-db/h\"\nqueue_password_file = \"pw\"",
            "ticketing.queue_password_file",
        ),
    ];
    for (from, to, key) in cases {
        let text = DEMO_PROFILE.replacen(from, to, 1);
        assert_ne!(text, DEMO_PROFILE, "{from}");
        let e = Profile::parse(&text, "x.toml").unwrap_err();
        assert!(e.key.starts_with(key), "{from} → {to}: {e}");
    }
}

#[test]
fn a_hall_queue_uri_with_several_hosts_is_accepted() {
    let text = DEMO_PROFILE.replacen(
        "lease_size = 50",
        "lease_size = 50\nqueue = \"postgresql://hall-db-1,hall-db-2/ykb_hall?target_session_attrs=read-write\"\nqueue_password_file = \"/etc/ykb-terminal/hall-db.password\"",
        1,
    );
    let t = Profile::parse(&text, "x.toml").unwrap().ticketing.unwrap();
    assert!(t.queue.unwrap().contains("hall-db-2"));
}

#[test]
fn counter_sections_are_checked_against_the_hall_and_name_the_key() {
    let text = include_str!("../../../kiosk-config/counter-demo.toml");
    let c = Profile::parse(text, "x.toml").unwrap().counter.unwrap();
    assert_eq!((c.window, c.staff.len()), (3, 2));
    let cases = [
        ("window = 3", "window = 4", "counter.window"),
        (
            "lock_after_secs = 300",
            "lock_after_secs = 5",
            "counter.lock_after_secs",
        ),
        (
            "max_failures = 3",
            "max_failures = 0",
            "counter.max_failures",
        ),
        ("id = \"S0002\"", "id = \"S0001\"", "counter.staff[1].id"),
        ("id = \"S0001\"", "id = \"王五\"", "counter.staff[0].id"),
        ("m=65536,t=3", "m=1024,t=3", "counter.staff[0].pin_hash"),
        ("pin_hash = ", "pin = ", "counter.staff[0]"),
    ];
    for (from, to, key) in cases {
        let edited = text.replacen(from, to, 1);
        assert_ne!(edited, text, "{from}");
        let e = Profile::parse(&edited, "x.toml").unwrap_err();
        assert!(e.key.starts_with(key), "{from} → {to}: {e}");
    }
    // A counter needs the hall's windows.
    let without = text.replace("\n[ticketing]", "\n[ticketing_gone]");
    let body = without
        .split("\n[ticketing_gone]")
        .next()
        .unwrap()
        .to_owned()
        + "\n[counter]"
        + without.split("\n[counter]").nth(1).unwrap();
    let e = Profile::parse(&body, "x.toml").unwrap_err();
    assert_eq!(e.key, "counter.window", "{e}");
}

#[test]
fn out_of_range_names_the_key() {
    let text = DEMO_PROFILE.replace("idle_timeout_secs = 90", "idle_timeout_secs = 5");
    let e = Profile::parse(&text, "x.toml").unwrap_err();
    assert_eq!(e.key, "terminal.idle_timeout_secs");
}

#[test]
fn hosted_profiles_take_their_devices_from_the_hosts_xfs4iot_services() {
    for (name, text) in [
        (
            "bank-terminal.toml",
            include_str!("../../../kiosk-config/bank-terminal.toml"),
        ),
        (
            "post-terminal.toml",
            include_str!("../../../kiosk-config/post-terminal.toml"),
        ),
    ] {
        let p = Profile::parse(text, name).unwrap();
        for dev in [
            &p.devices.printer,
            &p.devices.scanner,
            &p.devices.document_camera,
        ] {
            assert_eq!(dev.driver, DriverKind::Xfs4iot, "{name}");
            assert!(dev.path.starts_with("ws://"), "{name}: {}", dev.path);
        }
        // A device path is no service URI.
        let bad = text.replace("ws://127.0.0.1:5846/xfs4iot/v1.0/Printer", "/dev/usb/lp0");
        let e = Profile::parse(&bad, name).unwrap_err();
        assert_eq!(e.key, "devices.printer.path", "{e}");
        assert!(e.message.contains("XFS4IoT"), "{e}");
    }
    // Not for the ID-card reader: the host lends no GA/T 467 reader.
    let text = include_str!("../../../kiosk-config/bank-terminal.toml")
        .replace("driver = \"sam-serial\"", "driver = \"xfs4iot\"");
    let e = Profile::parse(&text, "bank-terminal.toml").unwrap_err();
    assert_eq!(e.key, "devices.id_reader.driver", "{e}");
}

/// The demo profile with `lines` added to `[terminal]`.
fn with_screen(lines: &str) -> String {
    DEMO_PROFILE.replacen(
        "fullscreen = false",
        &format!("fullscreen = false\n{lines}"),
        1,
    )
}

#[test]
fn the_screen_names_the_panel_and_its_scale() {
    assert_eq!(Profile::demo().terminal.panel(), screen::Screen::Auto);
    for (size, w, h) in [
        ("1920x1080", 1920, 1080),
        ("1080x1920", 1080, 1920),
        ("1280x1024", 1280, 1024),
        ("1280x800", 1280, 800),
    ] {
        let p = Profile::parse(&with_screen(&format!("screen = \"{size}\"")), "x.toml").unwrap();
        let screen::Screen::Fixed(g) = p.terminal.panel() else {
            panic!("{size} is a fixed panel");
        };
        assert_eq!((g.width, g.height), (w, h));
        // Between 2.5 and 4.5 px per mm: 15 mm is 40–70 px on these panels.
        assert!((2.5..4.5).contains(&g.px_per_mm), "{size}: {}", g.px_per_mm);
    }
    // 1920x1080 on a 21.5" panel: 102.5 ppi.
    let g = screen::Geometry::known(1920, 1080).unwrap();
    assert!((g.px_per_mm * 25.4 - 102.46).abs() < 0.1, "{}", g.px_per_mm);
    // A named diagonal changes the scale.
    let p = Profile::parse(
        &with_screen("screen = \"1920x1080\"\nscreen_diagonal_in = 43.0"),
        "x.toml",
    )
    .unwrap();
    assert!(p.terminal.panel().px_per_mm() < g.px_per_mm / 1.9);
}

#[test]
fn an_unknown_or_impossible_screen_is_refused_naming_the_key() {
    for (lines, key) in [
        ("screen = \"big\"", "terminal.screen"),
        ("screen = \"1920*1080\"", "terminal.screen"),
        ("screen = \"1920x\"", "terminal.screen"),
        ("screen = \"0x0\"", "terminal.screen"),
        ("screen = \"100000x1080\"", "terminal.screen"),
        ("screen = \"1920x100\"", "terminal.screen"),
        // Not one of the four panels and no diagonal: the scale is unknown.
        ("screen = \"1600x900\"", "terminal.screen_diagonal_in"),
        (
            "screen = \"1920x1080\"\nscreen_diagonal_in = 0.5",
            "terminal.screen_diagonal_in",
        ),
        (
            "screen = \"1920x1080\"\nscreen_diagonal_in = 3000.0",
            "terminal.screen_diagonal_in",
        ),
        // 3840 pixels across 7 inches is no panel (> 400 ppi).
        (
            "screen = \"3840x2160\"\nscreen_diagonal_in = 7.0",
            "terminal.screen_diagonal_in",
        ),
        (
            "screen = \"auto\"\nscreen_diagonal_in = 21.5",
            "terminal.screen_diagonal_in",
        ),
        ("screen = 1920", "terminal.screen"),
    ] {
        let e = Profile::parse(&with_screen(lines), "x.toml").unwrap_err();
        assert_eq!(e.key, key, "{lines}: {e}");
        assert!(!e.message.is_empty());
    }
    let e = Profile::parse(&with_screen("screen = \"big\""), "x.toml").unwrap_err();
    assert!(e.message.contains("1920x1080"), "{e}");
    // An unknown size with its diagonal is fine.
    let ok = Profile::parse(
        &with_screen("screen = \"1600x900\"\nscreen_diagonal_in = 19.0"),
        "x.toml",
    )
    .unwrap();
    assert_eq!(ok.terminal.panel().size(), Some((1600, 900)));
}

#[test]
fn xfs4iot_slots_refuse_a_bad_service_uri_or_a_driver_they_cannot_use_naming_the_key() {
    let bank = include_str!("../../../kiosk-config/bank-terminal.toml");
    let scanner = "ws://127.0.0.1:5846/xfs4iot/v1.0/BarcodeReader";
    for bad in [
        "http://127.0.0.1:5846/xfs4iot/v1.0/BarcodeReader",
        "ws://:5846/xfs4iot/v1.0/BarcodeReader",
        "ws://127.0.0.1:5846/other/BarcodeReader",
        "ws://127.0.0.1:5846",
        "BarcodeReader",
        "simulatedd",
    ] {
        let e = Profile::parse(&bank.replace(scanner, bad), "b.toml").unwrap_err();
        assert_eq!(e.key, "devices.scanner.path", "{bad}: {e}");
        assert!(e.message.contains("XFS4IoT"), "{bad}: {e}");
    }
    // wss:// and the demo's emulator are fine.
    for good in [
        "wss://host.bank.example:5846/xfs4iot/v1.0/BarcodeReader",
        "simulated",
    ] {
        Profile::parse(&bank.replace(scanner, good), "b.toml").unwrap();
    }
    // Lights and vendor mode are the host's services only.
    let block = |section: &str, service: &str| {
        format!(
            "[devices.{section}]\ndriver = \"xfs4iot\"\npath = \"ws://127.0.0.1:5846/xfs4iot/v1.0/{service}\""
        )
    };
    for (section, service, driver, path, key) in [
        (
            "lights",
            "Lights",
            "escpos",
            "/dev/x",
            "devices.lights.driver",
        ),
        (
            "vendor_mode",
            "VendorMode",
            "v4l2",
            "/dev/x",
            "devices.vendor_mode.driver",
        ),
        ("lights", "Lights", "simulated", "", "devices.lights.driver"),
        (
            "vendor_mode",
            "VendorMode",
            "simulated",
            "",
            "devices.vendor_mode.driver",
        ),
        (
            "lights",
            "Lights",
            "xfs4iot",
            "/dev/x",
            "devices.lights.path",
        ),
    ] {
        let old = block(section, service);
        assert!(bank.contains(&old), "{section}");
        let text = bank.replace(
            &old,
            &format!("[devices.{section}]\ndriver = \"{driver}\"\npath = \"{path}\""),
        );
        let e = Profile::parse(&text, "b.toml").unwrap_err();
        assert_eq!(e.key, key, "{section} {driver}: {e}");
    }
    // An unknown driver name is refused naming the slot.
    let e = Profile::parse(
        &bank.replacen("driver = \"xfs4iot\"", "driver = \"xfs5\"", 1),
        "b.toml",
    )
    .unwrap_err();
    assert_eq!(e.key, "devices.printer.driver", "{e}");
    assert!(e.message.contains("xfs5"), "{e}");
}

#[test]
fn updates_are_off_in_the_demo_and_bad_update_keys_are_refused_by_name() {
    let demo = Profile::demo();
    assert!(demo.update.as_ref().is_some_and(|u| !u.enabled));
    let with = |body: &str| {
        let base = DEMO_PROFILE.split("\n[update]").next().unwrap();
        Profile::parse(&format!("{base}\n[update]\n{body}\n"), "x.toml")
    };
    let good = "enabled = true\nrepository = \"https://repo.example/ykb\"\n\
                keyring = \"/usr/share/keyrings/ykb.gpg\"\n\
                health_command = [\"/usr/local/sbin/ykb-health\"]";
    let u = with(good).unwrap().update.unwrap();
    assert_eq!(
        (u.package.as_str(), u.suite.as_str()),
        ("ykb-terminal", "stable")
    );
    assert_eq!(u.health_deadline_secs, 180);
    for (body, key) in [
        ("enabled = true", "update.repository"),
        (
            &good.replace("https://repo.example/ykb", "ftp://x/y") as &str,
            "update.repository",
        ),
        (
            &good.replace("/usr/share/keyrings/ykb.gpg", "ykb.gpg"),
            "update.keyring",
        ),
        (
            &good.replace("[\"/usr/local/sbin/ykb-health\"]", "[]"),
            "update.health_command",
        ),
        (
            &format!("{good}\nhealth_deadline_secs = 1"),
            "update.health_deadline_secs",
        ),
        (
            &format!("{good}\ncheck_interval_secs = 5"),
            "update.check_interval_secs",
        ),
        (
            &format!("{good}\npackage = \"Ykb Terminal\""),
            "update.package",
        ),
        (&format!("{good}\nsuite = \"./\""), "update.components"),
        (&format!("{good}\nroot = \"chroot\""), "update.root"),
        (&format!("{good}\nenabeld = true"), "update"),
    ] {
        let e = with(body).unwrap_err();
        assert!(e.key.starts_with(key), "{body}: {e}");
        assert!(!e.message.is_empty());
    }
    // Off, the repository need not be filled in, but ranges still hold.
    assert!(with("enabled = false").is_ok());
    assert_eq!(
        with("enabled = false\nmin_free_mb = 200000")
            .unwrap_err()
            .key,
        "update.min_free_mb"
    );
}
