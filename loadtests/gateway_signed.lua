-- Signed gateway requests for wrk, read from a file the Python driver wrote just before the run:
-- one request a line, "<date>\t<nonce>\t<authorization>\t<body>". Each thread takes every
-- n-th line, so no nonce is sent twice (a replay would be refused with 401 and counted).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  path_ = args[1]
  local file = args[2]
  local total = tonumber(args[3])
  local lines = {}
  local n = 0
  for line in io.lines(file) do
    n = n + 1
    if (n - id) % total == 0 then
      table.insert(lines, line)
    end
  end
  requests_ = lines
  next_ = 1
end

function request()
  local line = requests_[next_]
  next_ = next_ % #requests_ + 1
  local date, nonce, auth, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
  return wrk.format("POST", path_, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = auth,
    ["X-CH-Date"] = date,
    ["X-CH-Nonce"] = nonce,
  }, body)
end

-- The same one-line summary as report.lua, so loadtests/wrk.py reads both alike.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,'
      .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"non2xx":%d,"mean_us":%.1f,'
      .. '"max_us":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"in_flight":-1}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.timeout, e.status, latency.mean, latency.max, latency:percentile(50),
    latency:percentile(90), latency:percentile(95), latency:percentile(99)))
end
