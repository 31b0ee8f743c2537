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
//!
//! No client can stall the others: each connection has its own writer task
//! behind a bounded queue, and a connection whose queue is full (a client
//! that does not read) is closed instead of blocking the server's read
//! loop. A connection that stays silent, or leaves a frame half sent, is
//! closed after a timeout, and one client (an IPv6 one by its /64) holds at most [`MAX_PER_IP`] of the
//! [`MAX_CONNECTIONS`] connections. The end of a connection or of an
//! allocation never closes the listener.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::timeout;
use webrtc_util::Conn;

use crate::permits::client_key;

/// The largest frame accepted: what the TURN server reads in one go.
const MAX_FRAME: usize = 1500;
/// Open client connections at most; more are refused.
pub const MAX_CONNECTIONS: usize = 1024;
/// Open client connections from one client (an IPv6 one by its /64) at most.
pub const MAX_PER_IP: usize = 32;
/// Frames waiting for one slow client at most; one more closes it.
const OUTBOX: usize = 64;
/// A connection with no frame for this long is closed (a call in progress
/// sends ICE consent checks every few seconds).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The first frame, and the rest of any frame once begun, must arrive
/// within this; so must a TLS handshake.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// One write to a client may take this long before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections that ended, waiting for the server to delete their allocation.
const ENDED_QUEUE: usize = 1024;
/// TLS handshakes under way at most: a connection only counts against the
/// caps once registered, after its handshake.
const MAX_HANDSHAKES: usize = 256;

/// How a stream becomes a TURN connection: as it is, or after a TLS handshake.
#[derive(Clone)]
pub enum Transport {
    /// Plain TCP.
    Tcp,
    /// TLS (`turns:`), with this server configuration.
    Tls(tokio_rustls::TlsAcceptor),
}

/// One open connection: its queue of frames to write and its reader.
struct Connection {
    id: u64,
    outbox: mpsc::Sender<Vec<u8>>,
    reader: AbortHandle,
}

type Connections = Arc<StdMutex<HashMap<SocketAddr, Connection>>>;

/// What the accept loop and every connection task share.
struct Hub {
    connections: Connections,
    inbox: mpsc::Sender<(Vec<u8>, SocketAddr)>,
    ended: mpsc::Sender<SocketAddr>,
    next_id: AtomicU64,
    handshakes: Arc<tokio::sync::Semaphore>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Connection>> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets connection `id` of `peer` (if it is still that one) and
    /// stops its reader; its writer ends with its queue.
    fn drop_connection(&self, peer: SocketAddr, id: u64) {
        let removed = {
            let mut connections = self.lock();
            match connections.get(&peer) {
                Some(c) if c.id == id => connections.remove(&peer),
                _ => None,
            }
        };
        if let Some(connection) = removed {
            connection.reader.abort();
            // The server deletes the allocation of a closed connection
            // (RFC 8656 §3.1); if it is behind, the allocation expires.
            let _ = self.ended.try_send(peer);
        }
    }
}

/// Every TCP (or TLS) client of the TURN port, as one packet connection.
pub struct TcpMux {
    local: SocketAddr,
    inbox: Mutex<mpsc::Receiver<(Vec<u8>, SocketAddr)>>,
    hub: Arc<Hub>,
    accept: JoinHandle<()>,
}

impl TcpMux {
    /// Starts accepting on `listener`; also returns the addresses of
    /// connections as they end.
    pub fn new(
        listener: TcpListener,
        transport: Transport,
    ) -> std::io::Result<(Self, mpsc::Receiver<SocketAddr>)> {
        let local = listener.local_addr()?;
        let (inbox_tx, inbox) = mpsc::channel(256);
        let (ended, ended_rx) = mpsc::channel(ENDED_QUEUE);
        let hub = Arc::new(Hub {
            connections: Arc::default(),
            inbox: inbox_tx,
            ended,
            next_id: AtomicU64::new(0),
            handshakes: Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES)),
        });
        let accept = tokio::spawn(accept_loop(listener, transport, Arc::clone(&hub)));
        let mux = Self {
            local,
            inbox: Mutex::new(inbox),
            hub,
            accept,
        };
        Ok((mux, ended_rx))
    }

    /// Stops accepting and closes every connection.
    pub fn shutdown(&self) {
        self.accept.abort();
        for (_, connection) in self.hub.lock().drain() {
            connection.reader.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, transport: Transport, hub: Arc<Hub>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // e.g. out of file descriptors: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if !has_room(&hub.lock(), peer.ip()) {
            tracing::debug!(%peer, "TURN TCP connection refused: connection cap reached");
            continue; // dropped: closes the connection
        }
        let _ = stream.set_nodelay(true);
        let (hub, transport) = (Arc::clone(&hub), transport.clone());
        tokio::spawn(async move {
            match transport {
                Transport::Tcp => serve(stream, peer, hub),
                Transport::Tls(acceptor) => {
                    let Ok(_handshaking) = Arc::clone(&hub.handshakes).try_acquire_owned() else {
                        return; // too many under way: dropped
                    };
                    if let Ok(Ok(tls)) = timeout(FRAME_TIMEOUT, acceptor.accept(stream)).await {
                        serve(tls, peer, hub);
                    }
                }
            }
        });
    }
}

/// True when one more connection from `ip` stays within both caps (an IPv6
/// client counted by its /64: see [`client_key`]).
fn has_room(connections: &HashMap<SocketAddr, Connection>, ip: IpAddr) -> bool {
    let client = client_key(ip);
    connections.len() < MAX_CONNECTIONS
        && (connections.keys())
            .filter(|peer| client_key(peer.ip()) == client)
            .count()
            < MAX_PER_IP
}

/// Registers `stream` from `peer` and starts its reader and writer.
fn serve<S>(stream: S, peer: SocketAddr, hub: Arc<Hub>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let (outbox, queue) = mpsc::channel(OUTBOX);
    let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
    // The reader starts once the connection is registered, so its end
    // always finds it to remove.
    let (registered, start) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn({
        let hub = Arc::clone(&hub);
        async move {
            if start.await.is_ok() {
                read_frames(read, peer, &hub.inbox).await;
                hub.drop_connection(peer, id);
            }
        }
    });
    {
        let mut connections = hub.lock();
        // Checked again: a TLS handshake takes time, others may have come.
        if !has_room(&connections, peer.ip()) {
            return; // `registered` dropped: the reader ends at once
        }
        let reader = reader.abort_handle();
        connections.insert(peer, Connection { id, outbox, reader });
    }
    let _ = registered.send(());
    tokio::spawn(async move {
        write_frames(write, queue).await;
        hub.drop_connection(peer, id);
    });
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

/// Reads frames into `inbox` until the stream ends, breaks the framing, or
/// times out.
async fn read_frames(
    mut read: impl AsyncRead + Unpin,
    peer: SocketAddr,
    inbox: &mpsc::Sender<(Vec<u8>, SocketAddr)>,
) {
    let mut wait = FRAME_TIMEOUT; // for the first frame
    loop {
        let mut head = [0u8; 4];
        match timeout(wait, read.read_exact(&mut head[..1])).await {
            Ok(Ok(_)) => {}
            _ => return,
        }
        let Some(frame) = timeout(FRAME_TIMEOUT, read_rest(&mut read, head))
            .await
            .ok()
            .flatten()
        else {
            return; // half sent, not TURN, too big, or closed
        };
        if inbox.send((frame, peer)).await.is_err() {
            return;
        }
        wait = IDLE_TIMEOUT;
    }
}

/// The frame whose first byte is in `head`.
async fn read_rest(read: &mut (impl AsyncRead + Unpin), mut head: [u8; 4]) -> Option<Vec<u8>> {
    read.read_exact(&mut head[1..]).await.ok()?;
    let (len, padding) = frame_len(head).filter(|(len, _)| *len <= MAX_FRAME)?;
    let mut frame = vec![0u8; len + padding];
    frame[..4].copy_from_slice(&head);
    read.read_exact(&mut frame[4..]).await.ok()?;
    frame.truncate(len);
    Some(frame)
}

/// Writes queued frames until the queue closes or a write fails or stalls.
async fn write_frames(mut write: impl AsyncWrite + Unpin, mut queue: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = queue.recv().await {
        match timeout(WRITE_TIMEOUT, write.write_all(&frame)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
    let _ = write.shutdown().await;
}

/// `packet` as it goes on the stream: ChannelData padded to 4 bytes.
fn framed(packet: &[u8]) -> Vec<u8> {
    let padding = (4 - packet.len() % 4) % 4;
    let mut frame = packet.to_vec();
    if packet.first().is_some_and(|b| b >> 6 == 0b01) {
        frame.resize(packet.len() + padding, 0);
    }
    frame
}

impl Drop for TcpMux {
    fn drop(&mut self) {
        self.shutdown();
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

    /// Queues `buf` for `target` without waiting: a client whose queue is
    /// full is too slow, or not reading, and is disconnected.
    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        let (outbox, id) = {
            let connections = self.hub.lock();
            let connection = connections.get(&target).ok_or_else(closed)?;
            (connection.outbox.clone(), connection.id)
        };
        match outbox.try_send(framed(buf)) {
            Ok(()) => Ok(buf.len()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                crate::log_limited!(info, %target, "TURN TCP client not reading: disconnected");
                self.hub.drop_connection(target, id);
                Err(closed())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(closed()),
        }
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.local)
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// Nothing: webrtc-rs `turn` closes its server socket whenever one
    /// allocation ends, and the listener must outlive every allocation.
    /// [`TcpMux::shutdown`] (or dropping it) stops it.
    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{frame_len, framed, read_frames, FRAME_TIMEOUT, IDLE_TIMEOUT};
    use std::net::SocketAddr;
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    use tokio::sync::mpsc;

    /// Lets the reader run until it waits again (time is paused: nothing
    /// advances it but the sleeps below).
    async fn settle() {
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_silent_after_a_frame_is_closed_at_the_idle_timeout_and_not_before() {
        let (mut client, server) = tokio::io::duplex(4096);
        let (inbox, mut frames) = mpsc::channel(4);
        let peer: SocketAddr = "198.51.100.7:50000".parse().expect("address");
        let reader = tokio::spawn(async move { read_frames(server, peer, &inbox).await });
        // A STUN header with no attributes: one 20-byte frame.
        client.write_all(&[0u8; 20]).await.expect("write");
        let frame = frames.recv().await.expect("the frame");
        assert_eq!(frame.0.len(), 20);

        // Silent for longer than a first frame may take, but not idle yet.
        tokio::time::sleep(FRAME_TIMEOUT * 2).await;
        settle().await;
        assert!(
            !reader.is_finished(),
            "closed after {:?} of silence",
            FRAME_TIMEOUT * 2
        );
        tokio::time::sleep(IDLE_TIMEOUT - FRAME_TIMEOUT * 2 - Duration::from_secs(1)).await;
        settle().await;
        assert!(
            !reader.is_finished(),
            "closed a second before the idle timeout"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        settle().await;
        assert!(
            reader.is_finished(),
            "still open a second after the idle timeout"
        );
    }

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
            framed(&[0x40, 0x00, 0x00, 0x01, 9]),
            [0x40, 0, 0, 1, 9, 0, 0, 0]
        );
        assert_eq!(framed(&[0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]).len(), 8);
        let stun = [0u8; 21];
        assert_eq!(framed(&stun).len(), 21);
    }
}
