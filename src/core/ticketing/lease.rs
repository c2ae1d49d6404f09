//! Number leases: which ranges a terminal should ask the platform for, recording (after
//! checking) what it granted, topping every service up, and what is left to issue.

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::params;

use super::{hall_date, immediate, TicketError};
use crate::core::config::TicketingSection;
use crate::core::platform::wire::{TicketLease, TicketLeaseRequest};
use crate::core::platform::{PlatformClient, PlatformError};
use crate::core::store::Store;

/// A leased range of numbers with the next one to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRange {
    pub first: u32,
    pub last: u32,
    pub next: u32,
}

impl LeaseRange {
    /// Numbers still to issue.
    pub fn remaining(&self) -> u32 {
        (self.last + 1).saturating_sub(self.next)
    }
}

/// The leases a terminal should ask for now: services whose numbers for `today` run below
/// `lease_low_water` and whose leases have not reached the daily cap.
pub fn lease_requests(
    store: &mut Store,
    cfg: &TicketingSection,
    today: Date,
) -> Result<Vec<TicketLeaseRequest>, TicketError> {
    let day = today.to_string();
    let conn = store.conn();
    let mut out = Vec::new();
    for s in &cfg.services {
        let (remaining, top): (i64, i64) = conn.query_row(
            "SELECT COALESCE(SUM(last + 1 - next), 0), COALESCE(MAX(last), 0)
             FROM ticket_leases WHERE service = ?1 AND day = ?2",
            params![s.prefix, day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if remaining < i64::from(cfg.lease_low_water) && top < i64::from(s.daily_cap) {
            out.push(TicketLeaseRequest {
                hall: cfg.hall.clone(),
                service: s.prefix.clone(),
                date: day.clone(),
                count: cfg.lease_size,
                daily_cap: s.daily_cap,
            });
        }
    }
    Ok(out)
}

/// Records a lease the platform granted, after checking it answers `request` and overlaps
/// no range this store already holds (nothing from the platform reaches the store unchecked).
pub fn record_lease(
    store: &mut Store,
    request: &TicketLeaseRequest,
    lease: &TicketLease,
    now: Timestamp,
) -> Result<(), TicketError> {
    let bad = |m: String| Err(TicketError::BadLease(m));
    if lease.hall != request.hall || lease.service != request.service || lease.date != request.date
    {
        return bad(format!(
            "应答的大厅/业务/日期 {}/{}/{} 与请求的 {}/{}/{} 不符",
            lease.hall, lease.service, lease.date, request.hall, request.service, request.date
        ));
    }
    if lease.first == 0
        || lease.first > lease.last
        || lease.last > request.daily_cap.min(999)
        || lease.last - lease.first >= request.count
    {
        return bad(format!(
            "号段 {}–{} 无效（请求 {} 个，每日上限 {}）",
            lease.first, lease.last, request.count, request.daily_cap
        ));
    }
    let tx = immediate(store)?;
    let overlap: i64 = tx.query_row(
        "SELECT count(*) FROM ticket_leases WHERE service = ?1 AND day = ?2
         AND first <= ?4 AND last >= ?3",
        params![lease.service, lease.date, lease.first, lease.last],
        |r| r.get(0),
    )?;
    if overlap > 0 {
        return bad(format!(
            "号段 {}–{} 与本机已有号段重叠",
            lease.first, lease.last
        ));
    }
    tx.execute(
        "INSERT INTO ticket_leases (hall, service, day, first, last, next, leased_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6)",
        params![
            lease.hall,
            lease.service,
            lease.date,
            lease.first,
            lease.last,
            now.to_string()
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// What a top-up did.
#[derive(Debug, Default)]
pub struct TopUp {
    /// Leases recorded.
    pub leased: Vec<TicketLease>,
    /// Services the platform or the network refused, with why.
    pub failed: Vec<(String, String)>,
}

/// Tops up every service that runs low for today: asks the platform for a range each and
/// records it. The store lock is never held across a network call. Failures are reported per
/// service; the terminal keeps issuing from what it holds.
pub async fn top_up(
    store: &std::sync::Mutex<Store>,
    client: &PlatformClient,
    cfg: &TicketingSection,
    now: Timestamp,
) -> Result<TopUp, TicketError> {
    let lock = || store.lock().unwrap_or_else(|p| p.into_inner());
    let requests = lease_requests(&mut lock(), cfg, hall_date(now))?;
    let mut out = TopUp::default();
    for req in requests {
        match client.ticket_lease(&req).await {
            Ok(lease) => {
                record_lease(&mut lock(), &req, &lease, Timestamp::now())?;
                out.leased.push(lease);
            }
            Err(e) => {
                let msg = match &e {
                    PlatformError::Rejected { status: 409, .. } => {
                        format!("今日号源已由平台发完（{e}）")
                    }
                    _ => e.to_string(),
                };
                tracing::warn!(service = %req.service, error = %e, "ticket lease not granted");
                out.failed.push((req.service.clone(), msg));
            }
        }
    }
    Ok(out)
}

/// Numbers this store can still issue today, per service letter.
pub fn lease_remaining(store: &mut Store, service: &str, today: Date) -> Result<u32, TicketError> {
    let n: i64 = store.conn().query_row(
        "SELECT COALESCE(SUM(last + 1 - next), 0) FROM ticket_leases WHERE service = ?1 AND day = ?2",
        params![service, today.to_string()],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u32)
}
