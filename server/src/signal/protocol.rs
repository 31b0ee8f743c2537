//! The signaling wire format: every JSON message a client may send and every
//! one the server sends, as serde types. `server/README.md` ("Signaling")
//! documents them for client authors.

use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A `SignalData` object (offer, answer, candidate, ...): any JSON object
/// with a string `type`, relayed as serde_json writes it (compact, keys
/// sorted).
///
/// It is held as that JSON text, never as a parsed tree: a tree takes up to
/// about 16 times the bytes of its text (`[0,0,...]` is 2 bytes per element
/// as text, 32 as a `Value`), and the replay buffers' bounds count text.
/// Cloning shares it, so the copy in a replay buffer and the one queued for
/// a socket are one allocation.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Map<String, Value>")]
pub struct SignalData(Arc<RawValue>);

impl TryFrom<Map<String, Value>> for SignalData {
    type Error = &'static str;

    /// The tree lives only while its text is written.
    fn try_from(map: Map<String, Value>) -> Result<Self, Self::Error> {
        const BAD: &str = "a signal needs data: an object with a string type";
        match map.get("type") {
            Some(Value::String(_)) => serde_json::value::to_raw_value(&map)
                .map(|raw| Self(Arc::from(raw)))
                .map_err(|_| BAD),
            _ => Err(BAD),
        }
    }
}

impl PartialEq for SignalData {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Serialize for SignalData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl SignalData {
    /// Data this server wrote (e.g. stored in Redis), taken as the text it
    /// is: only checked to be JSON, not parsed into a tree.
    pub fn from_stored(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(|raw| Self(Arc::from(raw)))
    }

    /// Its JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// The size of its JSON text: what it holds, and what the replay
    /// buffers' byte bounds count.
    pub fn json_len(&self) -> usize {
        self.0.get().len()
    }
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientMessage {
    /// The first message: who this is, and optionally which seat it resumes.
    Auth {
        /// The HS256 JWT.
        token: String,
        /// The resume key from an earlier `joined`.
        #[serde(default)]
        resume: Option<String>,
        /// The highest server→client seq received in order (resume only).
        #[serde(default)]
        ack: u64,
    },
    /// A signal for the other party, numbered by this seat from 1.
    Signal {
        /// This seat's client→server sequence number.
        seq: u64,
        /// The payload.
        data: SignalData,
    },
    /// Cumulative acknowledgement of server→client signals.
    Ack {
        /// Everything up to and including this seq was received.
        seq: u64,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// The socket has its seat.
    Joined {
        /// The room id.
        room: String,
        /// Seats taken, this one included (1 or 2).
        peers: u8,
        /// True for the party that took its seat second: it offers.
        initiator: bool,
        /// The key that resumes this seat from another socket.
        resume: String,
        /// True when this socket resumed an existing seat.
        resumed: bool,
        /// Highest client→server seq stored from this seat (0 on a fresh seat).
        acked: u64,
        /// The other party's subject, when it has taken its seat.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<String>,
    },
    /// The other party took its seat anew (a first join, or a fresh auth).
    PeerJoined {
        /// Its subject.
        peer: String,
    },
    /// The other party resumed its seat from a new socket.
    PeerResumed {
        /// Its subject.
        peer: String,
    },
    /// The other party's socket closed; its seat stays reserved for a resume.
    PeerLeft {
        /// Its subject.
        peer: String,
    },
    /// A signal from the other party, numbered for this seat from 1.
    Signal {
        /// This seat's server→client sequence number.
        seq: u64,
        /// The payload, as the other party sent it.
        data: SignalData,
    },
    /// The client's signal with this seq is stored for the other party.
    Ack {
        /// The client's seq.
        seq: u64,
    },
    /// Answer to `ping`.
    Pong,
    /// A typed error; see [`ErrorCode::close_code`] for whether it closes.
    Error {
        /// What went wrong.
        code: ErrorCode,
        /// A sentence for humans.
        message: String,
    },
}

/// Every typed error of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// No, a bad or an expired token.
    Unauthorized,
    /// No auth message in time.
    AuthTimeout,
    /// A valid token whose subject is not one of the room's two parties.
    Forbidden,
    /// Unknown or expired room.
    NotFound,
    /// The seat has a live socket and no valid resume key was given.
    SeatTaken,
    /// The room was idle too long.
    RoomExpired,
    /// The resume key is unknown or stale, or the replay buffer lost
    /// messages after `ack`: start over with an auth without `resume`.
    ResumeExpired,
    /// This socket did not read its messages fast enough; the seat is kept.
    SlowConsumer,
    /// Too many sockets for this subject.
    TooManyConnections,
    /// Another socket resumed this socket's seat.
    Replaced,
    /// A message above the size limit.
    TooLarge,
    /// More messages than the socket's rate allows; the seat is kept.
    RateLimited,
    /// The registry behind the server failed (e.g. Redis unreachable).
    Unavailable,
    /// Not JSON, binary, an unknown type or bad data. Closes nothing.
    BadMessage,
    /// A client seq that skips ahead; nothing stored. Closes nothing.
    BadSeq,
}

impl ErrorCode {
    /// The WebSocket close code that follows this error, or `None` when the
    /// socket stays open.
    pub fn close_code(self) -> Option<u16> {
        Some(match self {
            Self::Unauthorized => 4401,
            Self::AuthTimeout => 4408,
            Self::Forbidden => 4403,
            Self::NotFound => 4404,
            Self::SeatTaken => 4409,
            Self::RoomExpired => 4410,
            Self::ResumeExpired => 4412,
            Self::SlowConsumer => 4429,
            Self::TooManyConnections => 1013,
            Self::Replaced => 4000,
            Self::TooLarge => 1009,
            // Policy violation: the standard code for a client that breaks the server's rules.
            Self::RateLimited => 1008,
            Self::Unavailable => 1011,
            Self::BadMessage | Self::BadSeq => return None,
        })
    }

    /// The usual sentence for this error.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unauthorized => "invalid or expired token",
            Self::AuthTimeout => "no auth message within 10 s",
            Self::Forbidden => "this room belongs to two other parties",
            Self::NotFound => "no such room, or it expired",
            Self::SeatTaken => "your seat in this room has a live socket; resume it with its key",
            Self::RoomExpired => "the room was idle too long",
            Self::ResumeExpired => "this seat cannot be resumed; join again without a resume key",
            Self::SlowConsumer => "this socket did not read its messages; resume it",
            Self::TooManyConnections => "too many sockets for this user",
            Self::Replaced => "the party resumed on another socket",
            Self::TooLarge => "message too large",
            Self::RateLimited => "too many messages on this socket; resume it more slowly",
            Self::Unavailable => "signaling is unavailable; try again",
            Self::BadMessage => "not a valid message",
            Self::BadSeq => "seq skips ahead of the last one stored",
        }
    }

    /// The `error` message with the usual sentence.
    pub fn to_message(self) -> ServerMessage {
        self.with(self.message())
    }

    /// The `error` message with a sentence of its own.
    pub fn with(self, message: impl Into<String>) -> ServerMessage {
        ServerMessage::Error {
            code: self,
            message: message.into(),
        }
    }
}

impl ServerMessage {
    /// The JSON text of this message.
    pub fn to_text(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads back the text of [`ServerMessage::to_text`] (e.g. relayed
    /// through Redis). A signal's `data` stays the text it is, as
    /// [`SignalData::from_stored`]: it was parsed once, from its sender.
    pub fn from_text(text: &[u8]) -> Result<Self, serde_json::Error> {
        /// A `signal` message; others fail for want of `seq` and `data`.
        #[derive(Deserialize)]
        struct Relayed<'a> {
            #[serde(rename = "type", borrow)]
            kind: std::borrow::Cow<'a, str>,
            seq: u64,
            data: Box<RawValue>,
        }
        match serde_json::from_slice::<Relayed>(text) {
            Ok(Relayed { kind, seq, data }) if kind == "signal" => Ok(Self::Signal {
                seq,
                data: SignalData(Arc::from(data)),
            }),
            _ => serde_json::from_slice(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ClientMessage, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn client_messages() {
        assert_eq!(
            parse(json!({"type":"auth","token":"t"})).unwrap(),
            ClientMessage::Auth {
                token: "t".into(),
                resume: None,
                ack: 0
            }
        );
        assert!(matches!(
            parse(json!({"type":"auth","token":"t","resume":"k","ack":7})).unwrap(),
            ClientMessage::Auth { ack: 7, .. }
        ));
        assert!(matches!(
            parse(json!({"type":"signal","seq":1,"data":{"type":"offer","sdp":"x"}})).unwrap(),
            ClientMessage::Signal { seq: 1, .. }
        ));
        for bad in [
            json!({"type":"signal","seq":1,"data":{"sdp":"x"}}),
            json!({"type":"signal","seq":1,"data":"offer"}),
            json!({"type":"signal","seq":1,"data":{"type":3}}),
            json!({"type":"signal","data":{"type":"offer"}}),
            json!({"type":"signal","seq":-1,"data":{"type":"offer"}}),
            json!({"type":"shout"}),
            json!([1, 2]),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn signal_data_is_held_as_the_text_the_server_has_always_relayed() {
        // Spacing, key order and escapes as a client may send them.
        let data = r#"{ "type" : "offer", "sdp":"v=0\u000d\n", "n":[1e2, 0] }"#;
        let text = format!(r#"{{"type":"signal","seq":1,"data":{data}}}"#);
        let Ok(ClientMessage::Signal { data: held, .. }) = serde_json::from_str(&text) else {
            panic!("a signal");
        };
        // What serde_json writes for the parsed object, as before.
        let relayed = r#"{"n":[100.0,0],"sdp":"v=0\r\n","type":"offer"}"#;
        let tree: Map<String, Value> = serde_json::from_str(data).unwrap();
        assert_eq!(serde_json::to_string(&tree).unwrap(), relayed);
        assert_eq!((held.as_json(), held.json_len()), (relayed, relayed.len()));
        let message = ServerMessage::Signal { seq: 7, data: held };
        let out = message.to_text();
        assert_eq!(
            out,
            format!(r#"{{"type":"signal","seq":7,"data":{relayed}}}"#)
        );
        // Read back (from Redis) as the same text, and so are the others.
        for message in [message, ServerMessage::Pong, ErrorCode::BadSeq.to_message()] {
            let text = message.to_text();
            assert_eq!(ServerMessage::from_text(text.as_bytes()).unwrap(), message);
        }
        let stored = SignalData::from_stored(relayed.to_owned()).unwrap();
        assert_eq!(stored.as_json(), relayed);
        assert!(SignalData::from_stored("{".to_owned()).is_err());
    }

    #[test]
    fn server_messages_are_the_documented_json() {
        let data: SignalData = serde_json::from_value(json!({"type":"offer","sdp":"x"})).unwrap();
        assert_eq!(data.json_len(), r#"{"sdp":"x","type":"offer"}"#.len());
        let cases = [
            (
                ServerMessage::Signal { seq: 3, data },
                json!({"type":"signal","seq":3,"data":{"type":"offer","sdp":"x"}}),
            ),
            (
                ServerMessage::PeerLeft { peer: "bob".into() },
                json!({"type":"peer-left","peer":"bob"}),
            ),
            (ServerMessage::Pong, json!({"type":"pong"})),
            (
                ErrorCode::SeatTaken.with("m"),
                json!({"type":"error","code":"seat-taken","message":"m"}),
            ),
            (
                ServerMessage::Joined {
                    room: "r".into(),
                    peers: 1,
                    initiator: false,
                    resume: "k".into(),
                    resumed: false,
                    acked: 0,
                    peer: None,
                },
                json!({"type":"joined","room":"r","peers":1,"initiator":false,"resume":"k","resumed":false,"acked":0}),
            ),
        ];
        for (message, expected) in cases {
            let text = message.to_text();
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
            assert_eq!(
                serde_json::from_str::<ServerMessage>(&text).unwrap(),
                message
            );
        }
    }
}
