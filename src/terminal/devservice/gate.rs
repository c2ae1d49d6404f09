//! Who may connect: the handshake's path and query against the profile's allow-list. Pure;
//! the refusal says why in words that hold no token.
//!
//! A client names itself and its token in the URI's query, the one place a browser page's
//! `new WebSocket(uri)` can put them: `ws://127.0.0.1:PORT/xfs4iot/v1.0/<Service>?client=ID&token=TOKEN`
//! (the publisher is `/xfs4iot/v1.0` itself). The URI is never logged.

/// The path of the service publisher.
pub const BASE: &str = "/xfs4iot/v1.0";

/// A client application as the gate knows it.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its id (the audit log's actor).
    pub id: String,
    /// What the citizen is told asks.
    pub name: String,
    /// Its token.
    pub token: String,
    /// The services it may use.
    pub services: Vec<String>,
}

/// Why a handshake is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such path (404).
    NoSuchService,
    /// No client or no token given (401).
    NoToken,
    /// An unknown client, or a wrong token (401); `client` when the id is one of ours.
    WrongToken { client: Option<usize> },
    /// The client may not use this service (403).
    NotAllowed { client: usize },
}

impl Refusal {
    /// The HTTP status and one sentence for the client.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            Self::NoSuchService => (404, "no such XFS4IoT service"),
            Self::NoToken => (401, "client and token required"),
            Self::WrongToken { .. } => (401, "unknown client or wrong token"),
            Self::NotAllowed { .. } => (403, "this client may not use this service"),
        }
    }

    /// For the audit log (no token, no URI).
    pub fn detail(&self) -> &'static str {
        match self {
            Self::NoSuchService => "连接被拒绝：没有这个服务",
            Self::NoToken => "连接被拒绝：未提供应用编号或令牌",
            Self::WrongToken { .. } => "连接被拒绝：应用编号或令牌不对",
            Self::NotAllowed { .. } => "连接被拒绝：该应用无权使用此服务",
        }
    }
}

/// What an admitted connection is: which client, which service (`None`: the publisher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The client's index in the allow-list.
    pub client: usize,
    /// The service's path name.
    pub service: Option<String>,
}

/// Checks a handshake against `clients`, for the `services` this terminal offers.
pub fn admit(
    clients: &[Client],
    services: &[&str],
    path: &str,
    query: &str,
) -> Result<Admitted, Refusal> {
    let service = match path.strip_prefix(BASE) {
        Some("") => None,
        Some(rest) => match rest.strip_prefix('/') {
            Some(s) if services.contains(&s) => Some(s.to_owned()),
            _ => return Err(Refusal::NoSuchService),
        },
        None => return Err(Refusal::NoSuchService),
    };
    let (mut id, mut token) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("client", v)) => id = Some(v),
            Some(("token", v)) => token = Some(v),
            _ => {}
        }
    }
    let (Some(id), Some(token)) = (
        id.filter(|v| !v.is_empty()),
        token.filter(|v| !v.is_empty()),
    ) else {
        return Err(Refusal::NoToken);
    };
    let Some(index) = clients.iter().position(|c| c.id == id) else {
        return Err(Refusal::WrongToken { client: None });
    };
    let client = &clients[index];
    if !same(client.token.as_bytes(), token.as_bytes()) {
        return Err(Refusal::WrongToken {
            client: Some(index),
        });
    }
    if let Some(s) = &service {
        if !client.services.iter().any(|c| c == s) {
            return Err(Refusal::NotAllowed { client: index });
        }
    }
    Ok(Admitted {
        client: index,
        service,
    })
}

/// Compares without stopping at the first difference (the time says nothing of the token).
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Vec<Client> {
        vec![Client {
            id: "bank-app".into(),
            name: "银行自助服务".into(),
            token: "0123456789abcdef0123".into(),
            services: vec!["YkbIdCard".into()],
        }]
    }

    const SERVICES: &[&str] = &["YkbIdCard", "Printer"];

    #[test]
    fn the_right_client_and_token_are_admitted_to_an_allowed_service() {
        let q = "client=bank-app&token=0123456789abcdef0123";
        assert_eq!(
            admit(&clients(), SERVICES, "/xfs4iot/v1.0/YkbIdCard", q),
            Ok(Admitted {
                client: 0,
                service: Some("YkbIdCard".into())
            })
        );
        assert_eq!(
            admit(&clients(), SERVICES, "/xfs4iot/v1.0", q)
                .unwrap()
                .service,
            None
        );
    }

    #[test]
    fn every_wrong_handshake_is_refused_with_its_reason() {
        let c = clients();
        let ok = "client=bank-app&token=0123456789abcdef0123";
        let cases = [
            ("/xfs4iot/v1.0/Printer", "", Refusal::NoToken),
            ("/xfs4iot/v1.0/Printer", "client=bank-app", Refusal::NoToken),
            (
                "/xfs4iot/v1.0/YkbIdCard",
                "client=bank-app&token=0123456789abcdef0124",
                Refusal::WrongToken { client: Some(0) },
            ),
            (
                "/xfs4iot/v1.0/YkbIdCard",
                "client=bank-app&token=0123456789abcdef012",
                Refusal::WrongToken { client: Some(0) },
            ),
            (
                "/xfs4iot/v1.0/YkbIdCard",
                "client=other&token=0123456789abcdef0123",
                Refusal::WrongToken { client: None },
            ),
            (
                "/xfs4iot/v1.0/Printer",
                ok,
                Refusal::NotAllowed { client: 0 },
            ),
            ("/xfs4iot/v1.0/Camera", ok, Refusal::NoSuchService),
            ("/other", ok, Refusal::NoSuchService),
        ];
        for (path, query, want) in cases {
            assert_eq!(
                admit(&c, SERVICES, path, query),
                Err(want),
                "{path}?{query}"
            );
        }
    }
}
