//! IPP/1.1 messages (RFC 8010 encoding, RFC 8011 semantics), sans-IO: requests encoded to
//! bytes, responses decoded from bytes. Only what a print client needs: the attribute groups,
//! integer / enum / boolean / text-like values, and the operations `Print-Job`,
//! `Get-Job-Attributes`, `Cancel-Job` and `Get-Printer-Attributes`.

/// Operation ids (RFC 8011 §5.4.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Operation {
    /// Print-Job: one document in the request body.
    PrintJob = 0x0002,
    /// Cancel-Job.
    CancelJob = 0x0008,
    /// Get-Job-Attributes.
    GetJobAttributes = 0x0009,
    /// Get-Printer-Attributes.
    GetPrinterAttributes = 0x000B,
}

/// Delimiter tags of the attribute groups.
pub mod tag {
    /// operation-attributes-tag
    pub const OPERATION: u8 = 0x01;
    /// job-attributes-tag
    pub const JOB: u8 = 0x02;
    /// end-of-attributes-tag
    pub const END: u8 = 0x03;
    /// printer-attributes-tag
    pub const PRINTER: u8 = 0x04;
    /// unsupported-attributes-tag
    pub const UNSUPPORTED: u8 = 0x05;
    /// integer
    pub const INTEGER: u8 = 0x21;
    /// boolean
    pub const BOOLEAN: u8 = 0x22;
    /// enum
    pub const ENUM: u8 = 0x23;
    /// textWithoutLanguage
    pub const TEXT: u8 = 0x41;
    /// nameWithoutLanguage
    pub const NAME: u8 = 0x42;
    /// keyword
    pub const KEYWORD: u8 = 0x44;
    /// uri
    pub const URI: u8 = 0x45;
    /// charset
    pub const CHARSET: u8 = 0x47;
    /// naturalLanguage
    pub const LANGUAGE: u8 = 0x48;
    /// mimeMediaType
    pub const MIME: u8 = 0x49;
}

/// One attribute value as decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// integer or enum.
    Int(i32),
    /// boolean.
    Bool(bool),
    /// Any string-like value (text, name, keyword, uri, charset, language, MIME type).
    Text(String),
    /// Anything else, kept as its tag.
    Other(u8),
}

/// One attribute: its group, name and values (1setOf values arrive as several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The delimiter tag of its group.
    pub group: u8,
    /// Its name.
    pub name: String,
    /// Its values, in order.
    pub values: Vec<Value>,
}

/// A request being built: the operation attributes every request starts with
/// (attributes-charset, attributes-natural-language, printer-uri), then what is added.
#[derive(Debug, Clone)]
pub struct Request {
    bytes: Vec<u8>,
    group: u8,
}

impl Request {
    /// A request for `op` with `request_id`, addressed to `printer_uri`.
    pub fn new(op: Operation, request_id: u32, printer_uri: &str) -> Self {
        let mut bytes = vec![1, 1];
        bytes.extend_from_slice(&(op as u16).to_be_bytes());
        bytes.extend_from_slice(&request_id.to_be_bytes());
        bytes.push(tag::OPERATION);
        let mut r = Self {
            bytes,
            group: tag::OPERATION,
        };
        r.push(tag::CHARSET, "attributes-charset", b"utf-8");
        r.push(tag::LANGUAGE, "attributes-natural-language", b"zh-cn");
        r.push(tag::URI, "printer-uri", printer_uri.as_bytes());
        r
    }

    fn push(&mut self, value_tag: u8, name: &str, value: &[u8]) {
        self.bytes.push(value_tag);
        self.bytes
            .extend_from_slice(&(name.len().min(u16::MAX as usize) as u16).to_be_bytes());
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes
            .extend_from_slice(&(value.len().min(u16::MAX as usize) as u16).to_be_bytes());
        self.bytes.extend_from_slice(value);
    }

    /// Starts the job-attributes group (attributes after it describe the job).
    pub fn job_group(mut self) -> Self {
        if self.group != tag::JOB {
            self.bytes.push(tag::JOB);
            self.group = tag::JOB;
        }
        self
    }

    /// A string-like attribute (`value_tag` one of the text tags).
    pub fn text(mut self, value_tag: u8, name: &str, value: &str) -> Self {
        self.push(value_tag, name, value.as_bytes());
        self
    }

    /// An integer attribute.
    pub fn int(mut self, name: &str, value: i32) -> Self {
        self.push(tag::INTEGER, name, &value.to_be_bytes());
        self
    }

    /// A 1setOf keyword attribute (e.g. requested-attributes).
    pub fn keywords(mut self, name: &str, values: &[&str]) -> Self {
        for (i, v) in values.iter().enumerate() {
            // Additional values of a set carry an empty name.
            let n = if i == 0 { name } else { "" };
            self.push(tag::KEYWORD, n, v.as_bytes());
        }
        self
    }

    /// The encoded request: attributes, end tag, then `document` (empty for all but
    /// Print-Job).
    pub fn encode(mut self, document: &[u8]) -> Vec<u8> {
        self.bytes.push(tag::END);
        self.bytes.extend_from_slice(document);
        self.bytes
    }
}

/// A decoded response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (0x0000–0x00FF successful; 0x04xx client error; 0x05xx server
    /// error).
    pub status: u16,
    /// The request id it answers.
    pub request_id: u32,
    /// Every attribute, in order.
    pub attributes: Vec<Attribute>,
}

/// Why a response could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// It ended before the end-of-attributes tag.
    #[error("IPP response truncated")]
    Truncated,
    /// A value came before any attribute name.
    #[error("IPP response malformed: {0}")]
    Malformed(&'static str),
}

/// The most attributes a response may carry before it is refused (a bound on what a
/// misbehaving server can make us allocate).
pub const MAX_ATTRIBUTES: usize = 4096;

impl Response {
    /// Decodes `bytes` (the HTTP body of an `application/ipp` response).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut at = 0usize;
        let take = |at: &mut usize, n: usize| -> Result<&[u8], DecodeError> {
            let end = at.checked_add(n).ok_or(DecodeError::Truncated)?;
            let s = bytes.get(*at..end).ok_or(DecodeError::Truncated)?;
            *at = end;
            Ok(s)
        };
        let head = take(&mut at, 8)?;
        let status = u16::from_be_bytes([head[2], head[3]]);
        let request_id = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let mut attributes: Vec<Attribute> = Vec::new();
        let mut group = 0u8;
        loop {
            let t = take(&mut at, 1)?[0];
            if t == tag::END {
                break;
            }
            if t < 0x10 {
                group = t;
                continue;
            }
            let n = take(&mut at, 2)?;
            let name_len = u16::from_be_bytes([n[0], n[1]]) as usize;
            let name = String::from_utf8_lossy(take(&mut at, name_len)?).into_owned();
            let v = take(&mut at, 2)?;
            let value_len = u16::from_be_bytes([v[0], v[1]]) as usize;
            let raw = take(&mut at, value_len)?;
            let value = match t {
                tag::INTEGER | tag::ENUM if raw.len() == 4 => {
                    Value::Int(i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]))
                }
                tag::BOOLEAN if raw.len() == 1 => Value::Bool(raw[0] != 0),
                0x40..=0x49 => Value::Text(String::from_utf8_lossy(raw).into_owned()),
                other => Value::Other(other),
            };
            if name.is_empty() {
                let last = attributes
                    .last_mut()
                    .ok_or(DecodeError::Malformed("additional value without attribute"))?;
                last.values.push(value);
            } else {
                if attributes.len() >= MAX_ATTRIBUTES {
                    return Err(DecodeError::Malformed("too many attributes"));
                }
                attributes.push(Attribute {
                    group,
                    name,
                    values: vec![value],
                });
            }
        }
        Ok(Self {
            status,
            request_id,
            attributes,
        })
    }

    /// Whether the status is one of the successful ones.
    pub fn ok(&self) -> bool {
        self.status < 0x0100
    }

    /// The first attribute named `name`.
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The first value of `name` as an integer or enum.
    pub fn int(&self, name: &str) -> Option<i32> {
        self.get(name)
            .and_then(|a| a.values.first())
            .and_then(|v| match v {
                Value::Int(i) => Some(*i),
                _ => None,
            })
    }

    /// The first value of `name` as a boolean.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name)
            .and_then(|a| a.values.first())
            .and_then(|v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            })
    }

    /// Every string value of `name`.
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|a| {
                a.values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Text(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The status-message operation attribute, when the server sent one.
    pub fn status_message(&self) -> Option<String> {
        self.texts("status-message").into_iter().next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_starts_with_version_operation_id_and_the_three_operation_attributes() {
        let b = Request::new(
            Operation::GetJobAttributes,
            7,
            "ipp://localhost/printers/a4",
        )
        .int("job-id", 42)
        .encode(&[]);
        assert_eq!(&b[..8], &[1, 1, 0, 9, 0, 0, 0, 7]);
        assert_eq!(b[8], tag::OPERATION);
        assert_eq!(b[9], tag::CHARSET);
        assert_eq!(&b[10..12], &[0, 18]);
        assert_eq!(&b[12..30], b"attributes-charset");
        assert_eq!(*b.last().unwrap(), tag::END);
        let job_id = b.windows(6).position(|w| w == b"job-id").unwrap();
        assert_eq!(&b[job_id + 6..job_id + 12], &[0, 4, 0, 0, 0, 42]);
    }

    fn response(attrs: &[(u8, u8, &str, &[u8])]) -> Vec<u8> {
        let mut b = vec![1, 1, 0, 0, 0, 0, 0, 3];
        let mut group = 0;
        for (g, t, name, value) in attrs {
            if *g != group {
                b.push(*g);
                group = *g;
            }
            b.push(*t);
            b.extend_from_slice(&(name.len() as u16).to_be_bytes());
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(&(value.len() as u16).to_be_bytes());
            b.extend_from_slice(value);
        }
        b.push(tag::END);
        b
    }

    #[test]
    fn a_response_decodes_enums_booleans_and_sets() {
        let b = response(&[
            (tag::OPERATION, tag::CHARSET, "attributes-charset", b"utf-8"),
            (
                tag::PRINTER,
                tag::ENUM,
                "printer-state",
                &5i32.to_be_bytes(),
            ),
            (
                tag::PRINTER,
                tag::KEYWORD,
                "printer-state-reasons",
                b"paused",
            ),
            (tag::PRINTER, tag::KEYWORD, "", b"media-empty-error"),
            (
                tag::PRINTER,
                tag::BOOLEAN,
                "printer-is-accepting-jobs",
                &[1],
            ),
        ]);
        let r = Response::decode(&b).unwrap();
        assert!(r.ok());
        assert_eq!(r.request_id, 3);
        assert_eq!(r.int("printer-state"), Some(5));
        assert_eq!(r.bool("printer-is-accepting-jobs"), Some(true));
        assert_eq!(
            r.texts("printer-state-reasons"),
            vec!["paused".to_owned(), "media-empty-error".to_owned()]
        );
        assert_eq!(r.get("printer-state").unwrap().group, tag::PRINTER);
    }

    #[test]
    fn truncated_and_garbage_responses_are_errors_not_panics() {
        let b = response(&[(
            tag::PRINTER,
            tag::ENUM,
            "printer-state",
            &3i32.to_be_bytes(),
        )]);
        for n in 0..b.len() {
            assert!(Response::decode(&b[..n]).is_err(), "prefix {n}");
        }
        // Arbitrary bytes never panic.
        let mut x = 0x1234_5678u32;
        for len in 0..300 {
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let _ = Response::decode(&junk);
        }
        // An additional value before any attribute is malformed.
        let mut bad = vec![
            1,
            1,
            0,
            0,
            0,
            0,
            0,
            1,
            tag::PRINTER,
            tag::KEYWORD,
            0,
            0,
            0,
            1,
            b'x',
        ];
        bad.push(tag::END);
        assert!(matches!(
            Response::decode(&bad),
            Err(DecodeError::Malformed(_))
        ));
    }
}
