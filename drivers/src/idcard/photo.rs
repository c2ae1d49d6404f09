//! The card photo: 1024 bytes of WLT (a vendor wavelet format), decoded only through a vendor
//! library. A read never fails because the photo cannot be decoded.

use std::path::{Path, PathBuf};

/// Size of the WLT photo in a read reply.
pub const WLT_LEN: usize = 1024;

/// Turns WLT bytes into an image file (BMP as vendor libraries produce it).
pub trait PhotoDecoder: Send + Sync {
    /// Decodes `wlt`; the error is a one-line reason for logs.
    fn decode(&self, wlt: &[u8]) -> Result<Vec<u8>, String>;
}

/// No decoder configured: every photo stays WLT.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPhotoDecoder;

impl PhotoDecoder for NoPhotoDecoder {
    fn decode(&self, _wlt: &[u8]) -> Result<Vec<u8>, String> {
        Err("no WLT photo decoder configured".into())
    }
}

/// A vendor's WLT decoder loaded at run time from a shared library exporting
/// `int unpack(char *wlt, char *bmp, int save_file)` (the common `libwlt2bmp.so` API, which
/// writes a 102×126 24-bit BMP of 38 862 bytes and returns 1 on success).
pub struct VendorWltLibrary {
    path: PathBuf,
    lib: libloading::Library,
}

/// Size of the BMP written by vendor WLT libraries.
pub const VENDOR_BMP_LEN: usize = 38_862;

type UnpackFn = unsafe extern "C" fn(*mut u8, *mut u8, i32) -> i32;

impl VendorWltLibrary {
    /// Loads the library at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        // SAFETY: loading a library runs its initialisers; the path comes from the kiosk's
        // configuration, which a technician controls.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| format!("cannot load WLT library {}: {e}", path.display()))?;
        // Check the symbol now so a wrong library is reported at start-up, not at first read.
        // SAFETY: only the symbol's presence is checked here.
        unsafe { lib.get::<UnpackFn>(b"unpack\0") }
            .map_err(|e| format!("{} has no `unpack`: {e}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            lib,
        })
    }
}

impl PhotoDecoder for VendorWltLibrary {
    fn decode(&self, wlt: &[u8]) -> Result<Vec<u8>, String> {
        if wlt.len() != WLT_LEN {
            return Err(format!(
                "WLT photo is {} bytes, expected {WLT_LEN}",
                wlt.len()
            ));
        }
        let mut src = wlt.to_vec();
        // Vendor libraries have been seen writing a few bytes past the BMP; give them room.
        let mut dst = vec![0u8; VENDOR_BMP_LEN + 1024];
        // SAFETY: the signature is the documented vendor API; both buffers are large enough.
        let rc = unsafe {
            let unpack = self
                .lib
                .get::<UnpackFn>(b"unpack\0")
                .map_err(|e| format!("{}: {e}", self.path.display()))?;
            unpack(src.as_mut_ptr(), dst.as_mut_ptr(), 0)
        };
        if rc != 1 {
            return Err(format!("{} unpack returned {rc}", self.path.display()));
        }
        dst.truncate(VENDOR_BMP_LEN);
        Ok(dst)
    }
}

/// The photo as read: WLT always, the decoded image when a decoder could make one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Photo {
    /// The raw WLT bytes exactly as the card holds them.
    pub wlt: Vec<u8>,
    /// The decoded image (BMP) or why there is none.
    pub decoded: Result<Vec<u8>, String>,
}

impl Photo {
    /// Keeps `wlt` and tries `decoder`, never failing.
    pub fn new(wlt: Vec<u8>, decoder: &dyn PhotoDecoder) -> Self {
        let decoded =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decoder.decode(&wlt)))
                .unwrap_or_else(|_| Err("photo decoder panicked".into()));
        Self { wlt, decoded }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panicky;
    impl PhotoDecoder for Panicky {
        fn decode(&self, _wlt: &[u8]) -> Result<Vec<u8>, String> {
            panic!("vendor library blew up")
        }
    }

    #[test]
    fn photo_decoding_never_fails_a_read() {
        let wlt = vec![1u8; WLT_LEN];
        let p = Photo::new(wlt.clone(), &Panicky);
        assert_eq!(p.wlt, wlt);
        assert!(p.decoded.is_err());
        assert!(Photo::new(wlt, &NoPhotoDecoder).decoded.is_err());
        assert!(VendorWltLibrary::load(Path::new("/nonexistent/libwlt2bmp.so")).is_err());
    }
}
