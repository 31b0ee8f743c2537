//! RFC 8489 §9.2.4 in front of webrtc-rs `turn`: a request whose credentials
//! are wrong or expired gets **401 Unauthenticated** with REALM and a fresh
//! NONCE. webrtc-rs answers those with 400 Bad Request, and a browser only
//! reports a 401 (`icecandidateerror` with code 401) as a credential problem,
//! so the client's repair (refetch the servers, restart ICE) would never run
//! against our own default server.
//!
//! [`AuthFront`] wraps the socket the TURN server reads from (the extension
//! point webrtc-rs offers): it checks every request that carries
//! MESSAGE-INTEGRITY before the server sees it, answers the bad ones itself
//! and passes everything else through untouched. Requests without
//! MESSAGE-INTEGRITY still get the server's own 401 with its nonce.
//!
//! It also applies the [`PeerPolicy`] before anything is relayed: a
//! CreatePermission or ChannelBind naming a refused peer gets **403
//! Forbidden**, a Send indication toward one is dropped.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use stun::attributes::{
    Attributes, ATTR_MESSAGE_INTEGRITY, ATTR_NONCE, ATTR_REALM, ATTR_USERNAME,
    ATTR_XOR_PEER_ADDRESS,
};
use stun::error_code::{ErrorCode, ErrorCodeAttribute, CODE_FORBIDDEN, CODE_UNAUTHORIZED};
use stun::integrity::MessageIntegrity;
use stun::message::{
    is_message, Message, MessageType, Setter, CLASS_ERROR_RESPONSE, CLASS_INDICATION,
    CLASS_REQUEST, METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION, METHOD_SEND,
};
use stun::textattrs::TextAttribute;
use stun::xoraddr::XorMappedAddress;
use webrtc_util::Conn;

use super::turn_policy::PeerPolicy;
use super::turn_rest;
use crate::auth::unix_now;
use crate::secret::Secret;

/// A `Conn` that refuses bad TURN-REST credentials with 401 before the TURN
/// server reads the request.
pub struct AuthFront {
    inner: Arc<dyn Conn + Send + Sync>,
    secret: Secret,
    realm: String,
    policy: Arc<PeerPolicy>,
}

/// What becomes of one packet from a client.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The TURN server handles it.
    Pass,
    /// We answer it with these bytes; the server never sees it.
    Answer(Vec<u8>),
    /// Nobody answers it.
    Drop,
}

impl AuthFront {
    /// Guards `inner` for credentials signed with `secret` in `realm`, with
    /// peers filtered by `policy`.
    pub fn new(
        inner: Arc<dyn Conn + Send + Sync>,
        secret: Secret,
        realm: String,
        policy: Arc<PeerPolicy>,
    ) -> Self {
        Self {
            inner,
            secret,
            realm,
            policy,
        }
    }

    /// What to do with `packet`.
    fn verdict(&self, packet: &[u8]) -> Verdict {
        if !is_message(packet) {
            // ChannelData goes to a bound channel, and ChannelBind is
            // checked here: the relay socket checks it again.
            return Verdict::Pass;
        }
        let mut request = Message::new();
        if request.unmarshal_binary(packet).is_err() {
            return Verdict::Pass;
        }
        if request.typ == MessageType::new(METHOD_SEND, CLASS_INDICATION)
            && !self.peers_permitted(&request)
        {
            tracing::info!("TURN Send indication to a denied peer dropped");
            return Verdict::Drop;
        }
        if request.typ.class != CLASS_REQUEST || !request.contains(ATTR_MESSAGE_INTEGRITY) {
            return Verdict::Pass;
        }
        let text = |attr| TextAttribute::get_from_as(&request, attr).map(|a| a.text);
        let (Ok(username), Ok(realm)) = (text(ATTR_USERNAME), text(ATTR_REALM)) else {
            return Verdict::Pass;
        };
        if !self.accepts(&mut request, &username, &realm) {
            tracing::info!("TURN request refused with 401: wrong or expired credentials");
            return answer(unauthorized(&request, &self.realm));
        }
        let names_peers = [METHOD_CREATE_PERMISSION, METHOD_CHANNEL_BIND];
        if names_peers.contains(&request.typ.method) && !self.peers_permitted(&request) {
            tracing::info!("TURN permission for a denied peer refused with 403");
            let password = turn_rest::password(&self.secret, &username);
            let integrity = MessageIntegrity::new_long_term_integrity(username, realm, password);
            return answer(error_response(
                &request,
                CODE_FORBIDDEN,
                b"Forbidden",
                vec![Box::new(integrity)],
            ));
        }
        Verdict::Pass
    }

    /// True when every XOR-PEER-ADDRESS of `message` decodes to a peer the
    /// policy permits (and there is at least one).
    fn peers_permitted(&self, message: &Message) -> bool {
        let peers = peer_addresses(message);
        !peers.is_empty()
            && peers
                .iter()
                .all(|peer| peer.is_some_and(|p| self.policy.permits(p)))
    }

    /// True when `username` is an unexpired TURN-REST name of ours and the
    /// request's MESSAGE-INTEGRITY matches its password.
    fn accepts(&self, request: &mut Message, username: &str, realm: &str) -> bool {
        let fresh = turn_rest::username_expiry(username).is_some_and(|expiry| expiry > unix_now());
        if !fresh || realm != self.realm {
            return false;
        }
        let password = turn_rest::password(&self.secret, username);
        MessageIntegrity::new_long_term_integrity(username.to_owned(), realm.to_owned(), password)
            .check(request)
            .is_ok()
    }
}

/// Every XOR-PEER-ADDRESS of `message` in order, None for one that does not decode.
fn peer_addresses(message: &Message) -> Vec<Option<SocketAddr>> {
    let attributes = message.attributes.0.iter();
    attributes
        .filter(|a| a.typ == ATTR_XOR_PEER_ADDRESS)
        .map(|attribute| {
            // The decoder reads the first such attribute of a message: give
            // it a message holding just this one.
            let alone = Message {
                transaction_id: message.transaction_id,
                attributes: Attributes(vec![attribute.clone()]),
                ..Default::default()
            };
            let mut peer = XorMappedAddress::default();
            peer.get_from_as(&alone, ATTR_XOR_PEER_ADDRESS).ok()?;
            Some(SocketAddr::new(peer.ip, peer.port))
        })
        .collect()
}

fn answer(response: Result<Vec<u8>, stun::Error>) -> Verdict {
    response.map_or(Verdict::Drop, Verdict::Answer)
}

/// 401 for `request`'s method and transaction, with our REALM and a fresh NONCE.
fn unauthorized(request: &Message, realm: &str) -> Result<Vec<u8>, stun::Error> {
    let nonce = Secret::random_hex();
    error_response(
        request,
        CODE_UNAUTHORIZED,
        b"Unauthenticated",
        vec![
            Box::new(TextAttribute::new(ATTR_REALM, realm.to_owned())),
            Box::new(TextAttribute::new(ATTR_NONCE, nonce)),
        ],
    )
}

/// The error response `code` to `request`, followed by `attributes`
/// (MESSAGE-INTEGRITY, when present, last).
fn error_response(
    request: &Message,
    code: ErrorCode,
    reason: &[u8],
    attributes: Vec<Box<dyn Setter>>,
) -> Result<Vec<u8>, stun::Error> {
    let mut setters: Vec<Box<dyn Setter>> = vec![
        Box::new(Message {
            transaction_id: request.transaction_id,
            ..Default::default()
        }),
        Box::new(MessageType::new(request.typ.method, CLASS_ERROR_RESPONSE)),
        Box::new(ErrorCodeAttribute {
            code,
            reason: reason.to_vec(),
        }),
    ];
    setters.extend(attributes);
    let mut response = Message::new();
    response.build(&setters)?;
    Ok(response.raw)
}

#[async_trait]
impl Conn for AuthFront {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.inner.recv(buf).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            match self.verdict(&buf[..n]) {
                Verdict::Answer(reply) => {
                    let _ = self.inner.send_to(&reply, from).await;
                }
                Verdict::Drop => {}
                Verdict::Pass => return Ok((n, from)),
            }
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stun::agent::TransactionId;
    use stun::message::{Getter, BINDING_REQUEST, METHOD_ALLOCATE};

    fn allocate(username: &str, realm: &str, password: &str) -> Vec<u8> {
        let setters: Vec<Box<dyn Setter>> = vec![
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)),
            Box::new(TransactionId::new()),
            Box::new(TextAttribute::new(ATTR_USERNAME, username.to_owned())),
            Box::new(TextAttribute::new(ATTR_REALM, realm.to_owned())),
            Box::new(TextAttribute::new(ATTR_NONCE, "n1".to_owned())),
            Box::new(MessageIntegrity::new_long_term_integrity(
                username.to_owned(),
                realm.to_owned(),
                password.to_owned(),
            )),
        ];
        let mut m = Message::new();
        m.build(&setters).unwrap_or_else(|e| panic!("{e}"));
        m.raw
    }

    fn front() -> AuthFront {
        struct Nothing;
        #[async_trait]
        impl Conn for Nothing {
            async fn connect(&self, _: SocketAddr) -> webrtc_util::Result<()> {
                Ok(())
            }
            async fn recv(&self, _: &mut [u8]) -> webrtc_util::Result<usize> {
                Ok(0)
            }
            async fn recv_from(&self, _: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
                Err(webrtc_util::Error::ErrBufferClosed)
            }
            async fn send(&self, b: &[u8]) -> webrtc_util::Result<usize> {
                Ok(b.len())
            }
            async fn send_to(&self, b: &[u8], _: SocketAddr) -> webrtc_util::Result<usize> {
                Ok(b.len())
            }
            fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
                Err(webrtc_util::Error::ErrBufferClosed)
            }
            fn remote_addr(&self) -> Option<SocketAddr> {
                None
            }
            async fn close(&self) -> webrtc_util::Result<()> {
                Ok(())
            }
            fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
                self
            }
        }
        AuthFront::new(
            Arc::new(Nothing),
            Secret::new("s"),
            "ice-peer".into(),
            Arc::new(PeerPolicy::new(vec![], vec![])),
        )
    }

    fn decoded(raw: &[u8]) -> Message {
        let mut m = Message::new();
        m.unmarshal_binary(raw).unwrap_or_else(|e| panic!("{e}"));
        m
    }

    #[test]
    fn good_credentials_pass_and_bad_ones_get_401_with_realm_and_a_fresh_nonce() {
        let f = front();
        let (user, pass) = turn_rest::credentials(&Secret::new("s"), "alice", unix_now() + 60);
        assert_eq!(
            f.verdict(&allocate(&user, "ice-peer", &pass)),
            Verdict::Pass
        );

        let (old_user, old_pass) =
            turn_rest::credentials(&Secret::new("s"), "alice", unix_now() - 1);
        let (other_user, other_pass) =
            turn_rest::credentials(&Secret::new("other"), "alice", unix_now() + 60);
        for bad in [
            allocate(&user, "ice-peer", "wrong"),
            allocate(&old_user, "ice-peer", &old_pass),
            allocate(&other_user, "ice-peer", &other_pass),
            allocate("alice", "ice-peer", "x"),
            allocate(&user, "other-realm", &pass),
        ] {
            let request = decoded(&bad);
            let Verdict::Answer(reply) = f.verdict(&bad) else {
                panic!("refused expected");
            };
            let reply = decoded(&reply);
            assert_eq!(reply.transaction_id, request.transaction_id);
            assert_eq!(
                reply.typ,
                MessageType::new(METHOD_ALLOCATE, CLASS_ERROR_RESPONSE)
            );
            let mut code = ErrorCodeAttribute::default();
            code.get_from(&reply).unwrap_or_else(|e| panic!("{e}"));
            assert!(code.code == CODE_UNAUTHORIZED, "401 expected");
            let realm = TextAttribute::get_from_as(&reply, ATTR_REALM).map(|a| a.text);
            assert_eq!(realm.ok().as_deref(), Some("ice-peer"));
            let nonce = TextAttribute::get_from_as(&reply, ATTR_NONCE).map(|a| a.text);
            assert!(nonce.is_ok_and(|n| n.len() == 32 && n != "n1"));
        }
    }

    fn signed(method: stun::message::Method, peers: &[&str]) -> Vec<u8> {
        let (user, pass) = turn_rest::credentials(&Secret::new("s"), "alice", unix_now() + 60);
        let mut setters: Vec<Box<dyn Setter>> = vec![
            Box::new(MessageType::new(method, CLASS_REQUEST)),
            Box::new(TransactionId::new()),
        ];
        for p in peers {
            let addr: SocketAddr = p.parse().unwrap_or_else(|e| panic!("{p}: {e}"));
            setters.push(Box::new(turn::proto::peeraddr::PeerAddress {
                ip: addr.ip(),
                port: addr.port(),
            }));
        }
        setters.push(Box::new(TextAttribute::new(ATTR_USERNAME, user.clone())));
        setters.push(Box::new(TextAttribute::new(ATTR_REALM, "ice-peer".into())));
        setters.push(Box::new(TextAttribute::new(ATTR_NONCE, "n1".into())));
        setters.push(Box::new(MessageIntegrity::new_long_term_integrity(
            user,
            "ice-peer".into(),
            pass,
        )));
        let mut m = Message::new();
        m.build(&setters).unwrap_or_else(|e| panic!("{e}"));
        m.raw
    }

    #[test]
    fn a_denied_peer_anywhere_in_a_request_gets_403_with_integrity() {
        let f = front();
        for method in [METHOD_CREATE_PERMISSION, METHOD_CHANNEL_BIND] {
            assert_eq!(
                f.verdict(&signed(method, &["198.51.100.1:9"])),
                Verdict::Pass
            );
            for peers in [&["127.0.0.1:9"][..], &["198.51.100.1:9", "10.0.0.1:9"], &[]] {
                let Verdict::Answer(reply) = f.verdict(&signed(method, peers)) else {
                    panic!("{peers:?} must be answered");
                };
                let reply = decoded(&reply);
                let mut code = ErrorCodeAttribute::default();
                code.get_from(&reply).unwrap_or_else(|e| panic!("{e}"));
                assert!(code.code == CODE_FORBIDDEN, "403 for {peers:?}");
                assert!(reply.contains(ATTR_MESSAGE_INTEGRITY));
            }
        }
    }

    #[test]
    fn a_send_indication_to_a_denied_peer_is_dropped() {
        let f = front();
        let send = |to: &str| {
            let addr: SocketAddr = to.parse().unwrap_or_else(|e| panic!("{e}"));
            let mut m = Message::new();
            m.build(&[
                Box::new(MessageType::new(METHOD_SEND, CLASS_INDICATION)) as Box<dyn Setter>,
                Box::new(TransactionId::new()),
                Box::new(turn::proto::peeraddr::PeerAddress {
                    ip: addr.ip(),
                    port: addr.port(),
                }),
            ])
            .unwrap_or_else(|e| panic!("{e}"));
            m.raw
        };
        assert_eq!(f.verdict(&send("169.254.169.254:80")), Verdict::Drop);
        assert_eq!(f.verdict(&send("[::ffff:127.0.0.1]:80")), Verdict::Drop);
        assert_eq!(f.verdict(&send("198.51.100.1:80")), Verdict::Pass);
    }

    #[test]
    fn what_the_server_handles_itself_passes() {
        let f = front();
        // No MESSAGE-INTEGRITY: the server's own 401 with its nonce.
        let mut m = Message::new();
        m.build(&[
            Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)) as Box<dyn Setter>,
            Box::new(TransactionId::new()),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.verdict(&m.raw), Verdict::Pass);
        let mut b = Message::new();
        b.build(&[
            Box::new(BINDING_REQUEST) as Box<dyn Setter>,
            Box::new(TransactionId::new()),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.verdict(&b.raw), Verdict::Pass);
        // ChannelData and garbage.
        assert_eq!(f.verdict(&[0x40, 0x00, 0x00, 0x02, 1, 2]), Verdict::Pass);
        assert_eq!(f.verdict(b"hello"), Verdict::Pass);
    }
}
