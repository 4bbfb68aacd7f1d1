-- Shared by the wrk scripts: prints one RESULT line of JSON that bench/run.sh reads.
-- "ok" counts the replies below 400 (wrk counts 4xx/5xx in errors.status; the read and write
-- routes answer no 1xx or 3xx, and bench/load/same_rows.py checks for 200) and "rps" is
-- ok / seconds: an error never counts as throughput. "errors" is every failure
-- (connect, read, write, status, timeout); bench/run.sh fails the run on any. "reply_bytes" is the
-- mean size of a reply (status line, headers, body), which bench/run.sh compares with the replies
-- bench/load/same_rows.py checked: a load that asks for the wrong keys gets other replies.
-- With the environment variable BENCH_HIST=FILE, done() also writes wrk's latency histogram
-- there ("microseconds count" per line, as wrk's percentiles count them): bench/cluster.sh
-- merges the histograms of two wrk processes into exact percentiles of the whole load.
function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  local ok = summary.requests - e.status
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"ok":%d,"seconds":%.3f,"rps":%.1f,"errors":%d,"reply_bytes":%.1f,"mean_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d}\n',
    summary.requests, ok, seconds, ok / seconds, errors, summary.bytes / math.max(1, summary.requests), latency.mean,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
  local hist = os.getenv("BENCH_HIST")
  if hist then
    local out = io.open(hist, "w")
    for i = 1, #latency do  -- latency(i): the i-th recorded value and its count
      local us, count = latency(i)
      out:write(string.format("%d %d\n", us, count))
    end
    out:close()
  end
  if after_done then after_done() end  -- a script's own work once the run is over
end
