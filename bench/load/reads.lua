-- wrk script: the IVR read mix against contextd, a third each, every request drawing a fresh key
-- uniformly over the whole key space (as pgbench's `random()` does per transaction; no hot set):
-- anonymous active; customer active with active_states=true; customer 30-day history.
-- Arguments: customers keys end_ms [delay_ms [record_file]]
-- With record_file, each thread appends its first 300 request targets to that file:
-- bench/load/same_rows.py checks exactly those requests against PostgreSQL.
local customers, keys, from, to, delay_ms, record
local recorded = 0

local function iso(ms)
  local s = math.floor(ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", ms % 1000)
end

function init(args)
  customers = tonumber(args[1])
  keys = tonumber(args[2])
  local end_ms = tonumber(args[3])
  delay_ms = tonumber(args[4] or "0")
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  from, to = iso(end_ms - 30 * 86400000), iso(end_ms)
  if args[5] then record = io.open(args[5], "a") end
end

function request()
  local kind = math.random(0, 2)
  local path
  if kind == 0 then
    path = string.format("/genesys/1/cs/services/anonymous/%%2B1408%07d/active", math.random(0, keys - 1))
  elseif kind == 1 then
    path = string.format("/genesys/1/cs/customers/C%07d/services/active?active_states=true",
                         math.random(0, customers - 1))
  else
    path = string.format("/genesys/1/cs/customers/C%07d/services?started_from=%s&started_to=%s",
                         math.random(0, customers - 1), from, to)
  end
  if record and recorded < 300 then
    record:write(path, "\n")
    record:flush()
    recorded = recorded + 1
  end
  return wrk.format("GET", path)
end

function delay()
  return delay_ms
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
