"""The Lua that Redis runs for a shared frontier: every change to the crawl is one of these.

Two scripts. ``OPEN`` creates a crawl's meta record or returns the identity already there.
``FRONTIER`` applies a list of operations in order, atomically, and answers the last one; a
worker sends the operations it deferred (``finish``, ``settle``) in front of the one it needs
an answer to, so a page costs few round trips.

Arguments of ``FRONTIER``: KEYS[1] is the crawl's meta key (``spindle:{crawl}:meta``); every
other key is derived from it inside the script and shares its hash tag, so on Redis Cluster a
script runs on the one node that owns the crawl's slot. ARGV: the clock (empty: Redis's own
``TIME``; a number: the caller's, for tests), the worker, the request id (empty for operations
that may be repeated as they are), the worker's lease timeout, then each operation as its name,
its argument count and its arguments.

A request id makes a call safe to send again after a lost answer: the worker's hash keeps the
last id and its answer, and the same id gets the same answer without running anything twice.

Times inside Redis are seconds since the crawl's epoch (``TIME`` at creation), so 17
significant digits keep microseconds; callers send durations, never their own clock's times.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FRONTIER", "OPEN"]

OPEN: Final = """
local id = redis.call('HGET', KEYS[1], 'identity')
if id then return id end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'identity', ARGV[1], 'epoch', t[1], 'interval', ARGV[2],
  'concurrency', ARGV[3], 'queued', 0, 'retries', 0, 'slots', 0, 'leased', 0, 'charged', 0)
return ''
"""

FRONTIER: Final = r"""
local META = KEYS[1]
local P = string.sub(META, 1, -5)
local W = ARGV[2]
local RID = ARGV[3]
local LEASE = tonumber(ARGV[4])
local WK = P .. 'w:' .. W
local CLAIMS = P .. 'c:' .. W
local READY, WORKERS, SEEN, DONE = P .. 'ready', P .. 'workers', P .. 'seen', P .. 'done'
local TRAPS, HOSTS = P .. 'traps', P .. 'hosts'
local BIG = 4294967296
local MID = 2147483648

if RID ~= '' then
  local last = redis.call('HMGET', WK, 'rid', 'reply')
  if last[1] == RID then return last[2] end
end

local cfg = redis.call('HMGET', META, 'epoch', 'interval', 'concurrency')
if not cfg[1] then return redis.error_reply('NOCRAWL the crawl is not in this Redis') end
local INTERVAL = tonumber(cfg[2])
local CONC = tonumber(cfg[3])
local NOW
if ARGV[1] ~= '' then
  NOW = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  NOW = (tonumber(t[1]) - tonumber(cfg[1])) + tonumber(t[2]) / 1000000
end

local function fmt(x) return string.format('%.17g', x) end
local function hkey(H) return P .. 'h:' .. H end

local function split(v)
  local a, b = string.find(v, '\n', 1, true)
  local c, d = string.find(v, '\n', b + 1, true)
  return string.sub(v, 1, a - 1), string.sub(v, b + 1, c - 1), string.sub(v, d + 1)
end

local function touch(H)
  local hk = hkey(H)
  if redis.call('HSETNX', hk, 'interval', fmt(INTERVAL)) == 1 then
    redis.call('SADD', HOSTS, H)
  end
  return hk
end

-- When may host H start a fetch? nil: not until something changes (no URL, blocked without
-- end, or its connection cap reached). The rules of MemoryFrontier and HostPace, restated.
local function ready_at(H, ro)
  local nq = redis.call('ZCARD', P .. 'q:' .. H)
  local nr = redis.call('ZCARD', P .. 'r:' .. H)
  if nq + nr == 0 or (ro and nr == 0) then return nil end
  local f = redis.call('HMGET', hkey(H), 'next', 'pause', 'block', 'inflight')
  if f[3] == 'inf' then return nil end
  if (tonumber(f[4]) or 0) >= CONC then return nil end
  local t = NOW
  for i = 1, 3 do
    local x = tonumber(f[i])
    if x and x > t then t = x end
  end
  if nq == 0 or ro then
    local first = redis.call('ZRANGE', P .. 'r:' .. H, 0, 0, 'WITHSCORES')
    local x = tonumber(first[2])
    if x > t then t = x end
  end
  return t
end

local function schedule(H)
  local t = ready_at(H, false)
  if t then redis.call('ZADD', READY, fmt(t), H) else redis.call('ZREM', READY, H) end
end

local function enqueue(H, payload, depth, front)
  local hk = touch(H)
  local seq
  if front then
    seq = MID - redis.call('HINCRBY', hk, 'front', 1)
  else
    seq = MID + redis.call('HINCRBY', hk, 'back', 1)
  end
  if redis.call('ZADD', P .. 'q:' .. H, fmt(depth * BIG + seq), payload) == 1 then
    redis.call('HINCRBY', META, 'queued', 1)
  end
end

local function enqueue_retry(H, payload, when)
  touch(H)
  if redis.call('ZADD', P .. 'r:' .. H, fmt(when), payload) == 1 then
    redis.call('HINCRBY', META, 'queued', 1)
    redis.call('HINCRBY', META, 'retries', 1)
  end
end

local function lease_entry(K, H, payload, where, depth)
  if redis.call('HSET', K, 'e:' .. payload, H .. '\n' .. where .. '\n' .. depth) == 1 then
    redis.call('HINCRBY', META, 'leased', 1)
  end
end

local function unlease_entry(payload)
  if payload ~= '' and redis.call('HDEL', WK, 'e:' .. payload) == 1 then
    redis.call('HINCRBY', META, 'leased', -1)
  end
end

-- Take the next URL of host H for worker W: a due retry first, else the shallowest queued.
local function pop(H, ro)
  local rk = P .. 'r:' .. H
  local due = redis.call('ZRANGEBYSCORE', rk, '-inf', fmt(NOW), 'LIMIT', 0, 1)
  if #due > 0 then
    redis.call('ZREM', rk, due[1])
    redis.call('HINCRBY', META, 'queued', -1)
    redis.call('HINCRBY', META, 'retries', -1)
    lease_entry(WK, H, due[1], 'r', 0)
    return due[1]
  end
  if ro then return false end
  local qk = P .. 'q:' .. H
  local first = redis.call('ZRANGE', qk, 0, 0, 'WITHSCORES')
  if #first == 0 then return false end
  redis.call('ZREM', qk, first[1])
  redis.call('HINCRBY', META, 'queued', -1)
  lease_entry(WK, H, first[1], 'q', math.floor(tonumber(first[2]) / BIG))
  return first[1]
end

local function free_slot(K, field)
  local v = redis.call('HGET', K, field)
  if not v then return nil end
  redis.call('HDEL', K, field)
  local H, prev, mine = split(v)
  redis.call('HINCRBY', hkey(H), 'inflight', -1)
  redis.call('HINCRBY', META, 'slots', -1)
  return H, prev, mine
end

-- Give back everything worker V holds: its URLs go to the front of their queues (retries
-- to their retry set, due now), its slots are freed, its robots.txt blocks lifted.
local function reclaim(V)
  local K = P .. 'w:' .. V
  local all = redis.call('HGETALL', K)
  local touched = {}
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    local kind = string.sub(f, 1, 2)
    if kind == 's:' then
      local H = free_slot(K, f)
      touched[H] = true
    elseif kind == 'e:' then
      local H, where, depth = split(v)
      local payload = string.sub(f, 3)
      if where == 'r' then
        enqueue_retry(H, payload, NOW)
      else
        enqueue(H, payload, tonumber(depth), true)
      end
      redis.call('HINCRBY', META, 'leased', -1)
      touched[H] = true
    elseif kind == 'b:' then
      local H = string.sub(f, 3)
      if redis.call('HGET', hkey(H), 'blocker') == V then
        redis.call('HDEL', hkey(H), 'block', 'blocker')
      end
      touched[H] = true
    end
  end
  redis.call('DEL', K)
  redis.call('ZREM', WORKERS, V)
  for H in pairs(touched) do schedule(H) end
end

-- The heartbeat. When nobody reached Redis for half a lease (Redis was down, or every
-- worker was cut off), every worker gets the lost time back before anyone's lease expires.
local function beat()
  local pulse = tonumber(redis.call('HGET', META, 'pulse'))
  if pulse and NOW - pulse > LEASE / 2 then
    local gap = NOW - pulse
    local ws = redis.call('ZRANGE', WORKERS, 0, -1, 'WITHSCORES')
    for i = 1, #ws, 2 do
      redis.call('ZADD', WORKERS, fmt(tonumber(ws[i + 1]) + gap), ws[i])
    end
  end
  if not pulse or NOW > pulse then redis.call('HSET', META, 'pulse', fmt(NOW)) end
  redis.call('ZADD', WORKERS, fmt(NOW + LEASE), W)
end

local function sweep()
  local dead = redis.call('ZRANGEBYSCORE', WORKERS, '-inf', fmt(NOW), 'LIMIT', 0, 4)
  for _, V in ipairs(dead) do
    if V ~= W then reclaim(V) end
  end
end

local ops = {}

function ops.beat() beat() return {} end

function ops.rejoin()
  reclaim(W)
  beat()
  return {}
end

function ops.take(ro, slot)
  ro = ro == '1'
  beat()
  sweep()
  for round = 1, 4 do
    local hosts = redis.call('ZRANGEBYSCORE', READY, '-inf', fmt(NOW), 'LIMIT', 0, 32)
    if #hosts == 0 then break end
    for _, H in ipairs(hosts) do
      local t = ready_at(H, ro)
      if t == nil then
        if not ro then redis.call('ZREM', READY, H) end
      elseif t > NOW then
        if not ro then redis.call('ZADD', READY, fmt(t), H) end
      else
        local hk = hkey(H)
        local f = redis.call('HMGET', hk, 'next', 'interval')
        local mine = fmt(NOW + (tonumber(f[2]) or INTERVAL))
        redis.call('HSET', hk, 'next', mine)
        redis.call('HINCRBY', hk, 'inflight', 1)
        redis.call('HINCRBY', META, 'slots', 1)
        redis.call('HSET', WK, 's:' .. slot, H .. '\n' .. (f[1] or '') .. '\n' .. mine)
        local payload = pop(H, ro)
        schedule(H)
        return {h = H, e = payload}
      end
    end
    if ro then break end
  end
  local top = redis.call('ZRANGE', READY, 0, 0, 'WITHSCORES')
  if #top > 0 then
    local t = tonumber(top[2])
    if t > NOW then return {w = t - NOW} end
    if not ro then return {w = 0} end
  end
  return {i = 1}
end

function ops.more(H, ro)
  local payload = pop(H, ro == '1')
  schedule(H)
  return {e = payload}
end

function ops.putback(H, payload, depth, attempt)
  unlease_entry(payload)
  if tonumber(attempt) > 1 then
    enqueue_retry(H, payload, NOW)
  else
    enqueue(H, payload, tonumber(depth), true)
  end
  schedule(H)
  return {}
end

function ops.release(slot)
  local H, prev, mine = free_slot(WK, 's:' .. slot)
  if H then
    local hk = hkey(H)
    if redis.call('HGET', hk, 'next') == mine then
      if prev == '' then
        redis.call('HDEL', hk, 'next')
      else
        redis.call('HSET', hk, 'next', prev)
      end
    end
    schedule(H)
  end
  return {}
end

function ops.finish(slot)
  local H = free_slot(WK, 's:' .. slot)
  if H then
    redis.call('HINCRBY', hkey(H), 'fetches', 1)
    schedule(H)
  end
  return {}
end

function ops.settle(payload)
  unlease_entry(payload)
  return {}
end

function ops.complete(H, digest, payload, claim)
  local owner = redis.call('HGET', DONE, digest)
  unlease_entry(payload)
  if owner and owner ~= W then return {ok = 0} end
  if not owner then
    redis.call('HSET', DONE, digest, W)
    redis.call('HSET', CLAIMS, digest, claim)
    if H ~= '' then redis.call('HINCRBY', hkey(H), 'done', 1) end
  end
  return {ok = 1}
end

function ops.retry(H, old, payload, delay)
  unlease_entry(old)
  enqueue_retry(H, payload, NOW + tonumber(delay))
  schedule(H)
  return {}
end

function ops.push(H, payload, depth)
  enqueue(H, payload, tonumber(depth), false)
  schedule(H)
  return {}
end

-- Admit URLs: per URL its digest, mode (q: judge and queue, j: judge only, m: mark seen
-- only), the trap rule its shape breaks (or ''), host, query-variant key (or ''), payload
-- and depth. Answers one letter per URL: N new, S seen, s refused by shape, c by the host
-- cap, v by the query variants.
-- (Read straight from ARGV: a page may link to more URLs than Lua's unpack() can take.)
function ops.admit(start, argc)
  local cap = tonumber(ARGV[start])
  local variants = tonumber(ARGV[start + 1])
  local a = ARGV
  local out = {}
  local touched = {}
  for i = start + 2, start + argc - 1, 7 do
    local digest, mode, shape, H, qk, payload, depth =
      a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5], a[i + 6]
    local code
    if redis.call('SADD', SEEN, digest) == 0 then
      code = 'S'
    elseif mode == 'm' then
      code = 'N'
    elseif shape ~= '' then
      code = 's'
    elseif cap and (tonumber(redis.call('HGET', TRAPS, 'h:' .. H)) or 0) >= cap then
      code = 'c'
    elseif qk ~= '' and (tonumber(redis.call('HGET', TRAPS, 'v:' .. qk)) or 0) >= variants then
      code = 'v'
    else
      code = 'N'
      if qk ~= '' then redis.call('HINCRBY', TRAPS, 'v:' .. qk, 1) end
      if cap then redis.call('HINCRBY', TRAPS, 'h:' .. H, 1) end
      if mode == 'q' then
        enqueue(H, payload, tonumber(depth), false)
        touched[H] = true
      end
    end
    out[#out + 1] = code
  end
  for H in pairs(touched) do schedule(H) end
  return {a = table.concat(out), n = redis.call('SCARD', SEEN)}
end

function ops.block(H, mode, delay)
  local hk = touch(H)
  local blocker = redis.call('HGET', hk, 'blocker')
  if blocker then
    redis.call('HDEL', P .. 'w:' .. blocker, 'b:' .. H)
    redis.call('HDEL', hk, 'blocker')
  end
  if mode == 'inf' then
    redis.call('HSET', hk, 'block', 'inf', 'blocker', W)
    redis.call('HSET', WK, 'b:' .. H, '1')
  elseif mode == 'clear' then
    redis.call('HDEL', hk, 'block')
  else
    redis.call('HSET', hk, 'block', fmt(NOW + tonumber(delay)))
  end
  schedule(H)
  return {}
end

function ops.pause(H, delay)
  local hk = touch(H)
  local until_ = NOW + tonumber(delay)
  local old = tonumber(redis.call('HGET', hk, 'pause'))
  if not old or until_ > old then redis.call('HSET', hk, 'pause', fmt(until_)) end
  schedule(H)
  return {}
end

function ops.interval(H, interval)
  local hk = touch(H)
  interval = tonumber(interval)
  local f = redis.call('HMGET', hk, 'interval', 'next')
  local old = tonumber(f[1])
  if interval > old then
    if f[2] then redis.call('HSET', hk, 'next', fmt(tonumber(f[2]) + interval - old)) end
    redis.call('HSET', hk, 'interval', fmt(interval))
  end
  schedule(H)
  return {}
end

-- DeleteQueue: every URL waiting for H, leased to W (so that none is lost if W dies before
-- it has recorded what it does with them), retries first.
function ops.drain(H)
  local out = {}
  local rk, qk = P .. 'r:' .. H, P .. 'q:' .. H
  local retries = redis.call('ZRANGE', rk, 0, -1)
  for _, payload in ipairs(retries) do
    lease_entry(WK, H, payload, 'r', 0)
    out[#out + 1] = payload
  end
  local queued = redis.call('ZRANGE', qk, 0, -1, 'WITHSCORES')
  for i = 1, #queued, 2 do
    lease_entry(WK, H, queued[i], 'q', math.floor(tonumber(queued[i + 1]) / BIG))
    out[#out + 1] = queued[i]
  end
  redis.call('DEL', rk, qk)
  redis.call('HINCRBY', META, 'queued', 0 - #out)
  redis.call('HINCRBY', META, 'retries', 0 - #retries)
  schedule(H)
  return {d = out}
end

function ops.charge(limit)
  local spent = tonumber(redis.call('HGET', META, 'charged')) or 0
  if spent >= tonumber(limit) then return {ok = 0} end
  redis.call('HINCRBY', META, 'charged', 1)
  return {ok = 1}
end

-- Reconciliation: W claimed a URL whose record never reached its state; the claim goes,
-- and the URL goes back to the front of its queue.
function ops.unclaim(digest, H, payload, depth, attempt)
  if redis.call('HGET', DONE, digest) == W then
    redis.call('HDEL', DONE, digest)
    if H ~= '' then redis.call('HINCRBY', hkey(H), 'done', -1) end
  end
  redis.call('HDEL', CLAIMS, digest)
  if payload ~= '' then
    if tonumber(attempt) > 1 then
      enqueue_retry(H, payload, NOW)
    else
      enqueue(H, payload, tonumber(depth), true)
    end
    schedule(H)
  end
  return {}
end

function ops.answered()
  redis.call('HSET', META, 'answered', 1)
  return {}
end

function ops.confirm(start, argc)
  for i = start, start + argc - 1 do redis.call('HDEL', CLAIMS, ARGV[i]) end
  return {}
end

local result = {}
local i = 5
while i <= #ARGV do
  local name, argc = ARGV[i], tonumber(ARGV[i + 1])
  local op = ops[name]
  if not op then return redis.error_reply('ERR unknown frontier operation ' .. name) end
  if name == 'admit' or name == 'confirm' then
    result = op(i + 2, argc)
  else
    result = op(unpack(ARGV, i + 2, i + 1 + argc))
  end
  i = i + 2 + argc
end
local m = redis.call('HMGET', META, 'queued', 'retries', 'slots', 'leased', 'charged')
result.q = tonumber(m[1])
result.r = tonumber(m[2])
result.sl = tonumber(m[3])
result.le = tonumber(m[4])
result.c = tonumber(m[5])
local reply = cjson.encode(result)
if RID ~= '' then redis.call('HSET', WK, 'rid', RID, 'reply', reply) end
return reply
"""
