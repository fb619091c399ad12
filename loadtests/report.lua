-- wrk's summary as one JSON line ("WRK_JSON {...}") that loadtests/wrk.py reads.
-- Latencies are in microseconds; "non2xx" is wrk's count of responses with status >= 400;
-- "in_flight" (when a script counts it) is requests sent but not answered when the run ended.
function report(summary, latency, in_flight)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,'
      .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"non2xx":%d,"mean_us":%.1f,'
      .. '"max_us":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"in_flight":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.timeout, e.status, latency.mean, latency.max, latency:percentile(50),
    latency:percentile(90), latency:percentile(95), latency:percentile(99), in_flight or -1))
end

function done(summary, latency, requests)
  report(summary, latency, -1)
end
