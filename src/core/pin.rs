//! Staff PINs as profiles hold them: PBKDF2-HMAC-SHA256 (RFC 8018, the `pbkdf2` crate) with a per-staff salt,
//! written `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`. Only the hash is configured; the PIN
//! itself is never stored or logged. The same format as Python's
//! `hashlib.pbkdf2_hmac("sha256", pin, salt, iterations)`, so a technician can make one
//! anywhere (see `kiosk-config/counter.toml`).

use sha2::Sha256;

/// The scheme name at the start of a hash.
pub const SCHEME: &str = "pbkdf2-sha256";
/// Fewest iterations accepted (a PIN has few digits: the work factor is what protects it).
pub const MIN_ITERATIONS: u32 = 10_000;
/// Most iterations accepted: each sign-in runs them, and more than this would keep a
/// clerk waiting for many seconds (4,294,967,295 would take about an hour).
pub const MAX_ITERATIONS: u32 = 5_000_000;

/// A parsed PIN hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: [u8; 32],
}

impl PinHash {
    /// Parses the profile form; the error says what is wrong (zh-CN, for `check-config`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let shape = || {
            format!("应为 {SCHEME}$迭代次数$盐(十六进制)$哈希(64位十六进制)，见 kiosk-config/counter.toml 的说明")
        };
        let mut parts = s.trim().split('$');
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
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Hashes `pin` with `salt` (for tests, demo profiles and tools).
    pub fn new(pin: &str, salt: &[u8], iterations: u32) -> Self {
        Self {
            iterations,
            salt: salt.to_vec(),
            hash: pbkdf2_sha256(pin.as_bytes(), salt, iterations),
        }
    }

    /// Whether `pin` matches, compared in constant time.
    pub fn verify(&self, pin: &str) -> bool {
        let got = pbkdf2_sha256(pin.as_bytes(), &self.salt, self.iterations);
        got.iter()
            .zip(self.hash.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl std::fmt::Display for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{SCHEME}${}${}${}",
            self.iterations,
            hex::encode(&self.salt),
            hex::encode(self.hash)
        )
    }
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output (RustCrypto's `pbkdf2`).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations)
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
        _ => {
            let _ = PinHash::new(pin, b"no-such-account", MIN_ITERATIONS);
            false
        }
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
        if let Some(left) = self.remaining(now) {
            return SignIn::StillPaused {
                secs: left.as_secs().max(1),
            };
        }
        if check() {
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
