//! The Redis [`Registry`] (`--redis-url`): rooms, seats, resume keys, seq
//! counters and replay buffers live in Redis, so any replica can seat either
//! party of any room and a replica that dies loses nothing a party has not
//! acknowledged.
//!
//! - Every update is one call of the Lua script in `redis.lua` (atomic; one
//!   hash per room, so one TTL covers the room and its buffers).
//! - Delivery: each replica subscribes to its own channel; the script
//!   publishes what a seat must receive to the channel of the replica that
//!   holds its socket, in the order it stored it. This replica keeps only
//!   its own sockets' outboxes.
//! - No queue between Redis and those outboxes: the subscription is a RESP3
//!   connection whose push handler, called by the task reading its socket,
//!   hands each message straight to its socket's bounded outbox
//!   ([`Inner::dispatch`] never waits). A replica that falls behind leaves
//!   the backlog in Redis, which drops a pub/sub client past its
//!   `client-output-buffer-limit pubsub`; the answer to our PING waits
//!   behind that backlog, so more than `REDIS_TIMEOUT` of it fails the
//!   liveness check. Either is a lost subscription.
//! - A replica renews a heartbeat key; a seat held by a replica whose
//!   heartbeat lapsed (it was killed) counts as free.
//! - Losing the subscription could lose a delivery, so every local socket
//!   is closed with `unavailable` (its client resumes and gets the replay)
//!   and the subscription is retried with bounded backoff. Commands go
//!   through a connection manager that reconnects by itself; while Redis is
//!   down they fail with `unavailable`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{
    AsyncConnectionConfig, Client, Msg, ProtocolVersion, PushInfo, PushKind, Script, Value,
};
use tokio::sync::watch;

use super::protocol::{ErrorCode, ServerMessage, SignalData};
use super::registry::{
    CreateError, JoinRequest, Joined, Outbox, Registry, RegistryLimits, ReplayFull, RoomTicket,
    SeatRef, SocketId,
};
use crate::secret::Secret;

/// Every key and channel starts with this.
const PREFIX: &str = "ice-peer:signal:";
/// One connection attempt, and one command, may take this long.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// Backoff between attempts to get the subscription back.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How often this replica renews its heartbeat and pings its subscription.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A replica that has not renewed its heartbeat for this long is dead.
const HEARTBEAT_TTL: Duration = Duration::from_secs(6);
/// Most expired rooms one script call removes from the set of live rooms
/// (with their share of the replay budget): a script blocks Redis while it
/// runs, however many rooms expired together. `PURGE_MAX_ROOMS` in
/// `redis.lua`.
pub const PURGE_MAX_ROOMS: usize = 100;

/// Why the Redis registry could not start.
#[derive(Debug)]
pub struct RedisStartError(pub String);

impl std::fmt::Display for RedisStartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Rooms in Redis, shared by every replica pointed at the same server.
pub struct RedisRegistry {
    inner: Arc<Inner>,
    /// Dropping it stops this replica's background tasks.
    _stop: watch::Sender<()>,
}

struct Inner {
    limits: RegistryLimits,
    commands: ConnectionManager,
    script: Script,
    /// This replica's id: its channel and heartbeat key.
    replica: String,
    /// Sockets seated through this replica, and their rooms.
    sockets: Mutex<HashMap<SocketId, (String, Outbox)>>,
    /// True while the subscription is up: a socket seated meanwhile would
    /// not hear the other party.
    subscribed: AtomicBool,
}

impl RedisRegistry {
    /// Connects to `url` (`redis://[user:password@]host[:port][/db]`),
    /// subscribes to this replica's channel and starts its heartbeat.
    /// Errors never contain the URL (it may hold a password).
    pub async fn connect(url: &Secret, limits: RegistryLimits) -> Result<Self, RedisStartError> {
        let client = Client::open(url.expose()).map_err(|_| {
            RedisStartError(
                "invalid --redis-url: expected redis://[user:password@]host[:port][/db]".into(),
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(BACKOFF_MAX);
        // The subscription speaks RESP3, whose pushes reach a handler of
        // ours instead of a queue (see `subscribe_loop`); commands keep the
        // URL's protocol.
        let info = client.get_connection_info().clone();
        let resp3 = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let subscriber = Client::open(info.set_redis_settings(resp3))
            .map_err(|_| RedisStartError("invalid --redis-url".into()))?;
        let commands = tokio::time::timeout(
            2 * REDIS_TIMEOUT,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| RedisStartError("cannot reach Redis: timed out".into()))?
        .map_err(|e| RedisStartError(format!("cannot reach Redis: {e}")))?;
        let inner = Arc::new(Inner {
            limits,
            commands,
            script: Script::new(include_str!("redis.lua")),
            replica: Secret::random_hex(),
            sockets: Mutex::new(HashMap::new()),
            subscribed: AtomicBool::new(false),
        });
        inner
            .heartbeat()
            .await
            .map_err(|_| RedisStartError("cannot write to Redis".into()))?;
        let (stop, stopped) = watch::channel(());
        let (up_tx, mut up) = watch::channel(false);
        tokio::spawn(subscribe_loop(
            Arc::downgrade(&inner),
            subscriber,
            stopped.clone(),
            up_tx,
        ));
        tokio::spawn(maintain(Arc::downgrade(&inner), stopped));
        tokio::time::timeout(2 * REDIS_TIMEOUT, up.wait_for(|up| *up))
            .await
            .map_err(|_| RedisStartError("cannot subscribe in Redis: timed out".into()))?
            .map_err(|_| RedisStartError("cannot subscribe in Redis".into()))?;
        Ok(Self { inner, _stop: stop })
    }
}

fn room_key(room: &str) -> String {
    format!("{PREFIX}room:{room}")
}

fn rooms_key() -> String {
    format!("{PREFIX}rooms")
}

fn channel(replica: &str) -> String {
    format!("{PREFIX}replica:{replica}")
}

fn socket_token(socket: SocketId) -> String {
    format!("{:032x}", socket.0)
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

impl Inner {
    fn sockets(&self) -> MutexGuard<'_, HashMap<SocketId, (String, Outbox)>> {
        // Inserts and removes only: nothing half-done to see after a panic.
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one operation of the script. Its reply is an array whose first
    /// element is "ok" or an error code: `Ok((status, reply))`; a Redis
    /// failure is `Unavailable`.
    async fn call(
        &self,
        room: &str,
        op: &str,
        args: &[&str],
    ) -> Result<(Vec<u8>, Vec<Value>), ErrorCode> {
        let mut invocation = self.script.key(room_key(room));
        invocation.key(rooms_key()).arg(op).arg(PREFIX);
        for arg in args {
            invocation.arg(*arg);
        }
        let mut commands = self.commands.clone();
        let reply: Vec<Value> = invocation.invoke_async(&mut commands).await.map_err(|e| {
            tracing::warn!(error = %e, op, "signaling: Redis failed");
            ErrorCode::Unavailable
        })?;
        match reply.first() {
            Some(Value::BulkString(status)) => Ok((status.clone(), reply)),
            _ => Err(ErrorCode::Unavailable),
        }
    }

    /// [`Inner::call`] with any status but "ok" as its error code.
    async fn run(&self, room: &str, op: &str, args: &[&str]) -> Result<Vec<Value>, ErrorCode> {
        match self.call(room, op, args).await? {
            (status, reply) if status == b"ok" => Ok(reply),
            (status, _) => Err(error_code(&status)),
        }
    }

    async fn heartbeat(&self) -> redis::RedisResult<()> {
        let mut commands = self.commands.clone();
        redis::cmd("SET")
            .arg(format!("{PREFIX}alive:{}", self.replica))
            .arg("1")
            .arg("PX")
            .arg(millis(HEARTBEAT_TTL))
            .query_async(&mut commands)
            .await
    }

    /// One published message: "<socket> msg <json>" or "<socket> close <code>".
    fn dispatch(&self, payload: &[u8]) {
        let mut parts = payload.splitn(3, |b| *b == b' ');
        let (Some(socket), Some(kind), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let Some(socket) = std::str::from_utf8(socket)
            .ok()
            .and_then(|s| u128::from_str_radix(s, 16).ok())
        else {
            return;
        };
        let Some(outbox) = self
            .sockets()
            .get(&SocketId(socket))
            .map(|(_, o)| o.clone())
        else {
            return;
        };
        match kind {
            b"msg" => match ServerMessage::from_text(body) {
                Ok(message) => {
                    outbox.deliver(message);
                }
                Err(e) => tracing::warn!(error = %e, "signaling: unreadable message from Redis"),
            },
            b"close" => outbox.close(error_code(body)),
            _ => {}
        }
    }

    /// Closes every local socket (they may have missed a delivery).
    fn close_all(&self, code: ErrorCode) {
        for (_, outbox) in self.sockets().values() {
            outbox.close(code);
        }
    }

    /// Closes local sockets whose room expired, and forgets closed ones.
    async fn sweep(&self) {
        let rooms: Vec<String> = {
            let mut sockets = self.sockets();
            sockets.retain(|_, (_, outbox)| !outbox.is_closed());
            let distinct: HashSet<&String> = sockets.values().map(|(room, _)| room).collect();
            distinct.into_iter().cloned().collect()
        };
        if rooms.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for room in &rooms {
            pipe.exists(room_key(room));
        }
        let mut commands = self.commands.clone();
        let Ok(exists) = pipe.query_async::<Vec<bool>>(&mut commands).await else {
            return;
        };
        let gone: HashSet<&String> = rooms
            .iter()
            .zip(exists)
            .filter(|(_, exists)| !exists)
            .map(|(room, _)| room)
            .collect();
        for (room, outbox) in self.sockets().values() {
            if gone.contains(room) {
                outbox.close(ErrorCode::RoomExpired);
            }
        }
    }
}

fn error_code(status: &[u8]) -> ErrorCode {
    let quoted = format!("\"{}\"", String::from_utf8_lossy(status));
    serde_json::from_str(&quoted).unwrap_or(ErrorCode::Unavailable)
}

/// Keeps this replica's subscription up; when it drops, closes every local
/// socket and tries again with bounded backoff. `client` speaks RESP3.
async fn subscribe_loop(
    inner: Weak<Inner>,
    client: Client,
    mut stopped: watch::Receiver<()>,
    up: watch::Sender<bool>,
) {
    let Some(name) = inner.upgrade().map(|i| channel(&i.replica)) else {
        return;
    };
    let mut backoff = BACKOFF_MIN;
    loop {
        let (lost_tx, lost) = watch::channel(false);
        let attempt = async {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(REDIS_TIMEOUT))
                .set_response_timeout(Some(REDIS_TIMEOUT))
                .set_push_sender(push_handler(inner.clone(), lost_tx));
            let mut connection = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            connection.subscribe(&name).await?;
            redis::RedisResult::Ok(connection)
        };
        match tokio::time::timeout(REDIS_TIMEOUT, attempt).await {
            Ok(Ok(connection)) => {
                backoff = BACKOFF_MIN;
                let Some(strong) = inner.upgrade() else {
                    return;
                };
                // A restarted Redis has no heartbeat of ours: without it,
                // other replicas would take our seats for dead ones.
                let beat = tokio::time::timeout(REDIS_TIMEOUT, strong.heartbeat()).await;
                if !matches!(beat, Ok(Ok(()))) {
                    tracing::warn!("signaling: Redis heartbeat failed after subscribing");
                }
                strong.subscribed.store(true, Ordering::SeqCst);
                drop(strong);
                let _ = up.send(true);
                tracing::info!("signaling: subscribed in Redis");
                let ended = listen(connection, lost, &mut stopped).await;
                let Some(strong) = inner.upgrade() else {
                    return;
                };
                strong.subscribed.store(false, Ordering::SeqCst);
                strong.close_all(ErrorCode::Unavailable);
                let Ended::Lost(reason) = ended else {
                    return;
                };
                tracing::warn!(
                    reason,
                    "signaling: lost the Redis subscription; reconnecting"
                );
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "signaling: cannot subscribe"),
            Err(_) => tracing::warn!("signaling: cannot subscribe: timed out"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stopped.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// What the subscription's connection calls with each push, from the task
/// that reads its socket, one at a time and in order: a published message
/// goes to [`Inner::dispatch`] (which never waits), so the connection reads
/// no faster than messages reach their outboxes; a lost connection sets
/// `lost`. Nothing is queued in between.
fn push_handler(
    inner: Weak<Inner>,
    lost: watch::Sender<bool>,
) -> impl Fn(PushInfo) -> Result<(), std::convert::Infallible> + Send + Sync + 'static {
    move |push: PushInfo| {
        match push.kind {
            PushKind::Message => {
                if let (Some(inner), Some(message)) = (inner.upgrade(), Msg::from_push_info(push)) {
                    inner.dispatch(message.get_payload_bytes());
                }
            }
            PushKind::Disconnection => {
                lost.send_replace(true);
            }
            _ => {}
        }
        Ok(())
    }
}

/// Why [`listen`] returned.
enum Ended {
    /// The registry was dropped.
    Stopped,
    /// The subscription failed, for this reason (logged).
    Lost(&'static str),
}

/// Watches the subscription until it fails or the registry is dropped; its
/// messages are dispatched by [`push_handler`].
async fn listen(
    mut connection: MultiplexedConnection,
    mut lost: watch::Receiver<bool>,
    stopped: &mut watch::Receiver<()>,
) -> Ended {
    let mut ping = tokio::time::interval(HEARTBEAT);
    loop {
        tokio::select! {
            // Set (it is only ever set), or its sender gone with the
            // connection's task: lost either way.
            _ = lost.changed() => return Ended::Lost("connection closed"),
            _ = ping.tick() => {
                // A connection that died without a FIN shows up here.
                let command = redis::cmd("PING");
                let pong = command.query_async::<Value>(&mut connection);
                let pong = tokio::time::timeout(REDIS_TIMEOUT, pong).await;
                if !matches!(pong, Ok(Ok(_))) {
                    return Ended::Lost("no answer to PING");
                }
            }
            _ = stopped.changed() => return Ended::Stopped,
        }
    }
}

/// Renews the heartbeat and sweeps expired rooms' sockets: as often as the
/// in-memory registry sweeps, at least once per heartbeat.
async fn maintain(inner: Weak<Inner>, mut stopped: watch::Receiver<()>) {
    let Some(limits) = inner.upgrade().map(|i| i.limits) else {
        return;
    };
    let period = (limits.idle.min(limits.room_ttl) / 4).clamp(Duration::from_millis(50), HEARTBEAT);
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = inner.heartbeat().await {
            tracing::warn!(error = %e, "signaling: Redis heartbeat failed");
        }
        inner.sweep().await;
    }
}

fn room_id() -> String {
    let bytes: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn int(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    }
}

/// The replay part of a join reply: `[[seq, data], ...]`.
fn replay(value: Option<&Value>) -> Result<Vec<ServerMessage>, ErrorCode> {
    let Some(Value::Array(entries)) = value else {
        return Ok(Vec::new());
    };
    entries
        .iter()
        .map(|entry| {
            let Value::Array(pair) = entry else {
                return Err(ErrorCode::Unavailable);
            };
            let data =
                SignalData::from_stored(text(pair.get(1))).map_err(|_| ErrorCode::Unavailable)?;
            Ok(ServerMessage::Signal {
                seq: int(pair.first()),
                data,
            })
        })
        .collect()
}

#[async_trait]
impl Registry for RedisRegistry {
    async fn create_room(&self, creator: &str, peer: &str) -> Result<RoomTicket, CreateError> {
        let limits = self.inner.limits;
        let (ttl, per_creator, total) = (
            millis(limits.room_ttl).to_string(),
            limits.rooms_per_creator.to_string(),
            limits.rooms_total.to_string(),
        );
        // 128 random bits do not collide; the script checks all the same.
        for _ in 0..3 {
            let room = room_id();
            let args = [creator, peer, &ttl, &per_creator, &total];
            let status = self.inner.call(&room, "create", &args).await;
            match status.map(|(status, _)| status).as_deref() {
                Ok(b"ok") => {
                    return Ok(RoomTicket {
                        room,
                        expires_at: SystemTime::now() + limits.room_ttl,
                    })
                }
                Ok(b"too-many-for-creator") => return Err(CreateError::TooManyForCreator),
                Ok(b"too-many-in-total") => return Err(CreateError::TooManyInTotal),
                Ok(b"collision") => continue,
                _ => return Err(CreateError::Unavailable),
            }
        }
        Err(CreateError::Unavailable)
    }

    async fn join(&self, request: JoinRequest, outbox: Outbox) -> Result<Joined, ErrorCode> {
        let JoinRequest { seat, resume } = request;
        let inner = &self.inner;
        // Registered before the script runs: a delivery published right
        // after it must find the outbox.
        inner
            .sockets()
            .insert(seat.socket, (seat.room.clone(), outbox));
        if !inner.subscribed.load(Ordering::SeqCst) {
            inner.sockets().remove(&seat.socket);
            return Err(ErrorCode::Unavailable);
        }
        let (key, ack) = resume.unwrap_or_default();
        let (token, ack, new_key, idle) = (
            socket_token(seat.socket),
            ack.to_string(),
            Secret::random_hex(),
            millis(inner.limits.idle).to_string(),
        );
        let joined = ServerMessage::PeerJoined {
            peer: seat.sub.clone(),
        }
        .to_text();
        let resumed = ServerMessage::PeerResumed {
            peer: seat.sub.clone(),
        }
        .to_text();
        let args = [
            seat.sub.as_str(),
            &token,
            &inner.replica,
            &key,
            &ack,
            &new_key,
            &idle,
            &joined,
            &resumed,
        ];
        let reply = match inner.run(&seat.room, "join", &args).await {
            Ok(reply) => reply,
            Err(code) => {
                inner.sockets().remove(&seat.socket);
                return Err(code);
            }
        };
        let peer = text(reply.get(5));
        let hello = ServerMessage::Joined {
            room: seat.room.clone(),
            peers: if int(reply.get(1)) == 2 { 2 } else { 1 },
            initiator: int(reply.get(2)) == 1,
            resume: text(reply.get(3)),
            resumed: !key.is_empty(),
            acked: int(reply.get(4)),
            peer: (!peer.is_empty()).then_some(peer),
        };
        let replay = replay(reply.get(6)).inspect_err(|_| {
            inner.sockets().remove(&seat.socket);
        })?;
        Ok(Joined { hello, replay })
    }

    async fn signal(&self, seat: &SeatRef, seq: u64, data: SignalData) -> Result<(), ErrorCode> {
        let limits = self.inner.limits;
        let (token, seq, idle, budget, share) = (
            socket_token(seat.socket),
            seq.to_string(),
            millis(limits.idle).to_string(),
            limits.replay_budget.to_string(),
            limits.replay_per_subject.to_string(),
        );
        let args = [
            seat.sub.as_str(),
            &token,
            &seq,
            data.as_json(),
            &idle,
            &budget,
            &share,
        ];
        match self.inner.call(&seat.room, "signal", &args).await? {
            (status, _) if status == b"ok" => Ok(()),
            (status, reply) if status == b"unavailable" => {
                let full = if text(reply.get(1)) == "share" {
                    ReplayFull::Share
                } else {
                    ReplayFull::Budget
                };
                Err(full.refuse(&limits))
            }
            (status, _) => Err(error_code(&status)),
        }
    }

    async fn ack(&self, seat: &SeatRef, seq: u64) -> Result<(), ErrorCode> {
        let (token, seq, idle) = (
            socket_token(seat.socket),
            seq.to_string(),
            millis(self.inner.limits.idle).to_string(),
        );
        let args = [seat.sub.as_str(), &token, &seq, &idle];
        self.inner.run(&seat.room, "ack", &args).await.map(drop)
    }

    async fn touch(&self, seat: &SeatRef) -> Result<(), ErrorCode> {
        let (token, idle) = (
            socket_token(seat.socket),
            millis(self.inner.limits.idle).to_string(),
        );
        let args = [seat.sub.as_str(), &token, &idle];
        self.inner.run(&seat.room, "touch", &args).await.map(drop)
    }

    async fn leave(&self, seat: &SeatRef) {
        self.inner.sockets().remove(&seat.socket);
        let left = ServerMessage::PeerLeft {
            peer: seat.sub.clone(),
        }
        .to_text();
        let args = [seat.sub.as_str(), &socket_token(seat.socket), &left];
        // A seat that was replaced or expired meanwhile is no longer ours: fine.
        let _ = self.inner.run(&seat.room, "leave", &args).await;
    }

    async fn room_count(&self) -> usize {
        match self.inner.run("", "count", &[]).await {
            Ok(reply) => int(reply.get(1)) as usize,
            Err(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_statuses_are_the_protocol_error_codes() {
        for (status, code) in [
            (&b"not-found"[..], ErrorCode::NotFound),
            (b"forbidden", ErrorCode::Forbidden),
            (b"seat-taken", ErrorCode::SeatTaken),
            (b"resume-expired", ErrorCode::ResumeExpired),
            (b"replaced", ErrorCode::Replaced),
            (b"bad-seq", ErrorCode::BadSeq),
            (b"unavailable", ErrorCode::Unavailable),
            (b"room-expired", ErrorCode::RoomExpired),
        ] {
            assert_eq!(error_code(status), code);
        }
        // Anything else means the store misbehaved.
        assert_eq!(error_code(b"\"quoted\""), ErrorCode::Unavailable);
        assert_eq!(error_code(b""), ErrorCode::Unavailable);
    }

    #[test]
    fn the_script_purges_as_many_rooms_per_call_as_documented() {
        let declared = format!("local PURGE_MAX_ROOMS = {PURGE_MAX_ROOMS}\n");
        assert!(include_str!("redis.lua").contains(&declared));
    }

    #[test]
    fn socket_tokens_are_fixed_width_hex_that_dispatch_reads_back() {
        let socket = SocketId(0xabc);
        let token = socket_token(socket);
        assert_eq!(token.len(), 32);
        assert_eq!(u128::from_str_radix(&token, 16).ok(), Some(0xabc));
    }
}
