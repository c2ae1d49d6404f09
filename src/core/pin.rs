//! Staff PINs as profiles hold them: PBKDF2-HMAC-SHA256 (RFC 8018) with a per-staff salt,
//! written `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`. Only the hash is configured; the PIN
//! itself is never stored or logged. The same format as Python's
//! `hashlib.pbkdf2_hmac("sha256", pin, salt, iterations)`, so a technician can make one
//! anywhere (see `kiosk-config/counter.toml`).

use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// The scheme name at the start of a hash.
pub const SCHEME: &str = "pbkdf2-sha256";
/// Fewest iterations accepted (a PIN has few digits: the work factor is what protects it).
pub const MIN_ITERATIONS: u32 = 10_000;

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

/// PBKDF2-HMAC-SHA256 with a 32-byte output (one block).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mac = hmac::Hmac::<Sha256>::new_from_slice(password).expect("HMAC takes any key length");
    let mut u = {
        let mut m = mac.clone();
        m.update(salt);
        m.update(&1u32.to_be_bytes());
        m.finalize().into_bytes()
    };
    let mut out: [u8; 32] = u.into();
    for _ in 1..iterations {
        let mut m = mac.clone();
        m.update(&u);
        u = m.finalize().into_bytes();
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
