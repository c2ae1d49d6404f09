//! 终端部署 — provisioning a terminal: register it with the platform, store the issued
//! credentials, create the data key, write the profile and audit who did it.
//!
//! All or nothing: everything is first written to a staging directory inside the data
//! directory and a temporary file beside the profile; the platform is asked only after every
//! local step succeeded; then the files are renamed into place (the profile last, so its
//! presence means "provisioned"). Any failure removes what this run created, including
//! directories it made, and leaves what was there before untouched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::core::audit::{self, Actor, AuditAction};
use crate::core::config::{Profile, TerminalKind};
use crate::core::credentials::{self, CredentialError};
use crate::core::crypto::{DataKey, KEY_FILE};
use crate::core::domain::RegionCode;
use crate::core::outbox;
use crate::core::platform::client::DEFAULT_MAX_CATALOG_BYTES;
use crate::core::platform::{wire, ClientConfig, PlatformClient, PlatformError};
use crate::core::store::Store;
use crate::core::STORE_FILE;

/// The file holding the platform's catalogue verifying key (shared with `sync`).
pub use crate::core::sync::CATALOG_KEY_FILE;

/// Seconds to wait for the platform while registering.
const REGISTER_TIMEOUT_SECS: u64 = 20;

/// What the technician asked for.
#[derive(Debug, Clone)]
pub struct ProvisionRequest {
    /// 行政区划代码 of the site.
    pub region: RegionCode,
    /// Where the terminal stands.
    pub site: String,
    /// Kiosk, counter, bank or post terminal.
    pub kind: TerminalKind,
    /// Terminal name; `None` makes one from the site and kind.
    pub name: Option<String>,
    /// The technician doing it (audited).
    pub operator: Actor,
    /// One-time enrolment code from platform operations.
    pub enrolment_code: String,
    /// Platform base URL including the version prefix (…/v1).
    pub platform_url: String,
    /// File with the platform's catalogue verifying key (64 hex digits).
    pub catalog_key_file: PathBuf,
    /// Where the profile is written (must not exist).
    pub config_out: PathBuf,
    /// The data directory (must not hold a key or a store).
    pub data_dir: PathBuf,
    /// Platform CA to pin (`platform.ca_file`).
    pub ca_file: Option<PathBuf>,
    /// HTTP(S) proxy (`platform.proxy`).
    pub proxy: Option<String>,
}

/// A terminal that was provisioned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Provisioned {
    /// The device id the platform issued.
    pub device_id: String,
    /// The profile written.
    pub config: PathBuf,
    /// The data directory (store, key, catalogue key).
    pub data_dir: PathBuf,
    /// The audit entry recording it.
    pub audit_seq: u64,
}

/// Why provisioning stopped. Nothing half-provisioned is left behind in any case; each
/// message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A flag or answer is not acceptable.
    #[error("{0}")]
    Input(String),
    /// A profile already exists at the target path.
    #[error("配置文件 {0} 已存在，未作任何修改。若要重新部署，请先备份并移走该文件（同时确认数据目录已清理），再运行 provision。")]
    ProfileExists(PathBuf),
    /// The data directory already holds a key or a store.
    #[error("数据目录 {dir} 中已有 {file}，本机可能已部署，未作任何修改。若确需重新部署，请先备份并移走该目录中的 data.key 和 ykb-terminal.db。")]
    AlreadyProvisioned {
        /// The data directory.
        dir: PathBuf,
        /// The file found.
        file: String,
    },
    /// The data directory cannot be created or written.
    #[error("数据目录 {dir} 无法写入（{detail}）。请检查路径和权限（服务账户需可写），或用 --data-dir 指定其他目录。")]
    DataDir {
        /// The data directory.
        dir: PathBuf,
        /// The OS error.
        detail: String,
    },
    /// The profile cannot be written.
    #[error("配置文件 {path} 无法写入（{detail}）。请检查目录是否存在且可写，或用 --config-out 指定其他路径。")]
    ConfigOut {
        /// The profile path.
        path: PathBuf,
        /// The OS error.
        detail: String,
    },
    /// The platform refused the enrolment code.
    #[error("平台拒绝了注册码（{0}）。请核对注册码，或向平台运维申请新的注册码后重试。本机未作任何修改。")]
    EnrolmentRefused(String),
    /// The platform could not be reached.
    #[error("无法连接政务服务平台 {url}（{detail}）。请检查网络、代理和平台地址后重试。本机未作任何修改。")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What failed.
        detail: String,
    },
    /// Something failed after the platform registered the device.
    #[error("平台已登记本终端（设备号 {device_id}，注册码已使用），但本机写入失败：{detail}。本机已恢复原状；请向平台运维注销该设备号并申请新注册码，排除故障后重试。")]
    AfterRegistration {
        /// The device id the platform issued.
        device_id: String,
        /// What failed.
        detail: String,
    },
    /// Anything else (store, key, platform protocol).
    #[error("部署失败：{0}。本机未作任何修改。")]
    Other(String),
}

/// The shipped profile a new terminal of `kind` starts from.
pub fn template(kind: TerminalKind) -> Result<&'static str, ProvisionError> {
    Ok(match kind {
        TerminalKind::Kiosk => include_str!("../../kiosk-config/kiosk-24h.toml"),
        TerminalKind::Counter => include_str!("../../kiosk-config/counter.toml"),
        TerminalKind::Bank => include_str!("../../kiosk-config/bank-terminal.toml"),
        TerminalKind::Post => include_str!("../../kiosk-config/post-terminal.toml"),
        TerminalKind::HallDisplay => {
            return Err(ProvisionError::Input(
                "终端类型只能是 kiosk、counter、bank 或 post".into(),
            ))
        }
    })
}

/// The name of a terminal kind in Chinese.
pub fn kind_zh(kind: TerminalKind) -> &'static str {
    match kind {
        TerminalKind::Kiosk => "自助终端",
        TerminalKind::Counter => "综合窗口终端",
        TerminalKind::Bank => "银行网点自助终端",
        TerminalKind::Post => "邮政网点自助终端",
        TerminalKind::HallDisplay => "叫号屏",
    }
}

/// The wire name of a terminal kind.
pub fn kind_name(kind: TerminalKind) -> &'static str {
    kind.as_str()
}

/// Sets `key` in `[section]` of a profile text, keeping every comment; `value` is TOML.
fn set_key(text: &str, section: &str, key: &str, value: &str) -> Result<String, ProvisionError> {
    let mut current = String::new();
    let mut done = false;
    let mut out = String::with_capacity(text.len() + value.len());
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            current = t.trim_matches(['[', ']']).trim().to_owned();
        }
        let is_key = t
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='));
        if !done && current == section && is_key {
            out.push_str(&format!("{key} = {value}\n"));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    if done {
        Ok(out)
    } else {
        Err(ProvisionError::Other(format!(
            "配置模板缺少 [{section}] {key}（程序内置模板有误，请升级程序）"
        )))
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The profile text for a request: the shipped template of its kind with the site's values.
/// The result is parsed back and compared, so a template that drifted cannot slip through.
pub fn profile_text(req: &ProvisionRequest, data_dir: &Path) -> Result<String, ProvisionError> {
    let name = req
        .name
        .clone()
        .unwrap_or_else(|| format!("{} {}", req.site, kind_zh(req.kind)));
    let data_dir_s = data_dir.to_str().ok_or_else(|| {
        ProvisionError::Input(format!("数据目录 {} 不是 UTF-8 路径", data_dir.display()))
    })?;
    let ca = match &req.ca_file {
        Some(p) => p
            .to_str()
            .ok_or_else(|| ProvisionError::Input("CA 证书路径不是 UTF-8".into()))?
            .to_owned(),
        None => String::new(),
    };
    let header = format!(
        "# Written by `ykb-terminal provision` on {} for {} ({}).\n# Check it with: ykb-terminal check-config FILE\n",
        jiff::Timestamp::now(),
        req.site,
        kind_name(req.kind)
    );
    let mut text = header + template(req.kind)?;
    for (section, key, value) in [
        ("terminal", "name", toml_str(&name)),
        ("terminal", "region_code", toml_str(req.region.as_str())),
        ("terminal", "site", toml_str(&req.site)),
        ("data", "dir", toml_str(data_dir_s)),
        ("platform", "base_url", toml_str(&req.platform_url)),
        ("platform", "ca_file", toml_str(&ca)),
        (
            "platform",
            "proxy",
            toml_str(req.proxy.as_deref().unwrap_or("")),
        ),
    ] {
        text = set_key(&text, section, key, &value)?;
    }
    let p = Profile::parse(&text, &req.config_out.display().to_string())
        .map_err(|e| ProvisionError::Input(format!("生成的配置无效：{e}")))?;
    let ok = p.terminal.region_code == req.region
        && p.terminal.site == req.site
        && p.terminal.kind == req.kind
        && p.platform.base_url == req.platform_url
        && p.data.dir == data_dir_s;
    if !ok {
        return Err(ProvisionError::Other(
            "生成的配置与输入不一致（程序内置模板有误，请升级程序）".into(),
        ));
    }
    Ok(text)
}

/// Removes what a failed run created, in reverse order, unless disarmed.
struct Undo {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    armed: bool,
}

impl Undo {
    fn file(&mut self, p: PathBuf) {
        self.files.push(p);
    }
    fn dir(&mut self, p: PathBuf) {
        self.dirs.push(p);
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        for f in self.files.iter().rev() {
            let _ = std::fs::remove_file(f);
        }
        for d in self.dirs.iter().rev() {
            // Only directories this run made, and only when empty again.
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// The service account's group, made by the package (`packaging/debian/postinst`).
const SERVICE_GROUP: &str = "ykb";

/// As root, where the service group exists: `path` becomes root:ykb 0640. Otherwise it stays
/// as written (the running user's, 0600).
fn share_with_service_group(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions; getgrnam gets a NUL-terminated name and its result
    // is read at once, before any other call could reuse its static buffer.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let name = std::ffi::CString::new(SERVICE_GROUP).expect("no NUL");
    let group = unsafe { libc::getgrnam(name.as_ptr()) };
    if group.is_null() {
        return Ok(());
    }
    let gid = unsafe { (*group).gr_gid };
    std::os::unix::fs::chown(path, Some(0), Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640))
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Removes what an interrupted earlier run (power cut, Ctrl+C) staged: its files never reached
/// their final names, so nothing uses them, but the staging directory holds a data key.
fn remove_interrupted_runs(data_dir: &Path, config_out: &Path) {
    if let Ok(entries) = std::fs::read_dir(data_dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".provision-") {
                tracing::warn!(path = %e.path().display(), "removing an interrupted provisioning run");
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let (Some(dir), Some(name)) = (config_out.parent(), config_out.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.provision-", name.to_string_lossy());
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&prefix) && n.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// When running as root, hands the staged files (and the staging directory) to the owner of
/// `data_dir` if that is not root.
fn give_to_dir_owner(data_dir: &Path, staging: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let meta = std::fs::metadata(data_dir)?;
    if meta.uid() == 0 {
        return Ok(());
    }
    std::os::unix::fs::chown(staging, Some(meta.uid()), Some(meta.gid()))?;
    for e in std::fs::read_dir(staging)? {
        std::os::unix::fs::chown(e?.path(), Some(meta.uid()), Some(meta.gid()))?;
    }
    Ok(())
}

/// Checks everything that can be checked without side effects.
fn preflight(req: &ProvisionRequest) -> Result<ed25519_dalek::VerifyingKey, ProvisionError> {
    if req.enrolment_code.trim().is_empty() {
        return Err(ProvisionError::Input(
            "注册码不能为空：请填写平台运维发放的一次性注册码（--enrolment-code）".into(),
        ));
    }
    if req.site.trim().is_empty() {
        return Err(ProvisionError::Input(
            "站点不能为空：请填写终端所在位置（--site）".into(),
        ));
    }
    template(req.kind)?;
    let key_text = std::fs::read_to_string(&req.catalog_key_file).map_err(|e| {
        ProvisionError::Input(format!(
            "无法读取平台目录签名公钥 {}（{e}）。请从平台运维处获取公钥文件（64 位十六进制），用 --catalog-key 指定。",
            req.catalog_key_file.display()
        ))
    })?;
    let key = wire::verifying_key_from_hex(&key_text).map_err(|e| {
        ProvisionError::Input(format!(
            "平台目录签名公钥 {} 无效（{e}）。请核对公钥文件。",
            req.catalog_key_file.display()
        ))
    })?;
    if let Some(ca) = &req.ca_file {
        if !ca.is_file() {
            return Err(ProvisionError::Input(format!(
                "平台 CA 证书 {} 不存在。请检查 --ca-file 路径。",
                ca.display()
            )));
        }
    }
    if req.config_out.exists() {
        return Err(ProvisionError::ProfileExists(req.config_out.clone()));
    }
    let parent = req
        .config_out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(ProvisionError::ConfigOut {
            path: req.config_out.clone(),
            detail: format!("目录 {} 不存在", parent.display()),
        });
    }
    for file in [KEY_FILE, STORE_FILE, CATALOG_KEY_FILE] {
        if req.data_dir.join(file).exists() {
            return Err(ProvisionError::AlreadyProvisioned {
                dir: req.data_dir.clone(),
                file: file.to_owned(),
            });
        }
    }
    Ok(key)
}

/// Creates `dir` and any missing parents, recording each one made for the undo.
fn create_dirs(dir: &Path, undo: &mut Undo) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.exists() {
        missing.push(d.to_owned());
        match d.parent() {
            Some(p) if !p.as_os_str().is_empty() => d = p,
            _ => break,
        }
    }
    for m in missing.into_iter().rev() {
        std::fs::create_dir(&m)?;
        undo.dir(m.clone());
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&m, std::fs::Permissions::from_mode(0o750))?;
    }
    Ok(())
}

/// Provisions the terminal (see the module docs for the order of steps).
pub async fn provision(req: &ProvisionRequest) -> Result<Provisioned, ProvisionError> {
    let catalog_key = preflight(req)?;
    let mut undo = Undo {
        files: Vec::new(),
        dirs: Vec::new(),
        armed: true,
    };
    let dd_err = |e: std::io::Error| ProvisionError::DataDir {
        dir: req.data_dir.clone(),
        detail: e.to_string(),
    };
    create_dirs(&req.data_dir, &mut undo).map_err(dd_err)?;
    let data_dir = std::fs::canonicalize(&req.data_dir).map_err(dd_err)?;
    let text = profile_text(req, &data_dir)?;
    remove_interrupted_runs(&data_dir, &req.config_out);

    // Stage: every file goes into a private directory first.
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let staging = data_dir.join(format!(".provision-{tag}"));
    std::fs::create_dir(&staging).map_err(dd_err)?;
    undo.dir(staging.clone());
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))
            .map_err(dd_err)?;
    }
    let staged_pub = staging.join(CATALOG_KEY_FILE);
    undo.file(staged_pub.clone());
    write_new(
        &staged_pub,
        format!("{}\n", hex::encode(catalog_key.as_bytes())).as_bytes(),
        0o644,
    )
    .map_err(dd_err)?;
    let staged_key = staging.join(KEY_FILE);
    undo.file(staged_key.clone());
    let key = DataKey::create(&staged_key).map_err(|e| ProvisionError::DataDir {
        dir: req.data_dir.clone(),
        detail: e.to_string(),
    })?;
    let staged_db = staging.join(STORE_FILE);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        undo.file(PathBuf::from(format!("{}{suffix}", staged_db.display())));
    }
    let mut store = Store::open(&staged_db).map_err(|e| ProvisionError::DataDir {
        dir: req.data_dir.clone(),
        detail: e.to_string(),
    })?;
    outbox::bind_key(&mut store, &key).map_err(|e| ProvisionError::Other(e.to_string()))?;

    let config_tmp = req.config_out.with_file_name(format!(
        ".{}.provision-{tag}.tmp",
        req.config_out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let cfg_err = |e: std::io::Error| ProvisionError::ConfigOut {
        path: req.config_out.clone(),
        detail: e.to_string(),
    };
    undo.file(config_tmp.clone());
    // The profile holds the staff PIN hashes: 0600, or 0640 root:ykb when provisioning as
    // root where the package made the service group, so the services can read it.
    write_new(&config_tmp, text.as_bytes(), 0o600).map_err(cfg_err)?;
    share_with_service_group(&config_tmp).map_err(cfg_err)?;

    // Only now ask the platform: every local step that can fail for ordinary reasons has run.
    let client = PlatformClient::new(ClientConfig {
        base_url: req.platform_url.clone(),
        ca_file: req.ca_file.clone(),
        proxy: req.proxy.clone(),
        timeout: Duration::from_secs(REGISTER_TIMEOUT_SECS),
        catalog_key,
        max_catalog_bytes: DEFAULT_MAX_CATALOG_BYTES,
    })
    .map_err(|e| ProvisionError::Input(e.to_string()))?;
    let request = wire::RegisterRequest {
        enrolment_code: req.enrolment_code.trim().to_owned(),
        region_code: req.region.as_str().to_owned(),
        terminal_kind: kind_name(req.kind).to_owned(),
        name: req
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {}", req.site, kind_zh(req.kind))),
    };
    let creds = credentials::ensure_registered(&client, &mut store, &key, &request)
        .await
        .map_err(|e| match e {
            CredentialError::Platform(PlatformError::Rejected { status, reason })
                if matches!(status, 400 | 401 | 403 | 409) =>
            {
                ProvisionError::EnrolmentRefused(format!("{status}：{reason}"))
            }
            CredentialError::Platform(
                p @ (PlatformError::Unreachable(_)
                | PlatformError::Timeout
                | PlatformError::Server { .. }
                | PlatformError::RateLimited { .. }),
            ) => ProvisionError::Unreachable {
                url: req.platform_url.clone(),
                detail: p.to_string(),
            },
            other => ProvisionError::Other(other.to_string()),
        })?;
    let after = |detail: String| ProvisionError::AfterRegistration {
        device_id: creds.device_id.clone(),
        detail,
    };
    let detail = format!(
        "部署：区划 {}，类型 {}，设备号 {}，站点 {}",
        req.region,
        kind_name(req.kind),
        creds.device_id,
        req.site
    );
    let entry = audit::append(&mut store, &req.operator, AuditAction::Provisioned, &detail)
        .map_err(|e| after(e.to_string()))?;
    drop(store);

    // Run as root into a directory prepared for the service account (the package's
    // postinst makes /var/lib/ykb-terminal owned by ykb): the files take its owner, so the
    // service can open them.
    give_to_dir_owner(&data_dir, &staging).map_err(|e| after(e.to_string()))?;

    // Commit: rename into place, the profile last.
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut commit = || -> std::io::Result<()> {
        for name in [CATALOG_KEY_FILE, KEY_FILE, STORE_FILE] {
            let (from, to) = (staging.join(name), data_dir.join(name));
            if to.exists() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} 在部署过程中出现", to.display()),
                ));
            }
            std::fs::rename(&from, &to)?;
            moved.push((from, to));
        }
        for leftover in ["-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{leftover}", staged_db.display()));
            if from.exists() {
                let to =
                    PathBuf::from(format!("{}{leftover}", data_dir.join(STORE_FILE).display()));
                std::fs::rename(&from, &to)?;
                moved.push((from, to));
            }
        }
        sync_dir(&data_dir);
        if req.config_out.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} 在部署过程中出现", req.config_out.display()),
            ));
        }
        std::fs::rename(&config_tmp, &req.config_out)?;
        if let Some(p) = req.config_out.parent() {
            sync_dir(if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            });
        }
        Ok(())
    };
    if let Err(e) = commit() {
        // Put moved files back into staging so the undo removes them.
        for (from, to) in moved.iter().rev() {
            let _ = std::fs::rename(to, from);
        }
        return Err(after(e.to_string()));
    }
    undo.armed = false;
    let _ = std::fs::remove_dir(&staging);
    tracing::info!(device = %creds.device_id, "terminal provisioned");
    Ok(Provisioned {
        device_id: creds.device_id,
        config: req.config_out.clone(),
        data_dir,
        audit_seq: entry.seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_template_takes_the_site_values() {
        for kind in [
            TerminalKind::Kiosk,
            TerminalKind::Counter,
            TerminalKind::Bank,
            TerminalKind::Post,
        ] {
            let req = ProvisionRequest {
                region: RegionCode::new("500112").unwrap(),
                site: "渝北区 \"龙溪\" 便民服务中心".into(),
                kind,
                name: None,
                operator: Actor::technician("T1").unwrap(),
                enrolment_code: "X".into(),
                platform_url: "https://gw.example.invalid/terminal/v1".into(),
                catalog_key_file: PathBuf::from("/nonexistent"),
                config_out: PathBuf::from("/tmp/x.toml"),
                data_dir: PathBuf::from("/var/lib/ykb-terminal"),
                ca_file: None,
                proxy: Some("http://proxy.bank.invalid:3128".into()),
            };
            let text = profile_text(&req, Path::new("/var/lib/ykb-terminal")).unwrap();
            let p = Profile::parse(&text, "t").unwrap();
            assert_eq!(p.terminal.site, req.site);
            assert_eq!(p.platform.proxy, "http://proxy.bank.invalid:3128");
            assert!(text.contains("# What this terminal is"), "comments kept");
        }
    }
}
