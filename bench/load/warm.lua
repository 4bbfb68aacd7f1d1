-- wrk script: the IVR read mix over EVERY contact key and customer, in order, so that the
-- measured runs find contextd's data cached (as PostgreSQL's is prewarmed with pg_prewarm):
-- reads.lua draws random keys afresh in each run, and first touches of cold blocks would
-- otherwise count in every run's tail. Threads take turns through the sequence and wrap.
-- Arguments: customers keys end_ms threads
local customers, keys, from, to, total, stride, i

local function iso(ms)
  local s = math.floor(ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", ms % 1000)
end

local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  customers = tonumber(args[1])
  keys = tonumber(args[2])
  local end_ms = tonumber(args[3])
  from, to = iso(end_ms - 30 * 86400000), iso(end_ms)
  total = keys + 2 * customers
  stride = tonumber(args[4])
  i = id
end

function request()
  local n = i % total
  i = i + stride
  local path
  if n < keys then
    path = string.format("/genesys/1/cs/services/anonymous/%%2B1408%07d/active", n)
  elseif n < keys + customers then
    path = string.format("/genesys/1/cs/customers/C%07d/services/active?active_states=true",
                         n - keys)
  else
    path = string.format("/genesys/1/cs/customers/C%07d/services?started_from=%s&started_to=%s",
                         n - keys - customers, from, to)
  end
  return wrk.format("GET", path)
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
