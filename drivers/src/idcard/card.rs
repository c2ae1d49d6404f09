//! A card as read: text, photo, fingerprint, appended address; and the read reply's payload.

use serde::{Deserialize, Serialize};

use super::photo::{Photo, WLT_LEN};
use super::text::{decode_text, CardKind, CardText, TextError, TEXT_LEN};

/// Fingerprint lengths a `30 10` reply may carry (none, one or two templates).
pub const FINGERPRINT_LENS: [usize; 3] = [0, 512, 1024];

/// The payload of a `30 01` / `30 10` reply, split but not yet interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPayload {
    /// The 256-byte text block.
    pub text: [u8; TEXT_LEN],
    /// The 1024-byte WLT photo.
    pub photo: Vec<u8>,
    /// Fingerprint data (`30 10` only).
    pub fingerprint: Option<Vec<u8>>,
}

/// A read reply whose lengths do not add up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed read reply: {0}")]
pub struct PayloadError(pub String);

/// Splits a read reply's data. Lengths are big-endian u16 fields and must match the protocol.
pub fn parse_read_payload(
    data: &[u8],
    with_fingerprint: bool,
) -> Result<ReadPayload, PayloadError> {
    let header = if with_fingerprint { 6 } else { 4 };
    if data.len() < header {
        return Err(PayloadError(format!(
            "{} bytes, shorter than its header",
            data.len()
        )));
    }
    let be = |i: usize| usize::from(u16::from_be_bytes([data[i], data[i + 1]]));
    let (text_len, photo_len) = (be(0), be(2));
    let fp_len = if with_fingerprint { be(4) } else { 0 };
    if text_len != TEXT_LEN || photo_len != WLT_LEN || !FINGERPRINT_LENS.contains(&fp_len) {
        return Err(PayloadError(format!(
            "text {text_len}, photo {photo_len}, fingerprint {fp_len} bytes"
        )));
    }
    if data.len() != header + text_len + photo_len + fp_len {
        return Err(PayloadError(format!(
            "{} bytes where the lengths promise {}",
            data.len(),
            header + text_len + photo_len + fp_len
        )));
    }
    let mut text = [0u8; TEXT_LEN];
    text.copy_from_slice(&data[header..header + TEXT_LEN]);
    let photo = data[header + TEXT_LEN..header + TEXT_LEN + WLT_LEN].to_vec();
    let fingerprint = with_fingerprint.then(|| data[header + TEXT_LEN + WLT_LEN..].to_vec());
    Ok(ReadPayload {
        text,
        photo,
        fingerprint,
    })
}

/// Builds a read reply's data (the emulator's side).
pub fn encode_read_payload(
    text: &[u8; TEXT_LEN],
    photo: &[u8],
    fingerprint: Option<&[u8]>,
) -> Vec<u8> {
    let mut photo = photo.to_vec();
    photo.resize(WLT_LEN, 0);
    let mut out = Vec::with_capacity(6 + TEXT_LEN + WLT_LEN + 1024);
    out.extend_from_slice(&(TEXT_LEN as u16).to_be_bytes());
    out.extend_from_slice(&(WLT_LEN as u16).to_be_bytes());
    if let Some(fp) = fingerprint {
        out.extend_from_slice(&(fp.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(text);
    out.extend_from_slice(&photo);
    if let Some(fp) = fingerprint {
        out.extend_from_slice(fp);
    }
    out
}

/// Decodes an appended address reply (UCS-2LE, space padded).
pub fn decode_appended_address(data: &[u8]) -> String {
    let units: Vec<u16> = data
        .chunks_exact(2)
        .take(128)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
        .trim_end_matches([' ', '\0'])
        .to_string()
}

/// 身份证 — an identity card (any of the four kinds) as read from the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdCard {
    /// The decoded text.
    pub text: CardText,
    /// Whether the identity number's GB 11643 check digit is right (`None`: not applicable).
    pub id_checksum_ok: Option<bool>,
    /// The photo (raw WLT, decoded if possible).
    pub photo: Photo,
    /// Fingerprint data when read with `30 10`.
    pub fingerprint: Option<Vec<u8>>,
    /// 追加住址 — the newest address written after issue, if any.
    pub appended_address: Option<String>,
}

impl IdCard {
    /// Builds the card from a read payload; the photo is decoded with `decoder` if it can be.
    pub fn from_payload(
        payload: ReadPayload,
        decoder: &dyn super::photo::PhotoDecoder,
    ) -> Result<Self, TextError> {
        let text = decode_text(&payload.text)?;
        Ok(Self {
            id_checksum_ok: text.id_checksum_ok(),
            text,
            photo: Photo::new(payload.photo, decoder),
            fingerprint: payload.fingerprint,
            appended_address: None,
        })
    }

    /// Which kind of card.
    pub fn kind(&self) -> CardKind {
        self.text.kind()
    }

    /// The flat record technicians and the app print (`idcard read --json`); the ID number is
    /// masked unless `reveal`.
    pub fn summary(&self, reveal: bool) -> CardSummary {
        let mut s = CardSummary {
            kind: self.kind(),
            name: self.text.name().to_string(),
            id_number: mask_id_number(self.text.id_number(), reveal),
            id_checksum_ok: self.id_checksum_ok,
            ..CardSummary::default()
        };
        match &self.text {
            CardText::Resident(t) => {
                s.sex = Some(t.sex.as_zh().into());
                s.nation = Some(
                    super::nation::nation_name(&t.nation_code)
                        .map(str::to_string)
                        .unwrap_or_else(|| t.nation_code.clone()),
                );
                s.birth_date = Some(t.birth_date.to_string());
                s.address = Some(
                    self.appended_address
                        .clone()
                        .unwrap_or_else(|| t.address.clone()),
                );
                s.authority = Some(t.authority.clone());
                s.valid_from = Some(t.valid_from.to_string());
                s.valid_to = Some(t.valid_to.to_string());
            }
            CardText::HkMoTwPermit(t) => {
                s.sex = Some(t.sex.as_zh().into());
                s.birth_date = Some(t.birth_date.to_string());
                s.address = Some(t.address.clone());
                s.authority = Some(t.authority.clone());
                s.valid_from = Some(t.valid_from.to_string());
                s.valid_to = Some(t.valid_to.to_string());
                s.pass_number = Some(t.pass_number.clone());
                s.issue_count = Some(t.issue_count.clone());
            }
            CardText::ForeignPermanent2017(t) => {
                s.name_en = Some(t.name_en.clone());
                s.sex = Some(t.sex.as_zh().into());
                s.nationality = Some(t.nationality.clone());
                s.birth_date = Some(t.birth_date.to_string());
                s.authority = Some(t.authority_code.clone());
                s.valid_from = Some(t.valid_from.to_string());
                s.valid_to = Some(t.valid_to.to_string());
            }
            CardText::ForeignPermanent2023(t) => {
                s.name_en = Some(t.name_en.clone());
                s.sex = Some(t.sex.as_zh().into());
                s.nationality = Some(t.nationality.clone());
                s.birth_date = Some(t.birth_date.to_string());
                s.valid_from = Some(t.valid_from.to_string());
                s.valid_to = Some(t.valid_to.to_string());
            }
        }
        s
    }
}

/// The flat JSON form of a card, with the keys the diagnostics CLI documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSummary {
    /// `resident`, `hk_mo_tw_permit`, `foreign_permanent_2017`, `foreign_permanent_2023`.
    pub kind: CardKind,
    /// Chinese name (English for foreign cards without one).
    pub name: String,
    /// English name (foreign cards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// 男 / 女.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Nation name (resident cards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nation: Option<String>,
    /// ISO 3166-1 alpha-3 (foreign cards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD` or `长期`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// Address (the appended one if the card has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Identity number, masked unless revealed.
    pub id_number: String,
    /// Issuing authority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// 通行证号码 (J cards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_number: Option<String>,
    /// 签发次数 (J cards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_count: Option<String>,
    /// GB 11643 check digit verdict (absent for 2017 foreign cards).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_checksum_ok: Option<bool>,
}

/// Masks all but the first 3 and last 4 characters (`500***********0017`), unless `reveal`.
pub fn mask_id_number(id: &str, reveal: bool) -> String {
    if reveal {
        return id.to_string();
    }
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < 3 || i >= chars.len() - 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn read_reply_of_30_01_is_1295_bytes_on_the_wire() {
        let data = encode_read_payload(&[0x20; TEXT_LEN], &[0u8; WLT_LEN], None);
        let mut body = vec![0, 0, 0x90];
        body.extend_from_slice(&data);
        assert_eq!(super::super::frame::encode_frame(&body).len(), 1295);
        let p = parse_read_payload(&data, false).unwrap();
        assert_eq!(p.photo.len(), WLT_LEN);
        assert!(p.fingerprint.is_none());
    }

    #[test]
    fn read_reply_of_30_10_carries_fingerprint() {
        for fp_len in FINGERPRINT_LENS {
            let fp = vec![7u8; fp_len];
            let data = encode_read_payload(&[0x20; TEXT_LEN], &[1u8; WLT_LEN], Some(&fp));
            assert_eq!(
                parse_read_payload(&data, true)
                    .unwrap()
                    .fingerprint
                    .unwrap(),
                fp
            );
            assert!(parse_read_payload(&data, false).is_err());
        }
    }

    #[test]
    fn id_numbers_are_masked_unless_revealed() {
        assert_eq!(
            mask_id_number("500103199003070017", false),
            "500***********0017"
        );
        assert_eq!(
            mask_id_number("500103199003070017", true),
            "500103199003070017"
        );
        assert_eq!(mask_id_number("12345", false), "*****");
    }

    #[test]
    fn summary_json_uses_the_cli_keys() {
        use super::super::text::{CardDate, HkMoTwPermitText, Sex};
        let text = CardText::HkMoTwPermit(HkMoTwPermitText {
            name: "陈嘉欣".into(),
            sex: Sex::Female,
            birth_date: CardDate::parse("19880808"),
            address: "重庆市".into(),
            id_number: "810000198808080021".into(),
            authority: "重庆市公安局".into(),
            valid_from: CardDate::parse("20210315"),
            valid_to: CardDate::LongTerm,
            pass_number: "H12345678".into(),
            issue_count: "02".into(),
        });
        let card = IdCard {
            id_checksum_ok: text.id_checksum_ok(),
            text,
            photo: Photo {
                wlt: vec![],
                decoded: Err("none".into()),
            },
            fingerprint: None,
            appended_address: None,
        };
        let json = serde_json::to_value(card.summary(false)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "hk_mo_tw_permit", "name": "陈嘉欣", "sex": "女",
                "birth_date": "1988-08-08", "valid_from": "2021-03-15", "valid_to": "长期",
                "address": "重庆市", "id_number": "810***********0021", "authority": "重庆市公安局",
                "pass_number": "H12345678", "issue_count": "02", "id_checksum_ok": true
            })
        );
    }

    #[test]
    fn card_kinds_serialise_as_the_cli_names_them() {
        let names: Vec<String> = [
            CardKind::Resident,
            CardKind::HkMoTwPermit,
            CardKind::ForeignPermanent2017,
            CardKind::ForeignPermanent2023,
        ]
        .iter()
        .map(|k| {
            serde_json::to_value(k)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
        assert_eq!(
            names,
            [
                "resident",
                "hk_mo_tw_permit",
                "foreign_permanent_2017",
                "foreign_permanent_2023"
            ]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_read_payloads_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2400), fp in any::<bool>()) {
            let _ = parse_read_payload(&data, fp);
            let _ = decode_appended_address(&data);
        }
    }
}
