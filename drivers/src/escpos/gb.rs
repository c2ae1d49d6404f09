//! Chinese text for printers: GB18030 encoding and the GB 2312 test that decides whether a
//! printer's built-in font can be trusted with a line.

/// Encodes `s` in GB18030 (every Unicode character has an encoding).
pub fn to_gb18030(s: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(s);
    bytes.into_owned()
}

/// Decodes GB18030 bytes, replacing malformed sequences.
pub fn from_gb18030(bytes: &[u8]) -> String {
    let (s, _, _) = encoding_rs::GB18030.decode(bytes);
    s.into_owned()
}

/// Whether a printer's built-in GB 2312 font has `c`: printable ASCII, or a character whose
/// EUC-CN encoding is two bytes in rows 0xA1–0xA9 (symbols) or 0xB0–0xF7 (hanzi) and columns
/// 0xA1–0xFE. Rows 0xAA–0xAF and 0xF8–0xFE are unassigned or vendor-defined, so not trusted.
pub fn is_gb2312(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    let mut buf = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
    if unmappable || bytes.len() != 2 {
        return false;
    }
    let (row, col) = (bytes[0], bytes[1]);
    (matches!(row, 0xA1..=0xA9) || matches!(row, 0xB0..=0xF7)) && (0xA1..=0xFE).contains(&col)
}

/// Whether every character of `s` is safe for the built-in font.
pub fn all_gb2312(s: &str) -> bool {
    s.chars().all(is_gb2312)
}

/// Columns `s` takes in the built-in font: 1 for ASCII, 2 for anything else.
pub fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_name_characters_are_outside_gb2312() {
        assert!(all_gb2312("王小明 重庆市渝中区 ABC-123 ￥"));
        assert!(is_gb2312('李'));
        assert!(!is_gb2312('䶮'), "U+4DAE is CJK Ext-A");
        assert!(!is_gb2312('喆'), "喆 is GBK-only");
        assert!(!is_gb2312('𠀀'));
        assert!(!is_gb2312('\u{1}'));
        assert!(!is_gb2312('€'));
    }

    #[test]
    fn gb18030_round_trips_rare_characters() {
        for s in ["王䶮", "李喆", "𠀀", "渝快办"] {
            assert_eq!(from_gb18030(&to_gb18030(s)), s);
        }
        assert_eq!(to_gb18030("渝"), vec![0xD3, 0xE5]);
    }
}
