#!lua name=contextd

-- contextd's Lua functions on every Redis Cluster master (FUNCTION LOAD REPLACE; replicated,
-- so a promoted replica has them). storage/redis_store.cc is the contract: key layout, member
-- formats and why each call stays within one slot.

-- ctx_put: writes records and their index entries of one slot, all or nothing.
-- KEYS[1..n]: records; KEYS[n+1..]: sorted sets of index entries. ARGV[1] = n; ARGV[2i] and
-- ARGV[2i+1] (i = 1..n): the bytes the caller read of record i ('' for none) and its new bytes
-- ('' to delete it); then triples (key index, '+' add or '-' remove, member).
-- Returns 0 when a record is not as the caller read it (nothing written), 1 when every record
-- already holds its new bytes (a repeated call: nothing written), 2 when written.
redis.register_function('ctx_put', function(keys, args)
  local n = tonumber(args[1])
  local same = true
  for i = 1, n do
    local cur = redis.call('GET', keys[i]) or ''
    if cur ~= args[2 * i + 1] then
      same = false
      if cur ~= args[2 * i] then return 0 end
    end
  end
  if same then return 1 end
  for i = 1, n do
    local new = args[2 * i + 1]
    if new == '' then redis.call('DEL', keys[i]) else redis.call('SET', keys[i], new) end
  end
  for j = 2 * n + 2, #args, 3 do
    local key = keys[tonumber(args[j])]
    if args[j + 1] == '+' then
      redis.call('ZADD', key, 0, args[j + 2])
    else
      redis.call('ZREM', key, args[j + 2])
    end
  end
  return 2
end)

-- ctx_scan: one window of one index, with the records that live in this slot.
-- KEYS[1]: a sorted set of entries (members: 8 bytes time, 8 bytes id, then the entry's value).
-- ARGV: max and min (ZRANGE ... BYLEX REV bounds), offset, count (-1: all), a byte the member
-- must have after its 16 ('' any), the key prefix of this slot's records (the 8 id bytes
-- complete a key), this slot's number.
-- Returns member, record pairs, newest first; the record is false (nil) when its id says it
-- lives in another slot. Ids carry their record's slot in their low 14 bits, so the record
-- keys read here are all in KEYS[1]'s slot.
redis.register_function{function_name = 'ctx_scan', flags = {'no-writes'},
  callback = function(keys, args)
    local members = redis.call('ZRANGE', keys[1], args[1], args[2], 'BYLEX', 'REV',
                               'LIMIT', args[3], args[4])
    local want, prefix, slot = args[5], args[6], tonumber(args[7])
    local out = {}
    for _, m in ipairs(members) do
      if want == '' or string.sub(m, 17, 17) == want then
        out[#out + 1] = m
        if (string.byte(m, 15) % 64) * 256 + string.byte(m, 16) == slot then
          out[#out + 1] = redis.call('GET', prefix .. string.sub(m, 9, 16))
        else
          out[#out + 1] = false
        end
      end
    end
    return out
  end}

-- ctx_ws_commit: a tenant's Workspace change, compare-and-set on its head.
-- KEYS: the tenant's head (a decimal string; none: 0), journal (hash: decimal number -> the
-- change's 8-byte token and its bytes), users, items and agents (hashes: name or id -> record).
-- ARGV: the head the caller expects, the change's token (8 bytes, random), the change's bytes,
-- how many changes the journal keeps; then triples (3 users, 4 items or 5 agents; field; new
-- value, '' to delete the field).
-- Returns the new head when written, -1 when the head is not the expected one (nothing
-- written). A call sent again (the client resends after a connection failure) finds its own
-- token in the journal under expected + 1 and returns that number, writing nothing again.
redis.register_function('ctx_ws_commit', function(keys, args)
  local head = tonumber(redis.call('GET', keys[1]) or '0')
  local expected, token = tonumber(args[1]), args[2]
  if head ~= expected then
    local mine = string.format('%d', expected + 1)
    if head > expected and string.sub(redis.call('HGET', keys[2], mine) or '', 1, 8) == token then
      return expected + 1
    end
    return -1
  end
  for j = 5, #args, 3 do
    local key = keys[tonumber(args[j])]
    if args[j + 2] == '' then
      redis.call('HDEL', key, args[j + 1])
    else
      redis.call('HSET', key, args[j + 1], args[j + 2])
    end
  end
  local new = head + 1
  redis.call('HSET', keys[2], string.format('%d', new), token .. args[3])
  local retain = tonumber(args[4])
  if new > retain then redis.call('HDEL', keys[2], string.format('%d', new - retain)) end
  redis.call('SET', keys[1], string.format('%d', new))
  return new
end)
