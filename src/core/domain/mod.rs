//! The domain model of government-service matters, cases, tickets and evaluations.
//! Plain Rust and serde: no SQL, no UI, no devices.

mod bundle;
mod case;
mod matter;
mod person;

pub use bundle::{BundleApplication, BundleError};
pub use case::{
    Agent, Applicant, Case, CaseMaterial, CaseStatus, Delivery, DeviceStatus, Evaluation,
    EvaluationLevel, MaterialOutcome, Relationship, StatusEvent, Ticket,
};
pub use matter::{
    Audience, Bundle, Choice, Contacts, CrossRegion, FeeItem, FieldKind, FormField, HandlingForm,
    ImplementingBody, LocalElements, Material, MaterialForm, MaterialSource, Matter, MatterType,
    Necessity, PrefillSource, ProcessStep, Question, QuestionKind, TimeLimit, TimeUnit,
};
pub use person::{
    card_expiry, mask_name, person_from_card, person_from_text, CardError, CardExpiry, IdNumber,
    IdNumberError, Person, Sex,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a code or region code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("code is empty")]
    Empty,
    #[error("code is {0} characters long; at most 50 are allowed")]
    TooLong(usize),
    #[error("code contains a control character or whitespace")]
    BadCharacter,
    #[error("region code must be exactly 6 digits, got {0:?}")]
    BadRegion(String),
}

/// An opaque catalogue code (基本编码, 实施编码, 业务办理项编码 …): at most 50 characters,
/// never parsed for meaning.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

impl Code {
    /// Checks a code: non-empty, at most 50 characters, no whitespace or control characters.
    pub fn new(s: impl Into<String>) -> Result<Self, CodeError> {
        let s = s.into();
        let n = s.chars().count();
        if n == 0 {
            return Err(CodeError::Empty);
        }
        if n > 50 {
            return Err(CodeError::TooLong(n));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(CodeError::BadCharacter);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Code {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// 行政区划代码 — a 6-digit administrative region code (e.g. 500103 渝中区).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode([u8; 6]);

impl RegionCode {
    pub fn new(s: &str) -> Result<Self, CodeError> {
        let b = s.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(CodeError::BadRegion(s.to_owned()));
        }
        let mut a = [0; 6];
        a.copy_from_slice(b);
        Ok(Self(a))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// The province-level prefix (first two digits), e.g. "50" for Chongqing, "51" for Sichuan.
    pub fn province(&self) -> &str {
        &self.as_str()[..2]
    }
}

impl TryFrom<String> for RegionCode {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(&s)
    }
}

impl From<RegionCode> for String {
    fn from(c: RegionCode) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_accepts_up_to_fifty_characters_and_refuses_more() {
        assert!(Code::new("a".repeat(50)).is_ok());
        assert_eq!(Code::new("a".repeat(51)), Err(CodeError::TooLong(51)));
        assert_eq!(Code::new(""), Err(CodeError::Empty));
        assert_eq!(Code::new("11500000 009"), Err(CodeError::BadCharacter));
    }

    #[test]
    fn code_is_opaque_and_keeps_any_printable_text() {
        let c = Code::new("11500000MB1525610Q3000117002000").unwrap();
        assert_eq!(c.as_str(), "11500000MB1525610Q3000117002000");
        assert!(Code::new("渝-本地-001").is_ok());
    }

    #[test]
    fn region_code_needs_six_digits() {
        assert_eq!(RegionCode::new("500103").unwrap().province(), "50");
        assert!(RegionCode::new("50010").is_err());
        assert!(RegionCode::new("50010a").is_err());
        assert!(RegionCode::new("５００１０３").is_err());
    }
}
