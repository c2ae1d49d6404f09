//! Personal data at rest: AES-256-GCM with the row id bound as associated data, under a key
//! kept in a 0600 file beside the store.
//!
//! Sealed format: `1 (version) | 12-byte random nonce | ciphertext + 16-byte tag`.
//! A key check value in the store tells a wrong key apart from damaged data before anything
//! is read or written, so a wrong key never destroys what the right key could recover.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// Associated data of the key check value.
const KEY_CHECK_AAD: &[u8] = b"ykb-terminal key check v1";
const KEY_CHECK_PLAIN: &[u8] = b"ykb-terminal";

/// File name of the data key inside the data directory.
pub const KEY_FILE: &str = "data.key";

/// Why personal data could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("数据加密密钥文件 {0} 不存在。加密数据未被改动；请用正确的密钥文件恢复，或由技术人员运行 ykb-terminal provision。")]
    MissingKey(PathBuf),
    #[error("数据加密密钥文件 {path} 无效（{detail}）。加密数据未被改动；请换回正确的密钥文件。")]
    BadKeyFile { path: PathBuf, detail: String },
    #[error(
        "数据加密密钥文件 {path} 的权限为 {mode:o}，应为 600（仅本服务可读）。请执行 chmod 600。"
    )]
    KeyPermissions { path: PathBuf, mode: u32 },
    #[error("数据加密密钥与本机数据不匹配。加密数据未被改动；请换回原来的密钥文件 {0}。")]
    WrongKey(PathBuf),
    #[error("加密数据已损坏或被篡改（记录 {0}）")]
    Damaged(String),
    #[error("无法创建密钥文件 {path}：{source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The data key, loaded from its file.
pub struct DataKey {
    cipher: Aes256Gcm,
    path: PathBuf,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    /// Creates a new random key file (mode 0600, never overwriting an existing one).
    pub fn create(path: &Path) -> Result<Self, CryptoError> {
        let create_err = |source| CryptoError::Create {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(create_err)?;
        }
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        if path.exists() {
            return Err(create_err(std::io::Error::from(
                std::io::ErrorKind::AlreadyExists,
            )));
        }
        // Written whole to a private temporary file, then linked into place: another process
        // never reads half a key, and an existing key is never replaced (link fails instead).
        let tmp = path.with_extension(format!("tmp-{}-{:x}", std::process::id(), OsRng.next_u64()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let written = opts.open(&tmp).and_then(|mut f| {
            f.write_all(&key)?;
            f.sync_all()
        });
        let linked = written.and_then(|_| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        linked.map_err(create_err)?;
        let k = Self::from_bytes(&key, path);
        key.fill(0);
        Ok(k)
    }

    /// Loads a key file, refusing a missing, short or world-readable one, and anything that
    /// is not a plain file of its own: a symlink is not followed, a FIFO or device is refused
    /// without waiting on it, and at most 33 bytes are read.
    pub fn load(path: &Path) -> Result<Self, CryptoError> {
        use std::io::Read;
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
        let bad = |detail: String| CryptoError::BadKeyFile {
            path: path.to_owned(),
            detail,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            // O_NONBLOCK: opening a FIFO does not wait for a writer.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CryptoError::MissingKey(path.to_owned()))
            }
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(bad("是符号链接；密钥文件必须是普通文件，不跟随链接".into()))
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        let meta = file.metadata().map_err(|e| bad(e.to_string()))?;
        let kind = meta.file_type();
        if !kind.is_file() {
            let what = if kind.is_fifo() {
                "命名管道"
            } else if kind.is_char_device() || kind.is_block_device() {
                "设备文件"
            } else if kind.is_dir() {
                "目录"
            } else {
                "特殊文件"
            };
            return Err(bad(format!("是{what}，不是普通文件")));
        }
        let mut bytes = Vec::with_capacity(33);
        (&mut file)
            .take(33)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(e.to_string()))?;
        if bytes.len() != 32 {
            let len = if bytes.len() > 32 {
                format!("超过 32 字节（文件 {} 字节）", meta.len())
            } else {
                format!("{} 字节", bytes.len())
            };
            bytes.fill(0);
            return Err(bad(format!("长度为 {len}，应为 32 字节")));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bytes.fill(0);
            return Err(CryptoError::KeyPermissions {
                path: path.to_owned(),
                mode,
            });
        }
        let key = Self::from_bytes(&bytes, path);
        bytes.fill(0);
        Ok(key)
    }

    /// Loads the key, or creates it when `create_if_missing` (the demo profile) and absent.
    /// Two processes starting together (kiosk and CLI) end up with the same key: the one that
    /// loses the race loads what the other wrote.
    pub fn load_or_create(path: &Path, create_if_missing: bool) -> Result<Self, CryptoError> {
        match Self::load(path) {
            Err(CryptoError::MissingKey(_)) if create_if_missing => match Self::create(path) {
                Err(CryptoError::Create { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists =>
                {
                    Self::load(path)
                }
                other => other,
            },
            other => other,
        }
    }

    fn from_bytes(bytes: &[u8], path: &Path) -> Self {
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)),
            path: path.to_owned(),
        }
    }

    /// The key file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Encrypts `plain`, bound to `aad` (the row id).
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts what [`Self::seal`] produced for the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let damaged = || CryptoError::Damaged(String::from_utf8_lossy(aad).into_owned());
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(damaged());
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| damaged())
    }

    /// A value that only this key opens, stored once per database.
    pub fn key_check_value(&self) -> Vec<u8> {
        self.seal(KEY_CHECK_AAD, KEY_CHECK_PLAIN)
    }

    /// Whether `value` (from [`Self::key_check_value`]) was made with this key.
    pub fn verify_key_check(&self, value: &[u8]) -> Result<(), CryptoError> {
        match self.open(KEY_CHECK_AAD, value) {
            Ok(p) if p == KEY_CHECK_PLAIN => Ok(()),
            _ => Err(CryptoError::WrongKey(self.path.clone())),
        }
    }
}

/// A random number for backoff jitter.
pub fn random_u64() -> u64 {
    OsRng.next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_row_id() {
        let dir = tempfile::tempdir().unwrap();
        let k = DataKey::create(&dir.path().join("k")).unwrap();
        let sealed = k.seal(b"row-1", "张三 500103195003071234".as_bytes());
        assert!(!sealed.windows(18).any(|w| w == b"500103195003071234"));
        assert_eq!(
            k.open(b"row-1", &sealed).unwrap(),
            "张三 500103195003071234".as_bytes()
        );
        assert!(matches!(
            k.open(b"row-2", &sealed),
            Err(CryptoError::Damaged(_))
        ));
        let other = DataKey::create(&dir.path().join("k2")).unwrap();
        assert!(other.open(b"row-1", &sealed).is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(k.open(b"row-1", &flipped).is_err());
        assert!(k.open(b"row-1", &sealed[..10]).is_err());
    }

    #[test]
    fn key_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let k = DataKey::create(&p).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(matches!(
            DataKey::create(&p),
            Err(CryptoError::Create { .. })
        ));
        let again = DataKey::load(&p).unwrap();
        again.verify_key_check(&k.key_check_value()).unwrap();
    }

    #[test]
    fn processes_creating_the_key_together_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let keys: Vec<DataKey> = (0..6)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || DataKey::load_or_create(&p, true).unwrap())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let sealed = keys[0].seal(b"x", b"secret");
        for k in &keys {
            assert_eq!(k.open(b"x", &sealed).unwrap(), b"secret");
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary files left"
        );
    }

    #[test]
    fn missing_short_open_and_wrong_keys_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        assert!(matches!(DataKey::load(&p), Err(CryptoError::MissingKey(_))));
        std::fs::write(&p, [1u8; 16]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(matches!(
            DataKey::load(&p),
            Err(CryptoError::BadKeyFile { .. })
        ));
        std::fs::write(&p, [1u8; 32]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                DataKey::load(&p),
                Err(CryptoError::KeyPermissions { .. })
            ));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let a = DataKey::load(&p).unwrap();
        let b = DataKey::create(&dir.path().join("other")).unwrap();
        assert!(matches!(
            b.verify_key_check(&a.key_check_value()),
            Err(CryptoError::WrongKey(_))
        ));
    }

    /// Loads `path` on another thread; `None` when it has not answered within 10 s (it hangs).
    fn load_or_hang(path: &Path) -> Option<Result<DataKey, CryptoError>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(DataKey::load(&p));
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).ok()
    }

    #[test]
    fn a_fifo_a_device_or_a_symlink_as_the_key_file_is_refused_at_once() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        // A FIFO nobody writes to: reading it would block for ever.
        let fifo = dir.path().join("fifo.key");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let r = load_or_hang(&fifo).expect("a FIFO as data.key hangs the load");
        assert!(matches!(r, Err(CryptoError::BadKeyFile { .. })), "{r:?}");
        // A symlink to /dev/zero: reading it to the end would take all memory.
        let zero = dir.path().join("zero.key");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let r = load_or_hang(&zero).expect("/dev/zero as data.key hangs the load");
        assert!(matches!(r, Err(CryptoError::BadKeyFile { .. })), "{r:?}");
        // A symlink to a good key is not followed either (someone else's key, planted).
        let real = dir.path().join("real.key");
        DataKey::create(&real).unwrap();
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let r = DataKey::load(&link);
        match r {
            Err(CryptoError::BadKeyFile { detail, .. }) => {
                assert!(detail.contains("符号链接"), "{detail}")
            }
            other => panic!("a symlinked key file was loaded: {other:?}"),
        }
        assert!(DataKey::load(&real).is_ok());
    }
}
