//! The service side of XFS4IoT, sans-IO: what a device service does with the text a client
//! sends on one WebSocket, and the answers it may write back.
//!
//! [`Connection`] takes each text message ([`Connection::receive`]): a well-formed command
//! with a fresh `requestId` is acknowledged and handed over as a [`Request`]; a message that
//! names a request but breaks a rule gets one acknowledge refusing it (`invalidMessage`,
//! `invalidRequestID`, `tooManyRequests`); text that is not a message at all, or is over the
//! size cap, closes the connection with one WebSocket close code and reason (1007, 1009),
//! since without a `requestId` there is nothing to answer. Afterwards the service writes the
//! request's events ([`Connection::event`]) and **exactly one** completion
//! ([`Connection::complete`]): both refuse a request that is not open, so a second
//! completion, or an event after it, is never sent.
//!
//! [`Claims`] is the XFS4IoT rule that a device serves one client at a time: a command
//! claims its device until it completes, and a claim held by anyone makes the next command
//! for that device busy. Nothing here knows what the commands do; payloads are never put
//! into errors or reasons.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::message::{self, clean_description, CodecError, CompletionCode, MessageType};

/// WebSocket close code: the text was not a message (RFC 6455 1007, invalid payload data).
pub const CLOSE_MALFORMED: u16 = 1007;
/// WebSocket close code: the message was over the size cap (RFC 6455 1009).
pub const CLOSE_TOO_BIG: u16 = 1009;

/// The message version this service writes.
const VERSION: &str = "2.0";

/// One command a client sent, acknowledged and not yet completed.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The client's `requestId`.
    pub id: u32,
    /// `Interface.Message`.
    pub name: String,
    /// How long the client allows, in milliseconds (0: the service's own limit).
    pub timeout_ms: u64,
    /// The payload object.
    pub payload: Map<String, Value>,
}

/// What one text from the client calls for.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Run `request`; `ack` (its acknowledge) is sent first.
    Command {
        /// The command.
        request: Request,
        /// Its acknowledge.
        ack: String,
    },
    /// Send `ack`, which refuses the message that named `request_id`; nothing runs.
    Refused {
        /// The refusing acknowledge.
        ack: String,
        /// The id it refuses.
        request_id: u64,
        /// The acknowledge's status (`invalidMessage`, `invalidRequestID`, `tooManyRequests`).
        status: &'static str,
    },
    /// Close the WebSocket with this code and reason: the text was no message at all.
    Close {
        /// [`CLOSE_MALFORMED`] or [`CLOSE_TOO_BIG`].
        code: u16,
        /// One sentence, without the text's contents.
        reason: String,
    },
}

/// One client's WebSocket, as the service sees it.
#[derive(Debug, Clone)]
pub struct Connection {
    max_bytes: usize,
    max_open: usize,
    open: BTreeMap<u32, String>,
}

impl Connection {
    /// A connection accepting messages of at most `max_bytes` and at most `max_open`
    /// commands at a time.
    pub fn new(max_bytes: usize, max_open: usize) -> Self {
        Self {
            max_bytes,
            max_open: max_open.max(1),
            open: BTreeMap::new(),
        }
    }

    /// The ids of the commands acknowledged and not yet completed.
    pub fn open_requests(&self) -> impl Iterator<Item = (u32, &str)> {
        self.open.iter().map(|(id, name)| (*id, name.as_str()))
    }

    /// Takes one text message from the client.
    pub fn receive(&mut self, text: &str) -> Incoming {
        let msg = match message::decode(text, self.max_bytes) {
            Ok(m) => m,
            Err(CodecError::TooLarge { len, max }) => {
                return Incoming::Close {
                    code: CLOSE_TOO_BIG,
                    reason: format!("message of {len} bytes is over the {max}-byte cap"),
                }
            }
            Err(CodecError::Malformed(why)) => {
                return Incoming::Close {
                    code: CLOSE_MALFORMED,
                    reason: format!("not an XFS4IoT message: {why}"),
                }
            }
            Err(CodecError::BadHeader { reason, request_id }) => {
                return match request_id.filter(|&id| valid_id(id)) {
                    Some(id) => refuse(id, "", "invalidMessage", &reason),
                    None => Incoming::Close {
                        code: CLOSE_MALFORMED,
                        reason: format!("bad XFS4IoT header: {reason}"),
                    },
                }
            }
        };
        let h = msg.header;
        // The codec guarantees an id on every type but unsolicited.
        let Some(id) = h.request_id.filter(|&id| valid_id(id)) else {
            return Incoming::Close {
                code: CLOSE_MALFORMED,
                reason: "a client sends commands only".into(),
            };
        };
        if h.kind != MessageType::Command {
            return refuse(
                id,
                &h.name,
                "invalidMessage",
                "a client sends commands only",
            );
        }
        let id32 = id as u32;
        if self.open.contains_key(&id32) {
            return refuse(
                id,
                &h.name,
                "invalidRequestID",
                "this requestId is already in use",
            );
        }
        if self.open.len() >= self.max_open {
            return refuse(
                id,
                &h.name,
                "tooManyRequests",
                "too many commands in flight on this connection",
            );
        }
        self.open.insert(id32, h.name.clone());
        Incoming::Command {
            ack: write("acknowledge", &h.name, id, json!({}), &Map::new()),
            request: Request {
                id: id32,
                name: h.name,
                timeout_ms: h.timeout.unwrap_or(0),
                payload: msg.payload,
            },
        }
    }

    /// An event `name` about open request `id`; `None` when it is not open (never sent).
    pub fn event(&self, id: u32, name: &str, payload: &Map<String, Value>) -> Option<String> {
        self.open
            .contains_key(&id)
            .then(|| write("event", name, u64::from(id), json!({}), payload))
    }

    /// The one completion of open request `id`; `None` when it is not open (completed
    /// already, or never acknowledged), so no request is completed twice.
    pub fn complete(
        &mut self,
        id: u32,
        code: CompletionCode,
        description: Option<&str>,
        payload: &Map<String, Value>,
    ) -> Option<String> {
        let name = self.open.remove(&id)?;
        let mut extra = json!({ "completionCode": code });
        if let Some(d) = description {
            extra["errorDescription"] = clean_description(d).into();
        }
        Some(write("completion", &name, u64::from(id), extra, payload))
    }
}

fn valid_id(id: u64) -> bool {
    (1..=u64::from(message::MAX_REQUEST_ID)).contains(&id)
}

fn refuse(id: u64, name: &str, status: &'static str, why: &str) -> Incoming {
    // An acknowledge needs a valid name; a refused message may not have one.
    let name = if message::is_valid_name(name) {
        name
    } else {
        "Common.Unknown"
    };
    Incoming::Refused {
        ack: write(
            "acknowledge",
            name,
            id,
            json!({"status": status, "errorDescription": why}),
            &Map::new(),
        ),
        request_id: id,
        status,
    }
}

fn write(kind: &str, name: &str, id: u64, extra: Value, payload: &Map<String, Value>) -> String {
    let mut header = json!({"type": kind, "name": name, "requestId": id, "version": VERSION});
    if let Value::Object(e) = extra {
        for (k, v) in e {
            header[k] = v;
        }
    }
    let mut m = json!({ "header": header });
    if !payload.is_empty() {
        m["payload"] = Value::Object(payload.clone());
    }
    m.to_string()
}

/// An unsolicited event `name` for every client of a service.
pub fn unsolicited(name: &str, payload: &Map<String, Value>) -> String {
    let mut m = json!({"header": {"type": "unsolicited", "name": name, "version": VERSION}});
    if !payload.is_empty() {
        m["payload"] = Value::Object(payload.clone());
    }
    m.to_string()
}

/// Who holds a device: a client (by its id) on one connection (by its number).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Holder {
    /// The client application's id.
    pub client: String,
    /// The connection's number.
    pub connection: u64,
}

/// Which device serves whom: one client at a time per device (XFS4IoT's model).
#[derive(Debug, Clone, Default)]
pub struct Claims {
    held: BTreeMap<String, (Holder, u32)>,
}

impl Claims {
    /// Claims `device` for `request` of `holder`; `Err` names who holds it — any other
    /// command, the holder's own included, is busy until the claim is released.
    pub fn claim(&mut self, device: &str, holder: &Holder, request: u32) -> Result<(), Holder> {
        if let Some((h, _)) = self.held.get(device) {
            return Err(h.clone());
        }
        self.held
            .insert(device.to_owned(), (holder.clone(), request));
        Ok(())
    }

    /// Who holds `device`, if anyone.
    pub fn holder(&self, device: &str) -> Option<&Holder> {
        self.held.get(device).map(|(h, _)| h)
    }

    /// `request` of `holder` completed: its device is free again. Releasing what one does
    /// not hold changes nothing.
    pub fn release(&mut self, device: &str, holder: &Holder, request: u32) {
        if self.held.get(device) == Some(&(holder.clone(), request)) {
            self.held.remove(device);
        }
    }

    /// The connection closed: every device it held is free; returns them.
    pub fn release_connection(&mut self, connection: u64) -> Vec<String> {
        let gone: Vec<String> = self
            .held
            .iter()
            .filter(|(_, (h, _))| h.connection == connection)
            .map(|(d, _)| d.clone())
            .collect();
        for d in &gone {
            self.held.remove(d);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn command(name: &str, id: u64) -> String {
        message::encode_command(name, id as u32, "2.0", 5000, &Map::new())
    }

    #[test]
    fn a_command_is_acknowledged_then_completed_exactly_once() {
        let mut c = Connection::new(4096, 4);
        let Incoming::Command { request, ack } = c.receive(&command("YkbIdCard.ReadCard", 7))
        else {
            panic!()
        };
        assert_eq!(request.id, 7);
        assert_eq!(request.name, "YkbIdCard.ReadCard");
        assert_eq!(request.timeout_ms, 5000);
        let ack = parse(&ack);
        assert_eq!(ack["header"]["type"], "acknowledge");
        assert_eq!(ack["header"]["requestId"], 7);
        assert!(ack["header"].get("status").is_none());
        let ev = c.event(7, "YkbIdCard.ConsentEvent", &Map::new()).unwrap();
        assert_eq!(parse(&ev)["header"]["type"], "event");
        let done = c
            .complete(7, CompletionCode::Success, None, &Map::new())
            .unwrap();
        let done = parse(&done);
        assert_eq!(done["header"]["completionCode"], "success");
        assert_eq!(done["header"]["name"], "YkbIdCard.ReadCard");
        // Never a second completion, nor an event after it.
        assert!(c
            .complete(7, CompletionCode::Success, None, &Map::new())
            .is_none());
        assert!(c.event(7, "YkbIdCard.ConsentEvent", &Map::new()).is_none());
        assert!(c
            .complete(8, CompletionCode::Success, None, &Map::new())
            .is_none());
    }

    #[test]
    fn a_request_id_in_use_is_refused_and_the_first_command_stands() {
        let mut c = Connection::new(4096, 4);
        assert!(matches!(
            c.receive(&command("Common.Status", 3)),
            Incoming::Command { .. }
        ));
        let Incoming::Refused { ack, status, .. } = c.receive(&command("Common.Status", 3)) else {
            panic!()
        };
        assert_eq!(status, "invalidRequestID");
        assert_eq!(parse(&ack)["header"]["status"], "invalidRequestID");
        assert_eq!(c.open_requests().count(), 1);
    }

    #[test]
    fn more_commands_than_allowed_at_once_are_refused() {
        let mut c = Connection::new(4096, 2);
        for id in 1..=2 {
            assert!(matches!(
                c.receive(&command("Common.Status", id)),
                Incoming::Command { .. }
            ));
        }
        assert!(matches!(
            c.receive(&command("Common.Status", 3)),
            Incoming::Refused {
                status: "tooManyRequests",
                ..
            }
        ));
        c.complete(1, CompletionCode::Success, None, &Map::new())
            .unwrap();
        assert!(matches!(
            c.receive(&command("Common.Status", 3)),
            Incoming::Command { .. }
        ));
    }

    #[test]
    fn malformed_and_oversized_text_closes_with_one_reason_naming_no_content() {
        let mut c = Connection::new(100, 4);
        let Incoming::Close { code, reason } = c.receive("{\"header\": 500105198511220024") else {
            panic!()
        };
        assert_eq!(code, CLOSE_MALFORMED);
        assert!(!reason.contains("500105"), "{reason}");
        let big = format!("{{\"x\":\"{}\"}}", "张".repeat(100));
        let Incoming::Close { code, reason } = c.receive(&big) else {
            panic!()
        };
        assert_eq!(code, CLOSE_TOO_BIG);
        assert!(reason.contains("cap"), "{reason}");
        assert_eq!(c.open_requests().count(), 0);
    }

    #[test]
    fn a_bad_header_with_an_id_is_refused_with_invalid_message() {
        let mut c = Connection::new(4096, 4);
        let text = r#"{"header":{"type":"command","name":"Bad","requestId":5}}"#;
        assert!(matches!(
            c.receive(text),
            Incoming::Refused {
                request_id: 5,
                status: "invalidMessage",
                ..
            }
        ));
        let text = r#"{"header":{"type":"completion","name":"Common.Status","requestId":6}}"#;
        assert!(matches!(
            c.receive(text),
            Incoming::Refused {
                request_id: 6,
                status: "invalidMessage",
                ..
            }
        ));
        let text = r#"{"header":{"type":"unsolicited","name":"Common.Status"}}"#;
        assert!(matches!(c.receive(text), Incoming::Close { .. }));
    }

    #[test]
    fn a_device_serves_one_client_at_a_time() {
        let mut claims = Claims::default();
        let a = Holder {
            client: "bank".into(),
            connection: 1,
        };
        let b = Holder {
            client: "post".into(),
            connection: 2,
        };
        claims.claim("IdCard", &a, 1).unwrap();
        assert_eq!(claims.claim("IdCard", &b, 1), Err(a.clone()));
        // Asking twice at once is busy too.
        assert_eq!(claims.claim("IdCard", &a, 2), Err(a.clone()));
        assert!(claims.claim("Printer", &b, 1).is_ok());
        // Only the holder's own request releases it.
        claims.release("IdCard", &b, 1);
        assert_eq!(claims.holder("IdCard"), Some(&a));
        claims.release("IdCard", &a, 1);
        assert!(claims.claim("IdCard", &b, 3).is_ok());
        assert_eq!(claims.release_connection(2), vec!["IdCard", "Printer"]);
        assert!(claims.holder("IdCard").is_none());
    }

    proptest! {
        #[test]
        fn every_request_is_completed_at_most_once(ops in prop::collection::vec((0u8..3, 1u32..6), 0..60)) {
            let mut c = Connection::new(4096, 3);
            let mut completions = BTreeMap::<u32, usize>::new();
            let mut acked = BTreeMap::<u32, usize>::new();
            for (op, id) in ops {
                match op {
                    0 => if let Incoming::Command { request, .. } = c.receive(&command("Common.Status", id.into())) {
                        *acked.entry(request.id).or_default() += 1;
                    },
                    1 => if c.complete(id, CompletionCode::Success, None, &Map::new()).is_some() {
                        *completions.entry(id).or_default() += 1;
                    },
                    _ => { let _ = c.receive(&format!("{{\"header\":{id}")); }
                }
                prop_assert!(c.open_requests().count() <= 3);
            }
            for (id, n) in completions {
                prop_assert!(n <= acked[&id]);
            }
        }
    }
}
