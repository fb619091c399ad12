-- wrk script: GET /api/v1/products/?q=<query>, rotating through a file of queries.
-- Usage: wrk -s loadtests/search_queries.lua http://127.0.0.1:PORT -- [queries file]
-- (default: search_queries.txt beside this script; one query a line, # starts a comment).
-- Each wrk thread starts at a different query so that threads do not move in lock step.
-- Searches can be slow, so the script also counts requests still unanswered when the run
-- ends: wrk's latency figures leave those out.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local function urlencode(text)
  return (text:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local paths = {}
local counter = 0
sent = 0
answered = 0

function init(args)
  local file = args[1] or (here .. "search_queries.txt")
  for line in io.lines(file) do
    local query = line:match("^%s*(.-)%s*$")
    if query ~= "" and query:sub(1, 1) ~= "#" then
      paths[#paths + 1] = "/api/v1/products/?q=" .. urlencode(query)
    end
  end
  assert(#paths > 0, "no queries in " .. file)
  counter = (id or 0) * 3
end

function request()
  counter = counter + 1
  sent = sent + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  answered = answered + 1
end

function done(summary, latency, requests)
  local in_flight = 0
  for _, thread in ipairs(threads) do
    in_flight = in_flight + (thread:get("sent") or 0) - (thread:get("answered") or 0)
  end
  report(summary, latency, in_flight)
end
