//! The 256-byte UCS-2LE text block of a card and the four layouts it can take (sans-IO).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{gb11643, nation};

/// Size of the text block in a `30 01` / `30 10` reply.
pub const TEXT_LEN: usize = 256;
/// Offset of the card-type flag in the text block.
pub const KIND_FLAG_OFFSET: usize = 248;

/// Which card was read, as chosen by the flag at text byte 248.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// 居民身份证 — resident identity card (flag space or zero).
    #[default]
    Resident,
    /// 港澳台居民居住证 — Hong Kong/Macao/Taiwan residence permit (flag 'J').
    HkMoTwPermit,
    /// 外国人永久居留身份证 (2017) — foreign permanent resident card (flag 'I').
    // snake_case alone would give `foreign_permanent2017`; the CLI's JSON key has `_2017`.
    #[serde(rename = "foreign_permanent_2017")]
    ForeignPermanent2017,
    /// 外国人永久居留身份证 (2023) — foreign permanent resident card (flag 'Y').
    #[serde(rename = "foreign_permanent_2023")]
    ForeignPermanent2023,
}

impl CardKind {
    /// The flag character written at byte 248.
    pub fn flag(self) -> char {
        match self {
            Self::Resident => ' ',
            Self::HkMoTwPermit => 'J',
            Self::ForeignPermanent2017 => 'I',
            Self::ForeignPermanent2023 => 'Y',
        }
    }

    /// The card's name (zh-CN).
    pub fn describe_zh(self) -> &'static str {
        match self {
            Self::Resident => "居民身份证",
            Self::HkMoTwPermit => "港澳台居民居住证",
            Self::ForeignPermanent2017 => "外国人永久居留身份证（2017版）",
            Self::ForeignPermanent2023 => "外国人永久居留身份证（2023版）",
        }
    }
}

/// Sex as coded on the card ('1' male, '2' female).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// '1' 男.
    Male,
    /// '2' 女.
    Female,
    /// Anything else, kept as found.
    Other(String),
}

impl Sex {
    fn decode(code: &str) -> Self {
        match code {
            "1" => Self::Male,
            "2" => Self::Female,
            other => Self::Other(other.to_string()),
        }
    }
    fn code(&self) -> &str {
        match self {
            Self::Male => "1",
            Self::Female => "2",
            Self::Other(s) => s,
        }
    }
    /// 男 / 女 / the raw code.
    pub fn as_zh(&self) -> &str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
            Self::Other(s) => s,
        }
    }
}

/// A date field: `YYYYMMDD`, 长期 (no expiry), or whatever was there if neither.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardDate {
    /// A calendar date.
    Date {
        /// Year.
        year: u16,
        /// Month 1–12.
        month: u8,
        /// Day 1–31.
        day: u8,
    },
    /// 长期 — valid without end.
    LongTerm,
    /// Unparseable content, kept verbatim.
    Raw(String),
}

impl CardDate {
    /// Parses the on-card form (`YYYYMMDD` or `长期`).
    pub fn parse(s: &str) -> Self {
        if s == "长期" {
            return Self::LongTerm;
        }
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            let year: u16 = s[0..4].parse().unwrap_or(0);
            let month: u8 = s[4..6].parse().unwrap_or(0);
            let day: u8 = s[6..8].parse().unwrap_or(0);
            if (1..=12).contains(&month) && (1..=31).contains(&day) {
                return Self::Date { year, month, day };
            }
        }
        Self::Raw(s.to_string())
    }

    /// Parses `YYYY-MM-DD`, `YYYYMMDD` or `长期` (card files for the emulator).
    pub fn parse_human(s: &str) -> Self {
        Self::parse(&s.trim().replace('-', ""))
    }

    /// The on-card form.
    pub fn to_card(&self) -> String {
        match self {
            Self::Date { year, month, day } => format!("{year:04}{month:02}{day:02}"),
            Self::LongTerm => "长期".into(),
            Self::Raw(s) => s.clone(),
        }
    }
}

impl fmt::Display for CardDate {
    /// `YYYY-MM-DD`, `长期`, or the raw text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Date { year, month, day } => write!(f, "{year:04}-{month:02}-{day:02}"),
            Self::LongTerm => f.write_str("长期"),
            Self::Raw(s) => f.write_str(s),
        }
    }
}

/// Text of a resident identity card (居民身份证).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentText {
    /// 姓名.
    pub name: String,
    /// 性别.
    pub sex: Sex,
    /// 民族 code, two digits.
    pub nation_code: String,
    /// 出生日期.
    pub birth_date: CardDate,
    /// 住址.
    pub address: String,
    /// 公民身份号码.
    pub id_number: String,
    /// 签发机关.
    pub authority: String,
    /// 有效期起.
    pub valid_from: CardDate,
    /// 有效期止.
    pub valid_to: CardDate,
}

/// Text of a Hong Kong/Macao/Taiwan residence permit (港澳台居民居住证, flag 'J').
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HkMoTwPermitText {
    /// 姓名.
    pub name: String,
    /// 性别.
    pub sex: Sex,
    /// 出生日期.
    pub birth_date: CardDate,
    /// 住址.
    pub address: String,
    /// 公民身份号码 (18 digits, GB 11643 check digit; 81/82/83 prefix).
    pub id_number: String,
    /// 签发机关.
    pub authority: String,
    /// 有效期起.
    pub valid_from: CardDate,
    /// 有效期止.
    pub valid_to: CardDate,
    /// 通行证号码.
    pub pass_number: String,
    /// 签发次数.
    pub issue_count: String,
}

/// Text of a 2017 foreign permanent resident card (flag 'I').
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignPermanent2017Text {
    /// 英文姓名.
    pub name_en: String,
    /// 性别.
    pub sex: Sex,
    /// 永久居留证号码 (15 characters).
    pub permit_number: String,
    /// 国籍 (ISO 3166-1 alpha-3).
    pub nationality: String,
    /// 中文姓名.
    pub name_zh: String,
    /// 有效期起.
    pub valid_from: CardDate,
    /// 有效期止.
    pub valid_to: CardDate,
    /// 出生日期.
    pub birth_date: CardDate,
    /// 证件版本号.
    pub card_version: String,
    /// 申请受理机关代码.
    pub authority_code: String,
}

/// Text of a 2023 foreign permanent resident card (flag 'Y').
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignPermanent2023Text {
    /// 中文姓名.
    pub name_zh: String,
    /// 性别.
    pub sex: Sex,
    /// 换证次数.
    pub renewal_count: String,
    /// 出生日期.
    pub birth_date: CardDate,
    /// 英文姓名.
    pub name_en: String,
    /// 证件号码 (18 characters, GB 11643 check digit, leading 9).
    pub id_number: String,
    /// 有效期起.
    pub valid_from: CardDate,
    /// 有效期止.
    pub valid_to: CardDate,
    /// 国籍 (ISO 3166-1 alpha-3).
    pub nationality: String,
    /// 既往版本证件号码关联项 (link to the holder's earlier card, if any).
    pub previous_number: String,
}

/// The decoded text block, one variant per layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CardText {
    /// 居民身份证.
    Resident(ResidentText),
    /// 港澳台居民居住证.
    HkMoTwPermit(HkMoTwPermitText),
    /// 外国人永久居留身份证 2017.
    ForeignPermanent2017(ForeignPermanent2017Text),
    /// 外国人永久居留身份证 2023.
    ForeignPermanent2023(ForeignPermanent2023Text),
}

/// The text block could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The flag at byte 248 is not a layout we know.
    #[error("unknown card type flag {0:?} at text byte 248")]
    UnknownKind(char),
}

// Byte ranges (offset, length) of each layout. Resident layout (shared by 'J' for the first
// 220 bytes): name 30, sex 2, nation 4, birth 16, address 70, id 36, authority 30,
// valid from 16, valid to 16, then 36 bytes whose use depends on the card type.
const R_NAME: (usize, usize) = (0, 30);
const R_SEX: (usize, usize) = (30, 2);
const R_NATION: (usize, usize) = (32, 4);
const R_BIRTH: (usize, usize) = (36, 16);
const R_ADDRESS: (usize, usize) = (52, 70);
const R_ID: (usize, usize) = (122, 36);
const R_AUTHORITY: (usize, usize) = (158, 30);
const R_FROM: (usize, usize) = (188, 16);
const R_TO: (usize, usize) = (204, 16);
const J_PASS: (usize, usize) = (220, 18);
const J_COUNT: (usize, usize) = (238, 4);
const KIND: (usize, usize) = (KIND_FLAG_OFFSET, 2);
// 'I' (2017): English name 120, sex 2, permit number 30, nationality 6, Chinese name 30,
// valid from 16, valid to 16, birth 16, version 4, authority code 8, flag 2, reserved 6.
const I_NAME_EN: (usize, usize) = (0, 120);
const I_SEX: (usize, usize) = (120, 2);
const I_NUMBER: (usize, usize) = (122, 30);
const I_NATIONALITY: (usize, usize) = (152, 6);
const I_NAME_ZH: (usize, usize) = (158, 30);
const I_FROM: (usize, usize) = (188, 16);
const I_TO: (usize, usize) = (204, 16);
const I_BIRTH: (usize, usize) = (220, 16);
const I_VERSION: (usize, usize) = (236, 4);
const I_AUTHORITY: (usize, usize) = (240, 8);
// 'Y' (2023): follows the resident grid — Chinese name 30, sex 2, renewal count 4 (nation's
// place), birth 16, English name 70 (address's place), id 36, English name continued 30
// (authority's place), valid from 16, valid to 16, nationality 6, previous-card link 22, flag.
const Y_RENEWAL: (usize, usize) = (32, 4);
const Y_NAME_EN: (usize, usize) = (52, 70);
const Y_NAME_EN2: (usize, usize) = (158, 30);
const Y_NATIONALITY: (usize, usize) = (220, 6);
const Y_PREVIOUS: (usize, usize) = (226, 22);

/// The UTF-16LE code units of a field.
fn units(raw: &[u8; TEXT_LEN], (off, len): (usize, usize)) -> Vec<u16> {
    raw[off..off + len]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn field(raw: &[u8; TEXT_LEN], slot: (usize, usize)) -> String {
    let s = String::from_utf16_lossy(&units(raw, slot));
    s.trim_end_matches([' ', '\0', '\u{3000}']).to_string()
}

fn put(raw: &mut [u8; TEXT_LEN], (off, len): (usize, usize), s: &str) {
    let mut units: Vec<u16> = s.encode_utf16().take(len / 2).collect();
    // Never leave half a surrogate pair at the end of a field.
    if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
        units.pop();
    }
    units.resize(len / 2, u16::from(b' '));
    for (i, u) in units.iter().enumerate() {
        raw[off + 2 * i..off + 2 * i + 2].copy_from_slice(&u.to_le_bytes());
    }
}

/// Decodes the 256-byte text block.
pub fn decode_text(raw: &[u8; TEXT_LEN]) -> Result<CardText, TextError> {
    let flag = field(raw, KIND);
    let f = |r| field(raw, r);
    let date = |r| CardDate::parse(&field(raw, r));
    match flag.as_str() {
        "" => Ok(CardText::Resident(ResidentText {
            name: f(R_NAME),
            sex: Sex::decode(&f(R_SEX)),
            nation_code: f(R_NATION),
            birth_date: date(R_BIRTH),
            address: f(R_ADDRESS),
            id_number: f(R_ID),
            authority: f(R_AUTHORITY),
            valid_from: date(R_FROM),
            valid_to: date(R_TO),
        })),
        "J" => Ok(CardText::HkMoTwPermit(HkMoTwPermitText {
            name: f(R_NAME),
            sex: Sex::decode(&f(R_SEX)),
            birth_date: date(R_BIRTH),
            address: f(R_ADDRESS),
            id_number: f(R_ID),
            authority: f(R_AUTHORITY),
            valid_from: date(R_FROM),
            valid_to: date(R_TO),
            pass_number: f(J_PASS),
            issue_count: f(J_COUNT),
        })),
        "I" => Ok(CardText::ForeignPermanent2017(ForeignPermanent2017Text {
            name_en: f(I_NAME_EN),
            sex: Sex::decode(&f(I_SEX)),
            permit_number: f(I_NUMBER),
            nationality: f(I_NATIONALITY),
            name_zh: f(I_NAME_ZH),
            valid_from: date(I_FROM),
            valid_to: date(I_TO),
            birth_date: date(I_BIRTH),
            card_version: f(I_VERSION),
            authority_code: f(I_AUTHORITY),
        })),
        "Y" => {
            let mut name_en = field_untrimmed(raw, Y_NAME_EN);
            name_en.push_str(&field_untrimmed(raw, Y_NAME_EN2));
            Ok(CardText::ForeignPermanent2023(ForeignPermanent2023Text {
                name_zh: f(R_NAME),
                sex: Sex::decode(&f(R_SEX)),
                renewal_count: f(Y_RENEWAL),
                birth_date: date(R_BIRTH),
                name_en: name_en.trim_end_matches([' ', '\0']).to_string(),
                id_number: f(R_ID),
                valid_from: date(R_FROM),
                valid_to: date(R_TO),
                nationality: f(Y_NATIONALITY),
                previous_number: f(Y_PREVIOUS),
            }))
        }
        other => Err(TextError::UnknownKind(other.chars().next().unwrap_or('?'))),
    }
}

fn field_untrimmed(raw: &[u8; TEXT_LEN], slot: (usize, usize)) -> String {
    String::from_utf16_lossy(&units(raw, slot)).replace('\0', " ")
}

/// Encodes a text block (the emulator's side; also pins the layout in round-trip tests).
/// Fields longer than their slot are cut.
pub fn encode_text(text: &CardText) -> [u8; TEXT_LEN] {
    let mut raw = [0u8; TEXT_LEN];
    put(&mut raw, (0, TEXT_LEN), "");
    match text {
        CardText::Resident(t) => {
            put(&mut raw, R_NAME, &t.name);
            put(&mut raw, R_SEX, t.sex.code());
            put(&mut raw, R_NATION, &t.nation_code);
            put(&mut raw, R_BIRTH, &t.birth_date.to_card());
            put(&mut raw, R_ADDRESS, &t.address);
            put(&mut raw, R_ID, &t.id_number);
            put(&mut raw, R_AUTHORITY, &t.authority);
            put(&mut raw, R_FROM, &t.valid_from.to_card());
            put(&mut raw, R_TO, &t.valid_to.to_card());
        }
        CardText::HkMoTwPermit(t) => {
            put(&mut raw, R_NAME, &t.name);
            put(&mut raw, R_SEX, t.sex.code());
            put(&mut raw, R_BIRTH, &t.birth_date.to_card());
            put(&mut raw, R_ADDRESS, &t.address);
            put(&mut raw, R_ID, &t.id_number);
            put(&mut raw, R_AUTHORITY, &t.authority);
            put(&mut raw, R_FROM, &t.valid_from.to_card());
            put(&mut raw, R_TO, &t.valid_to.to_card());
            put(&mut raw, J_PASS, &t.pass_number);
            put(&mut raw, J_COUNT, &t.issue_count);
            put(&mut raw, KIND, "J");
        }
        CardText::ForeignPermanent2017(t) => {
            put(&mut raw, I_NAME_EN, &t.name_en);
            put(&mut raw, I_SEX, t.sex.code());
            put(&mut raw, I_NUMBER, &t.permit_number);
            put(&mut raw, I_NATIONALITY, &t.nationality);
            put(&mut raw, I_NAME_ZH, &t.name_zh);
            put(&mut raw, I_FROM, &t.valid_from.to_card());
            put(&mut raw, I_TO, &t.valid_to.to_card());
            put(&mut raw, I_BIRTH, &t.birth_date.to_card());
            put(&mut raw, I_VERSION, &t.card_version);
            put(&mut raw, I_AUTHORITY, &t.authority_code);
            put(&mut raw, KIND, "I");
        }
        CardText::ForeignPermanent2023(t) => {
            put(&mut raw, R_NAME, &t.name_zh);
            put(&mut raw, R_SEX, t.sex.code());
            put(&mut raw, Y_RENEWAL, &t.renewal_count);
            put(&mut raw, R_BIRTH, &t.birth_date.to_card());
            let units: Vec<u16> = t.name_en.encode_utf16().collect();
            let first = units.len().min(Y_NAME_EN.1 / 2);
            put(
                &mut raw,
                Y_NAME_EN,
                &String::from_utf16_lossy(&units[..first]),
            );
            put(
                &mut raw,
                Y_NAME_EN2,
                &String::from_utf16_lossy(&units[first..]),
            );
            put(&mut raw, R_ID, &t.id_number);
            put(&mut raw, R_FROM, &t.valid_from.to_card());
            put(&mut raw, R_TO, &t.valid_to.to_card());
            put(&mut raw, Y_NATIONALITY, &t.nationality);
            put(&mut raw, Y_PREVIOUS, &t.previous_number);
            put(&mut raw, KIND, "Y");
        }
    }
    raw
}

impl CardText {
    /// Which layout this is.
    pub fn kind(&self) -> CardKind {
        match self {
            Self::Resident(_) => CardKind::Resident,
            Self::HkMoTwPermit(_) => CardKind::HkMoTwPermit,
            Self::ForeignPermanent2017(_) => CardKind::ForeignPermanent2017,
            Self::ForeignPermanent2023(_) => CardKind::ForeignPermanent2023,
        }
    }

    /// The name to address the holder by (Chinese name; English if a foreign card has none).
    pub fn name(&self) -> &str {
        match self {
            Self::Resident(t) => &t.name,
            Self::HkMoTwPermit(t) => &t.name,
            Self::ForeignPermanent2017(t) if !t.name_zh.is_empty() => &t.name_zh,
            Self::ForeignPermanent2017(t) => &t.name_en,
            Self::ForeignPermanent2023(t) if !t.name_zh.is_empty() => &t.name_zh,
            Self::ForeignPermanent2023(t) => &t.name_en,
        }
    }

    /// The card's identity number (permit number for 2017 foreign cards).
    pub fn id_number(&self) -> &str {
        match self {
            Self::Resident(t) => &t.id_number,
            Self::HkMoTwPermit(t) => &t.id_number,
            Self::ForeignPermanent2017(t) => &t.permit_number,
            Self::ForeignPermanent2023(t) => &t.id_number,
        }
    }

    /// Whether the GB 11643 check digit is right; `None` for 2017 foreign cards, whose
    /// 15-character numbers do not use it.
    pub fn id_checksum_ok(&self) -> Option<bool> {
        match self {
            Self::ForeignPermanent2017(_) => None,
            other => Some(gb11643::is_valid(other.id_number())),
        }
    }

    /// The nation's name for resident cards with a known code.
    pub fn nation(&self) -> Option<&'static str> {
        match self {
            Self::Resident(t) => nation::nation_name(&t.nation_code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn resident() -> CardText {
        CardText::Resident(ResidentText {
            name: "王䶮".into(),
            sex: Sex::Male,
            nation_code: "01".into(),
            birth_date: CardDate::parse("19900307"),
            address: "重庆市渝中区解放碑街道民族路100号".into(),
            id_number: "500103199003070017".into(),
            authority: "重庆市公安局渝中区分局".into(),
            valid_from: CardDate::parse("20200101"),
            valid_to: CardDate::LongTerm,
        })
    }

    #[test]
    fn resident_layout_puts_fields_at_their_offsets() {
        let raw = encode_text(&resident());
        // 王 = U+738B little-endian at byte 0; 䶮 = U+4DAE at byte 2; sex '1' at byte 30.
        assert_eq!(&raw[0..4], &[0x8B, 0x73, 0xAE, 0x4D]);
        assert_eq!(&raw[30..32], &[b'1', 0]);
        assert_eq!(&raw[32..36], &[b'0', 0, b'1', 0]);
        assert_eq!(&raw[122..124], &[b'5', 0]);
        assert_eq!(&raw[248..250], &[b' ', 0]);
        let back = decode_text(&raw).unwrap();
        assert_eq!(back, resident());
        assert_eq!(back.nation(), Some("汉"));
        assert_eq!(back.id_checksum_ok(), Some(true));
    }

    #[test]
    fn zero_flag_is_a_resident_card_and_unknown_flag_is_an_error() {
        let mut raw = encode_text(&resident());
        raw[248] = 0;
        assert_eq!(decode_text(&raw).unwrap().kind(), CardKind::Resident);
        raw[248] = b'Q';
        assert_eq!(decode_text(&raw), Err(TextError::UnknownKind('Q')));
    }

    #[test]
    fn dates_parse_and_print() {
        assert_eq!(CardDate::parse("20300101").to_string(), "2030-01-01");
        assert_eq!(CardDate::parse("长期").to_string(), "长期");
        assert_eq!(
            CardDate::parse("2030x101"),
            CardDate::Raw("2030x101".into())
        );
        assert_eq!(CardDate::parse_human("2030-01-01").to_card(), "20300101");
    }

    fn arb_text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<char>(), 0..max).prop_map(|cs| {
            let s: String = cs
                .into_iter()
                .filter(|c| {
                    (*c as u32) < 0x10000
                        && *c != '\0'
                        && *c != ' '
                        && *c != '\u{3000}'
                        && *c != '\u{FFFD}'
                })
                .collect();
            s
        })
    }

    proptest! {
        #[test]
        fn arbitrary_text_blocks_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), TEXT_LEN)) {
            let raw: [u8; TEXT_LEN] = bytes.try_into().unwrap();
            let _ = decode_text(&raw).map(|t| (t.name().len(), t.id_checksum_ok()));
        }

        #[test]
        fn permit_text_round_trips(name in arb_text(15), addr in arb_text(35), pass in "[A-Z0-9]{9}", count in "[0-9]{2}") {
            let t = CardText::HkMoTwPermit(HkMoTwPermitText {
                name, sex: Sex::Female, birth_date: CardDate::parse("19880808"), address: addr,
                id_number: "810000198808080021".into(), authority: "重庆市公安局".into(),
                valid_from: CardDate::parse("20200101"), valid_to: CardDate::parse("20250101"),
                pass_number: pass, issue_count: count,
            });
            prop_assert_eq!(decode_text(&encode_text(&t)).unwrap(), t);
        }

        #[test]
        fn foreign_texts_round_trip(en in "[A-Z][A-Z ,]{0,40}[A-Z]", zh in arb_text(15)) {
            let a = CardText::ForeignPermanent2017(ForeignPermanent2017Text {
                name_en: en.clone(), sex: Sex::Male,
                permit_number: "USA310019900101".into(), nationality: "USA".into(), name_zh: zh.clone(),
                valid_from: CardDate::parse("20170101"), valid_to: CardDate::parse("20270101"),
                birth_date: CardDate::parse("19900101"), card_version: "01".into(), authority_code: "5000".into(),
            });
            prop_assert_eq!(decode_text(&encode_text(&a)).unwrap(), a);
            let b = CardText::ForeignPermanent2023(ForeignPermanent2023Text {
                name_zh: zh, sex: Sex::Female, renewal_count: "00".into(), birth_date: CardDate::parse("19900101"),
                name_en: en, id_number: "932500199001010023".into(), valid_from: CardDate::parse("20240101"),
                valid_to: CardDate::parse("20340101"), nationality: "GBR".into(), previous_number: String::new(),
            });
            prop_assert_eq!(decode_text(&encode_text(&b)).unwrap(), b);
        }
    }
}
