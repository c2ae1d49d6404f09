//! The hall database: the queue every kiosk, counter and calling display of a hall shares, on
//! the hall's PostgreSQL server (`ticketing.queue`, a libpq URI; the password in
//! `ticketing.queue_password_file`; TLS with `sslmode=verify-full&sslrootcert=HALL_CA` in the
//! URI, [`tls`]).
//!
//! It is a second store of the core, beside the terminal's SQLite file, and like it holds SQL
//! only here: [`schema`] (numbered migrations, applied by `hall init` only — a terminal never
//! migrates; it refuses a schema of another version), [`queue`] (the [`HallQueue`]
//! implementation: the same pure decisions as the embedded queue, each action one
//! transaction whose guarantees the database enforces).
//!
//! Invariant: nothing personal reaches the hall database. It is handed a decided
//! [`ticketing::IssuePlan`] (service, kind, priority, appointment code) — never an ID number or
//! the reason for the green channel; `tests/architecture.rs` keeps those names out of this room.
//!
//! [`HallQueue`]: crate::core::ticketing::HallQueue
//! [`ticketing::IssuePlan`]: crate::core::ticketing::IssuePlan

use std::str::FromStr;
use std::time::Duration;

use postgres::error::SqlState;

use super::config::TicketingSection;
use super::ticketing::TicketError;

pub mod deliver;
pub mod listen;
pub mod offline;
pub mod prepared;
pub mod queue;
pub mod schema;
pub mod tls;

pub use queue::Hall;

/// What the counter and the display say while the hall database cannot be reached.
pub const DOWN_ZH: &str = "叫号服务中断（连不上大厅数据库）：可继续受理办件，恢复后自动重连";
pub use schema::{HallStatusReport, Migrated, SCHEMA_VERSION};

/// The NOTIFY channel every queue change is announced on (the payload is the hall's id).
pub const CHANNEL: &str = "ykb_hall";

/// Checks a `ticketing.queue` URI without connecting: what `check-config` says.
pub fn check_uri(uri: &str) -> Result<(), String> {
    let u = uri.trim();
    if !(u.starts_with("postgresql://") || u.starts_with("postgres://")) {
        return Err(format!(
            "应为大厅数据库的连接地址（postgresql://主机1,主机2/数据库?target_session_attrs=read-write），现为 {u:?}"
        ));
    }
    let (u, _) = tls::split(u)?;
    let cfg = postgres::Config::from_str(&u).map_err(|e| {
        format!("连接地址无法解析（{e}），应如 postgresql://hall-db-1,hall-db-2/ykb_hall")
    })?;
    if cfg.get_password().is_some() {
        return Err(
            "连接地址里不能写密码：请删去地址中的密码，把它写进 ticketing.queue_password_file 指向的文件（权限 0600）"
                .into(),
        );
    }
    if cfg.get_hosts().is_empty() {
        return Err("连接地址里没有数据库服务器的主机名".into());
    }
    if cfg.get_dbname().is_none() {
        return Err("连接地址里没有数据库名（如 postgresql://hall-db/ykb_hall）".into());
    }
    Ok(())
}

/// A connection to the hall database, its schema checked.
pub struct HallDb {
    pub(crate) client: postgres::Client,
    /// This connection's prepared statements ([`prepared`]).
    pub(crate) stmts: prepared::Statements,
}

impl std::fmt::Debug for HallDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HallDb").finish_non_exhaustive()
    }
}

impl HallDb {
    /// Connects to `cfg.queue` and checks its schema is the one this terminal knows.
    pub fn connect(cfg: &TicketingSection) -> Result<Self, TicketError> {
        let mut db = Self::connect_unchecked(cfg)?;
        schema::check(&mut db.client)?;
        Ok(db)
    }

    /// Connects without checking the schema (`hall init`, which creates it).
    pub fn connect_unchecked(cfg: &TicketingSection) -> Result<Self, TicketError> {
        Self::open(cfg).map_err(|(e, _)| e)
    }

    /// Connects; a failure says whether the server was not reached at all (`true`: a
    /// network or server outage) rather than refusing (a password, a database, a schema).
    fn open(cfg: &TicketingSection) -> Result<Self, (TicketError, bool)> {
        let refused = |e| (e, false);
        let uri = cfg
            .queue
            .as_deref()
            .ok_or_else(|| {
                TicketError::Hall(
                    "配置中没有 ticketing.queue（大厅数据库的连接地址）：本终端使用内置队列".into(),
                )
            })
            .map_err(refused)?;
        let (uri, root) = tls::split(uri.trim())
            .map_err(TicketError::Hall)
            .map_err(refused)?;
        let mut pg = postgres::Config::from_str(&uri)
            .map_err(|e| {
                TicketError::Hall(format!(
                    "ticketing.queue 无法解析（{e}）：请运行 ykb-terminal check-config 查看"
                ))
            })
            .map_err(refused)?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(5));
        }
        if pg.get_application_name().is_none() {
            pg.application_name("ykb-terminal");
        }
        if let Some(path) = &cfg.queue_password_file {
            pg.password(read_password(path).map_err(refused)?);
        }
        let client = match root {
            Some(root) => {
                let tls = tls::Connector::new(&root)
                    .map_err(TicketError::Hall)
                    .map_err(refused)?;
                pg.ssl_mode(postgres::config::SslMode::Require);
                pg.connect(tls)
            }
            None => pg.connect(postgres::NoTls),
        }
        .map_err(|e| {
            // A certificate the hall CA did not sign is a refusal, not an outage.
            let tls = tls::is_tls_failure(&e);
            (describe(&e), e.as_db_error().is_none() && !tls)
        })?;
        Ok(Self {
            client,
            stmts: prepared::Statements::default(),
        })
    }
}

/// A terminal's lasting link to the hall database: connects when first needed and again after
/// the connection broke, so a terminal recovers by itself when the server is back.
///
/// With a pause ([`HallLink::pausing`]), a failed connection is not tried again for that long:
/// the kiosk then issues offline at once instead of waiting out a connect timeout on every tap.
#[derive(Debug, Default)]
pub struct HallLink {
    db: Option<HallDb>,
    pause: std::time::Duration,
    /// Until when a failed connection is not tried again, and why it failed.
    down: Option<(std::time::Instant, String)>,
    /// The last failure was not reaching the server at all (not a refusal).
    unreachable: bool,
}

impl HallLink {
    /// A link that, after a failed connection, waits `pause` before it tries again.
    pub fn pausing(pause: std::time::Duration) -> Self {
        Self {
            pause,
            ..Self::default()
        }
    }

    /// Whether the last failed [`HallLink::get`] did not reach the server at all (an outage,
    /// a cut link), as opposed to a server that refused (password, database, schema).
    pub fn unreachable(&self) -> bool {
        self.unreachable
    }

    /// The connection, (re)connecting if there is none or it broke; the sentence why not.
    pub fn get(&mut self, cfg: &TicketingSection) -> Result<&mut HallDb, TicketError> {
        if self.db.as_ref().is_some_and(|d| d.client.is_closed()) {
            self.db = None;
        }
        if self.db.is_none() {
            if let Some((until, why)) = &self.down {
                if std::time::Instant::now() < *until {
                    return Err(TicketError::Hall(why.clone()));
                }
            }
            let opened = HallDb::open(cfg).and_then(|mut db| {
                schema::check(&mut db.client)
                    .map(|()| db)
                    .map_err(|e| (e, false))
            });
            match opened {
                Ok(db) => {
                    self.down = None;
                    self.unreachable = false;
                    self.db = Some(db);
                }
                Err((e, unreachable)) => {
                    self.down = Some((std::time::Instant::now() + self.pause, e.to_string()));
                    self.unreachable = unreachable;
                    return Err(e);
                }
            }
        }
        Ok(self.db.as_mut().expect("connected above"))
    }
}

impl HallDb {
    /// Creates or migrates the hall schema (`hall init`).
    pub fn init(&mut self) -> Result<Migrated, TicketError> {
        schema::init(&mut self.client)
    }

    /// The database's side of `hall status` for `hall`.
    pub fn report(&mut self, hall: &str) -> Result<HallStatusReport, TicketError> {
        schema::report(&mut self.client, hall)
    }
}

/// Reads the password file: it must be the owner's alone (0600), one line.
fn read_password(path: &std::path::Path) -> Result<String, TicketError> {
    use std::os::unix::fs::PermissionsExt;
    let key = "ticketing.queue_password_file";
    let meta = std::fs::metadata(path).map_err(|e| {
        TicketError::Hall(format!(
            "{key}（{}）无法读取（{e}）：请确认文件存在且本终端的用户可读",
            path.display()
        ))
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TicketError::Hall(format!(
            "{key}（{}）的权限是 {mode:04o}，其他用户也能读到密码：请运行 chmod 0600 {}",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| TicketError::Hall(format!("{key}（{}）无法读取（{e}）", path.display())))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

/// One sentence for a hall-database failure: what went wrong, which profile key to check and
/// what to do.
pub(crate) fn describe(e: &postgres::Error) -> TicketError {
    let code = e.code();
    // What the client library says went wrong underneath (the cause, not its wrapper).
    let detail = || {
        std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_else(|| e.to_string())
    };
    let msg = if code == Some(&SqlState::INVALID_PASSWORD)
        || code == Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
    {
        "大厅数据库拒绝登录（ticketing.queue 中的用户名或 ticketing.queue_password_file 中的密码不对）：请向大厅信息员核对后重试".to_owned()
    } else if code == Some(&SqlState::INVALID_CATALOG_NAME) {
        "ticketing.queue 指向的数据库不存在：请在大厅数据库服务器上创建它（createdb），再运行 ykb-terminal hall init --config 配置文件".to_owned()
    } else if tls::is_tls_failure(e) {
        format!(
            "与大厅数据库的加密连接未建立（{}）：请确认 ticketing.queue 的 sslrootcert 是大厅的 CA 证书、地址中的主机名与服务器证书一致，且服务器已开启 TLS",
            detail()
        )
    } else if let Some(db) = e.as_db_error() {
        format!(
            "大厅数据库（ticketing.queue）出错：{}：请联系大厅信息员",
            db.message()
        )
    } else {
        format!(
            "连接不上大厅数据库（ticketing.queue）：{}：请检查地址、端口与网络，或请大厅信息员检查数据库服务器",
            detail()
        )
    };
    TicketError::Hall(msg)
}
