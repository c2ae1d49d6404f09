//! 证明开具 — a certificate the platform issued as a signed PDF, checked before anything is
//! printed: within the size cap, signed with the platform's Ed25519 key (the catalogue's),
//! and a PDF. Pure: the terminal layer fetches and prints; this decides whether it may.

use base64::Engine;
use ed25519_dalek::VerifyingKey;

use crate::core::platform::wire::{self, CertificateDocument};

/// Why a certificate is not printed. Each says, in the citizen's words, to go to a window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Bigger than [`wire::MAX_CERTIFICATE_PDF_BYTES`].
    #[error("证明文件过大（{0} 字节），本机不予打印，请到窗口办理")]
    TooLarge(usize),
    /// The PDF is not base64, or the signature does not verify under the platform's key.
    #[error("证明文件的电子签名校验未通过，本机不予打印，请到窗口办理")]
    BadSignature,
    /// Signed, but not a PDF.
    #[error("证明文件格式不正确（不是 PDF），本机不予打印，请到窗口办理")]
    NotPdf,
}

/// A certificate that passed every check: the PDF's bytes, to print as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate {
    /// Its name.
    pub title: String,
    /// The PDF, exactly as signed.
    pub pdf: Vec<u8>,
    /// 核验码.
    pub verification_code: String,
    /// Pages.
    pub pages: u32,
}

/// Checks `doc` against the platform's `key`: size first (before decoding much), then the
/// signature over the exact bytes, then that they are a PDF.
pub fn verify(
    doc: &CertificateDocument,
    key: &VerifyingKey,
) -> Result<VerifiedCertificate, Refusal> {
    let cap = wire::MAX_CERTIFICATE_PDF_BYTES;
    let approx = doc.pdf_base64.len() / 4 * 3;
    if approx > cap + 3 {
        return Err(Refusal::TooLarge(approx));
    }
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(doc.pdf_base64.trim())
        .map_err(|_| Refusal::BadSignature)?;
    if pdf.len() > cap {
        return Err(Refusal::TooLarge(pdf.len()));
    }
    wire::verify_catalog(key, &pdf, &doc.signature).map_err(|_| Refusal::BadSignature)?;
    if !ykb_drivers::cups::pdf::looks_like_pdf(&pdf) {
        return Err(Refusal::NotPdf);
    }
    Ok(VerifiedCertificate {
        title: doc.title.clone(),
        pdf,
        verification_code: doc.verification_code.clone(),
        pages: doc.pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(pdf: &[u8], signed: &[u8]) -> CertificateDocument {
        CertificateDocument {
            title: "社会保险参保证明".into(),
            pdf_base64: base64::engine::general_purpose::STANDARD.encode(pdf),
            signature: wire::sign_catalog(&wire::demo_signing_key(), signed),
            verification_code: "ABCD-1234".into(),
            verification_url: "https://zwykb.cq.gov.cn/zmhy?code=ABCD-1234".into(),
            pages: 1,
        }
    }

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";

    #[test]
    fn a_signed_pdf_passes() {
        let v = verify(&doc(PDF, PDF), &wire::demo_verifying_key()).unwrap();
        assert_eq!(v.pdf, PDF);
    }

    #[test]
    fn a_changed_byte_a_wrong_key_or_garbage_fails_the_signature() {
        let mut changed = PDF.to_vec();
        changed[10] ^= 1;
        assert_eq!(
            verify(&doc(&changed, PDF), &wire::demo_verifying_key()),
            Err(Refusal::BadSignature)
        );
        let other = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        assert_eq!(verify(&doc(PDF, PDF), &other), Err(Refusal::BadSignature));
        let mut d = doc(PDF, PDF);
        d.pdf_base64 = "not base64!".into();
        assert_eq!(
            verify(&d, &wire::demo_verifying_key()),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn a_signed_non_pdf_and_an_oversized_pdf_are_refused() {
        let gif = b"GIF89a....";
        assert_eq!(
            verify(&doc(gif, gif), &wire::demo_verifying_key()),
            Err(Refusal::NotPdf)
        );
        let mut big = PDF.to_vec();
        big.resize(wire::MAX_CERTIFICATE_PDF_BYTES + 1, b' ');
        assert!(matches!(
            verify(&doc(&big, &big), &wire::demo_verifying_key()),
            Err(Refusal::TooLarge(_))
        ));
        assert!(Refusal::NotPdf.to_string().contains("窗口"));
    }
}
