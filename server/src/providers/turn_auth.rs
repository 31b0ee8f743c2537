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

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use stun::attributes::{ATTR_MESSAGE_INTEGRITY, ATTR_NONCE, ATTR_REALM, ATTR_USERNAME};
use stun::error_code::{ErrorCodeAttribute, CODE_UNAUTHORIZED};
use stun::integrity::MessageIntegrity;
use stun::message::{
    is_message, Message, MessageType, Setter, CLASS_ERROR_RESPONSE, CLASS_REQUEST,
};
use stun::textattrs::TextAttribute;
use webrtc_util::Conn;

use super::turn_rest;
use crate::auth::unix_now;
use crate::secret::Secret;

/// A `Conn` that refuses bad TURN-REST credentials with 401 before the TURN
/// server reads the request.
pub struct AuthFront {
    inner: Arc<dyn Conn + Send + Sync>,
    secret: Secret,
    realm: String,
}

impl AuthFront {
    /// Guards `inner` for credentials signed with `secret` in `realm`.
    pub fn new(inner: Arc<dyn Conn + Send + Sync>, secret: Secret, realm: String) -> Self {
        Self {
            inner,
            secret,
            realm,
        }
    }

    /// The 401 to send back for `packet`, or None to let the server have it.
    fn refusal(&self, packet: &[u8]) -> Option<Vec<u8>> {
        if !is_message(packet) {
            return None;
        }
        let mut request = Message::new();
        request.unmarshal_binary(packet).ok()?;
        if request.typ.class != CLASS_REQUEST || !request.contains(ATTR_MESSAGE_INTEGRITY) {
            return None;
        }
        let username = TextAttribute::get_from_as(&request, ATTR_USERNAME)
            .ok()?
            .text;
        let realm = TextAttribute::get_from_as(&request, ATTR_REALM).ok()?.text;
        if self.accepts(&mut request, &username, &realm) {
            return None;
        }
        tracing::info!("TURN request refused with 401: wrong or expired credentials");
        unauthorized(&request, &self.realm).ok()
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

/// 401 for `request`'s method and transaction, with our REALM and a fresh NONCE.
fn unauthorized(request: &Message, realm: &str) -> Result<Vec<u8>, stun::Error> {
    let nonce = Secret::random_hex();
    let setters: Vec<Box<dyn Setter>> = vec![
        Box::new(Message {
            transaction_id: request.transaction_id,
            ..Default::default()
        }),
        Box::new(MessageType::new(request.typ.method, CLASS_ERROR_RESPONSE)),
        Box::new(ErrorCodeAttribute {
            code: CODE_UNAUTHORIZED,
            reason: b"Unauthenticated".to_vec(),
        }),
        Box::new(TextAttribute::new(ATTR_REALM, realm.to_owned())),
        Box::new(TextAttribute::new(ATTR_NONCE, nonce)),
    ];
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
            match self.refusal(&buf[..n]) {
                Some(reply) => {
                    let _ = self.inner.send_to(&reply, from).await;
                }
                None => return Ok((n, from)),
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
        AuthFront::new(Arc::new(Nothing), Secret::new("s"), "ice-peer".into())
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
        assert_eq!(f.refusal(&allocate(&user, "ice-peer", &pass)), None);

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
            let reply = decoded(&f.refusal(&bad).expect("refused"));
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
        assert_eq!(f.refusal(&m.raw), None);
        let mut b = Message::new();
        b.build(&[
            Box::new(BINDING_REQUEST) as Box<dyn Setter>,
            Box::new(TransactionId::new()),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.refusal(&b.raw), None);
        // ChannelData and garbage.
        assert_eq!(f.refusal(&[0x40, 0x00, 0x00, 0x02, 1, 2]), None);
        assert_eq!(f.refusal(b"hello"), None);
    }
}
