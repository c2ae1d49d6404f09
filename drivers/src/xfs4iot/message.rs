//! The XFS4IoT message envelope (CEN CWA 17852): one JSON object per WebSocket text message,
//! `{"header": {...}, "payload": {...}}`.
//!
//! The header carries `type` (`command`, `acknowledge`, `event`, `completion`, `unsolicited`),
//! `name` (`Interface.Message`, e.g. `Printer.PrintRaw`), `requestId` (a positive integer the
//! client chose for a command, echoed on every message about it; absent on unsolicited events),
//! `version` (`major.minor` of the message), and by type: `timeout` (command, milliseconds),
//! `status` (acknowledge: absent or `ok` = queued, else why it was refused), `completionCode`
//! and `errorDescription` (completion). The payload is an object or absent.
//!
//! Sans-IO: [`decode`] checks the size cap before parsing and the header's shape after it;
//! [`encode_command`] writes a command. Payload contents are never put into errors (a
//! receipt or a barcode may hold personal data).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The largest message accepted by default (a camera picture as base64 JPEG ≤ 1 MB fits).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 << 20;

/// Longest `name` accepted (the specification's names are well under 64 characters).
const MAX_NAME_LEN: usize = 128;

/// The largest request id: the specification's ids are positive 32-bit integers.
pub const MAX_REQUEST_ID: u32 = i32::MAX as u32;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MessageType {
    /// Client → service: do something.
    Command,
    /// Service → client: the command was queued (or refused).
    Acknowledge,
    /// Service → client: something happened while a command runs.
    Event,
    /// Service → client: the command's one and only result.
    Completion,
    /// Service → every client: a change not tied to a command (status, vendor mode …).
    Unsolicited,
}

/// The message header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Command, acknowledge, event, completion or unsolicited.
    #[serde(rename = "type")]
    pub kind: MessageType,
    /// `Interface.Message`.
    pub name: String,
    /// The command's id; absent on unsolicited events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<u64>,
    /// `major.minor` of the message definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Command only: how long the service may take, in milliseconds (0 = no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Acknowledge only: absent or `ok` when queued; `invalidMessage`, `invalidRequestID`,
    /// `tooManyRequests`, … when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Completion only: `success` or why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_code: Option<String>,
    /// Acknowledge or completion: the service's own words on a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The header, checked.
    pub header: Header,
    /// The payload object (empty when absent or `null`).
    pub payload: Map<String, Value>,
}

#[derive(Deserialize)]
struct Wire {
    header: Header,
    #[serde(default)]
    payload: Value,
}

/// Why a text is not an XFS4IoT message. Never holds payload contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Longer than the cap; not parsed at all.
    #[error("message of {len} bytes is over the {max}-byte cap")]
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not JSON, or JSON without a usable header.
    #[error("not an XFS4IoT message: {0}")]
    Malformed(String),
    /// The header is there but breaks a rule (missing id, bad name …); `request_id` is the id
    /// it names, if any, so the one command it is about can be ended.
    #[error("bad XFS4IoT header: {reason}")]
    BadHeader {
        /// What is wrong.
        reason: String,
        /// The id in the header, when there is one.
        request_id: Option<u64>,
    },
}

/// Decodes one text message of at most `max_bytes`.
pub fn decode(text: &str, max_bytes: usize) -> Result<Message, CodecError> {
    if text.len() > max_bytes {
        return Err(CodecError::TooLarge {
            len: text.len(),
            max: max_bytes,
        });
    }
    let wire: Wire = serde_json::from_str(text).map_err(|e| {
        // serde_json's message names the position and what was expected, never the input.
        CodecError::Malformed(format!(
            "{} at line {} column {}",
            e.classify_name(),
            e.line(),
            e.column()
        ))
    })?;
    let payload = match wire.payload {
        Value::Null => Map::new(),
        Value::Object(m) => m,
        _ => {
            return Err(CodecError::BadHeader {
                reason: "payload is not an object".into(),
                request_id: wire.header.request_id,
            })
        }
    };
    check_header(&wire.header)?;
    Ok(Message {
        header: wire.header,
        payload,
    })
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "JSON of the wrong shape",
            serde_json::error::Category::Eof => "truncated JSON",
        }
    }
}

fn check_header(h: &Header) -> Result<(), CodecError> {
    let bad = |reason: String| CodecError::BadHeader {
        reason,
        request_id: h.request_id,
    };
    if !is_valid_name(&h.name) {
        return Err(bad(format!(
            "name is not Interface.Message ({} characters)",
            h.name.chars().count()
        )));
    }
    match (h.kind, h.request_id) {
        (MessageType::Unsolicited, Some(_)) => {
            return Err(bad("an unsolicited event carries a requestId".into()))
        }
        (MessageType::Unsolicited, None) => {}
        (_, None) => return Err(bad(format!("{:?} without a requestId", h.kind))),
        (_, Some(0)) => return Err(bad("requestId 0".into())),
        (_, Some(id)) if id > u64::from(MAX_REQUEST_ID) => {
            return Err(bad("requestId beyond 2^31-1".into()))
        }
        _ => {}
    }
    if let Some(v) = &h.version {
        if !is_valid_version(v) {
            return Err(bad("version is not major.minor".into()));
        }
    }
    Ok(())
}

/// `Interface.Message`: ASCII letters and digits, one dot, neither part empty.
pub fn is_valid_name(name: &str) -> bool {
    if name.len() > MAX_NAME_LEN {
        return false;
    }
    let mut parts = name.split('.');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric())
    };
    word(a) && word(b)
}

fn is_valid_version(v: &str) -> bool {
    let Some((major, minor)) = v.split_once('.') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    digits(major) && digits(minor)
}

/// Writes a command. `timeout_ms` 0 means the service's own limit.
pub fn encode_command(
    name: &str,
    request_id: u32,
    version: &str,
    timeout_ms: u64,
    payload: &Map<String, Value>,
) -> String {
    let header = Header {
        kind: MessageType::Command,
        name: name.to_string(),
        request_id: Some(u64::from(request_id)),
        version: Some(version.to_string()),
        timeout: Some(timeout_ms),
        status: None,
        completion_code: None,
        error_description: None,
    };
    let mut obj = Map::new();
    obj.insert(
        "header".into(),
        serde_json::to_value(&header).expect("a header is always JSON"),
    );
    if !payload.is_empty() {
        obj.insert("payload".into(), Value::Object(payload.clone()));
    }
    Value::Object(obj).to_string()
}

/// A completion's `completionCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CompletionCode {
    /// Done.
    Success,
    /// The command's own error: see the payload's `errorCode`.
    CommandErrorCode,
    /// Cancelled (by `Common.Cancel`).
    Canceled,
    /// The device is not ready (offline, busy with something else).
    DeviceNotReady,
    /// A hardware fault.
    HardwareError,
    /// The service failed internally.
    InternalError,
    /// The command is not valid now.
    InvalidCommand,
    /// The request id is not valid.
    #[serde(rename = "invalidRequestID")]
    InvalidRequestId,
    /// The service's own time limit ran out.
    #[serde(rename = "timeOut")]
    TimeOut,
    /// Not supported by this service.
    UnsupportedCommand,
    /// The payload is not valid.
    InvalidData,
    /// The user did something that stopped the command.
    UserError,
    /// Valid data the service does not support.
    UnsupportedData,
    /// Fraud was detected.
    FraudAttempt,
    /// Out of sequence.
    SequenceError,
    /// Needs authorisation first (end-to-end security).
    #[serde(alias = "authorizationRequired")]
    AuthorisationRequired,
    /// The service needs a command nonce first (`Common.GetCommandNonce`).
    NoCommandNonce,
    /// The security token is not valid.
    InvalidToken,
    /// The token's nonce is not the current one.
    InvalidTokenNonce,
    /// The token's HMAC does not match.
    #[serde(rename = "invalidTokenHMAC")]
    InvalidTokenHmac,
    /// The token is not in the expected format.
    InvalidTokenFormat,
    /// The token's key has no value loaded.
    InvalidTokenKeyNoValue,
    /// Not enough space (storage).
    NotEnoughSpace,
    /// A code this client does not know (a newer specification).
    #[serde(other)]
    Unknown,
}

impl CompletionCode {
    /// Parses the header's text; unknown codes become [`CompletionCode::Unknown`].
    pub fn from_wire(s: &str) -> Self {
        serde_json::from_value(Value::String(s.to_string())).unwrap_or(Self::Unknown)
    }
}

/// Cleans a peer's `errorDescription` for logs and technicians: at most 200 characters, no
/// control characters.
pub fn clean_description(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_command_round_trips_through_decode() {
        let mut p = Map::new();
        p.insert("inputData".into(), "no".into());
        let text = encode_command("Printer.PrintRaw", 7, "2.0", 30_000, &p);
        let m = decode(&text, DEFAULT_MAX_MESSAGE_BYTES).unwrap();
        assert_eq!(m.header.kind, MessageType::Command);
        assert_eq!(m.header.name, "Printer.PrintRaw");
        assert_eq!(m.header.request_id, Some(7));
        assert_eq!(m.header.version.as_deref(), Some("2.0"));
        assert_eq!(m.header.timeout, Some(30_000));
        assert_eq!(m.payload, p);
    }

    #[test]
    fn a_command_without_payload_has_no_payload_key() {
        let text = encode_command("Common.Status", 1, "2.0", 0, &Map::new());
        assert!(!text.contains("payload"), "{text}");
    }

    #[test]
    fn completions_and_unsolicited_events_decode() {
        let c = decode(
            r#"{"header":{"type":"completion","name":"Common.Status","requestId":3,"version":"2.0","completionCode":"success"},"payload":{"common":{"device":"online"}}}"#,
            1024,
        )
        .unwrap();
        assert_eq!(c.header.completion_code.as_deref(), Some("success"));
        assert_eq!(c.payload["common"]["device"], "online");
        let u = decode(
            r#"{"header":{"type":"unsolicited","name":"Common.StatusChangedEvent","version":"2.0"},"payload":null}"#,
            1024,
        )
        .unwrap();
        assert_eq!(u.header.kind, MessageType::Unsolicited);
        assert!(u.payload.is_empty());
    }

    #[test]
    fn the_size_cap_is_checked_before_parsing() {
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(2000));
        assert_eq!(
            decode(&big, 1000),
            Err(CodecError::TooLarge {
                len: big.len(),
                max: 1000
            })
        );
    }

    #[test]
    fn malformed_json_names_no_content() {
        let err = decode(
            r#"{"header":{"type":"completion","name":"张三 110101"#,
            1024,
        )
        .unwrap_err();
        let CodecError::Malformed(why) = &err else {
            panic!("{err:?}")
        };
        assert!(why.contains("truncated"), "{why}");
        assert!(!why.contains("张三") && !why.contains("110101"), "{why}");
    }

    #[test]
    fn header_rules_are_enforced() {
        let cases = [
            (
                r#"{"header":{"type":"completion","name":"Common.Status"}}"#,
                "without a requestId",
            ),
            (
                r#"{"header":{"type":"completion","name":"Common.Status","requestId":0}}"#,
                "requestId 0",
            ),
            (
                r#"{"header":{"type":"event","name":"Common.Status","requestId":4294967296}}"#,
                "beyond",
            ),
            (
                r#"{"header":{"type":"unsolicited","name":"Common.StatusChangedEvent","requestId":2}}"#,
                "unsolicited",
            ),
            (
                r#"{"header":{"type":"completion","name":"Status","requestId":2}}"#,
                "Interface.Message",
            ),
            (
                r#"{"header":{"type":"completion","name":"Common.Status","requestId":2,"version":"two"}}"#,
                "major.minor",
            ),
            (
                r#"{"header":{"type":"completion","name":"Common.Status","requestId":2},"payload":[1]}"#,
                "not an object",
            ),
        ];
        for (text, want) in cases {
            match decode(text, 1024) {
                Err(CodecError::BadHeader { reason, .. }) => {
                    assert!(reason.contains(want), "{text}: {reason}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // An unknown type is malformed: there is no header to speak of.
        assert!(matches!(
            decode(
                r#"{"header":{"type":"reply","name":"Common.Status","requestId":2}}"#,
                1024
            ),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn a_bad_header_still_names_its_request() {
        let e = decode(
            r#"{"header":{"type":"completion","name":"Common.Status","requestId":9},"payload":"x"}"#,
            1024,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            CodecError::BadHeader {
                request_id: Some(9),
                ..
            }
        ));
    }

    #[test]
    fn completion_codes_parse_and_unknown_ones_are_kept_apart() {
        assert_eq!(
            CompletionCode::from_wire("success"),
            CompletionCode::Success
        );
        assert_eq!(
            CompletionCode::from_wire("timeOut"),
            CompletionCode::TimeOut
        );
        assert_eq!(
            CompletionCode::from_wire("invalidTokenHMAC"),
            CompletionCode::InvalidTokenHmac
        );
        assert_eq!(
            CompletionCode::from_wire("authorizationRequired"),
            CompletionCode::AuthorisationRequired
        );
        assert_eq!(
            CompletionCode::from_wire("brandNew"),
            CompletionCode::Unknown
        );
    }

    #[test]
    fn descriptions_are_cut_and_cleaned() {
        let d = clean_description(&format!("bad\u{1b}[31m\n{}", "x".repeat(500)));
        assert!(!d.contains('\u{1b}') && !d.contains('\n'));
        assert_eq!(d.chars().count(), 200);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,300}") {
            let _ = decode(&s, 256);
        }

        #[test]
        fn arbitrary_headers_never_panic(
            kind in prop::sample::select(vec!["command", "acknowledge", "event", "completion", "unsolicited", "x"]),
            name in "[A-Za-z.]{0,20}",
            id in prop::option::of(any::<i64>()),
            code in "[a-zA-Z]{0,12}",
        ) {
            let mut h = serde_json::json!({"type": kind, "name": name, "completionCode": code});
            if let Some(id) = id { h["requestId"] = id.into(); }
            let text = serde_json::json!({"header": h}).to_string();
            if let Ok(m) = decode(&text, 4096) {
                prop_assert!(is_valid_name(&m.header.name));
                if m.header.kind != MessageType::Unsolicited {
                    let id = m.header.request_id.unwrap();
                    prop_assert!(id >= 1 && id <= u64::from(MAX_REQUEST_ID));
                }
            }
        }
    }
}
