-- wrk script: durable lifecycle writes against contextd. Each service gets three operations:
-- start service, start state, complete service. Ids come back in the replies.
local start_body = '{"customer_id":"W%07d","contact_key":"+1555%07d","service_type":"NewAccount","media_type":"voice"}'
local with_state, to_end = {}, {}

function init(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

function request()
  local id = table.remove(to_end)
  if id then
    return wrk.format("POST", "/genesys/1/cs/services/" .. id .. "/end", nil, '{"disposition":"Sold"}')
  end
  id = table.remove(with_state)
  if id then
    return wrk.format("POST", "/genesys/1/cs/services/" .. id .. "/states/start", nil, '{"state_type":1}')
  end
  local n = math.random(0, 9999999)
  return wrk.format("POST", "/genesys/1/cs/services/start", nil, string.format(start_body, n % 100000, n))
end

function response(status, headers, body)
  if status ~= 201 then return end
  local id = body:match('"service_id":(%d+)')
  if not id then return end
  if body:find('"state_id"', 1, true) then
    table.insert(to_end, id)
  else
    table.insert(with_state, id)
  end
end

dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
