//! `[local_device_service]` (optional): the kiosk's own devices for other departments'
//! services and for the host terminal's application — an XFS4IoT-shaped WebSocket on
//! loopback only (`terminal::devservice`). Absent, nothing listens.
//!
//! Each client application is named in the profile with the services it may use and a token
//! in a secret file of its own (0600, like the other secrets): relative paths are in the
//! data directory, and a missing file is created with a fresh random token, which the
//! technician then hands to that application.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The services the local device service offers, by their path name.
pub const SERVICES: [&str; 5] = [
    "YkbIdCard",
    "Printer",
    "YkbErrand",
    "BarcodeReader",
    "Camera",
];

/// `[local_device_service]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalDeviceServiceSection {
    /// The loopback port (XFS4IoT's 5846–5856; 0 = any free one, for tests).
    pub port: u16,
    /// The client applications allowed, each with its own token.
    pub clients: Vec<ClientApp>,
}

/// One client application allowed to use the local device service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientApp {
    /// Its id (letters, digits, `._-`; written to the audit log).
    pub id: String,
    /// What the citizen is told asks (「XX 服务请求读取您的身份证信息」).
    pub name: String,
    /// The file holding its token (0600).
    pub token_file: PathBuf,
    /// The services it may use, from [`SERVICES`].
    pub services: Vec<String>,
}

impl LocalDeviceServiceSection {
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let key = |k: &str| format!("local_device_service.{k}");
        if self.port != 0 && !(5846..=5856).contains(&self.port) {
            return Err((
                key("port"),
                format!("应在 XFS4IoT 的端口 5846 到 5856 之间，现为 {}", self.port),
            ));
        }
        if self.clients.is_empty() {
            return Err((
                key("clients"),
                "至少要列出一个可使用本机设备的应用（id、name、token_file、services）".into(),
            ));
        }
        for (i, c) in self.clients.iter().enumerate() {
            let at = |k: &str| key(&format!("clients[{i}].{k}"));
            if crate::core::audit::Actor::client(&c.id).is_err() {
                return Err((
                    at("id"),
                    format!(
                        "应用编号 {:?} 无效：只能使用 1–32 个字母、数字或 . _ -",
                        c.id
                    ),
                ));
            }
            if self.clients[..i].iter().any(|o| o.id == c.id) {
                return Err((at("id"), format!("应用编号 {:?} 重复", c.id)));
            }
            if c.name.trim().is_empty() || c.name.chars().count() > 40 {
                return Err((at("name"), "应填写向市民显示的服务名称（1–40 个字）".into()));
            }
            if c.token_file.as_os_str().is_empty() {
                return Err((
                    at("token_file"),
                    "应填写存放该应用令牌的文件（权限 0600）".into(),
                ));
            }
            if c.services.is_empty() {
                return Err((at("services"), "至少要允许一个服务".into()));
            }
            if let Some(s) = c.services.iter().find(|s| !SERVICES.contains(&s.as_str())) {
                return Err((
                    at("services"),
                    format!("没有服务 {s:?}（可用 {}）", SERVICES.join("、")),
                ));
            }
        }
        Ok(())
    }
}

/// The smallest token accepted from a file, in characters.
const MIN_TOKEN: usize = 16;

/// Reads a client's token from `path` (relative: in `data_dir`), creating the file with a
/// fresh random token when it is missing. Refuses a file others can read, and a short token.
pub fn load_token(path: &Path, data_dir: &Path) -> Result<String, String> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = if path.is_relative() {
        data_dir.join(path)
    } else {
        path.to_owned()
    };
    let shown = path.display();
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("令牌文件 {shown} 的目录无法创建（{e}）"))?;
            }
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes).map_err(|e| format!("无法生成令牌（{e}）"))?;
            let token = hex::encode(bytes);
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut f| writeln!(f, "{token}"))
                .map_err(|e| format!("令牌文件 {shown} 无法写入（{e}）"))?;
            tracing::info!(file = %shown, "local device service: new client token written");
            Ok(token)
        }
        Err(e) => Err(format!("令牌文件 {shown} 无法读取（{e}）")),
        Ok(meta) if !meta.is_file() => Err(format!("令牌文件 {shown} 不是普通文件")),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "令牌文件 {shown} 的权限是 {mode:04o}，其他用户也能读到令牌：请运行 chmod 0600 {shown}"
                ));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("令牌文件 {shown} 无法读取（{e}）"))?;
            let token = text.trim().to_owned();
            if token.chars().count() < MIN_TOKEN || token.chars().any(char::is_whitespace) {
                return Err(format!(
                    "令牌文件 {shown} 中的令牌应为至少 {MIN_TOKEN} 个字符、不含空白的一行"
                ));
            }
            Ok(token)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn with_section(section: &str) -> Result<crate::core::config::Profile, String> {
        let text = format!("{}\n{section}", crate::core::config::DEMO_PROFILE);
        crate::core::config::Profile::parse(&text, "t.toml").map_err(|e| e.to_string())
    }

    const CLIENT: &str = "[[local_device_service.clients]]\nid = \"bank-app\"\nname = \"银行自助服务\"\ntoken_file = \"t/bank.token\"\n";

    #[test]
    fn the_section_is_checked_key_by_key() {
        let ok =
            format!("[local_device_service]\nport = 5846\n{CLIENT}services = [\"YkbIdCard\"]\n");
        assert!(with_section(&ok).unwrap().local_device_service.is_some());
        assert!(crate::core::config::Profile::demo()
            .local_device_service
            .is_none());
        let cases = [
            (format!("[local_device_service]\nport = 8080\n{CLIENT}services = [\"YkbIdCard\"]\n"), "local_device_service.port"),
            (format!("[local_device_service]\nport = 5846\n{CLIENT}services = [\"Lights\"]\n"), "clients[0].services"),
            (format!("[local_device_service]\nport = 5846\n{CLIENT}services = []\n"), "clients[0].services"),
            (format!("[local_device_service]\nport = 5846\n{CLIENT}services = [\"Printer\"]\n{CLIENT}services = [\"Printer\"]\n"), "clients[1].id"),
            ("[local_device_service]\nport = 5846\nclients = []\n".to_owned(), "local_device_service.clients"),
            (format!("[local_device_service]\nport = 5846\n{}services = [\"Printer\"]\n", CLIENT.replace("bank-app", "张三")), "clients[0].id"),
        ];
        for (text, key) in cases {
            let e = with_section(&text).unwrap_err();
            assert!(e.contains(key), "{key}: {e}");
        }
    }

    #[test]
    fn a_missing_token_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let t = load_token(Path::new("lds/bank.token"), dir.path()).unwrap();
        assert_eq!(t.len(), 48);
        let p = dir.path().join("lds/bank.token");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_token(&p, Path::new("/nonexistent")).unwrap(), t);
    }

    #[test]
    fn a_token_file_others_can_read_or_a_short_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t");
        std::fs::write(&p, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_token(&p, dir.path()).unwrap_err();
        assert!(e.contains("chmod 0600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(load_token(&p, dir.path()).is_ok());
        std::fs::write(&p, "short\n").unwrap();
        assert!(load_token(&p, dir.path()).unwrap_err().contains("至少"));
    }
}
