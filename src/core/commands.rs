//! 远程运维命令 — remote operations commands that ride the heartbeat answer.
//!
//! The platform signs each command (Ed25519, the catalogue key) over
//! [`wire::command_canonical`]: format tag, id, device id, name, argument, issued-at and
//! expiry. [`check`] is the whole decision, pure: the signature first (nothing else of an
//! unsigned command is trusted), then the device it is meant for, then its times (expired,
//! issued in the future beyond the clock tolerance, or living longer than
//! [`MAX_LIFETIME_SECS`]), then whether its id was seen before, then its name and argument.
//! [`receive`] runs it against the store and records the command, its outcome and its audit
//! entry in one transaction, so an id is executed at most once even across a crash; the
//! executor (`ops::commands`) reports back with [`finish`], and the heartbeat carries
//! [`unacked`] results until the platform has them ([`mark_acked`]).
//!
//! Authentic ids are remembered until their expiry has passed ([`prune`]): after that a
//! replay is refused as expired, so the memory stays bounded by [`MAX_LIFETIME_SECS`].
//!
//! Where an app must act (maintenance, a restart between citizens), the command sets a
//! switch in the store ([`maintenance_requested`], [`restart_requested`]) that the app reads
//! when it is free to act; nothing calls into the app.
//!
//! Nothing here holds personal data: ids and names from the wire are masked and cut before
//! they reach the audit log.

use rusqlite::{params, OptionalExtension};

use super::audit::{self, Actor, AuditAction, AuditError};
use super::platform::wire::{self, CommandResult, OpsCommand};
use super::privacy::mask_long_numbers;
use super::store::{Store, StoreError};

/// Longest a command may live (expiry minus issue time): ids are remembered this long.
pub const MAX_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// How far in the future an issue time may be (the request-signing clock tolerance).
pub const MAX_FUTURE_SECS: i64 = wire::MAX_SKEW_SECS;

/// A command the terminal knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// A full catalogue sync (a snapshot, not a delta).
    Resync,
    /// Run the self-test and send its report.
    Selftest,
    /// Upload the diagnostics export (no personal data).
    CollectDiagnostics,
    /// 维护模式 on (`true`) or off: the kiosk finishes the current citizen's errand first.
    Maintenance(bool),
    /// Restart the app, only between citizens.
    Restart,
    /// Re-enter every dead letter into the outbox queue.
    RetryDeadLetters,
}

impl Command {
    /// Every name, as the platform sends it.
    pub const NAMES: [&'static str; 6] = [
        "resync",
        "selftest",
        "collect-diagnostics",
        "maintenance",
        "restart",
        "retry-dead-letters",
    ];

    /// The command for a wire name and argument.
    pub fn parse(name: &str, arg: Option<&str>) -> Result<Self, Refusal> {
        let no_arg = |c: Command| match arg {
            None | Some("") => Ok(c),
            Some(a) => Err(Refusal::BadArgument(clean(a))),
        };
        match name {
            "resync" => no_arg(Self::Resync),
            "selftest" => no_arg(Self::Selftest),
            "collect-diagnostics" => no_arg(Self::CollectDiagnostics),
            "restart" => no_arg(Self::Restart),
            "retry-dead-letters" => no_arg(Self::RetryDeadLetters),
            "maintenance" => match arg {
                Some("on") => Ok(Self::Maintenance(true)),
                Some("off") => Ok(Self::Maintenance(false)),
                other => Err(Refusal::BadArgument(clean(other.unwrap_or("")))),
            },
            other => Err(Refusal::Unknown(clean(other))),
        }
    }

    /// The wire name (with its argument, for maintenance).
    pub fn label(self) -> &'static str {
        match self {
            Self::Resync => "resync",
            Self::Selftest => "selftest",
            Self::CollectDiagnostics => "collect-diagnostics",
            Self::Maintenance(true) => "maintenance on",
            Self::Maintenance(false) => "maintenance off",
            Self::Restart => "restart",
            Self::RetryDeadLetters => "retry-dead-letters",
        }
    }
}

/// Why a command was refused (nothing of it was done).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The signature does not verify under the platform key (or is missing).
    #[error("签名无效，未执行：{0}")]
    BadSignature(String),
    /// Signed for another terminal.
    #[error("命令发给其他终端（{0}），未执行")]
    WrongDevice(String),
    /// Past its expiry.
    #[error("命令已于 {0} 过期，未执行")]
    Expired(String),
    /// Issued further in the future than the clock tolerance, or living too long.
    #[error("命令时间无效（签发时间在未来或有效期超过 7 天），未执行")]
    BadTimes,
    /// This id was received before.
    #[error("命令编号已执行过（重放），未再次执行")]
    Replayed,
    /// A name this terminal does not know.
    #[error("未知命令 {0:?}，未执行")]
    Unknown(String),
    /// A known name with an argument it does not take.
    #[error("命令参数 {0:?} 无效，未执行")]
    BadArgument(String),
}

/// Masks digit runs and cuts to 40 characters, so wire text is fit for the audit log.
fn clean(s: &str) -> String {
    mask_long_numbers(&s.chars().take(40).collect::<String>())
}

/// The whole decision on a received command, pure: `seen` says whether its id was received
/// before as an authentic command for this terminal; `now` is Unix seconds.
pub fn check(
    cmd: &OpsCommand,
    key: &ed25519_dalek::VerifyingKey,
    device_id: &str,
    now: i64,
    seen: bool,
) -> Result<Command, Refusal> {
    wire::verify_command(key, cmd).map_err(Refusal::BadSignature)?;
    if cmd.device_id != device_id {
        return Err(Refusal::WrongDevice(clean(&cmd.device_id)));
    }
    if cmd.issued_at > now + MAX_FUTURE_SECS
        || cmd.expires_at <= cmd.issued_at
        || cmd.expires_at - cmd.issued_at > MAX_LIFETIME_SECS
    {
        return Err(Refusal::BadTimes);
    }
    if now >= cmd.expires_at {
        let at = jiff::Timestamp::from_second(cmd.expires_at)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| cmd.expires_at.to_string());
        return Err(Refusal::Expired(at));
    }
    if seen {
        return Err(Refusal::Replayed);
    }
    Command::parse(&cmd.name, cmd.arg.as_deref())
}

/// Why the command store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit log refused the entry.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl From<rusqlite::Error> for CommandError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sql(e))
    }
}

/// Checks a received command against the store and records it with its audit entry in one
/// transaction. `Ok(Ok(command))`: execute it, then [`finish`]. `Ok(Err(refusal))`: refused,
/// recorded for acknowledgement, nothing to do.
pub fn receive(
    store: &mut Store,
    cmd: &OpsCommand,
    key: &ed25519_dalek::VerifyingKey,
    device_id: &str,
    now: i64,
) -> Result<Result<Command, Refusal>, CommandError> {
    let tx = store.conn().transaction()?;
    let seen: bool = tx
        .query_row(
            "SELECT 1 FROM ops_commands WHERE id = ?1 AND authentic = 1",
            [&cmd.id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let decision = check(cmd, key, device_id, now, seen);
    let authentic = !seen
        && !matches!(
            decision,
            Err(Refusal::BadSignature(_) | Refusal::WrongDevice(_))
        );
    let (outcome, detail, action) = match &decision {
        Ok(c) => (
            "pending",
            format!("已接受：{}", c.label()),
            AuditAction::RemoteCommand,
        ),
        Err(r) => ("refused", r.to_string(), AuditAction::RemoteCommandRefused),
    };
    tx.execute(
        "INSERT INTO ops_commands (id, name, authentic, expires_at, outcome, detail, received_at,
                                   finished_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?5 = 'refused' THEN ?7 END)",
        params![
            cmd.id,
            clean(&cmd.name),
            authentic,
            cmd.expires_at,
            outcome,
            detail,
            now
        ],
    )?;
    audit::append_in(
        &tx,
        &Actor::system(),
        action,
        &format!("远程命令 {} {}：{detail}", clean(&cmd.id), clean(&cmd.name)),
    )?;
    tx.commit()?;
    Ok(decision)
}

/// Records how an accepted command went (`Ok(detail)`: done; `Err(detail)`: failed) and
/// audits it.
pub fn finish(
    store: &mut Store,
    id: &str,
    command: Command,
    result: Result<String, String>,
    now: i64,
) -> Result<(), CommandError> {
    let (outcome, detail) = match result {
        Ok(d) => ("done", d),
        Err(d) => ("failed", d),
    };
    let detail = clean_detail(&detail);
    let tx = store.conn().transaction()?;
    tx.execute(
        "UPDATE ops_commands SET outcome = ?2, detail = ?3, finished_at = ?4
         WHERE id = ?1 AND authentic = 1 AND outcome = 'pending'",
        params![id, outcome, detail, now],
    )?;
    audit::append_in(
        &tx,
        &Actor::system(),
        AuditAction::RemoteCommand,
        &format!(
            "远程命令 {} {}：{}",
            clean(id),
            command.label(),
            if outcome == "done" {
                "已执行"
            } else {
                "执行失败"
            }
        ),
    )?;
    tx.commit()?;
    Ok(())
}

/// Result text fit for the wire and the log: digit runs masked, at most 300 characters.
fn clean_detail(s: &str) -> String {
    mask_long_numbers(&s.chars().take(300).collect::<String>())
}

/// Commands a previous run accepted but never finished (the terminal stopped meanwhile):
/// marked failed, not run again (at most once).
pub fn fail_interrupted(store: &mut Store, now: i64) -> Result<u64, CommandError> {
    let n = store.conn().execute(
        "UPDATE ops_commands SET outcome = 'failed', detail = '执行中断（终端重启），未重试',
                finished_at = ?1
         WHERE outcome = 'pending'",
        [now],
    )?;
    Ok(n as u64)
}

/// Results the platform does not have yet, oldest first (at most 50 a heartbeat).
pub fn unacked(store: &mut Store) -> Result<Vec<CommandResult>, CommandError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT id, outcome, detail, COALESCE(finished_at, received_at) FROM ops_commands
         WHERE acked = 0 AND outcome != 'pending' ORDER BY seq LIMIT 50",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CommandResult {
            id: r.get(0)?,
            outcome: r.get(1)?,
            detail: r.get(2)?,
            at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The platform took these results (the heartbeat that carried them was answered).
pub fn mark_acked(store: &mut Store, results: &[CommandResult]) -> Result<(), CommandError> {
    let tx = store.conn().transaction()?;
    for r in results {
        tx.execute(
            "UPDATE ops_commands SET acked = 1 WHERE id = ?1 AND outcome = ?2 AND acked = 0",
            params![r.id, r.outcome],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Forgets acknowledged commands an hour past their expiry (a replay of one is refused as
/// expired by then).
pub fn prune(store: &mut Store, now: i64) -> Result<u64, CommandError> {
    let n = store.conn().execute(
        "DELETE FROM ops_commands WHERE acked = 1 AND expires_at < ?1 - 3600",
        [now],
    )?;
    Ok(n as u64)
}

/// Sets an app switch (what a command asks an app to do when it is free to).
pub fn set_switch(
    store: &mut Store,
    name: &str,
    value: &str,
    command_id: Option<&str>,
    now: i64,
) -> Result<(), CommandError> {
    store.conn().execute(
        "INSERT INTO ops_switches (name, value, set_at, command_id) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at,
             command_id = excluded.command_id",
        params![name, value, now, command_id],
    )?;
    Ok(())
}

fn switch(store: &mut Store, name: &str) -> Result<Option<(String, i64)>, CommandError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT value, set_at FROM ops_switches WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Switch name: 维护模式 asked by operations (`on`/`off`).
pub const SWITCH_MAINTENANCE: &str = "maintenance";
/// Switch name: a restart asked by operations (`requested`), cleared by the app that
/// restarts.
pub const SWITCH_RESTART: &str = "restart";

/// Whether operations asked for 维护模式 (the kiosk shows it once no citizen is served).
pub fn maintenance_requested(store: &mut Store) -> Result<bool, CommandError> {
    Ok(switch(store, SWITCH_MAINTENANCE)?.is_some_and(|(v, _)| v == "on"))
}

/// When operations asked for a restart not yet done (Unix seconds), if one is pending.
pub fn restart_requested(store: &mut Store) -> Result<Option<i64>, CommandError> {
    Ok(switch(store, SWITCH_RESTART)?
        .filter(|(v, _)| v == "requested")
        .map(|(_, at)| at))
}

/// Switch name prefix: what an app says it is doing (`activity.kiosk`, `activity.counter`),
/// read by the agent before a software update (`activity`).
pub const SWITCH_ACTIVITY: &str = "activity";
/// An app's activity older than this (seconds) is from an app no longer running: it counts
/// as idle (an app refreshes its entry at least every [`ACTIVITY_REFRESH_SECS`]).
pub const ACTIVITY_STALE_SECS: i64 = 90;
/// How often a running app rewrites its activity even when it did not change.
pub const ACTIVITY_REFRESH_SECS: i64 = 30;

/// An app (`kiosk`, `counter`) says what it is doing: `idle`, `citizen` (a citizen is being
/// served) or `submitting` (a case is being submitted).
pub fn report_activity(
    store: &mut Store,
    app: &str,
    activity: crate::core::update::Activity,
    now: i64,
) -> Result<(), CommandError> {
    let value = if activity.submitting {
        "submitting"
    } else if activity.citizen_present {
        "citizen"
    } else {
        "idle"
    };
    set_switch(store, &format!("{SWITCH_ACTIVITY}.{app}"), value, None, now)
}

/// Says `activity` for `app` when it changed since `said` (what was last said, and when),
/// and every [`ACTIVITY_REFRESH_SECS`] anyway, so the agent sees a running app as fresh.
/// A failure is logged; the next check tries again.
pub fn keep_activity_said(
    store: &mut Store,
    app: &str,
    said: &mut Option<(crate::core::update::Activity, std::time::Instant)>,
    activity: crate::core::update::Activity,
    now: std::time::Instant,
) {
    let refresh = std::time::Duration::from_secs(ACTIVITY_REFRESH_SECS as u64);
    let fresh = said
        .is_some_and(|(was, at)| was == activity && now.saturating_duration_since(at) < refresh);
    if fresh {
        return;
    }
    match report_activity(store, app, activity, jiff::Timestamp::now().as_second()) {
        Ok(()) => *said = Some((activity, now)),
        Err(e) => tracing::warn!(error = %e, app, "activity not recorded"),
    }
}

/// What the apps on this terminal are doing, as far as they said within
/// [`ACTIVITY_STALE_SECS`] (an app that stopped saying so is not running, so serves nobody).
pub fn activity(
    store: &mut Store,
    now: i64,
) -> Result<crate::core::update::Activity, CommandError> {
    let mut stmt = store
        .conn()
        .prepare("SELECT value, set_at FROM ops_switches WHERE name LIKE 'activity.%'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut a = crate::core::update::Activity::default();
    for row in rows {
        let (value, at) = row?;
        if now - at > ACTIVITY_STALE_SECS || at > now + ACTIVITY_STALE_SECS {
            continue;
        }
        a.submitting |= value == "submitting";
        a.citizen_present |= value == "submitting" || value == "citizen";
    }
    Ok(a)
}

/// An app between citizens takes operations' restart request (if one is pending) and says
/// so in the log: `true` when the app is to end its event loop now (systemd's
/// `Restart=always` starts it again). A failure is logged and the app carries on.
pub fn restart_between_citizens(store: &mut Store, app: &str) -> bool {
    match take_restart(store, jiff::Timestamp::now().as_second()) {
        Ok(true) => {
            tracing::info!(
                app,
                "restarting as operations asked (no citizen being served)"
            );
            true
        }
        Ok(false) => false,
        Err(e) => {
            tracing::warn!(error = %e, app, "restart request not taken");
            false
        }
    }
}

/// The app is about to restart as asked: the request is taken (so the new process does not
/// restart again), audited.
pub fn take_restart(store: &mut Store, now: i64) -> Result<bool, CommandError> {
    let tx = store.conn().transaction()?;
    let n = tx.execute(
        "UPDATE ops_switches SET value = 'done', set_at = ?1
         WHERE name = 'restart' AND value = 'requested'",
        [now],
    )?;
    if n > 0 {
        audit::append_in(
            &tx,
            &Actor::system(),
            AuditAction::RemoteCommand,
            "远程命令 restart：无办事群众，程序重新启动",
        )?;
    }
    tx.commit()?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    const NOW: i64 = 1_780_000_000;

    fn key() -> SigningKey {
        wire::demo_signing_key()
    }

    fn cmd(name: &str, arg: Option<&str>) -> OpsCommand {
        let mut c = OpsCommand {
            id: "cmd-1".into(),
            device_id: "dev-1".into(),
            name: name.into(),
            arg: arg.map(str::to_owned),
            issued_at: NOW - 10,
            expires_at: NOW + 600,
            signature: String::new(),
        };
        wire::sign_command(&key(), &mut c);
        c
    }

    fn decide(c: &OpsCommand, seen: bool) -> Result<Command, Refusal> {
        check(c, &key().verifying_key(), "dev-1", NOW, seen)
    }

    #[test]
    fn every_known_command_is_accepted_once_signed() {
        for (name, arg, want) in [
            ("resync", None, Command::Resync),
            ("selftest", None, Command::Selftest),
            ("collect-diagnostics", None, Command::CollectDiagnostics),
            ("maintenance", Some("on"), Command::Maintenance(true)),
            ("maintenance", Some("off"), Command::Maintenance(false)),
            ("restart", None, Command::Restart),
            ("retry-dead-letters", None, Command::RetryDeadLetters),
        ] {
            assert_eq!(decide(&cmd(name, arg), false), Ok(want), "{name}");
        }
    }

    #[test]
    fn any_change_after_signing_breaks_the_signature() {
        let base = cmd("resync", None);
        let mut changes: Vec<OpsCommand> = Vec::new();
        let mut c = base.clone();
        c.name = "restart".into();
        changes.push(c);
        let mut c = base.clone();
        c.expires_at += 3600;
        changes.push(c);
        let mut c = base.clone();
        c.id = "cmd-2".into();
        changes.push(c);
        let mut c = base.clone();
        c.arg = Some("on".into());
        changes.push(c);
        let mut c = base.clone();
        c.signature = String::new();
        changes.push(c);
        for c in changes {
            assert!(
                matches!(decide(&c, false), Err(Refusal::BadSignature(_))),
                "{c:?}"
            );
        }
        // Signed by another key.
        let mut c = base.clone();
        wire::sign_command(&SigningKey::from_bytes(&[7; 32]), &mut c);
        assert!(matches!(decide(&c, false), Err(Refusal::BadSignature(_))));
    }

    #[test]
    fn expired_future_and_long_lived_commands_are_refused() {
        let mut c = cmd("resync", None);
        c.issued_at = NOW - 700;
        c.expires_at = NOW - 100;
        wire::sign_command(&key(), &mut c);
        assert!(matches!(decide(&c, false), Err(Refusal::Expired(_))));
        c.expires_at = NOW;
        wire::sign_command(&key(), &mut c);
        assert!(matches!(decide(&c, false), Err(Refusal::Expired(_))));
        c.issued_at = NOW + MAX_FUTURE_SECS + 1;
        c.expires_at = c.issued_at + 60;
        wire::sign_command(&key(), &mut c);
        assert_eq!(decide(&c, false), Err(Refusal::BadTimes));
        c.issued_at = NOW - 10;
        c.expires_at = c.issued_at + MAX_LIFETIME_SECS + 1;
        wire::sign_command(&key(), &mut c);
        assert_eq!(decide(&c, false), Err(Refusal::BadTimes));
    }

    #[test]
    fn a_seen_id_unknown_names_bad_arguments_and_other_devices_are_refused() {
        assert_eq!(decide(&cmd("resync", None), true), Err(Refusal::Replayed));
        assert!(matches!(
            decide(&cmd("format-disk", None), false),
            Err(Refusal::Unknown(n)) if n == "format-disk"
        ));
        assert!(matches!(
            decide(&cmd("maintenance", Some("maybe")), false),
            Err(Refusal::BadArgument(_))
        ));
        assert!(matches!(
            decide(&cmd("resync", Some("now")), false),
            Err(Refusal::BadArgument(_))
        ));
        let c = cmd("resync", None);
        assert!(matches!(
            check(&c, &key().verifying_key(), "dev-2", NOW, false),
            Err(Refusal::WrongDevice(_))
        ));
    }

    #[test]
    fn the_store_executes_an_id_once_and_keeps_results_until_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let vk = key().verifying_key();
        let c = cmd("retry-dead-letters", None);
        let first = receive(&mut store, &c, &vk, "dev-1", NOW).unwrap();
        assert_eq!(first, Ok(Command::RetryDeadLetters));
        // Nothing to acknowledge while it runs.
        assert!(unacked(&mut store).unwrap().is_empty());
        let again = receive(&mut store, &c, &vk, "dev-1", NOW + 1).unwrap();
        assert_eq!(again, Err(Refusal::Replayed));
        finish(
            &mut store,
            &c.id,
            Command::RetryDeadLetters,
            Ok("2 条".into()),
            NOW + 2,
        )
        .unwrap();
        // A forged copy with the same id does not count as the id's first sighting.
        let mut forged = cmd("restart", None);
        forged.id = "cmd-9".into();
        forged.signature = c.signature.clone();
        assert!(matches!(
            receive(&mut store, &forged, &vk, "dev-1", NOW + 3).unwrap(),
            Err(Refusal::BadSignature(_))
        ));
        let results = unacked(&mut store).unwrap();
        let outcomes: Vec<_> = results
            .iter()
            .map(|r| (r.id.as_str(), r.outcome.as_str()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("cmd-1", "done"),
                ("cmd-1", "refused"),
                ("cmd-9", "refused")
            ]
        );
        mark_acked(&mut store, &results).unwrap();
        assert!(unacked(&mut store).unwrap().is_empty());
        // Every step audited.
        let log = audit::list(&mut store).unwrap();
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "remote_command",
                "remote_command_refused",
                "remote_command",
                "remote_command_refused"
            ]
        );
        // Past expiry the acknowledged rows go; a replay is then refused as expired.
        assert_eq!(prune(&mut store, NOW + 600 + 3601).unwrap(), 3);
        assert!(matches!(
            receive(&mut store, &c, &vk, "dev-1", NOW + 600 + 3601).unwrap(),
            Err(Refusal::Expired(_))
        ));
    }

    #[test]
    fn an_interrupted_command_fails_instead_of_running_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let vk = key().verifying_key();
        let c = cmd("selftest", None);
        assert!(receive(&mut store, &c, &vk, "dev-1", NOW).unwrap().is_ok());
        assert_eq!(fail_interrupted(&mut store, NOW + 5).unwrap(), 1);
        let r = unacked(&mut store).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].outcome, "failed");
        assert_eq!(
            receive(&mut store, &c, &vk, "dev-1", NOW + 6).unwrap(),
            Err(Refusal::Replayed)
        );
    }

    #[test]
    fn apps_report_their_activity_and_a_silent_app_counts_as_idle() {
        use crate::core::update::Activity;
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        assert!(activity(&mut store, NOW).unwrap().idle());
        let serving = Activity {
            citizen_present: true,
            submitting: false,
        };
        report_activity(&mut store, "kiosk", serving, NOW).unwrap();
        assert_eq!(activity(&mut store, NOW + 10).unwrap(), serving);
        let submitting = Activity {
            citizen_present: true,
            submitting: true,
        };
        report_activity(&mut store, "counter", submitting, NOW).unwrap();
        assert_eq!(activity(&mut store, NOW + 10).unwrap(), submitting);
        // Neither app said anything for longer than the stale limit: nobody is served.
        assert!(activity(&mut store, NOW + ACTIVITY_STALE_SECS + 1)
            .unwrap()
            .idle());
        report_activity(&mut store, "kiosk", Activity::default(), NOW + 20).unwrap();
        report_activity(&mut store, "counter", Activity::default(), NOW + 20).unwrap();
        assert!(activity(&mut store, NOW + 21).unwrap().idle());
    }

    #[test]
    fn switches_carry_maintenance_and_one_restart() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        assert!(!maintenance_requested(&mut store).unwrap());
        set_switch(&mut store, SWITCH_MAINTENANCE, "on", Some("c1"), NOW).unwrap();
        assert!(maintenance_requested(&mut store).unwrap());
        set_switch(&mut store, SWITCH_MAINTENANCE, "off", Some("c2"), NOW).unwrap();
        assert!(!maintenance_requested(&mut store).unwrap());
        set_switch(&mut store, SWITCH_RESTART, "requested", Some("c3"), NOW).unwrap();
        assert_eq!(restart_requested(&mut store).unwrap(), Some(NOW));
        assert!(take_restart(&mut store, NOW + 1).unwrap());
        assert!(!take_restart(&mut store, NOW + 2).unwrap());
        assert_eq!(restart_requested(&mut store).unwrap(), None);
    }
}
