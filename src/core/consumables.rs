//! 耗材 — receipt paper. Every job the receipt printer finishes adds its length (estimated by
//! the ESC/POS driver from the bytes it sent, `ykb_drivers::escpos::paper_length_um`) to the
//! roll in the store (table `paper_roll`); [`PaperRoll::near_end`] says the roll is nearly
//! used up against `devices.printer.roll_length_mm` — before the printer's own near-end
//! sensor, which trips only with the last metre or two. A technician who puts in a new roll
//! resets the counter in 维护模式 ([`replace_roll`], audited). The heartbeat and the metrics
//! carry the counters ([`PaperRoll::wire`]).

use rusqlite::{params, OptionalExtension};

use super::audit::{self, Actor, AuditAction, AuditError};
use super::platform::wire::PaperUse;
use super::store::{Store, StoreError};

/// The estimate calls a roll near its end with this share of it left (or
/// [`NEAR_END_MIN_MM`], whichever is more).
pub const NEAR_END_SHARE: f64 = 0.10;
/// Paper left at which a roll is near its end however long it is.
pub const NEAR_END_MIN_MM: u64 = 5_000;

/// The roll in the printer, as counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaperRoll {
    /// Micrometres printed since the roll was replaced.
    pub used_um: u64,
    /// Jobs printed since the roll was replaced.
    pub jobs: u64,
    /// Rolls replaced since the store was created.
    pub rolls_replaced: u64,
}

impl PaperRoll {
    /// Millimetres printed on this roll.
    pub fn used_mm(&self) -> u64 {
        self.used_um / 1000
    }

    /// Millimetres left of a roll `roll_mm` long (0 once used up by the estimate).
    pub fn left_mm(&self, roll_mm: u32) -> u64 {
        u64::from(roll_mm).saturating_sub(self.used_mm())
    }

    /// Whether the estimate says the roll is near its end.
    pub fn near_end(&self, roll_mm: u32) -> bool {
        let threshold = ((f64::from(roll_mm) * NEAR_END_SHARE) as u64).max(NEAR_END_MIN_MM);
        self.left_mm(roll_mm) <= threshold
    }

    /// What the heartbeat carries.
    pub fn wire(&self, roll_mm: u32) -> PaperUse {
        PaperUse {
            used_mm: self.used_mm(),
            roll_mm: u64::from(roll_mm),
            jobs: self.jobs,
            rolls_replaced: self.rolls_replaced,
            near_end: self.near_end(roll_mm),
        }
    }
}

/// The roll as counted (all zero before the first job).
pub fn roll(store: &mut Store) -> Result<PaperRoll, StoreError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT used_um, jobs, rolls_replaced FROM paper_roll WHERE id = 1",
            [],
            |r| {
                Ok(PaperRoll {
                    used_um: r.get::<_, i64>(0)? as u64,
                    jobs: r.get::<_, i64>(1)? as u64,
                    rolls_replaced: r.get::<_, i64>(2)? as u64,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Adds one finished job of `um` micrometres.
pub fn record_job(store: &mut Store, um: u64) -> Result<PaperRoll, StoreError> {
    store.conn().execute(
        "INSERT INTO paper_roll (id, used_um, jobs) VALUES (1, ?1, 1)
         ON CONFLICT(id) DO UPDATE SET used_um = used_um + excluded.used_um, jobs = jobs + 1",
        params![um as i64],
    )?;
    roll(store)
}

/// A new roll is in: the counter starts again, audited with who did it.
pub fn replace_roll(store: &mut Store, actor: &Actor) -> Result<PaperRoll, AuditError> {
    let before = roll(store)?;
    let tx = store.conn().transaction()?;
    tx.execute(
        "INSERT INTO paper_roll (id, used_um, jobs, rolls_replaced, replaced_at)
         VALUES (1, 0, 0, 1, ?1)
         ON CONFLICT(id) DO UPDATE SET used_um = 0, jobs = 0,
             rolls_replaced = rolls_replaced + 1, replaced_at = excluded.replaced_at",
        [jiff::Timestamp::now().to_string()],
    )?;
    audit::append_in(
        &tx,
        actor,
        AuditAction::PaperReplaced,
        &format!(
            "更换收据纸卷：旧纸卷已打印 {} 张、约 {} 毫米",
            before.jobs,
            before.used_mm()
        ),
    )?;
    tx.commit()?;
    Ok(roll(store)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_add_up_near_end_comes_before_the_end_and_a_new_roll_resets() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(roll(&mut store).unwrap(), PaperRoll::default());
        // A 20 m roll: near its end with 5 m left (10 % would be 2 m).
        let roll_mm = 20_000;
        let mut r = PaperRoll::default();
        for _ in 0..14 {
            r = record_job(&mut store, 1_000_000).unwrap();
        }
        assert_eq!((r.jobs, r.used_mm()), (14, 14_000));
        assert!(!r.near_end(roll_mm));
        r = record_job(&mut store, 1_000_000).unwrap();
        assert!(r.near_end(roll_mm), "{r:?}");
        assert_eq!(r.wire(roll_mm).used_mm, 15_000);
        // A long roll uses the share: 200 m is near its end with 20 m left.
        assert!(!r.near_end(200_000));
        let r = replace_roll(&mut store, &Actor::technician("T0042").unwrap()).unwrap();
        assert_eq!((r.jobs, r.used_um, r.rolls_replaced), (0, 0, 1));
        let log = audit::list(&mut store).unwrap();
        assert_eq!(log.last().unwrap().action, "paper_replaced");
        assert_eq!(log.last().unwrap().actor, "technician:T0042");
        // Used beyond the roll: nothing left, not negative.
        let r = record_job(&mut store, 30_000_000).unwrap();
        assert_eq!(r.left_mm(roll_mm), 0);
    }
}
