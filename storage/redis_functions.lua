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
