//! The embedded CJK font, included once in the binary and shared by everything that draws
//! text outside Slint (receipt raster lines, the printer emulator's previews).

/// `assets/fonts/YKBSansSC-Regular.ttf`: Noto Sans CJK SC subset (GB 2312, Extension A and
/// rare name characters), OFL.
pub static UI_FONT: &[u8] = include_bytes!("../assets/fonts/YKBSansSC-Regular.ttf");
