//! People: the 18-digit citizen ID number (GB 11643) and what an ID card tells us.
//! ID numbers never appear in full in `Debug` output, logs, screens or receipts.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::core::privacy::mask_name;
use ykb_drivers::idcard::gb11643::check_digit;
use ykb_drivers::idcard::{CardText, IdCard};

/// Why an ID number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号码应为18位（现为{0}位）")]
    Length(usize),
    #[error("身份证号码前17位应为数字，最后一位为数字或X")]
    Characters,
    #[error("身份证号码中的出生日期无效")]
    BirthDate,
    #[error("身份证号码校验位不正确，请核对")]
    Checksum,
}

/// 公民身份号码 — an 18-digit citizen ID number with a valid GB 11643 check digit.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses and checks an ID number; a lower-case `x` is accepted and stored upper-case.
    pub fn parse(s: &str) -> Result<Self, IdNumberError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 {
            return Err(IdNumberError::Length(s.chars().count()));
        }
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::Characters);
        }
        // One GB 11643 check digit for the whole house: the drivers'.
        if check_digit(&s[..17]) != Some(char::from(b[17])) {
            return Err(IdNumberError::Checksum);
        }
        let id = Self(s);
        id.birth_date().ok_or(IdNumberError::BirthDate)?;
        Ok(id)
    }

    /// Completes 17 digits with their check digit (for generated and test data).
    pub fn complete(first17: &str) -> Result<Self, IdNumberError> {
        let check = check_digit(first17).ok_or(IdNumberError::Characters)?;
        Self::parse(&format!("{first17}{check}"))
    }

    /// The full number, for the platform and for encrypted storage only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The number as shown on screens and receipts: first 3 and last 4 kept, e.g. `500***********123X`.
    pub fn masked(&self) -> String {
        crate::core::privacy::mask_id(&self.0)
    }

    /// The birth date encoded in digits 7–14.
    pub fn birth_date(&self) -> Option<Date> {
        let y: i16 = self.0[6..10].parse().ok()?;
        let m: i8 = self.0[10..12].parse().ok()?;
        let d: i8 = self.0[12..14].parse().ok()?;
        if y < 1880 {
            return None;
        }
        Date::new(y, m, d).ok()
    }

    /// Sex from the 17th digit (odd: male).
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in whole years on `today`.
    pub fn age_on(&self, today: Date) -> Option<i16> {
        let b = self.birth_date()?;
        let mut age = today.year() - b.year();
        if (today.month(), today.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        Some(age)
    }
}

impl TryFrom<String> for IdNumber {
    type Error = IdNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<IdNumber> for String {
    fn from(id: IdNumber) -> String {
        id.0
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// 性别
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// A natural person as identified at the terminal (from the ID card or 渝快码).
/// Holds only what the application needs (PIPL minimum collection).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub id_number: IdNumber,
    /// 住址 as printed on the card; empty when identified by 渝快码 without address.
    #[serde(default)]
    pub address: String,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Person")
            .field("name", &mask_name(&self.name))
            .field("id_number", &self.id_number)
            .finish_non_exhaustive()
    }
}

// ---- ID cards (the drivers' decoded text) become people ----

/// Why a card could not be read: the citizen can fix the first, staff must fix the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardError {
    /// No card, card moved, unreadable — "请重新放置身份证".
    Replace,
    /// The reader itself failed — "读卡器故障，请联系工作人员".
    Device,
    /// A card the kiosk cannot serve (the 2017 foreigner's permanent residence card) —
    /// "此类证件请到窗口办理".
    Unsupported,
}

/// The person on an ID card: 居民身份证, 港澳台居民居住证 and the 2023 外国人永久居留身份证 all
/// carry an 18-character GB 11643 number and serve at the kiosk. The 2017 foreigner's card
/// (a 15-character permit number) is sent to a window; a number whose check digit is wrong
/// reads as "place the card again".
pub fn person_from_card(card: &IdCard) -> Result<Person, CardError> {
    person_from_text(&card.text, card.appended_address.as_deref())
}

/// [`person_from_card`] on the card's decoded text.
pub fn person_from_text(
    text: &CardText,
    appended_address: Option<&str>,
) -> Result<Person, CardError> {
    let (name, number, address) = match text {
        CardText::Resident(r) => (r.name.as_str(), r.id_number.as_str(), r.address.as_str()),
        CardText::HkMoTwPermit(p) => (p.name.as_str(), p.id_number.as_str(), p.address.as_str()),
        CardText::ForeignPermanent2023(f) => {
            let name = if f.name_zh.trim().is_empty() {
                f.name_en.as_str()
            } else {
                f.name_zh.as_str()
            };
            (name, f.id_number.as_str(), "")
        }
        CardText::ForeignPermanent2017(_) => return Err(CardError::Unsupported),
    };
    let id_number = IdNumber::parse(number.trim()).map_err(|_| CardError::Replace)?;
    Ok(Person {
        name: name.trim().to_owned(),
        id_number,
        address: appended_address
            .map(str::to_owned)
            .unwrap_or_else(|| address.trim().to_owned()),
    })
}

/// 有效期止 — how long a card is valid, as far as the card says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardExpiry {
    /// Valid up to and including this day.
    On(jiff::civil::Date),
    /// 长期
    LongTerm,
}

/// The card's expiry, when its text has one that can be read (the counter's pre-review).
pub fn card_expiry(card: &IdCard) -> Option<CardExpiry> {
    use ykb_drivers::idcard::CardDate;
    let to = match &card.text {
        CardText::Resident(r) => &r.valid_to,
        _ => return None,
    };
    match to {
        CardDate::LongTerm => Some(CardExpiry::LongTerm),
        CardDate::Date { year, month, day } => jiff::civil::Date::new(
            i16::try_from(*year).ok()?,
            i8::try_from(*month).ok()?,
            i8::try_from(*day).ok()?,
        )
        .ok()
        .map(CardExpiry::On),
        CardDate::Raw(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A number built for tests: region 500103, born 1950-03-07, sequence 123, check digit computed.
    pub(crate) const SAMPLE: &str = "500103195003071234";

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_digit(first17).unwrap())
    }

    #[test]
    fn complete_adds_the_check_digit() {
        // The example number of GB 11643 itself.
        assert_eq!(
            IdNumber::complete("11010519491231002").unwrap().expose(),
            "11010519491231002X"
        );
        assert_eq!(
            IdNumber::complete(&SAMPLE[..17]).unwrap().expose(),
            with_check(&SAMPLE[..17])
        );
        assert!(IdNumber::complete("1234").is_err());
    }

    #[test]
    fn parses_a_number_with_a_valid_check_digit() {
        let n = with_check(&SAMPLE[..17]);
        let id = IdNumber::parse(&n).unwrap();
        assert_eq!(id.birth_date(), Some(jiff::civil::date(1950, 3, 7)));
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.age_on(jiff::civil::date(2026, 3, 6)), Some(75));
        assert_eq!(id.age_on(jiff::civil::date(2026, 3, 7)), Some(76));
    }

    #[test]
    fn refuses_a_wrong_check_digit_length_and_characters() {
        let good = with_check(&SAMPLE[..17]);
        let last = good.as_bytes()[17];
        let wrong = if last == b'0' { '1' } else { '0' };
        let bad = format!("{}{}", &good[..17], wrong);
        assert_eq!(IdNumber::parse(&bad), Err(IdNumberError::Checksum));
        assert_eq!(
            IdNumber::parse("5001031950"),
            Err(IdNumberError::Length(10))
        );
        assert_eq!(
            IdNumber::parse("50010319500307123Y"),
            Err(IdNumberError::Characters)
        );
    }

    #[test]
    fn refuses_an_impossible_birth_date() {
        let n = with_check("50010319501341123");
        assert_eq!(IdNumber::parse(&n), Err(IdNumberError::BirthDate));
    }

    #[test]
    fn lower_case_x_is_accepted() {
        // Find a 17-digit prefix whose check digit is X.
        let n = (0..1000)
            .map(|i| with_check(&format!("50010319800101{i:03}")))
            .find(|s| s.ends_with('X'))
            .unwrap();
        assert!(IdNumber::parse(&n.to_lowercase()).is_ok());
    }

    #[test]
    fn masking_keeps_only_first_three_and_last_four() {
        let id = IdNumber::parse(&with_check(&SAMPLE[..17])).unwrap();
        let m = id.masked();
        assert_eq!(m.len(), 18);
        assert!(m.starts_with("500***********"));
        assert_eq!(&m[14..], &id.expose()[14..]);
        assert!(!format!("{id:?}").contains(&id.expose()[3..14]));
    }

    #[test]
    fn names_are_masked_after_the_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
    }
}

#[cfg(test)]
mod card_tests {
    use super::*;
    use ykb_drivers::idcard::text::decode_text;
    use ykb_drivers::sim::idcard::CardFile;

    fn text_of(file: &str) -> CardText {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("drivers/tests/data")
            .join(file);
        let card = CardFile::load(&path).unwrap();
        decode_text(&card.text).unwrap()
    }

    #[test]
    fn residents_permit_holders_and_new_foreigners_cards_become_people() {
        let p = person_from_text(&text_of("resident-li-zhe.toml"), None).unwrap();
        assert_eq!(p.name, "李喆");
        let p = person_from_text(&text_of("permit-hk-chen.toml"), None).unwrap();
        assert_eq!(p.name, "陈嘉欣");
        assert_eq!(p.id_number.expose(), "810000198808080021");
        let p =
            person_from_text(&text_of("foreign-2023-brown.toml"), Some("重庆市渝北区")).unwrap();
        assert_eq!(p.name, "布朗");
        assert_eq!(p.address, "重庆市渝北区");
        assert_eq!(
            person_from_text(&text_of("foreign-2017-smith.toml"), None),
            Err(CardError::Unsupported)
        );
    }
}
