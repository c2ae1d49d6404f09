//! The client's request state machine (sans-IO): every command gets an acknowledge, any number
//! of events and exactly one completion, correlated by `requestId`.
//!
//! [`Tracker::start`] hands out an id and the text to send; [`Tracker::receive`] takes each
//! text message from the service, [`Tracker::tick`] the caller's clock, [`Tracker::cancel`] a
//! cancel request, [`Tracker::closed`] a dropped connection. Each returns [`Output`]s: texts to
//! send (`Common.Cancel`), events, unsolicited events, status changes, and for each command
//! exactly one [`Output::Completed`] — a completion, or one [`Xfs4IotError`]:
//!
//! | what the service does | what the command gets |
//! | --- | --- |
//! | no acknowledge within `ack_timeout` | `Timeout { Acknowledge }` (and a cancel is sent) |
//! | no completion by its timeout + `completion_grace` | `Timeout { Completion }` (and a cancel is sent) |
//! | acknowledge with a refusal | `Rejected` |
//! | completion with a failure code | `Failed` (`canceled`: `Cancelled`) |
//! | more than `max_events_per_command` events | `EventFlood` (and a cancel is sent) |
//! | malformed JSON, a header without a usable id, a message over the cap | every command: `Protocol` / `TooLarge`, and [`Output::Close`] |
//! | a bad header naming a waiting command | that command: `Protocol` |
//! | the WebSocket closes | every command: `Disconnected` |
//!
//! Messages for ids that are not waiting (never sent, or already ended) end nothing: they come
//! out as [`Output::Violation`] for the log. Memory is bounded: at most `max_in_flight`
//! commands, a fixed ring of ended ids, and a status snapshot with capped keys.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::error::{Stage, Xfs4IotError};
use super::message::{
    clean_description, decode, encode_command, CodecError, CompletionCode, MessageType,
    DEFAULT_MAX_MESSAGE_BYTES, MAX_REQUEST_ID,
};
use crate::status::DeviceState;

/// A request id.
pub type RequestId = u32;

/// Limits of one connection.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// Commands waiting at once (cancels not counted).
    pub max_in_flight: usize,
    /// Events accepted per command before it is ended as a flood.
    pub max_events_per_command: usize,
    /// How long the service may take to acknowledge.
    pub ack_timeout: Duration,
    /// Added to a command's own timeout before it is ended locally.
    pub completion_grace: Duration,
    /// How long a cancelled command may take to complete as `canceled`.
    pub cancel_grace: Duration,
    /// The largest message accepted.
    pub max_message_bytes: usize,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 32,
            max_events_per_command: 256,
            ack_timeout: Duration::from_secs(5),
            completion_grace: Duration::from_secs(2),
            cancel_grace: Duration::from_secs(3),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// A command to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// `Interface.Command`, e.g. `Printer.PrintRaw`.
    pub name: String,
    /// The payload object.
    pub payload: Map<String, Value>,
    /// The message version, `major.minor`.
    pub version: String,
    /// How long the service may take (sent as the header's `timeout`).
    pub timeout: Duration,
}

/// The version sent when a command does not say.
pub const DEFAULT_VERSION: &str = "2.0";

impl Command {
    /// `name` with no payload, version [`DEFAULT_VERSION`], 30 s.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            payload: Map::new(),
            version: DEFAULT_VERSION.to_string(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Sets one payload property.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.payload.insert(key.to_string(), value.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Sets the version.
    pub fn version(mut self, v: &str) -> Self {
        self.version = v.to_string();
        self
    }
}

/// A successful completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The command's name.
    pub name: String,
    /// The completion's payload.
    pub payload: Map<String, Value>,
}

/// A message that ended nothing, for the log (counted, never acted on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// For an id this client never sent (or forgot long ago).
    UnknownRequest {
        /// The id.
        id: u64,
        /// The message's type.
        kind: MessageType,
    },
    /// For a command that already ended (timed out, cancelled, completed).
    Late {
        /// The id.
        id: u64,
        /// The message's type.
        kind: MessageType,
    },
    /// A second acknowledge.
    DuplicateAck(RequestId),
    /// A command sent by the service to the client.
    CommandFromService,
}

/// The service's status as last reported (`Common.Status`, `Common.StatusChangedEvent`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceStatus {
    /// `common.device`, in this crate's vocabulary.
    pub device: Option<DeviceState>,
    /// The status object per interface class (`common`, `printer`, `vendorMode` …).
    pub classes: BTreeMap<String, Map<String, Value>>,
}

/// Most interface classes kept in a status snapshot.
const MAX_STATUS_CLASSES: usize = 16;
/// Most properties kept per class.
const MAX_STATUS_FIELDS: usize = 64;

impl ServiceStatus {
    /// Merges a status payload: each class's properties replace the ones held; `null`
    /// properties ("did not change" in events) are skipped.
    pub fn apply(&mut self, payload: &Map<String, Value>) {
        for (class, v) in payload {
            let Value::Object(fields) = v else { continue };
            if !self.classes.contains_key(class) && self.classes.len() >= MAX_STATUS_CLASSES {
                continue;
            }
            let held = self.classes.entry(class.clone()).or_default();
            for (k, v) in fields {
                if v.is_null() || (!held.contains_key(k) && held.len() >= MAX_STATUS_FIELDS) {
                    continue;
                }
                held.insert(k.clone(), v.clone());
            }
        }
        if let Some(d) = self
            .classes
            .get("common")
            .and_then(|c| c.get("device"))
            .and_then(Value::as_str)
        {
            self.device = device_state(d);
        }
    }
}

/// XFS4IoT's `common.device` in this crate's [`DeviceState`].
pub fn device_state(s: &str) -> Option<DeviceState> {
    Some(match s {
        "online" => DeviceState::Online,
        "offline" | "powerOff" => DeviceState::Offline,
        "noDevice" => DeviceState::NoDevice,
        "hardwareError" | "fraudAttempt" | "potentialFraud" => DeviceState::HardwareError,
        "userError" => DeviceState::UserError,
        "deviceBusy" => DeviceState::Busy,
        "starting" => DeviceState::Starting,
        _ => return None,
    })
}

/// What the caller must do or hear.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this text on the WebSocket.
    Send(String),
    /// The command was queued by the service.
    Acknowledged(RequestId),
    /// An event of a running command.
    Event {
        /// The command.
        id: RequestId,
        /// The event's name.
        name: String,
        /// Its payload.
        payload: Map<String, Value>,
    },
    /// The command ended: exactly once per command.
    Completed {
        /// The command.
        id: RequestId,
        /// The completion, or why not.
        result: Result<Completion, Xfs4IotError>,
    },
    /// An unsolicited event other than a status change.
    Unsolicited {
        /// Its name.
        name: String,
        /// Its payload.
        payload: Map<String, Value>,
    },
    /// The status changed (unsolicited `Common.StatusChangedEvent`): the merged snapshot.
    StatusChanged(ServiceStatus),
    /// A message that ended nothing.
    Violation(Violation),
    /// The connection cannot be trusted any more: close it (every command has ended).
    Close(Xfs4IotError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Caller,
    /// A `Common.Cancel` this tracker sent: its answers are swallowed.
    Cancel,
}

#[derive(Debug)]
struct Pending {
    name: String,
    purpose: Purpose,
    acked: bool,
    ack_deadline: Instant,
    deadline: Instant,
    events: usize,
    cancel_requested: bool,
}

/// Ids remembered after they ended, to tell late answers from strays.
const ENDED_RING: usize = 256;

/// The request state machine of one service connection.
#[derive(Debug)]
pub struct Tracker {
    config: TrackerConfig,
    next_id: RequestId,
    pending: BTreeMap<RequestId, Pending>,
    ended: VecDeque<RequestId>,
    status: ServiceStatus,
}

impl Tracker {
    /// A tracker with `config`.
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            next_id: 1,
            pending: BTreeMap::new(),
            ended: VecDeque::with_capacity(ENDED_RING),
            status: ServiceStatus::default(),
        }
    }

    /// The limits.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// The status as last reported.
    pub fn status(&self) -> &ServiceStatus {
        &self.status
    }

    /// Caller commands waiting.
    pub fn in_flight(&self) -> usize {
        self.pending
            .values()
            .filter(|p| p.purpose == Purpose::Caller)
            .count()
    }

    /// When [`Tracker::tick`] must next be called, if anything waits.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending
            .values()
            .map(|p| {
                if p.acked {
                    p.deadline
                } else {
                    p.ack_deadline.min(p.deadline)
                }
            })
            .min()
    }

    fn alloc(&mut self) -> RequestId {
        loop {
            let id = self.next_id;
            self.next_id = if id >= MAX_REQUEST_ID { 1 } else { id + 1 };
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    fn insert(&mut self, cmd: &Command, purpose: Purpose, now: Instant) -> (RequestId, String) {
        let id = self.alloc();
        let ms = u64::try_from(cmd.timeout.as_millis()).unwrap_or(u64::MAX);
        let text = encode_command(&cmd.name, id, &cmd.version, ms, &cmd.payload);
        self.pending.insert(
            id,
            Pending {
                name: cmd.name.clone(),
                purpose,
                acked: false,
                ack_deadline: now + self.config.ack_timeout,
                deadline: now + cmd.timeout + self.config.completion_grace,
                events: 0,
                cancel_requested: false,
            },
        );
        (id, text)
    }

    /// Starts `cmd`: its id and the text to send.
    pub fn start(
        &mut self,
        cmd: &Command,
        now: Instant,
    ) -> Result<(RequestId, String), Xfs4IotError> {
        let in_flight = self.in_flight();
        if in_flight >= self.config.max_in_flight {
            return Err(Xfs4IotError::Busy { in_flight });
        }
        Ok(self.insert(cmd, Purpose::Caller, now))
    }

    fn cancel_text(&mut self, ids: &[RequestId], now: Instant) -> Output {
        let cmd = Command::new("Common.Cancel")
            .with("requestIds", ids.to_vec())
            .timeout(self.config.cancel_grace);
        Output::Send(self.insert(&cmd, Purpose::Cancel, now).1)
    }

    /// Asks the service to cancel `id`; the command ends when the service completes it
    /// (`canceled`, or `success` if it finished first), or as `Cancelled` after `cancel_grace`.
    pub fn cancel(&mut self, id: RequestId, now: Instant) -> Vec<Output> {
        let grace = self.config.cancel_grace;
        match self.pending.get_mut(&id) {
            Some(p) if p.purpose == Purpose::Caller && !p.cancel_requested => {
                p.cancel_requested = true;
                p.deadline = p.deadline.min(now + grace);
                p.ack_deadline = p.ack_deadline.min(now + grace);
                vec![self.cancel_text(&[id], now)]
            }
            _ => Vec::new(),
        }
    }

    fn finish(&mut self, id: RequestId, result: Result<Completion, Xfs4IotError>) -> Vec<Output> {
        let Some(p) = self.pending.remove(&id) else {
            return Vec::new();
        };
        if self.ended.len() >= ENDED_RING {
            self.ended.pop_front();
        }
        self.ended.push_back(id);
        match p.purpose {
            Purpose::Caller => vec![Output::Completed { id, result }],
            Purpose::Cancel => Vec::new(),
        }
    }

    fn fail_all(&mut self, err: &Xfs4IotError) -> Vec<Output> {
        let ids: Vec<RequestId> = self.pending.keys().copied().collect();
        ids.into_iter()
            .flat_map(|id| self.finish(id, Err(err.clone())))
            .collect()
    }

    /// The connection closed: every waiting command ends as `Disconnected`; the status is
    /// no longer known.
    pub fn closed(&mut self) -> Vec<Output> {
        self.status = ServiceStatus::default();
        self.fail_all(&Xfs4IotError::Disconnected)
    }

    /// The clock moved: ends what is overdue.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        let overdue: Vec<(RequestId, Stage)> = self
            .pending
            .iter()
            .filter_map(|(&id, p)| {
                if !p.acked && now >= p.ack_deadline {
                    Some((id, Stage::Acknowledge))
                } else if now >= p.deadline {
                    Some((id, Stage::Completion))
                } else {
                    None
                }
            })
            .collect();
        for (id, stage) in overdue {
            let Some(p) = self.pending.get(&id) else {
                continue;
            };
            let (purpose, cancelled) = (p.purpose, p.cancel_requested);
            let err = if cancelled {
                Xfs4IotError::Cancelled
            } else {
                Xfs4IotError::Timeout { stage }
            };
            out.extend(self.finish(id, Err(err)));
            if purpose == Purpose::Caller && !cancelled {
                out.push(self.cancel_text(&[id], now));
            }
        }
        out
    }

    /// One text message from the service.
    pub fn receive(&mut self, text: &str, now: Instant) -> Vec<Output> {
        let m = match decode(text, self.config.max_message_bytes) {
            Ok(m) => m,
            Err(CodecError::TooLarge { len, max }) => {
                return self.close_with(Xfs4IotError::TooLarge { len, max });
            }
            Err(CodecError::BadHeader {
                reason,
                request_id: Some(id),
            }) if u32::try_from(id).is_ok_and(|id| self.pending.contains_key(&id)) => {
                return self.finish(id as RequestId, Err(Xfs4IotError::Protocol(reason)));
            }
            Err(e) => return self.close_with(Xfs4IotError::Protocol(e.to_string())),
        };
        let h = m.header;
        let raw_id = match (h.kind, h.request_id) {
            (MessageType::Command, _) => {
                return vec![Output::Violation(Violation::CommandFromService)]
            }
            (MessageType::Unsolicited, _) => {
                return if h.name == "Common.StatusChangedEvent" {
                    self.status.apply(&m.payload);
                    vec![Output::StatusChanged(self.status.clone())]
                } else {
                    vec![Output::Unsolicited {
                        name: h.name,
                        payload: m.payload,
                    }]
                };
            }
            (_, Some(id)) => id,
            (_, None) => unreachable!("decode requires a requestId on answers"),
        };
        let id = raw_id as RequestId; // decode caps ids at 2^31-1
        let Some(p) = self.pending.get_mut(&id) else {
            let v = if self.ended.contains(&id) {
                Violation::Late {
                    id: raw_id,
                    kind: h.kind,
                }
            } else {
                Violation::UnknownRequest {
                    id: raw_id,
                    kind: h.kind,
                }
            };
            return vec![Output::Violation(v)];
        };
        if matches!(h.kind, MessageType::Acknowledge | MessageType::Completion) && h.name != p.name
        {
            let why = format!("{:?} for {} names {}", h.kind, p.name, h.name);
            return self.finish(id, Err(Xfs4IotError::Protocol(why)));
        }
        match h.kind {
            MessageType::Acknowledge => {
                if p.acked {
                    return vec![Output::Violation(Violation::DuplicateAck(id))];
                }
                match h.status.as_deref() {
                    None | Some("ok") => {
                        p.acked = true;
                        if p.purpose == Purpose::Caller {
                            vec![Output::Acknowledged(id)]
                        } else {
                            Vec::new()
                        }
                    }
                    Some(status) => {
                        let err = Xfs4IotError::Rejected {
                            status: clean_description(status),
                            description: clean_description(
                                h.error_description.as_deref().unwrap_or(""),
                            ),
                        };
                        self.finish(id, Err(err))
                    }
                }
            }
            MessageType::Event => {
                p.acked = true;
                p.events += 1;
                if p.purpose == Purpose::Cancel {
                    return Vec::new();
                }
                if p.events > self.config.max_events_per_command {
                    let max = self.config.max_events_per_command;
                    let mut out = self.finish(id, Err(Xfs4IotError::EventFlood { max }));
                    out.push(self.cancel_text(&[id], now));
                    return out;
                }
                vec![Output::Event {
                    id,
                    name: h.name,
                    payload: m.payload,
                }]
            }
            MessageType::Completion => {
                let code = h
                    .completion_code
                    .as_deref()
                    .or_else(|| m.payload.get("completionCode").and_then(Value::as_str))
                    .map(CompletionCode::from_wire);
                let result = match code {
                    None => Err(Xfs4IotError::Protocol(format!(
                        "completion of {} without a completionCode",
                        h.name
                    ))),
                    Some(CompletionCode::Success) => {
                        if h.name == "Common.Status" {
                            self.status = ServiceStatus::default();
                            self.status.apply(&m.payload);
                        }
                        Ok(Completion {
                            name: h.name,
                            payload: m.payload,
                        })
                    }
                    Some(CompletionCode::Canceled) => Err(Xfs4IotError::Cancelled),
                    Some(code) => Err(Xfs4IotError::Failed {
                        command: h.name,
                        code,
                        error_code: m
                            .payload
                            .get("errorCode")
                            .and_then(Value::as_str)
                            .map(clean_description),
                        description: clean_description(
                            h.error_description.as_deref().unwrap_or(""),
                        ),
                    }),
                };
                self.finish(id, result)
            }
            MessageType::Command | MessageType::Unsolicited => unreachable!("handled above"),
        }
    }

    /// Ends every command with `err` (the transport found the connection unusable, e.g. a
    /// frame over the cap) and forgets the status; the caller closes the socket.
    pub fn abort(&mut self, err: Xfs4IotError) -> Vec<Output> {
        self.status = ServiceStatus::default();
        self.fail_all(&err)
    }

    fn close_with(&mut self, err: Xfs4IotError) -> Vec<Output> {
        self.status = ServiceStatus::default();
        let mut out = self.fail_all(&err);
        out.push(Output::Close(err));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn msg(kind: &str, name: &str, id: Option<u32>, extra: Value, payload: Value) -> String {
        let mut h = json!({"type": kind, "name": name, "version": "2.0"});
        if let Some(id) = id {
            h["requestId"] = id.into();
        }
        if let Value::Object(e) = extra {
            for (k, v) in e {
                h[k] = v;
            }
        }
        json!({"header": h, "payload": payload}).to_string()
    }

    fn ack(name: &str, id: u32) -> String {
        msg("acknowledge", name, Some(id), json!({}), Value::Null)
    }

    fn done(name: &str, id: u32, code: &str, payload: Value) -> String {
        msg(
            "completion",
            name,
            Some(id),
            json!({"completionCode": code}),
            payload,
        )
    }

    fn completions(out: &[Output]) -> Vec<(RequestId, Result<Completion, Xfs4IotError>)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Completed { id, result } => Some((*id, result.clone())),
                _ => None,
            })
            .collect()
    }

    fn sent_cancels(out: &[Output]) -> Vec<Value> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send(t) => {
                    let v: Value = serde_json::from_str(t).unwrap();
                    (v["header"]["name"] == "Common.Cancel")
                        .then(|| v["payload"]["requestIds"].clone())
                }
                _ => None,
            })
            .collect()
    }

    fn started(t: &mut Tracker, name: &str, now: Instant) -> RequestId {
        t.start(&Command::new(name).timeout(Duration::from_secs(10)), now)
            .unwrap()
            .0
    }

    #[test]
    fn command_acknowledge_events_completion() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let (id, text) = t
            .start(
                &Command::new("Printer.PrintRaw").with("inputData", "no"),
                now,
            )
            .unwrap();
        let sent: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(sent["header"]["type"], "command");
        assert_eq!(sent["header"]["requestId"], id);
        assert_eq!(sent["header"]["timeout"], 30_000);
        assert_eq!(
            t.receive(&ack("Printer.PrintRaw", id), now),
            vec![Output::Acknowledged(id)]
        );
        let ev = t.receive(
            &msg(
                "event",
                "Printer.MediaPresentedEvent",
                Some(id),
                json!({}),
                json!({"wadIndex": 0}),
            ),
            now,
        );
        assert!(
            matches!(&ev[..], [Output::Event { name, .. }] if name == "Printer.MediaPresentedEvent")
        );
        let out = t.receive(&done("Printer.PrintRaw", id, "success", json!({})), now);
        assert_eq!(completions(&out).len(), 1);
        assert!(completions(&out)[0].1.is_ok());
        assert_eq!(t.in_flight(), 0);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn answers_are_correlated_by_request_id_not_order() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let a = started(&mut t, "Common.Status", now);
        let b = started(&mut t, "Common.Capabilities", now);
        let out = t.receive(
            &done(
                "Common.Capabilities",
                b,
                "success",
                json!({"interfaces": []}),
            ),
            now,
        );
        assert_eq!(completions(&out)[0].0, b);
        let out = t.receive(
            &done(
                "Common.Status",
                a,
                "success",
                json!({"common": {"device": "online"}}),
            ),
            now,
        );
        assert_eq!(completions(&out)[0].0, a);
        assert_eq!(t.status().device, Some(DeviceState::Online));
    }

    #[test]
    fn a_completion_for_an_unknown_request_ends_nothing() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Printer.PrintRaw", now);
        let out = t.receive(
            &done("Printer.PrintRaw", id + 100, "success", json!({})),
            now,
        );
        assert_eq!(
            out,
            vec![Output::Violation(Violation::UnknownRequest {
                id: u64::from(id + 100),
                kind: MessageType::Completion
            })]
        );
        assert_eq!(
            t.in_flight(),
            1,
            "the real command still waits for its own completion"
        );
        let out = t.receive(&done("Printer.PrintRaw", id, "success", json!({})), now);
        assert!(completions(&out)[0].1.is_ok());
        // A second completion for the same id is late, not a second result.
        let out = t.receive(&done("Printer.PrintRaw", id, "success", json!({})), now);
        assert!(matches!(
            &out[..],
            [Output::Violation(Violation::Late { .. })]
        ));
    }

    #[test]
    fn no_acknowledge_times_out_and_sends_a_cancel() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Printer.PrintRaw", now);
        assert!(t.tick(now + Duration::from_secs(4)).is_empty());
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(5)));
        let out = t.tick(now + Duration::from_secs(5));
        assert_eq!(
            completions(&out),
            vec![(
                id,
                Err(Xfs4IotError::Timeout {
                    stage: Stage::Acknowledge
                })
            )]
        );
        assert_eq!(sent_cancels(&out), vec![json!([id])]);
    }

    #[test]
    fn a_service_that_never_completes_times_out_once() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Printer.PrintRaw", now);
        t.receive(&ack("Printer.PrintRaw", id), now);
        // Acknowledged: the ack deadline no longer applies, the command's timeout + grace does.
        assert!(completions(&t.tick(now + Duration::from_secs(11))).is_empty());
        let out = t.tick(now + Duration::from_secs(12));
        assert_eq!(
            completions(&out),
            vec![(
                id,
                Err(Xfs4IotError::Timeout {
                    stage: Stage::Completion
                })
            )]
        );
        assert_eq!(sent_cancels(&out), vec![json!([id])]);
        assert!(completions(&t.tick(now + Duration::from_secs(60))).is_empty());
        // The slow completion that finally comes is late.
        let out = t.receive(&done("Printer.PrintRaw", id, "success", json!({})), now);
        assert!(matches!(
            &out[..],
            [Output::Violation(Violation::Late { .. })]
        ));
    }

    #[test]
    fn cancel_sends_common_cancel_and_ends_on_canceled() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "BarcodeReader.Read", now);
        t.receive(&ack("BarcodeReader.Read", id), now);
        let out = t.cancel(id, now);
        assert_eq!(sent_cancels(&out), vec![json!([id])]);
        assert!(t.cancel(id, now).is_empty(), "one cancel per command");
        let cancel_id = match &out[0] {
            Output::Send(s) => serde_json::from_str::<Value>(s).unwrap()["header"]["requestId"]
                .as_u64()
                .unwrap() as u32,
            o => panic!("{o:?}"),
        };
        // The cancel command's own answers are swallowed.
        assert!(t.receive(&ack("Common.Cancel", cancel_id), now).is_empty());
        assert!(t
            .receive(&done("Common.Cancel", cancel_id, "success", json!({})), now)
            .is_empty());
        let out = t.receive(&done("BarcodeReader.Read", id, "canceled", json!({})), now);
        assert_eq!(completions(&out), vec![(id, Err(Xfs4IotError::Cancelled))]);
    }

    #[test]
    fn a_cancel_the_service_ignores_ends_as_cancelled_after_the_grace() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "BarcodeReader.Read", now);
        t.receive(&ack("BarcodeReader.Read", id), now);
        t.cancel(id, now);
        let out = t.tick(now + Duration::from_secs(3));
        assert_eq!(completions(&out), vec![(id, Err(Xfs4IotError::Cancelled))]);
        assert!(sent_cancels(&out).is_empty(), "no second cancel");
        // The unanswered cancel is forgotten too, silently.
        assert!(t.tick(now + Duration::from_secs(5)).is_empty());
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn error_completions_carry_code_error_code_and_description() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Printer.PrintRaw", now);
        let text = msg(
            "completion",
            "Printer.PrintRaw",
            Some(id),
            json!({"completionCode": "commandErrorCode", "errorDescription": "paper\nout"}),
            json!({"errorCode": "paperOut"}),
        );
        let out = t.receive(&text, now);
        let err = completions(&out)[0].1.clone().unwrap_err();
        assert_eq!(
            err,
            Xfs4IotError::Failed {
                command: "Printer.PrintRaw".into(),
                code: CompletionCode::CommandErrorCode,
                error_code: Some("paperOut".into()),
                description: "paperout".into(),
            }
        );
        assert_eq!(err.kind(), crate::status::ErrorKind::Device);
    }

    #[test]
    fn a_refusing_acknowledge_ends_the_command() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Printer.PrintRaw", now);
        let text = msg(
            "acknowledge",
            "Printer.PrintRaw",
            Some(id),
            json!({"status": "tooManyRequests", "errorDescription": "queue full"}),
            Value::Null,
        );
        assert_eq!(
            completions(&t.receive(&text, now)),
            vec![(
                id,
                Err(Xfs4IotError::Rejected {
                    status: "tooManyRequests".into(),
                    description: "queue full".into()
                })
            )]
        );
    }

    #[test]
    fn a_completion_naming_another_command_is_a_protocol_error() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Printer.PrintRaw", now);
        let out = t.receive(&done("Camera.TakePicture", id, "success", json!({})), now);
        assert!(matches!(
            &completions(&out)[0].1,
            Err(Xfs4IotError::Protocol(_))
        ));
    }

    #[test]
    fn malformed_json_ends_every_command_and_closes() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let a = started(&mut t, "Printer.PrintRaw", now);
        let b = started(&mut t, "Common.Status", now);
        let out = t.receive("{\"header\": {\"type\": \"completion\", ", now);
        let c = completions(&out);
        assert_eq!(c.iter().map(|x| x.0).collect::<Vec<_>>(), vec![a, b]);
        assert!(c
            .iter()
            .all(|x| matches!(x.1, Err(Xfs4IotError::Protocol(_)))));
        assert!(matches!(
            out.last(),
            Some(Output::Close(Xfs4IotError::Protocol(_)))
        ));
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn a_bad_header_naming_a_waiting_command_ends_only_that_one() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let a = started(&mut t, "Printer.PrintRaw", now);
        let _b = started(&mut t, "Common.Status", now);
        let text = format!(
            r#"{{"header":{{"type":"completion","name":"Printer.PrintRaw","requestId":{a},"version":"x"}}}}"#
        );
        let out = t.receive(&text, now);
        assert_eq!(out.len(), 1);
        assert!(matches!(&completions(&out)[0], (id, Err(Xfs4IotError::Protocol(_))) if *id == a));
        assert_eq!(t.in_flight(), 1);
    }

    #[test]
    fn an_over_size_message_ends_every_command_as_too_large() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig {
            max_message_bytes: 1000,
            ..Default::default()
        });
        let id = started(&mut t, "Camera.TakePicture", now);
        let big = done(
            "Camera.TakePicture",
            id,
            "success",
            json!({"pictureFile": "A".repeat(2000)}),
        );
        let out = t.receive(&big, now);
        assert_eq!(
            completions(&out),
            vec![(
                id,
                Err(Xfs4IotError::TooLarge {
                    len: big.len(),
                    max: 1000
                })
            )]
        );
        assert!(matches!(
            out.last(),
            Some(Output::Close(Xfs4IotError::TooLarge { .. }))
        ));
    }

    #[test]
    fn a_flood_of_events_ends_the_command_and_cancels_it() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig {
            max_events_per_command: 10,
            ..Default::default()
        });
        let id = started(&mut t, "BarcodeReader.Read", now);
        let ev = msg(
            "event",
            "Common.ErrorEvent",
            Some(id),
            json!({}),
            json!({"eventId": "user"}),
        );
        let mut all = Vec::new();
        for _ in 0..10_000 {
            all.extend(t.receive(&ev, now));
        }
        let c = completions(&all);
        assert_eq!(c, vec![(id, Err(Xfs4IotError::EventFlood { max: 10 }))]);
        assert_eq!(sent_cancels(&all), vec![json!([id])]);
        let events = all
            .iter()
            .filter(|o| matches!(o, Output::Event { .. }))
            .count();
        assert_eq!(events, 10);
        assert!(t.pending.len() <= 1, "only the cancel waits");
        assert!(t.ended.len() <= ENDED_RING);
    }

    #[test]
    fn a_closed_connection_ends_every_command_as_disconnected() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let a = started(&mut t, "Printer.PrintRaw", now);
        t.receive(&ack("Printer.PrintRaw", a), now);
        let b = started(&mut t, "Lights.SetLight", now);
        let c = completions(&t.closed());
        assert_eq!(
            c,
            vec![
                (a, Err(Xfs4IotError::Disconnected)),
                (b, Err(Xfs4IotError::Disconnected))
            ]
        );
        assert!(t.tick(now + Duration::from_secs(100)).is_empty());
    }

    #[test]
    fn in_flight_is_capped() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig {
            max_in_flight: 2,
            ..Default::default()
        });
        started(&mut t, "Common.Status", now);
        started(&mut t, "Common.Status", now);
        assert_eq!(
            t.start(&Command::new("Common.Status"), now),
            Err(Xfs4IotError::Busy { in_flight: 2 })
        );
    }

    #[test]
    fn status_changed_events_merge_into_the_snapshot() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        let id = started(&mut t, "Common.Status", now);
        t.receive(
            &done(
                "Common.Status",
                id,
                "success",
                json!({"common": {"device": "online"}, "printer": {"media": "notPresent", "paper": {"upper": "full"}}}),
            ),
            now,
        );
        let out = t.receive(
            &msg(
                "unsolicited",
                "Common.StatusChangedEvent",
                None,
                json!({}),
                json!({"common": {"device": "hardwareError"}, "printer": {"media": null, "paper": {"upper": "out"}}}),
            ),
            now,
        );
        let [Output::StatusChanged(s)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(s.device, Some(DeviceState::HardwareError));
        assert_eq!(
            s.classes["printer"]["media"], "notPresent",
            "null = unchanged"
        );
        assert_eq!(s.classes["printer"]["paper"]["upper"], "out");
        // Other unsolicited events pass through.
        let out = t.receive(
            &msg(
                "unsolicited",
                "VendorMode.EnterModeRequestEvent",
                None,
                json!({}),
                Value::Null,
            ),
            now,
        );
        assert!(
            matches!(&out[..], [Output::Unsolicited { name, .. }] if name == "VendorMode.EnterModeRequestEvent")
        );
    }

    #[test]
    fn the_status_snapshot_is_bounded() {
        let mut s = ServiceStatus::default();
        for i in 0..100 {
            let mut p = Map::new();
            let fields: Map<String, Value> =
                (0..100).map(|j| (format!("f{j}"), json!(i))).collect();
            p.insert(format!("class{i}"), Value::Object(fields));
            s.apply(&p);
        }
        assert!(s.classes.len() <= MAX_STATUS_CLASSES);
        assert!(s.classes.values().all(|c| c.len() <= MAX_STATUS_FIELDS));
    }

    #[test]
    fn ids_skip_ones_still_waiting_when_they_wrap() {
        let now = Instant::now();
        let mut t = Tracker::new(TrackerConfig::default());
        t.next_id = MAX_REQUEST_ID;
        let a = started(&mut t, "Common.Status", now);
        assert_eq!(a, MAX_REQUEST_ID);
        t.next_id = MAX_REQUEST_ID;
        let b = started(&mut t, "Common.Status", now);
        assert_eq!(b, 1, "wrapped past the id in use");
    }

    #[derive(Debug, Clone)]
    enum Step {
        Start,
        Ack(usize),
        Event(usize),
        Complete(usize, &'static str),
        Stray(u32),
        Garbage,
        Cancel(usize),
        Tick(u64),
        Close,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => Just(Step::Start),
            3 => (0usize..8).prop_map(Step::Ack),
            2 => (0usize..8).prop_map(Step::Event),
            3 => (0usize..8, prop::sample::select(vec!["success", "canceled", "hardwareError", "commandErrorCode"]))
                .prop_map(|(i, c)| Step::Complete(i, c)),
            1 => any::<u32>().prop_map(Step::Stray),
            1 => Just(Step::Garbage),
            1 => (0usize..8).prop_map(Step::Cancel),
            2 => (0u64..20_000).prop_map(Step::Tick),
            1 => Just(Step::Close),
        ]
    }

    proptest! {
        /// Whatever the service does, every started command ends exactly once, and nothing
        /// ends that was not started.
        #[test]
        fn every_command_completes_exactly_once(steps in prop::collection::vec(step(), 0..60)) {
            let mut now = Instant::now();
            let mut t = Tracker::new(TrackerConfig { max_in_flight: 4, max_events_per_command: 3, ..Default::default() });
            let mut ids: Vec<RequestId> = Vec::new();
            let mut ended: BTreeMap<RequestId, usize> = BTreeMap::new();
            let note = |out: Vec<Output>, ended: &mut BTreeMap<RequestId, usize>| {
                for o in out {
                    if let Output::Completed { id, .. } = o {
                        *ended.entry(id).or_default() += 1;
                    }
                }
            };
            for s in steps {
                let out = match s {
                    Step::Start => match t.start(&Command::new("Printer.PrintRaw").timeout(Duration::from_secs(5)), now) {
                        Ok((id, _)) => { ids.push(id); Vec::new() }
                        Err(e) => { prop_assert!(matches!(e, Xfs4IotError::Busy { .. }), "start refused: {:?}", e); Vec::new() }
                    },
                    Step::Ack(i) => ids.get(i).map(|&id| t.receive(&ack("Printer.PrintRaw", id), now)).unwrap_or_default(),
                    Step::Event(i) => ids.get(i).map(|&id| t.receive(&msg("event", "Printer.NoMediaEvent", Some(id), json!({}), Value::Null), now)).unwrap_or_default(),
                    Step::Complete(i, c) => ids.get(i).map(|&id| t.receive(&done("Printer.PrintRaw", id, c, json!({})), now)).unwrap_or_default(),
                    Step::Stray(id) => t.receive(&done("Printer.PrintRaw", id, "success", json!({})), now),
                    Step::Garbage => t.receive("not json", now),
                    Step::Cancel(i) => ids.get(i).map(|&id| t.cancel(id, now)).unwrap_or_default(),
                    Step::Tick(ms) => { now += Duration::from_millis(ms); t.tick(now) }
                    Step::Close => t.closed(),
                };
                note(out, &mut ended);
                prop_assert!(t.in_flight() <= 4);
            }
            // Far in the future everything has ended.
            let out = t.tick(now + Duration::from_secs(3600));
            note(out, &mut ended);
            prop_assert_eq!(t.in_flight(), 0);
            for id in &ids {
                prop_assert_eq!(ended.get(id).copied(), Some(1), "id {} ended {:?} times", id, ended.get(id));
            }
            prop_assert_eq!(ended.len(), ids.len());
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,200}") {
            let now = Instant::now();
            let mut t = Tracker::new(TrackerConfig::default());
            let _ = t.start(&Command::new("Common.Status"), now);
            let _ = t.receive(&s, now);
        }
    }
}
