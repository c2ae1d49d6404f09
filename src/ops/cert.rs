//! The expiry date (`notAfter`) of X.509 certificates in a PEM file: just enough DER to walk
//! `Certificate → TBSCertificate → Validity`, with every length checked against the input.

use base64::Engine;

/// One certificate's subject-independent facts the self-test needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertValidity {
    /// `notBefore`.
    pub not_before: jiff::Timestamp,
    /// `notAfter`.
    pub not_after: jiff::Timestamp,
}

/// The validity of every `CERTIFICATE` block in `pem`, in order.
pub fn pem_validities(pem: &str) -> Result<Vec<CertValidity>, String> {
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines() {
        let l = line.trim();
        if l == "-----BEGIN CERTIFICATE-----" {
            body = Some(String::new());
        } else if l == "-----END CERTIFICATE-----" {
            let b64 = body.take().ok_or("END without BEGIN")?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("base64: {e}"))?;
            out.push(der_validity(&der)?);
        } else if let Some(b) = body.as_mut() {
            b.push_str(l);
        }
    }
    if out.is_empty() {
        return Err("文件中没有 CERTIFICATE 证书块".into());
    }
    Ok(out)
}

/// Reads one DER element: (tag, content, rest).
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER")?;
    let (len, rest) = if first & 0x80 == 0 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length".into());
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("DER length beyond input".into());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn der_validity(der: &[u8]) -> Result<CertValidity, String> {
    let (tag, cert, _) = element(der)?;
    if tag != 0x30 {
        return Err("not a certificate".into());
    }
    let (tag, tbs, _) = element(cert)?;
    if tag != 0x30 {
        return Err("no TBSCertificate".into());
    }
    let mut rest = tbs;
    let (tag, _, r) = element(rest)?;
    // [0] version is optional.
    if tag == 0xa0 {
        rest = r;
        let (_, _, r) = element(rest)?; // serial
        rest = r;
    } else {
        rest = r; // that was the serial
    }
    let (_, _, r) = element(rest)?; // signature algorithm
    let (_, _, r) = element(r)?; // issuer
    let (tag, validity, _) = element(r)?;
    if tag != 0x30 {
        return Err("no Validity".into());
    }
    let (t1, nb, r) = element(validity)?;
    let (t2, na, _) = element(r)?;
    Ok(CertValidity {
        not_before: der_time(t1, nb)?,
        not_after: der_time(t2, na)?,
    })
}

/// UTCTime (`YYMMDDHHMMSSZ`, 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn der_time(tag: u8, v: &[u8]) -> Result<jiff::Timestamp, String> {
    // Only ASCII digits and `Z` belong here; anything else (a crafted file) is refused before
    // any slicing, which assumes one byte per character.
    if !v.is_ascii() {
        return Err("bad time".into());
    }
    let s = std::str::from_utf8(v).map_err(|_| "bad time")?;
    let full = match (tag, s.len()) {
        (0x17, 13) => {
            let yy: u32 = s[..2].parse().map_err(|_| "bad UTCTime")?;
            format!("{}{}", if yy >= 50 { "19" } else { "20" }, s)
        }
        (0x18, 15) => s.to_owned(),
        _ => return Err(format!("unsupported time {s:?}")),
    };
    if !full.ends_with('Z') || !full[..14].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("unsupported time {s:?}"));
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[0..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    );
    iso.parse().map_err(|e| format!("bad time {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_both_encodings() {
        assert_eq!(
            der_time(0x17, b"491231235959Z").unwrap().to_string(),
            "2049-12-31T23:59:59Z"
        );
        assert_eq!(
            der_time(0x18, b"20510101000000Z").unwrap().to_string(),
            "2051-01-01T00:00:00Z"
        );
        assert!(der_time(0x17, b"zz").is_err());
    }

    #[test]
    fn a_non_ascii_time_is_an_error_not_a_panic() {
        // 13 bytes of UTF-8 with a multi-byte character where the year digits should be (a
        // crafted CA file); also for GeneralizedTime.
        assert!(der_time(0x17, "渝101000000Z".as_bytes()).is_err());
        assert!(der_time(0x18, "20渝1010000Z1".as_bytes()).is_err());
        assert!(der_time(0x18, "2051010100000渝".as_bytes()).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(pem_validities("nothing").is_err());
        let junk = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        assert!(pem_validities(junk).is_err());
    }
}
