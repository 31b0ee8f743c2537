//! What the embedded TURN server answers before webrtc-rs `turn` sees a
//! packet ([`AuthFront`], called by [`super::turn_server`] for each one):
//!
//! - **401 Unauthenticated** with REALM and a NONCE (RFC 8489 §9.2.4) for a
//!   request without credentials, or with wrong or expired ones. webrtc-rs
//!   answers bad ones with 400 Bad Request, and a browser only reports a 401
//!   (`icecandidateerror` with code 401) as a credential problem, so the
//!   client's repair (refetch the servers, restart ICE) would never run.
//! - **438 Stale Nonce** with a fresh NONCE for a nonce we did not issue to
//!   that address within the last hour. Nonces are computed
//!   ([`NonceKey`]), never stored: a stranger costs no memory.
//! - **403 Forbidden** for a CreatePermission or ChannelBind naming a peer
//!   the [`PeerPolicy`] refuses; a Send indication toward one is dropped.
//!
//! Everything else passes, with the nonce that was checked: the server
//! looks it up in a map that holds just that one.

use std::net::SocketAddr;
use std::sync::Arc;

use stun::attributes::{
    Attributes, ATTR_MESSAGE_INTEGRITY, ATTR_NONCE, ATTR_REALM, ATTR_USERNAME,
    ATTR_XOR_PEER_ADDRESS,
};
use stun::error_code::{
    ErrorCode, ErrorCodeAttribute, CODE_FORBIDDEN, CODE_STALE_NONCE, CODE_UNAUTHORIZED,
};
use stun::integrity::MessageIntegrity;
use stun::message::{
    is_message, Message, MessageType, Setter, CLASS_ERROR_RESPONSE, CLASS_INDICATION,
    CLASS_REQUEST, METHOD_ALLOCATE, METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION, METHOD_REFRESH,
    METHOD_SEND,
};
use stun::textattrs::TextAttribute;
use stun::xoraddr::XorMappedAddress;

use super::turn_nonce::NonceKey;
use super::turn_policy::PeerPolicy;
use super::turn_rest;
use crate::auth::unix_now;
use crate::secret::Secret;

/// Checks credentials, nonces and peers of the packets for the TURN server.
pub struct AuthFront {
    secret: Secret,
    realm: String,
    policy: Arc<PeerPolicy>,
    nonces: NonceKey,
}

/// A request whose credentials and nonce were checked.
#[derive(Debug, PartialEq)]
pub struct Signed {
    /// The request, decoded.
    pub request: Message,
    /// Its TURN-REST username.
    pub username: String,
    /// Its NONCE, one we issued to that client.
    pub nonce: String,
}

impl Signed {
    /// The peers the request names (each one permitted by the policy).
    pub fn peers(&self) -> Vec<SocketAddr> {
        peer_addresses(&self.request)
            .into_iter()
            .flatten()
            .collect()
    }
}

/// What becomes of one packet from a client.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// The TURN server handles it; a signed request comes along, checked.
    Pass(Option<Signed>),
    /// We answer it with these bytes; the server never sees it.
    Answer(Vec<u8>),
    /// Nobody answers it.
    Drop,
}

impl AuthFront {
    /// Checks credentials signed with `secret` in `realm`, nonces under
    /// `nonces`, and peers against `policy`.
    pub fn new(secret: Secret, realm: String, policy: Arc<PeerPolicy>, nonces: NonceKey) -> Self {
        Self {
            secret,
            realm,
            policy,
            nonces,
        }
    }

    /// What to do with `packet` from `client`.
    pub fn verdict(&self, packet: &[u8], client: SocketAddr) -> Verdict {
        if !is_message(packet) {
            // ChannelData goes to a bound channel, and ChannelBind is
            // checked here: the relay socket checks it again.
            return Verdict::Pass(None);
        }
        let mut request = Message::new();
        if request.unmarshal_binary(packet).is_err() {
            return Verdict::Pass(None);
        }
        if request.typ == MessageType::new(METHOD_SEND, CLASS_INDICATION)
            && !self.peers_permitted(&request)
        {
            crate::log_limited!(info, "TURN Send indication to a denied peer dropped");
            return Verdict::Drop;
        }
        // Binding needs no credentials, and the server ignores other methods.
        let signed_methods = [
            METHOD_ALLOCATE,
            METHOD_REFRESH,
            METHOD_CREATE_PERMISSION,
            METHOD_CHANNEL_BIND,
        ];
        if request.typ.class != CLASS_REQUEST || !signed_methods.contains(&request.typ.method) {
            return Verdict::Pass(None);
        }
        let now = unix_now();
        let nonce = self.nonces.issue(client, now);
        if !request.contains(ATTR_MESSAGE_INTEGRITY) {
            return answer(challenge(&request, CODE_UNAUTHORIZED, &self.realm, nonce));
        }
        let text = |attr| TextAttribute::get_from_as(&request, attr).map(|a| a.text);
        let (Ok(username), Ok(realm), Ok(sent_nonce)) =
            (text(ATTR_USERNAME), text(ATTR_REALM), text(ATTR_NONCE))
        else {
            // The server answers a request without them with 400.
            return Verdict::Pass(None);
        };
        if !self.nonces.accepts(&sent_nonce, client, now) {
            return answer(challenge(&request, CODE_STALE_NONCE, &self.realm, nonce));
        }
        if !self.accepts(&mut request, &username, &realm) {
            crate::log_limited!(
                info,
                "TURN request refused with 401: wrong or expired credentials"
            );
            return answer(challenge(&request, CODE_UNAUTHORIZED, &self.realm, nonce));
        }
        let signed = Signed {
            request,
            username,
            nonce: sent_nonce,
        };
        let names_peers = [METHOD_CREATE_PERMISSION, METHOD_CHANNEL_BIND];
        if names_peers.contains(&signed.request.typ.method)
            && !self.peers_permitted(&signed.request)
        {
            crate::log_limited!(info, "TURN permission for a denied peer refused with 403");
            return answer(self.refuse(&signed, CODE_FORBIDDEN, b"Forbidden"));
        }
        Verdict::Pass(Some(signed))
    }

    /// The error `code` in answer to `signed`, with MESSAGE-INTEGRITY under
    /// its username's key, as RFC 8489 has it for an authenticated request.
    pub fn refuse(
        &self,
        signed: &Signed,
        code: ErrorCode,
        reason: &[u8],
    ) -> Result<Vec<u8>, stun::Error> {
        let password = turn_rest::password(&self.secret, &signed.username);
        let integrity = MessageIntegrity::new_long_term_integrity(
            signed.username.clone(),
            self.realm.clone(),
            password,
        );
        error_response(&signed.request, code, reason, vec![Box::new(integrity)])
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

/// 401 or 438 for `request`'s method and transaction, with our REALM and `nonce`.
fn challenge(
    request: &Message,
    code: ErrorCode,
    realm: &str,
    nonce: String,
) -> Result<Vec<u8>, stun::Error> {
    let reason: &[u8] = if code == CODE_STALE_NONCE {
        b"Stale Nonce"
    } else {
        b"Unauthenticated"
    };
    error_response(
        request,
        code,
        reason,
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

#[cfg(test)]
mod tests {
    use super::*;
    use stun::agent::TransactionId;
    use stun::message::{Getter, Method, BINDING_REQUEST};

    const KEY: &[u8] = b"nonce key";

    fn client() -> SocketAddr {
        "198.51.100.9:4000"
            .parse()
            .unwrap_or_else(|_| unreachable!())
    }

    fn client_peer() -> SocketAddr {
        "198.51.100.1:9".parse().unwrap_or_else(|_| unreachable!())
    }

    fn fresh_nonce() -> String {
        NonceKey::new(KEY).issue(client(), unix_now())
    }

    /// A request of `method` naming `peers`, signed with `username`/`password`.
    fn signed(
        method: Method,
        peers: &[&str],
        (username, realm, password): (&str, &str, &str),
        nonce: &str,
    ) -> Vec<u8> {
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
        setters.extend([
            Box::new(TextAttribute::new(ATTR_USERNAME, username.to_owned())) as Box<dyn Setter>,
            Box::new(TextAttribute::new(ATTR_REALM, realm.to_owned())),
            Box::new(TextAttribute::new(ATTR_NONCE, nonce.to_owned())),
            Box::new(MessageIntegrity::new_long_term_integrity(
                username.to_owned(),
                realm.to_owned(),
                password.to_owned(),
            )),
        ]);
        let mut m = Message::new();
        m.build(&setters).unwrap_or_else(|e| panic!("{e}"));
        m.raw
    }

    fn front() -> AuthFront {
        AuthFront::new(
            Secret::new("s"),
            "ice-peer".into(),
            Arc::new(PeerPolicy::new(vec![], vec![])),
            NonceKey::new(KEY),
        )
    }

    fn decoded(raw: &[u8]) -> Message {
        let mut m = Message::new();
        m.unmarshal_binary(raw).unwrap_or_else(|e| panic!("{e}"));
        m
    }

    /// The error code of the answer `f` gives `packet`.
    fn answered(f: &AuthFront, packet: &[u8]) -> (u16, Message) {
        let Verdict::Answer(reply) = f.verdict(packet, client()) else {
            panic!("an answer expected");
        };
        let reply = decoded(&reply);
        assert_eq!(reply.transaction_id, decoded(packet).transaction_id);
        assert_eq!(reply.typ.class, CLASS_ERROR_RESPONSE);
        let mut code = ErrorCodeAttribute::default();
        code.get_from(&reply).unwrap_or_else(|e| panic!("{e}"));
        (code.code.0, reply)
    }

    fn alice(valid_for: i64) -> (String, String) {
        let expiry = unix_now().saturating_add_signed(valid_for);
        turn_rest::credentials(&Secret::new("s"), "alice", expiry)
    }

    #[test]
    fn good_credentials_with_our_nonce_pass_with_it() {
        let (user, pass) = alice(60);
        let nonce = fresh_nonce();
        let request = signed(METHOD_ALLOCATE, &[], (&user, "ice-peer", &pass), &nonce);
        let Verdict::Pass(Some(passed)) = front().verdict(&request, client()) else {
            panic!("a signed pass expected");
        };
        assert_eq!((passed.username, passed.nonce), (user, nonce));
    }

    #[test]
    fn no_or_bad_credentials_get_401_with_realm_and_a_nonce_for_that_client() {
        let f = front();
        let (user, pass) = alice(60);
        let (old_user, old_pass) = alice(-1);
        let (other_user, other_pass) =
            turn_rest::credentials(&Secret::new("other"), "alice", unix_now() + 60);
        let nonce = fresh_nonce();
        let mut unsigned = Message::new();
        unsigned
            .build(&[
                Box::new(MessageType::new(METHOD_ALLOCATE, CLASS_REQUEST)) as Box<dyn Setter>,
                Box::new(TransactionId::new()),
            ])
            .unwrap_or_else(|e| panic!("{e}"));
        for bad in [
            unsigned.raw,
            signed(METHOD_ALLOCATE, &[], (&user, "ice-peer", "wrong"), &nonce),
            signed(
                METHOD_ALLOCATE,
                &[],
                (&old_user, "ice-peer", &old_pass),
                &nonce,
            ),
            signed(
                METHOD_ALLOCATE,
                &[],
                (&other_user, "ice-peer", &other_pass),
                &nonce,
            ),
            signed(METHOD_ALLOCATE, &[], ("alice", "ice-peer", "x"), &nonce),
            signed(METHOD_ALLOCATE, &[], (&user, "other-realm", &pass), &nonce),
        ] {
            let (code, reply) = answered(&f, &bad);
            assert_eq!(code, CODE_UNAUTHORIZED.0, "RFC 8489 says 401");
            let realm = TextAttribute::get_from_as(&reply, ATTR_REALM).map(|a| a.text);
            assert_eq!(realm.ok().as_deref(), Some("ice-peer"));
            let given = TextAttribute::get_from_as(&reply, ATTR_NONCE).map(|a| a.text);
            let key = NonceKey::new(KEY);
            assert!(given.is_ok_and(|n| key.accepts(&n, client(), unix_now())));
        }
    }

    #[test]
    fn a_nonce_we_did_not_issue_to_that_client_gets_438_with_a_fresh_one() {
        let f = front();
        let (user, pass) = alice(60);
        let elsewhere = NonceKey::new(KEY).issue(
            "198.51.100.10:4000"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
            unix_now(),
        );
        let old = NonceKey::new(KEY).issue(client(), unix_now() - 3600);
        for nonce in ["n1", &elsewhere, &old] {
            let request = signed(METHOD_ALLOCATE, &[], (&user, "ice-peer", &pass), nonce);
            let (code, reply) = answered(&f, &request);
            assert_eq!(code, CODE_STALE_NONCE.0, "{nonce}");
            let given = TextAttribute::get_from_as(&reply, ATTR_NONCE).map(|a| a.text);
            assert!(given.is_ok_and(|n| NonceKey::new(KEY).accepts(&n, client(), unix_now())));
        }
    }

    #[test]
    fn a_denied_peer_anywhere_in_a_request_gets_403_with_integrity() {
        let f = front();
        let (user, pass) = alice(60);
        let nonce = fresh_nonce();
        let auth = (user.as_str(), "ice-peer", pass.as_str());
        for method in [METHOD_CREATE_PERMISSION, METHOD_CHANNEL_BIND] {
            let public = signed(method, &["198.51.100.1:9"], auth, &nonce);
            let Verdict::Pass(Some(passed)) = f.verdict(&public, client()) else {
                panic!("a signed pass expected");
            };
            assert_eq!(passed.peers(), [client_peer()]);
            for peers in [&["127.0.0.1:9"][..], &["198.51.100.1:9", "10.0.0.1:9"], &[]] {
                let (code, reply) = answered(&f, &signed(method, peers, auth, &nonce));
                assert_eq!(code, CODE_FORBIDDEN.0, "403 for {peers:?}");
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
        assert_eq!(
            f.verdict(&send("169.254.169.254:80"), client()),
            Verdict::Drop
        );
        assert_eq!(
            f.verdict(&send("[::ffff:127.0.0.1]:80"), client()),
            Verdict::Drop
        );
        assert_eq!(
            f.verdict(&send("198.51.100.1:80"), client()),
            Verdict::Pass(None)
        );
    }

    #[test]
    fn bindings_channel_data_and_garbage_pass() {
        let f = front();
        let mut b = Message::new();
        b.build(&[
            Box::new(BINDING_REQUEST) as Box<dyn Setter>,
            Box::new(TransactionId::new()),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.verdict(&b.raw, client()), Verdict::Pass(None));
        assert_eq!(
            f.verdict(&[0x40, 0x00, 0x00, 0x02, 1, 2], client()),
            Verdict::Pass(None)
        );
        assert_eq!(f.verdict(b"hello", client()), Verdict::Pass(None));
    }
}
