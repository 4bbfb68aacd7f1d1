-- wrk script: the IVR read mix against contextd, a third each, every request drawing a fresh key
-- uniformly over the whole key space (as pgbench's `random()` does per transaction; no hot set):
-- anonymous active; customer active with active_states=true; customer 30-day history.
-- Arguments: customers keys end_ms [delay_ms]
-- With the environment variable BENCH_SAMPLE=FILE, each thread keeps a uniform sample of 300 of
-- the requests it sent over the whole run (reservoir sampling) and done() writes them to FILE:
-- bench/load/same_rows.py checks exactly those requests against PostgreSQL, and their keys for
-- uniformity.
local customers, keys, from, to, delay_ms
local sample_size, sent = 300, 0
sample = {}  -- global: done() reads it from each thread

local function iso(ms)
  local s = math.floor(ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", ms % 1000)
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  customers = tonumber(args[1])
  keys = tonumber(args[2])
  local end_ms = tonumber(args[3])
  delay_ms = tonumber(args[4] or "0")
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  from, to = iso(end_ms - 30 * 86400000), iso(end_ms)
  if not os.getenv("BENCH_SAMPLE") then sample_size = 0 end
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
  if sample_size > 0 then  -- Algorithm R: each request sent is in the sample with equal chance
    sent = sent + 1
    if sent <= sample_size then
      sample[sent] = path
    else
      local j = math.random(1, sent)
      if j <= sample_size then sample[j] = path end
    end
  end
  return wrk.format("GET", path)
end

function delay()
  return delay_ms
end

function after_done()
  local file = os.getenv("BENCH_SAMPLE")
  if not file then return end
  local out = io.open(file, "w")
  for _, thread in ipairs(threads) do
    for _, path in ipairs(thread:get("sample")) do out:write(path, "\n") end
  end
  out:close()
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
