//! Scanned payloads are untrusted: decode (UTF-8 or GB18030), strip control and invisible
//! formatting characters, cap the size, and validate before use as a URL.

use serde::{Deserialize, Serialize};

/// Longest payload kept, in characters.
pub const MAX_CHARS: usize = 2048;

/// How the bytes were decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadEncoding {
    /// Valid UTF-8.
    Utf8,
    /// Not UTF-8 but valid GB18030 (Chinese scanners' default).
    Gb18030,
}

/// A scanned code, safe to display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPayload {
    /// The text, without control or invisible formatting characters.
    pub text: String,
    /// How it was decoded.
    pub encoding: PayloadEncoding,
    /// Characters removed by sanitising.
    pub removed: usize,
}

/// A payload that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Neither UTF-8 nor GB18030.
    #[error("scanned bytes are neither UTF-8 nor GB18030")]
    Undecodable,
    /// Longer than the cap.
    #[error("scanned code of {0} characters is longer than {MAX_CHARS}")]
    TooLong(usize),
    /// Nothing left after sanitising.
    #[error("scanned code is empty after removing control characters")]
    Empty,
}

/// Whether `c` must not reach a screen or a log: controls, bidi overrides, zero-width marks.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Decodes and cleans one code.
pub fn sanitize(raw: &[u8]) -> Result<ScanPayload, PayloadError> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    let (text, encoding) = match std::str::from_utf8(raw) {
        Ok(s) => (s.to_string(), PayloadEncoding::Utf8),
        Err(_) => {
            match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(raw) {
                Some(s) => (s.into_owned(), PayloadEncoding::Gb18030),
                None => return Err(PayloadError::Undecodable),
            }
        }
    };
    let total = text.chars().count();
    if total > MAX_CHARS {
        return Err(PayloadError::TooLong(total));
    }
    let clean: String = text.chars().filter(|c| !is_unsafe(*c)).collect();
    let removed = total - clean.chars().count();
    let clean = clean.trim().to_string();
    if clean.is_empty() {
        return Err(PayloadError::Empty);
    }
    Ok(ScanPayload {
        text: clean,
        encoding,
        removed,
    })
}

impl ScanPayload {
    /// The payload as an `https://` URL on one of `allowed_hosts`, or `None`. Never open a
    /// scanned URL without this check.
    pub fn as_https_url(&self, allowed_hosts: &[&str]) -> Option<&str> {
        let rest = self.text.strip_prefix("https://")?;
        if self.text.len() > 1024
            || self
                .text
                .chars()
                .any(|c| c.is_whitespace() || !c.is_ascii())
        {
            return None;
        }
        let authority = rest.split(['/', '?', '#']).next()?;
        if authority.contains('@') {
            return None;
        }
        let host = authority.split(':').next()?.to_ascii_lowercase();
        allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&host))
            .then_some(self.text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gb18030_payloads_are_decoded_and_controls_removed() {
        let gb = crate::escpos::gb::to_gb18030("渝快码:王䶮\u{7}");
        let p = sanitize(&gb).unwrap();
        assert_eq!(
            (p.text.as_str(), p.encoding, p.removed),
            ("渝快码:王䶮", PayloadEncoding::Gb18030, 1)
        );
        let p = sanitize("abc\u{202E}def\u{1b}[2J".as_bytes()).unwrap();
        assert_eq!(p.text, "abcdef[2J");
        assert_eq!(sanitize(b"\x00\x01"), Err(PayloadError::Empty));
        assert_eq!(
            sanitize(&[0xFF, 0xFF, 0xFF]),
            Err(PayloadError::Undecodable)
        );
    }

    #[test]
    fn only_https_urls_on_allowed_hosts_pass() {
        let hosts = ["ykb.cq.gov.cn"];
        for (url, passes) in [
            ("https://ykb.cq.gov.cn/code?x=1", true),
            ("https://YKB.cq.gov.cn:443/", true),
            ("http://ykb.cq.gov.cn/", false),
            ("https://ykb.cq.gov.cn@evil.example/", false),
            ("https://ykb.cq.gov.cn.evil.example/", false),
            ("/etc/passwd", false),
        ] {
            let p = sanitize(url.as_bytes()).unwrap();
            assert_eq!(p.as_https_url(&hosts).is_some(), passes, "{url}");
        }
    }

    proptest! {
        #[test]
        fn sanitized_text_never_holds_controls(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(p) = sanitize(&raw) {
                prop_assert!(!p.text.chars().any(is_unsafe));
                prop_assert!(!p.text.is_empty());
            }
        }
    }
}
