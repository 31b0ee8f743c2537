-- The Redis registry's every update, one atomic script (see redis.rs).
-- KEYS[1]: the room hash, KEYS[2]: the sorted set of live rooms (score: when
-- each expires, in ms). ARGV[1]: the operation, ARGV[2]: the key prefix.
--
-- A room is one hash, so one TTL covers all of it: `creator`, `s1`/`s2` (the
-- two subjects), and per seat i: `key<i>` (resume key, once taken),
-- `init<i>`, `live<i>`/`rep<i>` (the socket holding it and its replica),
-- `in<i>`, `out<i>` (seq counters), and the replay buffer: `m<i>:<seq>`
-- for seq in `lo<i>`..`out<i>`, `bytes<i>` in total, `lost<i>` = the highest
-- seq dropped by the bound before it was acknowledged.
--
-- The replay budget, shared by every room, counts bytes by the subject that
-- sent them (seat i's buffer holds what the other seat's subject sent):
-- `<room key>:held` (a hash: sender -> bytes the room's buffers hold),
-- `<prefix>replay:subjects` (sender -> bytes in all rooms) and
-- `<prefix>replay:bytes` (the sum). A room that expires takes its buffers
-- with it, but not its `:held`: `purge` settles that once the room has left
-- the set of live rooms.
--
-- Delivery: PUBLISH to the channel of the replica holding the socket,
-- "<socket> msg <ServerMessage JSON>" or "<socket> close <error code>". A
-- script runs alone, so what it stores and what it publishes are in one order.

local room, rooms = KEYS[1], KEYS[2]
local op, prefix = ARGV[1], ARGV[2]
local MAX_MESSAGES, MAX_BYTES = 256, 1048576
-- Most expired rooms one call settles (redis.rs: PURGE_MAX_ROOMS).
local PURGE_MAX_ROOMS = 100
local replay_subjects, replay_bytes = prefix .. 'replay:subjects', prefix .. 'replay:bytes'

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function get(field)
  return redis.call('HGET', room, field)
end

local function num(field)
  return tonumber(get(field) or '0')
end

local function seat_of(sub)
  if get('s1') == sub then return 1 end
  if get('s2') == sub then return 2 end
  return nil
end

-- The seat's socket, unless its replica stopped renewing its heartbeat
-- (killed): a seat held by a dead replica is free.
local function live(i)
  local socket, replica = get('live' .. i), get('rep' .. i)
  if socket and redis.call('EXISTS', prefix .. 'alive:' .. replica) == 1 then
    return socket, replica
  end
  return nil
end

local function send(i, kind, payload)
  local socket, replica = live(i)
  if socket then
    redis.call('PUBLISH', prefix .. 'replica:' .. replica, socket .. ' ' .. kind .. ' ' .. payload)
  end
end

-- Activity: the room lives `idle_ms` more. Renewing the TTLs costs four
-- writes, so it is done at most once per `slack` (a quarter of the idle
-- time, at most a second), and the TTL is `idle_ms + slack`: a room never
-- expires sooner than `idle_ms` after its last activity.
local function active(idle_ms)
  local now, slack = now_ms(), math.min(1000, math.floor(idle_ms / 4))
  if now - num('seen') < slack then return end
  local ttl = idle_ms + slack
  redis.call('HSET', room, 'seen', now)
  redis.call('PEXPIRE', room, ttl)
  redis.call('ZADD', rooms, now + ttl, room)
  -- The creator's room list lives at least as long as its rooms.
  redis.call('PEXPIRE', prefix .. 'creator:' .. get('creator'), ttl, 'GT')
end

-- Adds `delta` to field `field` of hash `key`, removing the field at 0.
local function add(key, field, delta)
  if redis.call('HINCRBY', key, field, delta) <= 0 then
    redis.call('HDEL', key, field)
  end
end

-- Seat i's buffer holds `bytes` from now on: the budget and its sender's
-- share follow.
local function account(i, bytes)
  local delta = bytes - num('bytes' .. i)
  if delta == 0 then return end
  local sender = get('s' .. (3 - i))
  add(room .. ':held', sender, delta)
  add(replay_subjects, sender, delta)
  redis.call('INCRBY', replay_bytes, delta)
end

-- Rooms past their time leave the set of live rooms, and what their buffers
-- held leaves the budget and its senders' shares. One that the clock's
-- rounding still shows is left for the next round. At most PURGE_MAX_ROOMS
-- of them, the longest expired first: a script blocks Redis while it runs,
-- so one call must not take every room that expired together; later calls
-- take the rest.
local function purge(now)
  local expired = redis.call('ZRANGEBYSCORE', rooms, '-inf', now, 'LIMIT', 0, PURGE_MAX_ROOMS)
  for _, id in ipairs(expired) do
    if redis.call('EXISTS', id) == 0 then
      redis.call('ZREM', rooms, id)
      local held = redis.call('HGETALL', id .. ':held')
      for k = 1, #held, 2 do
        add(replay_subjects, held[k], -tonumber(held[k + 1]))
        redis.call('DECRBY', replay_bytes, held[k + 1])
      end
      redis.call('DEL', id .. ':held')
    end
  end
end

-- Why `bytes` more sent by `sender` do not fit (nil when they do):
-- 'budget' or 'share', counting expired rooms as empty.
local function over(bytes, sender, budget, share)
  local function check()
    if tonumber(redis.call('GET', replay_bytes) or '0') + bytes > budget then return 'budget' end
    if tonumber(redis.call('HGET', replay_subjects, sender) or '0') + bytes > share then return 'share' end
    return nil
  end
  if not check() then return nil end
  purge(now_ms())
  return check()
end

local function drop_through(i, through)
  local lo, bytes = num('lo' .. i), num('bytes' .. i)
  local last = math.min(through, num('out' .. i))
  while lo <= last do
    local field = 'm' .. i .. ':' .. lo
    bytes = bytes - redis.call('HSTRLEN', room, field)
    redis.call('HDEL', room, field)
    lo = lo + 1
  end
  account(i, bytes)
  redis.call('HSET', room, 'lo' .. i, lo, 'bytes' .. i, bytes)
end

local function push(i, seq, data)
  redis.call('HSET', room, 'm' .. i .. ':' .. seq, data)
  local lo, bytes, lost = num('lo' .. i), num('bytes' .. i) + #data, num('lost' .. i)
  while seq - lo + 1 > MAX_MESSAGES or bytes > MAX_BYTES do
    local field = 'm' .. i .. ':' .. lo
    bytes = bytes - redis.call('HSTRLEN', room, field)
    redis.call('HDEL', room, field)
    lost = lo
    lo = lo + 1
  end
  account(i, bytes)
  redis.call('HSET', room, 'lo' .. i, lo, 'bytes' .. i, bytes, 'lost' .. i, lost)
end

local function clear(i)
  drop_through(i, num('out' .. i))
  redis.call('HSET', room, 'in' .. i, 0, 'out' .. i, 0, 'lo' .. i, 1, 'bytes' .. i, 0, 'lost' .. i, 0)
end

local function replay(i)
  local messages = {}
  for seq = num('lo' .. i), num('out' .. i) do
    messages[#messages + 1] = { seq, get('m' .. i .. ':' .. seq) }
  end
  return messages
end

-- The seat `sub` holds with `socket`, or an error reply.
local function held(sub, socket)
  if redis.call('EXISTS', room) == 0 then return nil, { 'not-found' } end
  local me = seat_of(sub)
  if not me or get('live' .. me) ~= socket then return nil, { 'replaced' } end
  return me
end

if op == 'create' then
  local creator, peer = ARGV[3], ARGV[4]
  local ttl_ms, per_creator, total = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
  local now, mine = now_ms(), prefix .. 'creator:' .. creator
  purge(now)
  if redis.call('ZCARD', rooms) >= total then return { 'too-many-in-total' } end
  for _, id in ipairs(redis.call('SMEMBERS', mine)) do
    if redis.call('EXISTS', id) == 0 then redis.call('SREM', mine, id) end
  end
  if redis.call('SCARD', mine) >= per_creator then return { 'too-many-for-creator' } end
  if redis.call('EXISTS', room) == 1 then return { 'collision' } end
  redis.call('HSET', room, 'creator', creator, 's1', creator, 's2', peer,
    'in1', 0, 'out1', 0, 'lo1', 1, 'bytes1', 0, 'lost1', 0,
    'in2', 0, 'out2', 0, 'lo2', 1, 'bytes2', 0, 'lost2', 0)
  redis.call('PEXPIRE', room, ttl_ms)
  redis.call('ZADD', rooms, now + ttl_ms, room)
  redis.call('SADD', mine, room)
  redis.call('PEXPIRE', mine, ttl_ms, 'GT')
  if redis.call('PTTL', mine) < 0 then redis.call('PEXPIRE', mine, ttl_ms) end
  return { 'ok' }
end

if op == 'join' then
  local sub, socket, replica = ARGV[3], ARGV[4], ARGV[5]
  local key, ack, new_key, idle_ms = ARGV[6], tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
  local peer_joined, peer_resumed = ARGV[10], ARGV[11]
  if redis.call('EXISTS', room) == 0 then return { 'not-found' } end
  local me = seat_of(sub)
  if not me then return { 'forbidden' } end
  local other = 3 - me
  local other_taken = redis.call('HEXISTS', room, 'key' .. other) == 1
  local resumed = key ~= ''
  if resumed then
    if get('key' .. me) ~= key then return { 'resume-expired' } end
    ack = math.min(ack, num('out' .. me))
    send(me, 'close', 'replaced')
    redis.call('HDEL', room, 'live' .. me, 'rep' .. me)
    if ack < num('lost' .. me) then return { 'resume-expired' } end
    drop_through(me, ack)
  else
    if live(me) then return { 'seat-taken' } end
    local first = redis.call('HEXISTS', room, 'key' .. me) == 0
    if not first or num('lost' .. me) > 0 then clear(me) end
    redis.call('HSET', room, 'key' .. me, new_key, 'init' .. me, other_taken and 1 or 0)
  end
  redis.call('HSET', room, 'live' .. me, socket, 'rep' .. me, replica)
  if resumed then
    send(other, 'msg', peer_resumed)
  else
    redis.call('HSET', room, 'init' .. other, 0)
    send(other, 'msg', peer_joined)
  end
  active(idle_ms)
  return { 'ok', other_taken and 2 or 1, num('init' .. me), get('key' .. me), num('in' .. me),
    other_taken and get('s' .. other) or '', replay(me) }
end

if op == 'signal' then
  local sub, socket, seq, data, idle_ms = ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
  local budget, share = tonumber(ARGV[8]), tonumber(ARGV[9])
  local me, err = held(sub, socket)
  if not me then return err end
  active(idle_ms)
  local in_seq = num('in' .. me)
  if seq <= in_seq then return { 'ok' } end
  if seq > in_seq + 1 then return { 'bad-seq' } end
  local full = over(#data, sub, budget, share)
  if full then return { 'unavailable', full } end
  redis.call('HSET', room, 'in' .. me, seq)
  local other = 3 - me
  local out = num('out' .. other) + 1
  redis.call('HSET', room, 'out' .. other, out)
  push(other, out, data)
  send(other, 'msg', '{"type":"signal","seq":' .. string.format('%d', out) .. ',"data":' .. data .. '}')
  return { 'ok' }
end

if op == 'ack' then
  local sub, socket, seq, idle_ms = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
  local me, err = held(sub, socket)
  if not me then return err end
  active(idle_ms)
  drop_through(me, seq)
  return { 'ok' }
end

if op == 'touch' then
  local sub, socket, idle_ms = ARGV[3], ARGV[4], tonumber(ARGV[5])
  local me, err = held(sub, socket)
  if not me then return err end
  active(idle_ms)
  return { 'ok' }
end

if op == 'leave' then
  local sub, socket, peer_left = ARGV[3], ARGV[4], ARGV[5]
  local me, err = held(sub, socket)
  if not me then return err end
  redis.call('HDEL', room, 'live' .. me, 'rep' .. me)
  send(3 - me, 'msg', peer_left)
  return { 'ok' }
end

if op == 'count' then
  purge(now_ms())
  return { 'ok', redis.call('ZCARD', rooms) }
end

return redis.error_reply('unknown operation ' .. tostring(op))
