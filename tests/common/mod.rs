//! Shared fixtures of the integration tests: a data directory, an applicant file, a material
//! image, the argument lists of `case submit`, and runs of the real binary.
#![allow(dead_code)]

pub mod agent;
pub mod apt;
pub mod cups;
pub mod gateway;
pub mod hall;
pub mod layout;
pub mod link;
pub mod pg_server;
pub mod sim;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The terminal binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_ykb-terminal");

/// Asserts that a run succeeded, with its stderr as the failure message.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd` to its end and asserts that it succeeded (see [`assert_success`]).
#[track_caller]
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert_success(&out);
    out
}

/// Runs the binary to its end on the data directory `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Every file below the folder `root` whose name ends in `.ext`, depth first.
pub fn files_with_extension(root: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == ext) {
                out.push(p);
            }
        }
    }
    out
}

/// The lines a run printed on stdout (`case submit` prints one id a line).
pub fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `provision` as a technician runs it: a terminal of `[region, site, kind]`, enrolled with
/// `code` at the platform `url`, with the catalogue key `key`, writing the profile `config`
/// and the data directory `data` (operator T0042).
pub fn provision(
    [region, site, kind]: [&str; 3],
    code: &str,
    url: &str,
    key: &Path,
    config: &Path,
    data: &Path,
) -> Command {
    let mut c = Command::new(BIN);
    c.args(["provision", "--region", region, "--site", site])
        .args([
            "--kind",
            kind,
            "--operator",
            "T0042",
            "--enrolment-code",
            code,
        ])
        .args(["--platform", url])
        .arg("--catalog-key")
        .arg(key)
        .arg("--config-out")
        .arg(config)
        .arg("--data-dir")
        .arg(data);
    c
}

/// A client of the platform at `base_url` (the demo catalogue key), with `core`'s terminal
/// registered there as `name` with the demo enrolment code.
pub async fn registered_client(
    core: &mut ykb_terminal::core::Core,
    base_url: &str,
    name: &str,
) -> ykb_terminal::core::platform::PlatformClient {
    use ykb_terminal::core::platform::{wire, ClientConfig, PlatformClient};
    let client = PlatformClient::new(ClientConfig::from_profile(
        &core.profile.platform,
        Some(base_url),
        wire::demo_verifying_key(),
    ))
    .unwrap();
    let mut request = wire::RegisterRequest::for_terminal(
        &core.profile.terminal,
        ykb_terminal::core::sync::DEMO_ENROLMENT_CODE,
    );
    request.name = name.into();
    ykb_terminal::core::credentials::ensure_registered(
        &client,
        &mut core.store,
        &core.key,
        &request,
    )
    .await
    .unwrap();
    client
}

/// A small real JPEG, standing for a photographed material.
pub const IMAGE: &[u8] = include_bytes!("../data/material.jpg");

/// An ID number with a valid GB 11643 check digit, as a string.
pub fn id_number(first17: &str) -> String {
    ykb_terminal::core::domain::IdNumber::complete(first17)
        .unwrap()
        .expose()
        .to_owned()
}

/// A data directory with an applicant file and an image, for the demo profile.
pub struct Fixture {
    dir: tempfile::TempDir,
    pub applicant: PathBuf,
    pub image: PathBuf,
    pub id_number: String,
    pub matter: String,
    pub material: String,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let id_number = id_number("50010319500307123");
        let applicant = dir.path().join("applicant.json");
        std::fs::write(
            &applicant,
            format!(r#"{{"name": "王䶮", "id_number": "{id_number}", "address": "重庆市渝中区解放碑街道民族路188号"}}"#),
        )
        .unwrap();
        let image = dir.path().join("material.jpg");
        std::fs::write(&image, IMAGE).unwrap();
        let catalog = ykb_terminal::core::catalog::Catalog::demo().unwrap();
        let m = self_service_matter(&catalog);
        Fixture {
            matter: m.task_code.to_string(),
            material: m.materials[0].id.clone(),
            dir,
            applicant,
            image,
            id_number,
        }
    }

    /// The data directory (the store and key live in `data/` below it).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Arguments of `--data-dir DIR case submit … --count N` with one image.
    pub fn submit_args(&self, count: u32) -> Vec<String> {
        vec![
            "--data-dir".into(),
            self.dir().display().to_string(),
            "case".into(),
            "submit".into(),
            "--matter".into(),
            self.matter.clone(),
            "--applicant".into(),
            self.applicant.display().to_string(),
            "--count".into(),
            count.to_string(),
            "--image".into(),
            format!("{}={}", self.material, self.image.display()),
        ]
    }

    /// Runs `case submit` with [`Fixture::submit_args`], asserts that it succeeded and
    /// returns the ids it printed.
    #[track_caller]
    pub fn submit(&self, count: u32) -> Vec<String> {
        stdout_lines(&run_ok(Command::new(BIN).args(self.submit_args(count))))
    }
}

/// The catalogue's first self-service matter (the one the fixtures apply for).
pub fn self_service_matter(
    catalog: &ykb_terminal::core::catalog::Catalog,
) -> &ykb_terminal::core::domain::Matter {
    catalog.matters.iter().find(|m| m.self_service).unwrap()
}

/// A case for the first self-service matter of the catalogue, with one captured image.
pub fn new_case(
    core: &ykb_terminal::core::Core,
    name: &str,
    first17: &str,
    address: &str,
) -> ykb_terminal::core::outbox::NewCase {
    use ykb_terminal::core::domain::{Applicant, IdNumber, Person};
    let m = self_service_matter(&core.catalog);
    ykb_terminal::core::outbox::NewCase {
        matters: vec![m.task_code.clone()],
        bundle: None,
        catalog_version: core.catalog.version,
        applicant: Applicant::Person {
            person: Person {
                name: name.into(),
                id_number: IdNumber::complete(first17).unwrap(),
                address: address.into(),
            },
        },
        agent: None,
        delivery: None,
        answers: Default::default(),
        materials: Vec::new(),
        form: [("f_phone".to_owned(), "13800000000".to_owned())].into(),
        images: vec![(m.materials[0].id.clone(), IMAGE.to_vec())],
    }
}

/// Case number `n` of a test run (its own name and ID number; see [`new_case`]).
pub fn numbered_case(
    core: &ykb_terminal::core::Core,
    n: usize,
) -> ykb_terminal::core::outbox::NewCase {
    new_case(
        core,
        &format!("测试{n}"),
        &format!("50010319500307{:03}", n % 1000),
        "重庆市渝中区解放碑街道民族路188号",
    )
}

/// Enqueues cases `0..n` (a 512 MB quota) and returns their ids.
pub fn enqueue_n(core: &mut ykb_terminal::core::Core, n: usize) -> Vec<uuid::Uuid> {
    use ykb_terminal::core::outbox;
    (0..n)
        .map(|i| {
            let c = numbered_case(core, i);
            outbox::enqueue_case(
                &mut core.store,
                &core.key,
                outbox::Quota::from_mb(512),
                c,
                jiff::Timestamp::now(),
            )
            .unwrap()
            .id
        })
        .collect()
}
