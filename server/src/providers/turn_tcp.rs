//! TURN over TCP (RFC 8656 §3.1, client-to-server transport) for webrtc-rs
//! `turn`, which only reads datagrams: [`TcpMux`] accepts TCP connections on
//! the TURN port and presents them to the server as one packet `Conn`, each
//! connection's peer address standing in for a datagram's source. Relays
//! stay UDP, as RFC 8656 has them. A firewall that drops UDP still lets a
//! client reach the relay this way (`turn:host:port?transport=tcp`).
//!
//! Framing on the stream (RFC 8656 §12.5): a STUN message is its 20-byte
//! header plus the length in it; ChannelData is 4 bytes plus its length,
//! padded to a multiple of 4 in both directions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex as StdMutex};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use webrtc_util::Conn;

/// The largest frame accepted: what the TURN server reads in one go.
const MAX_FRAME: usize = 1500;
/// Open client connections at most; more are refused.
const MAX_CONNECTIONS: usize = 1024;

type Writers = Arc<StdMutex<HashMap<SocketAddr, Arc<Mutex<OwnedWriteHalf>>>>>;

/// Every TCP client of the TURN port, as one packet connection.
pub struct TcpMux {
    local: SocketAddr,
    inbox: Mutex<mpsc::Receiver<(Vec<u8>, SocketAddr)>>,
    writers: Writers,
    accept: JoinHandle<()>,
}

impl TcpMux {
    /// Starts accepting on `listener`.
    pub fn new(listener: TcpListener) -> std::io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, inbox) = mpsc::channel(256);
        let writers: Writers = Arc::default();
        let accept = tokio::spawn(accept_loop(listener, tx, Arc::clone(&writers)));
        Ok(Self {
            local,
            inbox: Mutex::new(inbox),
            writers,
            accept,
        })
    }
}

fn lock(
    writers: &Writers,
) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Mutex<OwnedWriteHalf>>>> {
    writers.lock().unwrap_or_else(|e| e.into_inner())
}

async fn accept_loop(
    listener: TcpListener,
    tx: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    writers: Writers,
) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // e.g. out of file descriptors: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        if lock(&writers).len() >= MAX_CONNECTIONS {
            continue; // dropped: closes the connection
        }
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        lock(&writers).insert(peer, Arc::new(Mutex::new(write)));
        let (tx, writers) = (tx.clone(), Arc::clone(&writers));
        tokio::spawn(async move {
            read_frames(read, peer, tx).await;
            lock(&writers).remove(&peer);
        });
    }
}

/// The length of the frame whose first 4 bytes are `head`, padding excluded,
/// and the padding that follows it; None for anything that is neither STUN
/// nor ChannelData.
fn frame_len(head: [u8; 4]) -> Option<(usize, usize)> {
    let length = usize::from(u16::from_be_bytes([head[2], head[3]]));
    match head[0] >> 6 {
        0b00 => Some((20 + length, 0)),
        0b01 => Some((4 + length, (4 - length % 4) % 4)),
        _ => None,
    }
}

async fn read_frames(
    mut read: tokio::net::tcp::OwnedReadHalf,
    peer: SocketAddr,
    tx: mpsc::Sender<(Vec<u8>, SocketAddr)>,
) {
    loop {
        let mut head = [0u8; 4];
        if read.read_exact(&mut head).await.is_err() {
            return;
        }
        let Some((len, padding)) = frame_len(head).filter(|(len, _)| *len <= MAX_FRAME) else {
            return; // not TURN, or too big: drop the connection
        };
        let mut frame = vec![0u8; len + padding];
        frame[..4].copy_from_slice(&head);
        if read.read_exact(&mut frame[4..]).await.is_err() {
            return;
        }
        frame.truncate(len);
        if tx.send((frame, peer)).await.is_err() {
            return;
        }
    }
}

/// `packet` as it goes on the stream: ChannelData padded to 4 bytes.
fn framed(packet: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let padding = (4 - packet.len() % 4) % 4;
    if packet.first().is_some_and(|b| b >> 6 == 0b01) && padding != 0 {
        let mut padded = packet.to_vec();
        padded.resize(packet.len() + padding, 0);
        padded.into()
    } else {
        packet.into()
    }
}

impl Drop for TcpMux {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn closed() -> webrtc_util::Error {
    webrtc_util::Error::ErrBufferClosed
}

#[async_trait]
impl Conn for TcpMux {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Err(webrtc_util::Error::Other("TcpMux does not connect".into()))
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.recv_from(buf).await.map(|(n, _)| n)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        let (frame, peer) = self.inbox.lock().await.recv().await.ok_or_else(closed)?;
        let n = frame.len().min(buf.len());
        buf[..n].copy_from_slice(&frame[..n]);
        Ok((n, peer))
    }

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(webrtc_util::Error::Other(
            "TcpMux needs a destination".into(),
        ))
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        let writer = lock(&self.writers)
            .get(&target)
            .cloned()
            .ok_or_else(closed)?;
        let result = writer.lock().await.write_all(&framed(buf)).await;
        result
            .map(|()| buf.len())
            .map_err(|e| webrtc_util::Error::Other(e.to_string()))
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.local)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.accept.abort();
        lock(&self.writers).clear();
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{frame_len, framed};

    #[test]
    fn frame_lengths() {
        // STUN: 20-byte header + length, never padded.
        assert_eq!(frame_len([0x00, 0x03, 0x00, 0x08]), Some((28, 0)));
        // ChannelData: 4 + length, padded to 4 on a stream.
        assert_eq!(frame_len([0x40, 0x00, 0x00, 0x05]), Some((9, 3)));
        assert_eq!(frame_len([0x7f, 0xff, 0x00, 0x04]), Some((8, 0)));
        // Anything else is not TURN.
        assert_eq!(frame_len([0x80, 0x00, 0x00, 0x00]), None);
        assert_eq!(frame_len([0xc0, 0x00, 0x00, 0x00]), None);
    }

    #[test]
    fn channel_data_is_padded_and_stun_is_not() {
        assert_eq!(
            &*framed(&[0x40, 0x00, 0x00, 0x01, 9]),
            &[0x40, 0, 0, 1, 9, 0, 0, 0]
        );
        assert_eq!(framed(&[0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]).len(), 8);
        let stun = [0u8; 21];
        assert_eq!(framed(&stun).len(), 21);
    }
}
