-- wrk script of scripts/bench-intake: PUT /api/v1/answers/feedback with HTTP conditional
-- requests, as the site's autosave does.
--
-- Arguments (after `--`): TOKENS_FILE CANDIDATES_PER_THREAD BYTES MODE
--   MODE "create": each candidate's first write uses If-None-Match: * (warm-up run);
--   MODE "update": it uses If-Match: * (the answer exists), then If-Match: "<version>".
-- Run wrk with as many connections as threads (-t N -c N): each thread then has one connection
-- and its requests and responses strictly alternate, so it knows which candidate a response is
-- for and tracks each one's version exactly.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local file = assert(io.open(args[1]), "cannot open the tokens file")
  local all = {}
  for line in file:lines() do
    if #line > 0 then table.insert(all, line) end
  end
  file:close()
  local per_thread = tonumber(args[2])
  bytes = tonumber(args[3])
  mode = args[4]
  tokens, versions = {}, {}
  for i = 1, per_thread do
    local token = all[(id - 1) * per_thread + i]
    assert(token, "not enough tokens for " .. per_thread .. " candidates per thread")
    table.insert(tokens, token)
  end
  current = 1
  writes = 0
  ok, conflicts, failures = 0, 0, 0
  filler = string.rep("Answer text for the benchmark. ", math.ceil(bytes / 31)):sub(1, bytes)
end

function request()
  writes = writes + 1
  local precondition, value
  local version = versions[current]
  if version then
    precondition, value = "If-Match", '"' .. version .. '"'
  elseif mode == "create" then
    precondition, value = "If-None-Match", "*"
  else
    precondition, value = "If-Match", "*"
  end
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[current],
    ["Content-Type"] = "application/json",
    [precondition] = value,
  }
  local body = '{"text": "' .. id .. "-" .. writes .. " " .. filler .. '"}'
  return wrk.format("PUT", "/api/v1/answers/feedback", headers, body)
end

function response(status, headers, body)
  local etag = headers["etag"] or headers["ETag"]
  if status == 200 or status == 201 then
    ok = ok + 1
  elseif status == 412 then
    conflicts = conflicts + 1
  else
    failures = failures + 1
  end
  if etag then versions[current] = tonumber(etag:match('"(%d+)"')) end
  current = current % #tokens + 1
end

function done(summary, latency, requests)
  local total_ok, total_conflicts, total_failures = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_conflicts = total_conflicts + thread:get("conflicts")
    total_failures = total_failures + thread:get("failures")
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d ok=%d conflicts=%d failures=%d socket_errors=%d seconds=%.3f " ..
    "rps=%.1f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f\n",
    summary.requests, total_ok, total_conflicts, total_failures,
    e.connect + e.read + e.write + e.timeout, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end
