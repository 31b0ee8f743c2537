//! The in-memory [`Registry`]: every room in one process's memory, behind
//! one mutex that is never held across an await. The default without Redis.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::protocol::{ErrorCode, ServerMessage, SignalData};
use super::registry::{
    CreateError, JoinRequest, Joined, Outbox, Registry, RegistryLimits, ReplayFull, RoomTicket,
    SeatRef, SocketId, REPLAY_MAX_BYTES, REPLAY_MAX_MESSAGES,
};
use crate::secret::Secret;

/// Rooms in this process.
pub struct MemoryRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    limits: RegistryLimits,
    state: Mutex<State>,
    budget: ReplayBudget,
}

/// How soon after one sweep of every room a caller that expired rooms stand
/// in the way of may ask for another.
const SWEEP_GAP: Duration = Duration::from_millis(250);

#[derive(Default)]
struct State {
    rooms: HashMap<String, Room>,
    rooms_by_creator: HashMap<String, usize>,
    /// When every room was last checked for expiry.
    swept_at: Option<Instant>,
}

struct Room {
    creator: String,
    seats: [Seat; 2],
    /// Gone at this instant while nobody has joined.
    unused_deadline: Instant,
    /// Set by the first join; from then on the room idles out.
    last_activity: Option<Instant>,
}

struct Seat {
    /// Shared with the charges of the signals it sent.
    sub: Arc<str>,
    /// Some once a party has taken the seat.
    resume: Option<String>,
    initiator: bool,
    live: Option<(SocketId, Outbox)>,
    in_seq: u64,
    out_seq: u64,
    buffer: ReplayBuffer,
}

/// The bytes every replay buffer of this process holds: in all against
/// [`RegistryLimits::replay_budget`], and per subject that sent them against
/// [`RegistryLimits::replay_per_subject`], so that a few subjects cannot
/// fill the budget for everyone.
struct ReplayBudget {
    held: Arc<Mutex<Held>>,
    limit: usize,
    per_subject: usize,
}

#[derive(Default)]
struct Held {
    total: usize,
    /// Only subjects that hold something.
    by_sender: HashMap<Arc<str>, usize>,
}

/// Bytes of one stored signal, counted against the budget and its sender's
/// share until dropped: however a signal leaves (acked, dropped by its
/// seat's bound, its seat cleared, its room gone), its bytes go back.
struct Charge {
    held: Arc<Mutex<Held>>,
    sender: Arc<str>,
    bytes: usize,
}

fn lock(held: &Mutex<Held>) -> MutexGuard<'_, Held> {
    // Every update below leaves the counts consistent before it can panic.
    held.lock().unwrap_or_else(|e| e.into_inner())
}

impl ReplayBudget {
    fn new(limit: usize, per_subject: usize) -> Self {
        Self {
            held: Arc::default(),
            limit,
            per_subject,
        }
    }

    /// `bytes` more sent by `sender`, unless that takes the total above the
    /// limit or the sender above its share.
    fn charge(&self, sender: &Arc<str>, bytes: usize) -> Result<Charge, ReplayFull> {
        let mut held = lock(&self.held);
        let fits = |held: usize, limit: usize| held.checked_add(bytes).is_some_and(|h| h <= limit);
        if !fits(held.total, self.limit) {
            return Err(ReplayFull::Budget);
        }
        let mine = held.by_sender.get(sender).copied().unwrap_or(0);
        if !fits(mine, self.per_subject) {
            return Err(ReplayFull::Share);
        }
        held.total += bytes;
        held.by_sender.insert(Arc::clone(sender), mine + bytes);
        Ok(Charge {
            held: Arc::clone(&self.held),
            sender: Arc::clone(sender),
            bytes,
        })
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut held = lock(&self.held);
        held.total -= self.bytes;
        if let Some(mine) = held.by_sender.get_mut(&self.sender) {
            *mine -= self.bytes;
            if *mine == 0 {
                held.by_sender.remove(&self.sender);
            }
        }
    }
}

/// Signals for one seat that its client has not acknowledged.
#[derive(Default)]
struct ReplayBuffer {
    messages: VecDeque<(u64, SignalData, Charge)>,
    bytes: usize,
    /// The highest seq dropped by the bound before it was acknowledged.
    lost_through: u64,
}

impl ReplayBuffer {
    fn push(&mut self, seq: u64, data: SignalData, charge: Charge) {
        self.bytes += charge.bytes;
        self.messages.push_back((seq, data, charge));
        while self.messages.len() > REPLAY_MAX_MESSAGES || self.bytes > REPLAY_MAX_BYTES {
            let Some((seq, _, charge)) = self.messages.pop_front() else {
                break;
            };
            self.bytes -= charge.bytes;
            self.lost_through = seq;
        }
    }

    fn ack(&mut self, through: u64) {
        while self
            .messages
            .front()
            .is_some_and(|(seq, _, _)| *seq <= through)
        {
            if let Some((_, _, charge)) = self.messages.pop_front() {
                self.bytes -= charge.bytes;
            }
        }
    }

    fn replay(&self) -> Vec<ServerMessage> {
        let signal = |(seq, data, _): &(u64, SignalData, Charge)| ServerMessage::Signal {
            seq: *seq,
            data: data.clone(),
        };
        self.messages.iter().map(signal).collect()
    }
}

impl Seat {
    fn new(sub: &str) -> Self {
        Self {
            sub: Arc::from(sub),
            resume: None,
            initiator: false,
            live: None,
            in_seq: 0,
            out_seq: 0,
            buffer: ReplayBuffer::default(),
        }
    }

    fn held_by(&self, socket: SocketId) -> bool {
        self.live.as_ref().is_some_and(|(id, _)| *id == socket)
    }

    fn deliver(&self, message: ServerMessage) {
        if let Some((_, outbox)) = &self.live {
            outbox.deliver(message);
        }
    }
}

impl Room {
    fn seat_index(&self, sub: &str) -> Option<usize> {
        self.seats.iter().position(|s| &*s.sub == sub)
    }

    fn expired(&self, now: Instant, idle: Duration) -> bool {
        match self.last_activity {
            None => now >= self.unused_deadline,
            Some(at) => now.duration_since(at) >= idle,
        }
    }

    /// The seat `seat` holds (its index), or `Replaced` if it holds none.
    fn held(&self, seat: &SeatRef) -> Result<usize, ErrorCode> {
        self.seat_index(&seat.sub)
            .filter(|&i| self.seats[i].held_by(seat.socket))
            .ok_or(ErrorCode::Replaced)
    }
}

impl MemoryRegistry {
    /// No rooms yet. Starts a task (on the current tokio runtime) that
    /// removes expired rooms; it ends when the registry is dropped.
    pub fn new(limits: RegistryLimits) -> Self {
        let inner = Arc::new(Inner {
            limits,
            state: Mutex::new(State::default()),
            budget: ReplayBudget::new(limits.replay_budget, limits.replay_per_subject),
        });
        let period = (limits.idle.min(limits.room_ttl) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(30));
        tokio::spawn(sweep(Arc::downgrade(&inner), period));
        Self { inner }
    }
}

async fn sweep(inner: Weak<Inner>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner
            .lock()
            .remove_expired(Instant::now(), inner.limits.idle);
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below leaves the maps consistent before it can panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `bytes` of the replay budget and of `sender`'s share. Rooms past
    /// their time hold theirs until the sweeper's next round, unless they
    /// are what stands in the way.
    fn charge(
        &self,
        state: &mut State,
        sender: &Arc<str>,
        bytes: usize,
    ) -> Result<Charge, ReplayFull> {
        self.budget.charge(sender, bytes).or_else(|_| {
            state.sweep_unless_recent(Instant::now(), self.limits.idle);
            self.budget.charge(sender, bytes)
        })
    }
}

impl State {
    /// Removes the expired rooms, unless every room was checked within
    /// [`SWEEP_GAP`]: a caller refused for want of room (a creator at their
    /// cap, a full budget) would otherwise scan every room, under the lock
    /// every signal needs, as often as it cares to ask.
    fn sweep_unless_recent(&mut self, now: Instant, idle: Duration) {
        if self
            .swept_at
            .is_none_or(|at| now.duration_since(at) >= SWEEP_GAP)
        {
            self.remove_expired(now, idle);
        }
    }

    fn remove_expired(&mut self, now: Instant, idle: Duration) {
        self.swept_at = Some(now);
        let expired: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, room)| room.expired(now, idle))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }

    fn remove(&mut self, id: &str) {
        let Some(room) = self.rooms.remove(id) else {
            return;
        };
        for seat in &room.seats {
            if let Some((_, outbox)) = &seat.live {
                outbox.close(ErrorCode::RoomExpired);
            }
        }
        if let Some(count) = self.rooms_by_creator.get_mut(&room.creator) {
            *count -= 1;
            if *count == 0 {
                self.rooms_by_creator.remove(&room.creator);
            }
        }
    }

    /// The live room `id`, removing it first if it has expired.
    fn room(&mut self, id: &str, idle: Duration) -> Result<&mut Room, ErrorCode> {
        if self
            .rooms
            .get(id)
            .is_some_and(|r| r.expired(Instant::now(), idle))
        {
            self.remove(id);
        }
        self.rooms.get_mut(id).ok_or(ErrorCode::NotFound)
    }
}

fn room_id() -> String {
    let bytes: [u8; 16] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[async_trait]
impl Registry for MemoryRegistry {
    async fn create_room(&self, creator: &str, peer: &str) -> Result<RoomTicket, CreateError> {
        let limits = self.inner.limits;
        let mut state = self.inner.lock();
        let full = |state: &State| {
            if state.rooms.len() >= limits.rooms_total {
                Some(CreateError::TooManyInTotal)
            } else if state.rooms_by_creator.get(creator).copied().unwrap_or(0)
                >= limits.rooms_per_creator
            {
                Some(CreateError::TooManyForCreator)
            } else {
                None
            }
        };
        // Rooms past their time count until the sweeper's next round, unless
        // they are what stands in the way.
        if full(&state).is_some() {
            state.sweep_unless_recent(Instant::now(), limits.idle);
        }
        if let Some(error) = full(&state) {
            return Err(error);
        }
        let id = room_id();
        state.rooms.insert(
            id.clone(),
            Room {
                creator: creator.to_owned(),
                seats: [Seat::new(creator), Seat::new(peer)],
                unused_deadline: Instant::now() + limits.room_ttl,
                last_activity: None,
            },
        );
        *state
            .rooms_by_creator
            .entry(creator.to_owned())
            .or_default() += 1;
        Ok(RoomTicket {
            room: id,
            expires_at: SystemTime::now() + limits.room_ttl,
        })
    }

    async fn join(&self, request: JoinRequest, outbox: Outbox) -> Result<Joined, ErrorCode> {
        let JoinRequest { seat: who, resume } = request;
        let mut state = self.inner.lock();
        let room = state.room(&who.room, self.inner.limits.idle)?;
        let me = room.seat_index(&who.sub).ok_or(ErrorCode::Forbidden)?;
        let other_taken = room.seats[1 - me].resume.is_some();
        let other_sub = room.seats[1 - me].sub.to_string();
        let seat = &mut room.seats[me];
        let resumed = resume.is_some();
        let replay = match resume {
            Some((key, ack)) => {
                if seat.resume.as_deref() != Some(key.as_str()) {
                    return Err(ErrorCode::ResumeExpired);
                }
                let ack = ack.min(seat.out_seq);
                if let Some((_, old)) = seat.live.take() {
                    old.close(ErrorCode::Replaced);
                }
                if ack < seat.buffer.lost_through {
                    return Err(ErrorCode::ResumeExpired);
                }
                seat.buffer.ack(ack);
                seat.buffer.replay()
            }
            None => {
                if seat.live.is_some() {
                    return Err(ErrorCode::SeatTaken);
                }
                let first = seat.resume.is_none();
                if !first || seat.buffer.lost_through > 0 {
                    seat.in_seq = 0;
                    seat.out_seq = 0;
                    seat.buffer = ReplayBuffer::default();
                }
                seat.resume = Some(Secret::random_hex());
                seat.initiator = other_taken;
                seat.buffer.replay()
            }
        };
        seat.live = Some((who.socket, outbox));
        let hello = ServerMessage::Joined {
            room: who.room.clone(),
            peers: 1 + u8::from(other_taken),
            initiator: seat.initiator,
            resume: seat.resume.clone().unwrap_or_default(),
            resumed,
            acked: seat.in_seq,
            peer: other_taken.then_some(other_sub),
        };
        let peer = who.sub.clone();
        let other = &mut room.seats[1 - me];
        if resumed {
            other.deliver(ServerMessage::PeerResumed { peer });
        } else {
            other.initiator = false;
            other.deliver(ServerMessage::PeerJoined { peer });
        }
        room.last_activity = Some(Instant::now());
        Ok(Joined { hello, replay })
    }

    async fn signal(&self, seat: &SeatRef, seq: u64, data: SignalData) -> Result<(), ErrorCode> {
        let mut state = self.inner.lock();
        let room = state.room(&seat.room, self.inner.limits.idle)?;
        let me = room.held(seat)?;
        room.last_activity = Some(Instant::now());
        let in_seq = room.seats[me].in_seq;
        if seq <= in_seq {
            return Ok(());
        }
        if seq > in_seq + 1 {
            return Err(ErrorCode::BadSeq);
        }
        let sender = Arc::clone(&room.seats[me].sub);
        let charge = self
            .inner
            .charge(&mut state, &sender, data.json_len())
            .map_err(|full| full.refuse(&self.inner.limits))?;
        // Still there: it was active just now.
        let room = state.room(&seat.room, self.inner.limits.idle)?;
        room.seats[me].in_seq = seq;
        let other = &mut room.seats[1 - me];
        other.out_seq += 1;
        let out_seq = other.out_seq;
        other.buffer.push(out_seq, data.clone(), charge);
        other.deliver(ServerMessage::Signal { seq: out_seq, data });
        Ok(())
    }

    async fn ack(&self, seat: &SeatRef, seq: u64) -> Result<(), ErrorCode> {
        let mut state = self.inner.lock();
        let room = state.room(&seat.room, self.inner.limits.idle)?;
        let me = room.held(seat)?;
        room.last_activity = Some(Instant::now());
        room.seats[me].buffer.ack(seq);
        Ok(())
    }

    async fn touch(&self, seat: &SeatRef) -> Result<(), ErrorCode> {
        let mut state = self.inner.lock();
        let room = state.room(&seat.room, self.inner.limits.idle)?;
        room.held(seat)?;
        room.last_activity = Some(Instant::now());
        Ok(())
    }

    async fn leave(&self, seat: &SeatRef) {
        let mut state = self.inner.lock();
        let Ok(room) = state.room(&seat.room, self.inner.limits.idle) else {
            return;
        };
        let Ok(me) = room.held(seat) else { return };
        room.seats[me].live = None;
        room.seats[1 - me].deliver(ServerMessage::PeerLeft {
            peer: seat.sub.clone(),
        });
    }

    async fn room_count(&self) -> usize {
        self.inner.lock().rooms.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(len: usize) -> SignalData {
        serde_json::from_value(json!({ "type": "offer", "sdp": "x".repeat(len) })).unwrap()
    }

    fn total(budget: &ReplayBudget) -> usize {
        lock(&budget.held).total
    }

    #[test]
    fn the_replay_buffer_keeps_256_messages_and_1_mib() {
        let budget = ReplayBudget::new(usize::MAX, usize::MAX);
        let alice: Arc<str> = Arc::from("alice");
        let mut buffer = ReplayBuffer::default();
        let push = |buffer: &mut ReplayBuffer, seq, data: SignalData| {
            let charge = budget.charge(&alice, data.json_len()).unwrap();
            buffer.push(seq, data, charge);
        };
        for seq in 1..=256 {
            push(&mut buffer, seq, data(10));
        }
        assert_eq!((buffer.messages.len(), buffer.lost_through), (256, 0));
        push(&mut buffer, 257, data(10));
        assert_eq!((buffer.messages.len(), buffer.lost_through), (256, 1));
        buffer.ack(257);
        assert_eq!((buffer.messages.len(), buffer.bytes), (0, 0));
        // 17 signals of 64 KB exceed 1 MiB: the oldest goes.
        for seq in 258..=274 {
            push(&mut buffer, seq, data(64_000));
        }
        assert_eq!(buffer.lost_through, 258);
        assert!(buffer.bytes <= REPLAY_MAX_BYTES);
        assert_eq!(buffer.replay().len(), 16);
        assert_eq!(total(&budget), buffer.bytes);
    }

    #[test]
    fn a_sweep_asked_for_soon_after_another_is_skipped() {
        let idle = Duration::from_secs(1);
        let start = Instant::now();
        let mut state = State::default();
        let unused_room = |deadline| Room {
            creator: "alice".to_owned(),
            seats: [Seat::new("alice"), Seat::new("bob")],
            unused_deadline: deadline,
            last_activity: None,
        };
        state.rooms.insert("a".to_owned(), unused_room(start));
        state.sweep_unless_recent(start, idle);
        assert!(state.rooms.is_empty());
        state.rooms.insert("b".to_owned(), unused_room(start));
        state.sweep_unless_recent(start + SWEEP_GAP / 2, idle);
        assert_eq!(state.rooms.len(), 1, "within the gap: no second scan");
        state.sweep_unless_recent(start + SWEEP_GAP, idle);
        assert!(state.rooms.is_empty());
    }

    #[test]
    fn the_budget_counts_what_every_buffer_holds_until_it_goes() {
        let one = data(100).json_len();
        let budget = ReplayBudget::new(3 * one, usize::MAX);
        let alice: Arc<str> = Arc::from("alice");
        let charge = |bytes| budget.charge(&alice, bytes);
        let (mut a, mut b) = (ReplayBuffer::default(), ReplayBuffer::default());
        a.push(1, data(100), charge(one).unwrap());
        a.push(2, data(100), charge(one).unwrap());
        b.push(1, data(100), charge(one).unwrap());
        assert_eq!(charge(one).err(), Some(ReplayFull::Budget));
        assert!(charge(0).is_ok());
        a.ack(1);
        let more = charge(one).expect("an ack gives its bytes back");
        b.push(2, data(100), more);
        assert_eq!(charge(1).err(), Some(ReplayFull::Budget));
        drop(b);
        assert_eq!(total(&budget), one);
    }

    #[test]
    fn a_sender_past_its_share_is_refused_and_others_are_not() {
        let budget = ReplayBudget::new(10, 4);
        let (alice, bob): (Arc<str>, Arc<str>) = (Arc::from("alice"), Arc::from("bob"));
        let held_by_alice = [budget.charge(&alice, 3).unwrap()];
        assert_eq!(budget.charge(&alice, 2).err(), Some(ReplayFull::Share));
        let held_by_bob = budget.charge(&bob, 4).unwrap();
        assert_eq!(budget.charge(&bob, 1).err(), Some(ReplayFull::Share));
        assert!(budget.charge(&alice, 1).is_ok(), "dropped at once");
        drop(held_by_alice);
        assert!(!lock(&budget.held).by_sender.contains_key("alice"));
        let _again = budget.charge(&alice, 4).unwrap();
        drop(held_by_bob);
        assert_eq!(total(&budget), 4);
    }
}
