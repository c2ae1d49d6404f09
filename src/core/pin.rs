//! Staff PINs as profiles hold them. Only the hash is configured; the PIN itself is never
//! stored or logged. Two forms are read:
//!
//! - **Argon2id** (RFC 9106, RustCrypto's `argon2`), the PHC string that `argon2` tools and
//!   Python's `argon2-cffi` write: `$argon2id$v=19$m=KIB,t=PASSES,p=LANES$SALT_B64$HASH_B64`.
//!   Memory-hard: a guess costs [`DEFAULT_M_KIB`] KiB and ≥ 100 ms on a terminal, and
//!   cannot be spread cheaply over a GPU. New hashes are made this way ([`PinHash::create`]).
//! - **PBKDF2-HMAC-SHA256** (RFC 8018), `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`, the
//!   form older profiles hold; they keep working unchanged (nothing is rehashed: the
//!   profile is read-only to the apps), but a 6-digit PIN under it is cheap to guess from a
//!   stolen profile, so they should be replaced.
//!
//! A check takes its full cost, also for an unknown id ([`check`]); the apps run it off the
//! UI thread.

use base64::Engine as _;
use sha2::Sha256;

/// The scheme name at the start of a PBKDF2 hash.
pub const SCHEME: &str = "pbkdf2-sha256";
/// Fewest iterations accepted (a PIN has few digits: the work factor is what protects it).
pub const MIN_ITERATIONS: u32 = 10_000;
/// Most iterations accepted: each sign-in runs them, and more than this would keep a
/// clerk waiting for many seconds (4,294,967,295 would take about an hour).
pub const MAX_ITERATIONS: u32 = 5_000_000;

/// Argon2id memory of new hashes, KiB (64 MiB).
pub const DEFAULT_M_KIB: u32 = 64 * 1024;
/// Argon2id passes of new hashes.
pub const DEFAULT_T: u32 = 3;
/// Least Argon2id memory accepted, KiB (RFC 9106's second recommendation is 64 MiB; OWASP's
/// floor is 19 MiB with two passes).
pub const MIN_M_KIB: u32 = 19 * 1024;
/// Most Argon2id memory accepted, KiB (256 MiB: a sign-in must not starve the kiosk).
pub const MAX_M_KIB: u32 = 256 * 1024;
/// Fewest and most Argon2id passes accepted.
pub const MIN_T: u32 = 2;
pub const MAX_T: u32 = 10;
/// Most Argon2id lanes accepted (they are computed one after another here).
pub const MAX_P: u32 = 8;

/// A parsed PIN hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinHash {
    /// Argon2id, version 0x13.
    Argon2id {
        m_kib: u32,
        t: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// PBKDF2-HMAC-SHA256 with a 32-byte output (older profiles).
    Pbkdf2 {
        iterations: u32,
        salt: Vec<u8>,
        hash: [u8; 32],
    },
}

/// Base64 as PHC strings write it: standard alphabet, no padding.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

impl PinHash {
    /// Parses the profile form; the error says what is wrong (zh-CN, for `check-config`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with("$argon2") {
            return Self::parse_argon2(s);
        }
        let shape = || {
            format!("应为 $argon2id$v=19$m=…,t=…,p=…$盐$哈希（推荐），或 {SCHEME}$迭代次数$盐(十六进制)$哈希(64位十六进制)，见 kiosk-config/counter.toml 的说明")
        };
        let mut parts = s.split('$');
        let (Some(scheme), Some(it), Some(salt), Some(hash), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(shape());
        };
        if scheme != SCHEME {
            return Err(shape());
        }
        let iterations: u32 = it.parse().map_err(|_| shape())?;
        if iterations < MIN_ITERATIONS {
            return Err(format!(
                "迭代次数至少为 {MIN_ITERATIONS}，现为 {iterations}"
            ));
        }
        if iterations > MAX_ITERATIONS {
            return Err(format!(
                "迭代次数至多为 {MAX_ITERATIONS}（每次登录都要计算一遍），现为 {iterations}"
            ));
        }
        let salt = hex::decode(salt).map_err(|_| shape())?;
        if salt.len() < 8 {
            return Err("盐至少 8 字节（16 位十六进制）".into());
        }
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or_else(shape)?;
        Ok(Self::Pbkdf2 {
            iterations,
            salt,
            hash,
        })
    }

    fn parse_argon2(s: &str) -> Result<Self, String> {
        let shape =
            || "应为 $argon2id$v=19$m=内存KiB,t=轮数,p=并行度$盐(Base64)$哈希(Base64)".to_owned();
        let parts: Vec<&str> = s.split('$').collect();
        let ["", alg, version, params, salt, hash] = parts.as_slice() else {
            return Err(shape());
        };
        if *alg != "argon2id" {
            return Err(format!(
                "只接受 argon2id（现为 {alg}）：argon2i/argon2d 不适合口令"
            ));
        }
        if *version != "v=19" {
            return Err(format!("只接受 Argon2 版本 v=19（现为 {version}）"));
        }
        let (mut m, mut t, mut p) = (None, None, None);
        for kv in params.split(',') {
            let (k, v) = kv.split_once('=').ok_or_else(shape)?;
            let v: u32 = v.parse().map_err(|_| shape())?;
            match k {
                "m" => m = Some(v),
                "t" => t = Some(v),
                "p" => p = Some(v),
                _ => return Err(shape()),
            }
        }
        let (Some(m_kib), Some(t), Some(p)) = (m, t, p) else {
            return Err(shape());
        };
        if !(MIN_M_KIB..=MAX_M_KIB).contains(&m_kib) {
            return Err(format!(
                "Argon2id 内存 m 应在 {MIN_M_KIB} 到 {MAX_M_KIB} KiB 之间，现为 {m_kib}"
            ));
        }
        if !(MIN_T..=MAX_T).contains(&t) {
            return Err(format!(
                "Argon2id 轮数 t 应在 {MIN_T} 到 {MAX_T} 之间，现为 {t}"
            ));
        }
        if !(1..=MAX_P).contains(&p) {
            return Err(format!(
                "Argon2id 并行度 p 应在 1 到 {MAX_P} 之间，现为 {p}"
            ));
        }
        let salt = B64.decode(salt).map_err(|_| shape())?;
        if salt.len() < 8 {
            return Err("盐至少 8 字节".into());
        }
        let hash = B64.decode(hash).map_err(|_| shape())?;
        if !(16..=64).contains(&hash.len()) {
            return Err("哈希应为 16 到 64 字节".into());
        }
        Ok(Self::Argon2id {
            m_kib,
            t,
            p,
            salt,
            hash,
        })
    }

    /// Hashes `pin` with PBKDF2 and `salt` (for tests; new hashes use [`PinHash::create`]).
    pub fn new(pin: &str, salt: &[u8], iterations: u32) -> Self {
        Self::Pbkdf2 {
            iterations,
            salt: salt.to_vec(),
            hash: pbkdf2_sha256(pin.as_bytes(), salt, iterations),
        }
    }

    /// Hashes `pin` with Argon2id at the given cost and `salt` (8 bytes or more).
    pub fn argon2id(pin: &str, salt: &[u8], m_kib: u32, t: u32) -> Self {
        let mut hash = vec![0u8; 32];
        argon2id(pin.as_bytes(), salt, m_kib, t, 1, &mut hash);
        Self::Argon2id {
            m_kib,
            t,
            p: 1,
            salt: salt.to_vec(),
            hash,
        }
    }

    /// A new hash of `pin` as profiles should hold it: Argon2id at the default cost with a
    /// random 16-byte salt.
    pub fn create(pin: &str) -> Self {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the system's random source");
        Self::argon2id(pin, &salt, DEFAULT_M_KIB, DEFAULT_T)
    }

    /// Whether `pin` matches, compared in constant time.
    pub fn verify(&self, pin: &str) -> bool {
        let (got, want): (Vec<u8>, &[u8]) = match self {
            Self::Argon2id {
                m_kib,
                t,
                p,
                salt,
                hash,
            } => {
                let mut got = vec![0u8; hash.len()];
                argon2id(pin.as_bytes(), salt, *m_kib, *t, *p, &mut got);
                (got, hash.as_slice())
            }
            Self::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => (
                pbkdf2_sha256(pin.as_bytes(), salt, *iterations).to_vec(),
                hash.as_slice(),
            ),
        };
        got.len() == want.len()
            && got
                .iter()
                .zip(want.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

impl std::fmt::Display for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Argon2id {
                m_kib,
                t,
                p,
                salt,
                hash,
            } => write!(
                f,
                "$argon2id$v=19$m={m_kib},t={t},p={p}${}${}",
                B64.encode(salt),
                B64.encode(hash)
            ),
            Self::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => write!(
                f,
                "{SCHEME}${iterations}${}${}",
                hex::encode(salt),
                hex::encode(hash)
            ),
        }
    }
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output (RustCrypto's `pbkdf2`).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations)
}

/// Argon2id v0x13 into `out` (parameters checked by [`PinHash::parse`]; out of range they
/// yield no match: `out` is left zeroed and a real hash is never all zeros).
fn argon2id(password: &[u8], salt: &[u8], m_kib: u32, t: u32, p: u32, out: &mut [u8]) {
    let hashed = argon2::Params::new(m_kib, t, p, Some(out.len()))
        .map(|params| {
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        })
        .and_then(|a| a.hash_password_into(password, salt, out));
    if let Err(e) = hashed {
        tracing::error!(error = %e, "PIN hash parameters refused by Argon2");
        out.fill(0);
    }
}

/// Whether `pin` opens the account `id` among `accounts` (id, PIN hash). An unknown id or an
/// unreadable hash costs the same work as a wrong PIN, so timing tells nothing about which
/// ids exist.
pub fn check<'a>(
    accounts: impl IntoIterator<Item = (&'a str, &'a str)>,
    id: &str,
    pin: &str,
) -> bool {
    let id = id.trim();
    match accounts
        .into_iter()
        .find(|(a, _)| *a == id)
        .map(|(_, h)| PinHash::parse(h))
    {
        Some(Ok(h)) => h.verify(pin),
        // The cost of a new hash: what an account made today would take.
        _ => {
            let _ = PinHash::argon2id(pin, b"no-such-account", DEFAULT_M_KIB, DEFAULT_T);
            false
        }
    }
}

/// A PIN check to run away from the UI thread (a memory-hard hash takes 0.1–0.3 s): the
/// accounts (id, PIN hash), the id and the PIN typed. Its `Debug` never shows the PIN.
#[derive(Clone, PartialEq, Eq)]
pub struct PinCheck {
    accounts: Vec<(String, String)>,
    id: String,
    pin: String,
}

impl PinCheck {
    pub fn new<'a>(
        accounts: impl IntoIterator<Item = (&'a str, &'a str)>,
        id: &str,
        pin: String,
    ) -> Self {
        Self {
            accounts: accounts
                .into_iter()
                .map(|(a, h)| (a.to_owned(), h.to_owned()))
                .collect(),
            id: id.to_owned(),
            pin,
        }
    }

    /// The id typed.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs the check ([`check`]); blocks for the hash's cost.
    pub fn run(&self) -> bool {
        check(
            self.accounts.iter().map(|(a, h)| (a.as_str(), h.as_str())),
            &self.id,
            &self.pin,
        )
    }
}

impl std::fmt::Debug for PinCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinCheck")
            .field("id", &self.id)
            .field("pin", &"***")
            .finish_non_exhaustive()
    }
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The PIN was right.
    Ok,
    /// Unknown id or wrong PIN; `left` more tries before sign-in pauses.
    Wrong { left: u32 },
    /// Wrong again: sign-in pauses for this many seconds.
    Paused { secs: u64 },
    /// Still paused from earlier failures; nothing was checked.
    StillPaused { secs: u64 },
}

impl SignIn {
    /// What to tell the person at the screen (zh-CN).
    pub fn message(&self) -> String {
        match self {
            SignIn::Ok => String::new(),
            SignIn::Wrong { left } => format!("工号或密码不对，还可以再试 {left} 次"),
            SignIn::Paused { secs } | SignIn::StillPaused { secs } => {
                format!("错误次数过多，请 {secs} 秒后再试")
            }
        }
    }
}

/// Loads the throttle state stored for `scope` (e.g. `counter`, `technician`).
pub fn load_throttle(
    store: &mut super::store::Store,
    scope: &str,
) -> Result<ThrottleState, super::store::StoreError> {
    use rusqlite::OptionalExtension;
    ensure_throttle_table(store)?;
    Ok(store
        .conn()
        .query_row(
            "SELECT failures, paused_until_ms FROM pin_throttle WHERE scope = ?1",
            [scope],
            |r| {
                Ok(ThrottleState {
                    failures: r.get::<_, i64>(0)?.clamp(0, i64::from(u32::MAX)) as u32,
                    paused_until_ms: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

/// Stores the throttle state of `scope`, so a restart does not reset the count or the pause.
pub fn save_throttle(
    store: &mut super::store::Store,
    scope: &str,
    s: ThrottleState,
) -> Result<(), super::store::StoreError> {
    ensure_throttle_table(store)?;
    store.conn().execute(
        "INSERT INTO pin_throttle (scope, failures, paused_until_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT(scope) DO UPDATE SET failures = excluded.failures,
            paused_until_ms = excluded.paused_until_ms",
        rusqlite::params![scope, i64::from(s.failures), s.paused_until_ms],
    )?;
    Ok(())
}

/// The table holds no personal data: a scope name, a count and a time.
fn ensure_throttle_table(store: &mut super::store::Store) -> Result<(), super::store::StoreError> {
    store.conn().execute_batch(
        "CREATE TABLE IF NOT EXISTS pin_throttle (
            scope TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            paused_until_ms INTEGER
        )",
    )?;
    Ok(())
}

/// Wrong PINs in a row pause sign-in: `lockout` after `max_failures`, doubling after each
/// further failure (capped at an hour).
#[derive(Debug, Clone)]
pub struct Throttle {
    failures: u32,
    paused_until: Option<std::time::Instant>,
    max_failures: u32,
    lockout: std::time::Duration,
}

/// What a [`Throttle`] remembers across restarts: failures in a row and, when paused, until
/// when (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThrottleState {
    pub failures: u32,
    pub paused_until_ms: Option<i64>,
}

/// The longest pause (a restored pause never runs longer, whatever the clock did).
const MAX_PAUSE: std::time::Duration = std::time::Duration::from_secs(3600);

impl Throttle {
    /// The state to store, with `now` on both clocks.
    pub fn state(&self, now: std::time::Instant, now_ms: i64) -> ThrottleState {
        ThrottleState {
            failures: self.failures,
            paused_until_ms: self
                .remaining(now)
                .map(|d| now_ms.saturating_add(d.as_millis() as i64)),
        }
    }

    /// Takes up a stored state: the failures, and what is left of the pause (at most an
    /// hour, so a clock set back cannot lock sign-in for longer).
    pub fn restore(&mut self, s: ThrottleState, now: std::time::Instant, now_ms: i64) {
        self.failures = s.failures;
        self.paused_until = s
            .paused_until_ms
            .map(|until| until.saturating_sub(now_ms))
            .filter(|left| *left > 0)
            .map(|left| now + std::time::Duration::from_millis(left as u64).min(MAX_PAUSE));
    }

    pub fn new(max_failures: u32, lockout: std::time::Duration) -> Self {
        Self {
            failures: 0,
            paused_until: None,
            max_failures: max_failures.max(1),
            lockout,
        }
    }

    /// How long sign-in stays paused, if it is.
    pub fn remaining(&self, now: std::time::Instant) -> Option<std::time::Duration> {
        self.paused_until
            .and_then(|u| u.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// One attempt: `check` runs only when sign-in is not paused.
    pub fn attempt(&mut self, now: std::time::Instant, check: impl FnOnce() -> bool) -> SignIn {
        if let Err(paused) = self.begin(now) {
            return paused;
        }
        self.record(check(), now)
    }

    /// Whether a PIN may be checked now: `Err(StillPaused)` while sign-in is paused. The
    /// check itself may then run elsewhere (a worker thread); [`Throttle::record`] takes its
    /// outcome.
    pub fn begin(&self, now: std::time::Instant) -> Result<(), SignIn> {
        match self.remaining(now) {
            Some(left) => Err(SignIn::StillPaused {
                secs: left.as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    /// The outcome of a check that [`Throttle::begin`] allowed.
    pub fn record(&mut self, ok: bool, now: std::time::Instant) -> SignIn {
        if ok {
            self.failures = 0;
            self.paused_until = None;
            return SignIn::Ok;
        }
        self.failures += 1;
        if self.failures < self.max_failures {
            return SignIn::Wrong {
                left: self.max_failures - self.failures,
            };
        }
        let doublings = (self.failures - self.max_failures).min(10);
        let pause = self.lockout.saturating_mul(1 << doublings).min(MAX_PAUSE);
        self.paused_until = Some(now + pause);
        SignIn::Paused {
            secs: pause.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn matches_the_rfc_7914_test_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256 ("passwd", "salt", c = 1), first 32 bytes.
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"passwd", b"salt", 1)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    #[test]
    fn a_hash_round_trips_and_checks_the_pin() {
        let h = PinHash::new("123456", b"demo-salt", MIN_ITERATIONS);
        let parsed = PinHash::parse(&h.to_string()).unwrap();
        assert!(parsed.verify("123456"));
        assert!(!parsed.verify("123457"));
        assert!(!parsed.verify(""));
    }

    /// Made by the reference implementation (Debian's `argon2` tool):
    /// `printf 246810 | argon2 ykb-demo-T0001 -id -t 3 -m 16 -p 1 -e`.
    const REFERENCE: &str =
        "$argon2id$v=19$m=65536,t=3,p=1$eWtiLWRlbW8tVDAwMDE$voNdY5WAl7nP1qSZF2JKfvd/oNRDGVb00j10C6h18nQ";

    #[test]
    fn argon2id_hashes_match_the_reference_implementation_and_check_the_pin() {
        let h = PinHash::parse(REFERENCE).unwrap();
        assert!(h.verify("246810"));
        assert!(!h.verify("246811"));
        assert!(!h.verify(""));
        assert_eq!(h.to_string(), REFERENCE, "written back as read");
        assert_eq!(
            PinHash::argon2id("246810", b"ykb-demo-T0001", DEFAULT_M_KIB, DEFAULT_T).to_string(),
            REFERENCE
        );
        // New hashes: Argon2id at the default cost, a fresh salt each time.
        let (a, b) = (PinHash::create("246810"), PinHash::create("246810"));
        assert_ne!(a, b);
        assert!(a.to_string().starts_with("$argon2id$v=19$m=65536,t=3,p=1$"));
        assert!(PinHash::parse(&a.to_string()).unwrap().verify("246810"));
    }

    #[test]
    fn old_pbkdf2_hashes_still_verify_beside_argon2id_accounts() {
        let old = PinHash::new("1357", b"old-salt", 20_000).to_string();
        let accounts = [("S0001", REFERENCE), ("S0002", old.as_str())];
        assert!(check(accounts.iter().copied(), "S0001", "246810"));
        assert!(check(accounts.iter().copied(), "S0002", "1357"));
        assert!(!check(accounts.iter().copied(), "S0002", "246810"));
        assert!(!check(accounts.iter().copied(), "nobody", "1357"));
    }

    /// Issue 17: a guess at a hash a profile should hold costs at least 100 ms here (Argon2 is
    /// built optimised in test builds too, see Cargo.toml), and so does a guess at an unknown
    /// id; cheaper Argon2id settings are refused.
    #[test]
    fn a_guess_costs_at_least_100_ms_and_cheap_settings_are_refused() {
        let h = PinHash::parse(REFERENCE).unwrap();
        let t = std::time::Instant::now();
        assert!(!h.verify("000000"));
        let guess = t.elapsed();
        assert!(
            guess >= Duration::from_millis(100),
            "one guess took {guess:?}"
        );
        let t = std::time::Instant::now();
        assert!(!check([("S0001", REFERENCE)], "S9999", "246810"));
        let unknown = t.elapsed();
        assert!(
            unknown >= Duration::from_millis(100),
            "an unknown id took {unknown:?}"
        );
        for cheap in [
            "$argon2id$v=19$m=4096,t=3,p=1$eWtiLWRlbW8tVDAwMDE$voNdY5WAl7nP1qSZF2JKfvd/oNRDGVb00j10C6h18nQ",
            "$argon2id$v=19$m=65536,t=1,p=1$eWtiLWRlbW8tVDAwMDE$voNdY5WAl7nP1qSZF2JKfvd/oNRDGVb00j10C6h18nQ",
            "$argon2d$v=19$m=65536,t=3,p=1$eWtiLWRlbW8tVDAwMDE$voNdY5WAl7nP1qSZF2JKfvd/oNRDGVb00j10C6h18nQ",
            "$argon2id$v=16$m=65536,t=3,p=1$eWtiLWRlbW8tVDAwMDE$voNdY5WAl7nP1qSZF2JKfvd/oNRDGVb00j10C6h18nQ",
            "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$voNdY5WAl7nP1qSZF2JKfvd/oNRDGVb00j10C6h18nQ",
        ] {
            assert!(PinHash::parse(cheap).is_err(), "{cheap}");
        }
    }

    #[test]
    fn the_shipped_profiles_hold_argon2id_hashes_only() {
        for name in ["demo.toml", "counter-demo.toml", "counter.toml"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("kiosk-config")
                .join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            let hashes: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("pin_hash = \""))
                .map(|l| l.trim_end_matches('"'))
                .collect();
            assert!(!hashes.is_empty(), "{name}");
            for h in hashes {
                assert!(
                    matches!(PinHash::parse(h), Ok(PinHash::Argon2id { m_kib, .. }) if m_kib >= DEFAULT_M_KIB),
                    "{name}: {h}"
                );
            }
        }
    }

    #[test]
    fn weak_or_malformed_hashes_are_refused() {
        let ok = PinHash::new("1", b"saltsalt", MIN_ITERATIONS).to_string();
        assert!(PinHash::parse(&ok).is_ok());
        assert!(PinHash::parse(&ok.replace("10000", "1000")).is_err());
        assert!(PinHash::parse(&ok.replace("pbkdf2-sha256", "md5")).is_err());
        assert!(PinHash::parse("123456").is_err());
        assert!(PinHash::parse(&format!("{ok}$x")).is_err());
    }

    #[test]
    fn wrong_pins_pause_sign_in_doubling_and_a_paused_attempt_checks_nothing() {
        use std::time::{Duration, Instant};
        let hash = PinHash::new("2468", b"salt-salt", MIN_ITERATIONS).to_string();
        let accounts = [("T0001", hash.as_str())];
        let t = Instant::now();
        let mut th = Throttle::new(3, Duration::from_secs(30));
        let try_pin = |th: &mut Throttle, id: &str, pin: &str, at| {
            th.attempt(at, || check(accounts.iter().copied(), id, pin))
        };
        assert_eq!(
            try_pin(&mut th, "T0001", "1111", t),
            SignIn::Wrong { left: 2 }
        );
        assert_eq!(
            try_pin(&mut th, "nobody", "2468", t),
            SignIn::Wrong { left: 1 }
        );
        assert_eq!(
            try_pin(&mut th, "T0001", "0000", t),
            SignIn::Paused { secs: 30 }
        );
        // While paused, even the right PIN is not checked.
        assert_eq!(
            try_pin(&mut th, "T0001", "2468", t + Duration::from_secs(10)),
            SignIn::StillPaused { secs: 20 }
        );
        let later = t + Duration::from_secs(31);
        assert_eq!(
            try_pin(&mut th, "T0001", "9999", later),
            SignIn::Paused { secs: 60 }
        );
        let later = later + Duration::from_secs(61);
        assert_eq!(try_pin(&mut th, " T0001 ", "2468", later), SignIn::Ok);
        assert_eq!(
            try_pin(&mut th, "T0001", "1", later),
            SignIn::Wrong { left: 2 }
        );
    }

    #[test]
    fn the_throttle_survives_a_restart_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let t = Instant::now();
        let now_ms = 1_800_000_000_000;
        {
            let mut store = crate::core::store::Store::open(&path).unwrap();
            let mut th = Throttle::new(3, Duration::from_secs(30));
            for _ in 0..3 {
                th.attempt(t, || false);
            }
            save_throttle(&mut store, "counter", th.state(t, now_ms)).unwrap();
        }
        // A new process: a fresh throttle, restored from the store 10 s later.
        let mut store = crate::core::store::Store::open(&path).unwrap();
        let s = load_throttle(&mut store, "counter").unwrap();
        assert_eq!(s.failures, 3);
        let t2 = Instant::now();
        let mut th = Throttle::new(3, Duration::from_secs(30));
        th.restore(s, t2, now_ms + 10_000);
        assert_eq!(
            th.attempt(t2, || true),
            SignIn::StillPaused { secs: 20 },
            "the right PIN is not even checked while the stored pause runs"
        );
        // Another failure after the pause doubles it: the count was kept too.
        assert_eq!(
            th.attempt(t2 + Duration::from_secs(21), || false),
            SignIn::Paused { secs: 60 }
        );
        // Other scopes are separate; a clock far ahead cannot lock for more than an hour.
        assert_eq!(
            load_throttle(&mut store, "technician").unwrap(),
            ThrottleState::default()
        );
        let mut th = Throttle::new(3, Duration::from_secs(30));
        th.restore(
            ThrottleState {
                failures: 3,
                paused_until_ms: Some(now_ms + 365 * 86_400_000),
            },
            t2,
            now_ms,
        );
        assert!(th.remaining(t2).unwrap() <= Duration::from_secs(3600));
    }
}
