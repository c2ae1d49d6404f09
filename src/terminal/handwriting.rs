//! 手写识别 — handwritten Chinese characters recognised on the terminal, offline, by zinnia
//! (`libzinnia.so.0`, Debian's `libzinnia0`) loaded at run time, so building needs no -dev
//! package. Without the library or a model there is no [`Recogniser`] and the apps offer no
//! handwriting (pinyin stays).
//!
//! The model shipped with the terminal (`assets/handwriting/ykb-zh_CN.model`, installed under
//! `/usr/share/ykb-terminal/handwriting/`) is trained with zinnia's own trainer on perturbed
//! stroke median lines of Make Me a Hanzi (`scripts/handwriting/train-model.sh`); it covers
//! GB 2312 levels 1 and 2 and the rare name characters of `tests/data/rare-name-chars.txt`.
//! Debian's `tegaki-zinnia-simplified-chinese` model ([`DEBIAN_MODEL`]) is the baseline.
//!
//! Ink is strokes of points in a 1024 × 1024 box, y down. [`check`] refuses what no pad can
//! have written (too many strokes or points, a point outside the box) in words a person
//! understands; nothing written gets no candidates.

use std::ffi::{c_char, c_float, c_int, c_void, CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The side of the box strokes are written in.
pub const BOX: i32 = 1024;
/// The most strokes one character may have (the most complex GB 2312 characters have ~30).
pub const MAX_STROKES: usize = 64;
/// The most points one character may have (a pad samples far fewer).
pub const MAX_POINTS: usize = 8192;
/// How many candidates a caller may ask for at most.
pub const MAX_CANDIDATES: usize = 50;

/// The zinnia library's soname (Debian's `libzinnia0`).
pub const LIBRARY: &str = "libzinnia.so.0";
/// The model the terminal ships, where the Debian package installs it.
pub const INSTALLED_MODEL: &str = "/usr/share/ykb-terminal/handwriting/ykb-zh_CN.model";
/// Debian's simplified-Chinese zinnia model (`tegaki-zinnia-simplified-chinese`): the baseline.
pub const DEBIAN_MODEL: &str = "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model";
/// Overrides the model path (a technician trying another model).
pub const MODEL_ENV: &str = "YKB_HANDWRITING_MODEL";

/// One stroke: the points a finger passed, in order.
pub type Stroke = Vec<[i32; 2]>;

/// Why ink was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InkError {
    TooManyStrokes(usize),
    TooManyPoints(usize),
    Outside { stroke: usize, x: i64, y: i64 },
}

impl fmt::Display for InkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyStrokes(n) => write!(
                f,
                "{n} strokes is more than one character has (at most {MAX_STROKES})"
            ),
            Self::TooManyPoints(n) => write!(
                f,
                "{n} points is more than one character needs (at most {MAX_POINTS})"
            ),
            Self::Outside { stroke, x, y } => write!(
                f,
                "stroke {} has the point ({x}, {y}) outside the {BOX} × {BOX} box",
                stroke + 1
            ),
        }
    }
}

impl std::error::Error for InkError {}

/// Checks ink before recognition: at most [`MAX_STROKES`] strokes and [`MAX_POINTS`] points,
/// every point inside the box. Empty strokes are allowed (and ignored).
pub fn check(strokes: &[Vec<[i64; 2]>]) -> Result<Vec<Stroke>, InkError> {
    let strokes: Vec<&Vec<[i64; 2]>> = strokes.iter().filter(|s| !s.is_empty()).collect();
    if strokes.len() > MAX_STROKES {
        return Err(InkError::TooManyStrokes(strokes.len()));
    }
    let points: usize = strokes.iter().map(|s| s.len()).sum();
    if points > MAX_POINTS {
        return Err(InkError::TooManyPoints(points));
    }
    let inside = |v: i64| (0..i64::from(BOX)).contains(&v);
    strokes
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.iter()
                .map(|&[x, y]| {
                    if inside(x) && inside(y) {
                        // In the box, so it fits an i32.
                        Ok([x as i32, y as i32])
                    } else {
                        Err(InkError::Outside { stroke: i, x, y })
                    }
                })
                .collect::<Result<Stroke, InkError>>()
        })
        .collect()
}

/// One candidate: the character and zinnia's score (higher is better).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub text: String,
    pub score: f32,
}

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type OpenFn = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type StrerrorFn = unsafe extern "C" fn(*mut c_void) -> *const c_char;
type ClassifyFn = unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void;
type DestroyFn = unsafe extern "C" fn(*mut c_void);
type SetSizeFn = unsafe extern "C" fn(*mut c_void, usize);
type AddFn = unsafe extern "C" fn(*mut c_void, usize, c_int, c_int) -> c_int;
type ValueFn = unsafe extern "C" fn(*mut c_void, usize) -> *const c_char;
type ScoreFn = unsafe extern "C" fn(*mut c_void, usize) -> c_float;
type SizeFn = unsafe extern "C" fn(*mut c_void) -> usize;

/// The C functions used, resolved once.
struct Api {
    recognizer_destroy: DestroyFn,
    classify: ClassifyFn,
    character_new: NewFn,
    character_destroy: DestroyFn,
    set_width: SetSizeFn,
    set_height: SetSizeFn,
    add: AddFn,
    result_value: ValueFn,
    result_score: ScoreFn,
    result_size: SizeFn,
    result_destroy: DestroyFn,
}

/// A zinnia recogniser with one model open.
pub struct Recogniser {
    api: Api,
    model: PathBuf,
    /// The `zinnia_recognizer_t`; classification goes through the lock.
    handle: Mutex<*mut c_void>,
    // Declared last: dropped after the handle is destroyed.
    _lib: libloading::Library,
}

// SAFETY: the raw recogniser is only used under the mutex; zinnia keeps no thread-local state.
unsafe impl Send for Recogniser {}
// SAFETY: as above, every use of the handle takes the mutex.
unsafe impl Sync for Recogniser {}

fn symbol<T: Copy>(lib: &libloading::Library, name: &str) -> Result<T, String> {
    let c = format!("{name}\0");
    // SAFETY: the types above are zinnia 0.06's C API (zinnia.h).
    unsafe { lib.get::<T>(c.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| format!("{LIBRARY} has no {name}: {e}"))
}

impl Recogniser {
    /// Loads zinnia and opens `model`. The error says what is missing, for a technician.
    pub fn open(model: &Path) -> Result<Self, String> {
        // SAFETY: loading the library runs its initialisers; it is the distribution's zinnia.
        let lib = unsafe { libloading::Library::new(LIBRARY) }.map_err(|e| {
            format!("handwriting needs zinnia ({LIBRARY}, Debian package libzinnia0): {e}")
        })?;
        let new: NewFn = symbol(&lib, "zinnia_recognizer_new")?;
        let open: OpenFn = symbol(&lib, "zinnia_recognizer_open")?;
        let strerror: StrerrorFn = symbol(&lib, "zinnia_recognizer_strerror")?;
        let api = Api {
            recognizer_destroy: symbol(&lib, "zinnia_recognizer_destroy")?,
            classify: symbol(&lib, "zinnia_recognizer_classify")?,
            character_new: symbol(&lib, "zinnia_character_new")?,
            character_destroy: symbol(&lib, "zinnia_character_destroy")?,
            set_width: symbol(&lib, "zinnia_character_set_width")?,
            set_height: symbol(&lib, "zinnia_character_set_height")?,
            add: symbol(&lib, "zinnia_character_add")?,
            result_value: symbol(&lib, "zinnia_result_value")?,
            result_score: symbol(&lib, "zinnia_result_score")?,
            result_size: symbol(&lib, "zinnia_result_size")?,
            result_destroy: symbol(&lib, "zinnia_result_destroy")?,
        };
        if !model.is_file() {
            return Err(format!("no handwriting model at {}", model.display()));
        }
        let path = CString::new(model.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("model path {} has a NUL byte", model.display()))?;
        // SAFETY: zinnia's documented C API; the handle is destroyed on failure or in Drop.
        let handle = unsafe { new() };
        if handle.is_null() {
            return Err("zinnia could not create a recogniser".into());
        }
        // SAFETY: valid handle and NUL-terminated path.
        if unsafe { open(handle, path.as_ptr()) } == 0 {
            // SAFETY: strerror returns a string owned by the recogniser, valid until destroy.
            let why = unsafe { CStr::from_ptr(strerror(handle)) }
                .to_string_lossy()
                .into_owned();
            // SAFETY: the handle came from `new` and is not used again.
            unsafe { (api.recognizer_destroy)(handle) };
            return Err(format!(
                "zinnia cannot open the model {}: {why}",
                model.display()
            ));
        }
        Ok(Self {
            api,
            model: model.to_path_buf(),
            handle: Mutex::new(handle),
            _lib: lib,
        })
    }

    /// The model file open.
    pub fn model(&self) -> &Path {
        &self.model
    }

    /// The `n` (at most [`MAX_CANDIDATES`]) most likely characters for `strokes`, best first.
    /// Nothing written: no candidates. Ink [`check`] refuses is refused.
    pub fn recognise(&self, strokes: &[Stroke], n: usize) -> Result<Vec<Candidate>, InkError> {
        let strokes: Vec<&Stroke> = strokes.iter().filter(|s| !s.is_empty()).collect();
        if strokes.len() > MAX_STROKES {
            return Err(InkError::TooManyStrokes(strokes.len()));
        }
        let points: usize = strokes.iter().map(|s| s.len()).sum();
        if points > MAX_POINTS {
            return Err(InkError::TooManyPoints(points));
        }
        for (i, s) in strokes.iter().enumerate() {
            if let Some(&[x, y]) = s
                .iter()
                .find(|[x, y]| !(0..BOX).contains(x) || !(0..BOX).contains(y))
            {
                return Err(InkError::Outside {
                    stroke: i,
                    x: x.into(),
                    y: y.into(),
                });
            }
        }
        let n = n.min(MAX_CANDIDATES);
        if strokes.is_empty() || n == 0 {
            return Ok(Vec::new());
        }
        let api = &self.api;
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: zinnia's C API on a live recogniser (held under the lock) and a character
        // created and destroyed here; result strings are copied before the result is freed.
        unsafe {
            let ch = (api.character_new)();
            if ch.is_null() {
                return Ok(Vec::new());
            }
            (api.set_width)(ch, BOX as usize);
            (api.set_height)(ch, BOX as usize);
            for (id, s) in strokes.iter().enumerate() {
                for &[x, y] in s.iter() {
                    (api.add)(ch, id, x, y);
                }
            }
            let result = (api.classify)(*handle, ch, n);
            let mut out = Vec::new();
            if !result.is_null() {
                for i in 0..(api.result_size)(result) {
                    let v = (api.result_value)(result, i);
                    if v.is_null() {
                        continue;
                    }
                    out.push(Candidate {
                        text: CStr::from_ptr(v).to_string_lossy().into_owned(),
                        score: (api.result_score)(result, i),
                    });
                }
                (api.result_destroy)(result);
            }
            (api.character_destroy)(ch);
            Ok(out)
        }
    }
}

impl Drop for Recogniser {
    fn drop(&mut self) {
        let handle = *self.handle.get_mut().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the handle came from zinnia_recognizer_new and is not used after this.
        unsafe { (self.api.recognizer_destroy)(handle) };
    }
}

/// Where the terminal looks for its model, first found wins: [`MODEL_ENV`], the installed
/// model, the model in the source tree (a developer's run).
pub fn model_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os(MODEL_ENV) {
        out.push(PathBuf::from(p));
    }
    out.push(PathBuf::from(INSTALLED_MODEL));
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/handwriting/ykb-zh_CN.model"));
    out
}

/// The terminal's recogniser, opened once from [`model_candidates`]; the reason when there is
/// none (no zinnia, no model).
pub fn shared() -> Result<&'static Recogniser, &'static str> {
    static SHARED: OnceLock<Result<Recogniser, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let paths = model_candidates();
            let model = paths.iter().find(|p| p.is_file()).ok_or_else(|| {
                let tried: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                format!("no handwriting model (looked at {})", tried.join(", "))
            })?;
            Recogniser::open(model)
        })
        .as_ref()
        .map_err(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_no_pad_could_write_is_refused_in_words() {
        assert_eq!(check(&[]).unwrap(), Vec::<Stroke>::new());
        assert_eq!(check(&[vec![], vec![]]).unwrap(), Vec::<Stroke>::new());
        assert_eq!(
            check(&[vec![[1, 2], [3, 4]]]).unwrap(),
            vec![vec![[1, 2], [3, 4]]]
        );
        let e = check(&[vec![[0, 0]], vec![[10, 1024]]]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stroke 2 has the point (10, 1024) outside the 1024 × 1024 box"
        );
        assert!(check(&[vec![[-1, 5]]]).is_err());
        let many = vec![vec![[5, 5]]; MAX_STROKES + 1];
        assert_eq!(check(&many), Err(InkError::TooManyStrokes(MAX_STROKES + 1)));
        let long = vec![vec![[5, 5]; 2_000_000]];
        assert_eq!(check(&long), Err(InkError::TooManyPoints(2_000_000)));
    }
}
