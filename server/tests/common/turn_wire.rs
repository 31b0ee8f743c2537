//! A raw TURN client for the tests: STUN messages built by hand and sent over
//! a UDP socket or a TCP stream, so a test controls every byte and sees every
//! error code.

use std::net::SocketAddr;
use std::time::Duration;

use stun::attributes::{AttrType, ATTR_NONCE, ATTR_REALM, ATTR_USERNAME};
use stun::error_code::ErrorCodeAttribute;
use stun::integrity::MessageIntegrity;
use stun::message::{
    Getter, Message, MessageType, Method, Setter, CLASS_INDICATION, CLASS_REQUEST,
    CLASS_SUCCESS_RESPONSE, METHOD_ALLOCATE, METHOD_SEND,
};
use stun::textattrs::TextAttribute;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use turn::proto::data::Data;
use turn::proto::peeraddr::PeerAddress;
use turn::proto::reqtrans::RequestedTransport;
use turn::proto::PROTO_UDP;

pub const REALM: &str = "ice-peer";

/// A long-term credential and the server's NONCE, for signing requests.
#[derive(Clone)]
pub struct Auth {
    pub user: String,
    pub pass: String,
    pub nonce: String,
}

/// A request of `method` with `attributes`; signed when `auth` is given.
pub fn request(method: Method, auth: Option<&Auth>, attributes: Vec<Box<dyn Setter>>) -> Vec<u8> {
    let mut setters: Vec<Box<dyn Setter>> = vec![
        Box::new(MessageType::new(method, CLASS_REQUEST)),
        Box::new(stun::agent::TransactionId::new()),
    ];
    setters.extend(attributes);
    if let Some(a) = auth {
        setters.push(Box::new(TextAttribute::new(ATTR_USERNAME, a.user.clone())));
        setters.push(Box::new(TextAttribute::new(ATTR_REALM, REALM.into())));
        setters.push(Box::new(TextAttribute::new(ATTR_NONCE, a.nonce.clone())));
        setters.push(Box::new(MessageIntegrity::new_long_term_integrity(
            a.user.clone(),
            REALM.into(),
            a.pass.clone(),
        )));
    }
    let mut m = Message::new();
    m.build(&setters).expect("request builds");
    m.raw
}

/// An Allocate for a UDP relay.
pub fn allocate(auth: Option<&Auth>) -> Vec<u8> {
    request(
        METHOD_ALLOCATE,
        auth,
        vec![Box::new(RequestedTransport {
            protocol: PROTO_UDP,
        })],
    )
}

/// An XOR-PEER-ADDRESS attribute for `peer`.
pub fn peer(peer: SocketAddr) -> Box<dyn Setter> {
    Box::new(PeerAddress {
        ip: peer.ip(),
        port: peer.port(),
    })
}

/// A Send indication carrying `data` to `to`.
pub fn send_indication(to: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut m = Message::new();
    m.build(&[
        Box::new(MessageType::new(METHOD_SEND, CLASS_INDICATION)) as Box<dyn Setter>,
        Box::new(stun::agent::TransactionId::new()),
        peer(to),
        Box::new(Data(data.to_vec())),
    ])
    .expect("indication builds");
    m.raw
}

/// ChannelData on `channel`, padded to 4 bytes as on a stream.
pub fn channel_data(channel: u16, data: &[u8]) -> Vec<u8> {
    let mut c = turn::proto::chandata::ChannelData {
        data: data.to_vec(),
        number: turn::proto::channum::ChannelNumber(channel),
        raw: vec![],
    };
    c.encode();
    c.raw
}

pub fn error_code(m: &Message) -> Option<u16> {
    let mut code = ErrorCodeAttribute::default();
    code.get_from(m).ok()?;
    Some(code.code.0)
}

pub fn text(m: &Message, attr: AttrType) -> Option<String> {
    TextAttribute::get_from_as(m, attr).ok().map(|a| a.text)
}

/// A datagram or a TCP stream to the TURN port.
pub enum Wire {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

impl Wire {
    pub async fn open(addr: SocketAddr, tcp: bool) -> Wire {
        if tcp {
            Wire::Tcp(TcpStream::connect(addr).await.expect("tcp connects"))
        } else {
            let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
            s.connect(addr).await.expect("connect");
            Wire::Udp(s)
        }
    }

    pub async fn send(&mut self, packet: &[u8]) {
        match self {
            Wire::Udp(s) => {
                s.send(packet).await.expect("send");
            }
            Wire::Tcp(s) => s.write_all(packet).await.expect("write"),
        }
    }

    /// The next packet from the server, or None after `wait`.
    pub async fn recv(&mut self, wait: Duration) -> Option<Vec<u8>> {
        tokio::time::timeout(wait, async {
            match self {
                Wire::Udp(s) => {
                    let mut buf = vec![0u8; 1500];
                    let n = s.recv(&mut buf).await.ok()?;
                    buf.truncate(n);
                    Some(buf)
                }
                Wire::Tcp(s) => {
                    let mut head = [0u8; 4];
                    s.read_exact(&mut head).await.ok()?;
                    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
                    let total = if head[0] >> 6 == 0 {
                        20 + len
                    } else {
                        (4 + len).div_ceil(4) * 4
                    };
                    let mut buf = head.to_vec();
                    buf.resize(total, 0);
                    s.read_exact(&mut buf[4..]).await.ok()?;
                    Some(buf)
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Sends `request` and returns the decoded answer.
    pub async fn ask(&mut self, request: &[u8]) -> Message {
        self.send(request).await;
        let raw = self
            .recv(Duration::from_secs(5))
            .await
            .expect("an answer within 5 s");
        let mut m = Message::new();
        m.unmarshal_binary(&raw).expect("a STUN answer");
        m
    }

    /// Asks for a permission toward `target`; returns the answer.
    pub async fn permit(&mut self, auth: &Auth, target: SocketAddr) -> Message {
        let create = request(
            stun::message::METHOD_CREATE_PERMISSION,
            Some(auth),
            vec![peer(target)],
        );
        self.ask(&create).await
    }

    /// Allocates a relay with `user`/`pass`: the unauthenticated Allocate
    /// brings the NONCE, the signed one must succeed at once.
    pub async fn allocate(&mut self, user: &str, pass: &str) -> Auth {
        let (auth, granted) = self.try_allocate(user, pass).await;
        assert_eq!(
            granted.typ.class,
            CLASS_SUCCESS_RESPONSE,
            "allocation refused with {:?}",
            error_code(&granted)
        );
        auth
    }

    /// Asks for a relay with `user`/`pass`; returns the signing state and
    /// the answer to the signed Allocate.
    pub async fn try_allocate(&mut self, user: &str, pass: &str) -> (Auth, Message) {
        let challenge = self.ask(&allocate(None)).await;
        let nonce = text(&challenge, ATTR_NONCE).expect("a NONCE in the 401");
        let auth = Auth {
            user: user.to_owned(),
            pass: pass.to_owned(),
            nonce,
        };
        let answer = self.ask(&allocate(Some(&auth))).await;
        (auth, answer)
    }
}

/// The XOR-RELAYED-ADDRESS of an Allocate success.
pub fn relayed_address(granted: &Message) -> SocketAddr {
    let mut relayed = turn::proto::relayaddr::RelayedAddress::default();
    relayed.get_from(granted).expect("a relayed address");
    SocketAddr::new(relayed.ip, relayed.port)
}

impl Wire {
    /// The local address of this client's socket.
    pub fn local_addr(&self) -> SocketAddr {
        match self {
            Wire::Udp(s) => s.local_addr().expect("address"),
            Wire::Tcp(s) => s.local_addr().expect("address"),
        }
    }
}
