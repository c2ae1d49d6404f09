//! The hall database's schema: numbered migrations recorded in `hall_schema`, applied by
//! `ykb-terminal hall init` under an advisory lock (two inits at once apply each migration
//! once). Terminals only [`check`] it: a schema newer than this build knows is refused naming
//! both versions, an older one or none asks for `hall init`.
//!
//! What the database itself enforces: a number once per hall, service and day (`UNIQUE`), one
//! ticket per tap (`UNIQUE (tap)`), an appointment checked in once per day, and at most one
//! ticket called at a window (a partial unique index on `state = 'called'`). Nothing personal
//! has a column.

use postgres::Client;
use serde::Serialize;

use super::describe;
use crate::core::ticketing::TicketError;

/// The schema version this build knows (the last migration).
pub const SCHEMA_VERSION: i32 = 1;

/// The migrations, in order: (version, what it does, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "hall queue: windows, tickets, outbox",
    r#"
CREATE TABLE hall_windows (
    hall text NOT NULL,
    number integer NOT NULL CHECK (number BETWEEN 1 AND 999),
    open boolean NOT NULL DEFAULT false,
    PRIMARY KEY (hall, number)
);
CREATE TABLE hall_tickets (
    id uuid PRIMARY KEY,
    hall text NOT NULL,
    day date NOT NULL,
    service text NOT NULL CHECK (service ~ '^[A-Z]$'),
    number integer NOT NULL CHECK (number BETWEEN 1 AND 999),
    kind text NOT NULL CHECK (kind IN ('walk_in', 'green', 'appointment')),
    priority smallint NOT NULL,
    appointment text,
    tap uuid,
    state text NOT NULL CHECK (state IN
        ('waiting', 'called', 'held', 'served', 'no_show', 'expired', 'withdrawn')),
    queue_service text NOT NULL,
    target_window integer,
    transferred boolean NOT NULL DEFAULT false,
    queue_seq bigserial NOT NULL,
    at_window integer,
    calls integer NOT NULL DEFAULT 0,
    issued_ms bigint NOT NULL,
    first_called_ms bigint,
    called_ms bigint,
    finished_ms bigint,
    evaluated boolean NOT NULL DEFAULT false,
    issued_by text NOT NULL,
    CONSTRAINT hall_number_once UNIQUE (hall, day, service, number),
    CONSTRAINT hall_one_ticket_per_tap UNIQUE (tap),
    CONSTRAINT hall_appointment_once UNIQUE (hall, day, appointment)
);
CREATE UNIQUE INDEX hall_one_current_per_window ON hall_tickets (hall, at_window)
    WHERE state = 'called';
CREATE INDEX hall_waiting ON hall_tickets (hall, day, queue_seq) WHERE state = 'waiting';
CREATE INDEX hall_calls ON hall_tickets (hall, day, called_ms DESC) WHERE called_ms IS NOT NULL;
CREATE TABLE hall_outbox (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    body jsonb NOT NULL,
    created_ms bigint NOT NULL,
    delivered_ms bigint
);
CREATE INDEX hall_outbox_pending ON hall_outbox (created_ms) WHERE delivered_ms IS NULL;
"#,
)];

fn hall(msg: String) -> TicketError {
    TicketError::Hall(msg)
}

/// The schema version recorded in the database, `None` when it has no hall schema.
fn version(client: &mut Client) -> Result<Option<i32>, TicketError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('hall_schema') IS NOT NULL", &[])
        .map_err(|e| describe(&e))?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let v: Option<i32> = client
        .query_one("SELECT max(version) FROM hall_schema", &[])
        .map_err(|e| describe(&e))?
        .get(0);
    Ok(Some(v.unwrap_or(0)))
}

/// Refuses a database that is not a hall database or whose schema is not this build's.
pub fn check(client: &mut Client) -> Result<(), TicketError> {
    match version(client)? {
        None => Err(hall(
            "ticketing.queue 指向的数据库不是大厅数据库（没有大厅表结构）：请大厅信息员运行 ykb-terminal hall init --config 配置文件".into(),
        )),
        Some(v) if v > SCHEMA_VERSION => Err(hall(format!(
            "大厅数据库（ticketing.queue）的表结构是第 {v} 版，比本终端认识的第 {SCHEMA_VERSION} 版新：请把本终端的 ykb-terminal 升级到与大厅一致的版本"
        ))),
        Some(v) if v < SCHEMA_VERSION => Err(hall(format!(
            "大厅数据库（ticketing.queue）的表结构是第 {v} 版，本终端需要第 {SCHEMA_VERSION} 版：请大厅信息员运行 ykb-terminal hall init --config 配置文件"
        ))),
        Some(_) => Ok(()),
    }
}

/// What `hall init` did: the version found and the version now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Migrated {
    pub from: i32,
    pub to: i32,
}

/// Creates or migrates the hall schema, one transaction under an advisory lock. Refuses a
/// database with tables of its own that is not a hall database, and a newer schema.
pub fn init(client: &mut Client) -> Result<Migrated, TicketError> {
    let mut tx = client.transaction().map_err(|e| describe(&e))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('ykb_hall_schema'))",
        &[],
    )
    .map_err(|e| describe(&e))?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('hall_schema') IS NOT NULL", &[])
        .map_err(|e| describe(&e))?
        .get(0);
    let from = if exists {
        let v: Option<i32> = tx
            .query_one("SELECT max(version) FROM hall_schema", &[])
            .map_err(|e| describe(&e))?
            .get(0);
        v.unwrap_or(0)
    } else {
        let others: i64 = tx
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                &[],
            )
            .map_err(|e| describe(&e))?
            .get(0);
        if others > 0 {
            return Err(hall(format!(
                "ticketing.queue 指向的数据库里已有 {others} 张别的表，不像大厅数据库：请确认地址指向大厅专用的数据库（新建一个空库再运行 hall init）"
            )));
        }
        tx.batch_execute(
            "CREATE TABLE hall_schema (
                 version integer PRIMARY KEY,
                 note text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .map_err(|e| describe(&e))?;
        0
    };
    if from > SCHEMA_VERSION {
        return Err(hall(format!(
            "大厅数据库的表结构是第 {from} 版，比本程序认识的第 {SCHEMA_VERSION} 版新：请用新版本的 ykb-terminal 运行 hall init"
        )));
    }
    for (v, note, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > from) {
        tx.batch_execute(sql).map_err(|e| describe(&e))?;
        tx.execute(
            "INSERT INTO hall_schema (version, note) VALUES ($1, $2)",
            &[v, note],
        )
        .map_err(|e| describe(&e))?;
    }
    tx.commit().map_err(|e| describe(&e))?;
    Ok(Migrated {
        from,
        to: SCHEMA_VERSION,
    })
}

/// What `hall status` reports about the database itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallStatusReport {
    pub schema_version: i32,
    /// `primary` or `standby` (a hot standby in recovery).
    pub role: String,
    /// The server reached (host:port as the server reports it).
    pub server: String,
    pub windows_open: i64,
    /// Supervision events written by the hall and not yet delivered to the platform.
    pub outbox_backlog: i64,
}

/// Reads the database's side of `hall status` for `hall`.
pub fn report(client: &mut Client, hall_id: &str) -> Result<HallStatusReport, TicketError> {
    let schema_version = version(client)?.unwrap_or(0);
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(),
                    COALESCE(host(inet_server_addr()), 'local') || ':' || current_setting('port'),
                    (SELECT count(*) FROM hall_windows WHERE hall = $1 AND open),
                    (SELECT count(*) FROM hall_outbox WHERE delivered_ms IS NULL)",
            &[&hall_id],
        )
        .map_err(|e| describe(&e))?;
    Ok(HallStatusReport {
        schema_version,
        role: if row.get::<_, bool>(0) {
            "standby".into()
        } else {
            "primary".into()
        },
        server: row.get(1),
        windows_open: row.get(2),
        outbox_backlog: row.get(3),
    })
}
