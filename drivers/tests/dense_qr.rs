//! Dense QR codes from camera frames (issue 16, item 6): frames of the generated set (seed 1,
//! the tuning seed; the bench reports on seed 2) that the rqrr path missed are read exactly,
//! and code-free frames read nothing.

use ykb_drivers::scanner::camera::{decode_gray, decode_qr_luma, decode_qr_luma_live};
use ykb_drivers::scanner::dense_set::{frame, Family};

/// Seed-1 frames that rqrr alone misses: a v19 code at 2.4 px per module, a v25 code under a
/// strong shading gradient, a v10 code at 2.4 px per module.
const MISSED_BY_RQRR: [usize; 3] = [1, 2, 16];
/// Seed-1 code-free frames: text lines, stripes, grids.
const EMPTY: [usize; 2] = [5, 11];

#[test]
fn dense_codes_that_rqrr_misses_are_read_exactly() {
    for i in MISSED_BY_RQRR {
        let f = frame(1, i);
        let want = f.payload.clone().expect("a code frame");
        assert!((10..=25).contains(&f.version), "{}", f.label(i));
        assert!(
            decode_gray(&f.image).is_empty(),
            "rqrr alone reads {}",
            f.label(i)
        );
        assert_eq!(decode_qr_luma(&f.image), [want], "{}", f.label(i));
    }
}

#[test]
fn code_free_frames_read_nothing() {
    for i in EMPTY {
        let f = frame(1, i);
        assert_eq!(f.family, Family::Empty);
        assert!(decode_qr_luma(&f.image).is_empty(), "{}", f.label(i));
    }
}

/// The live path spreads the passes over frames: a code held before the camera is read
/// within three frames, whichever frame it appears on.
#[test]
fn the_live_path_reads_them_within_three_frames() {
    for (k, i) in MISSED_BY_RQRR.into_iter().enumerate() {
        let f = frame(1, i);
        let want = f.payload.clone().expect("a code frame");
        let start = k as u64;
        let read = (start..start + 3).find_map(|n| {
            let r = decode_qr_luma_live(&f.image, n);
            (!r.is_empty()).then_some(r)
        });
        assert_eq!(read, Some(vec![want]), "{}", f.label(i));
    }
    for i in EMPTY {
        for n in 0..3 {
            assert!(decode_qr_luma_live(&frame(1, i).image, n).is_empty());
        }
    }
}
