-- Each token of FILE sent once (single-use credentials, e.g. sessions to log out), then wrk stops: reports p50/p95/p99
-- and responses by status in endpoint.lua's format, with COUNT (responses received). Run with -t1 (one thread holds
-- the list) and a -d long enough to be a cap, not the end: the run ends when every token is answered.
-- Args: METHOD PATH FILE.  e.g. wrk -t1 -c50 -d60s -s bench/wrk/single-use.lua http://127.0.0.1:18080 -- POST /auth/logout tokens.txt
--
-- Why not the node client (bench/clients/single-use.mjs): on the two cores the stack shares, node's HTTP client spent
-- about 1.3 s of CPU on one burst of 300 logouts with its warm-up, a core for the burst's whole length, so the row
-- measured the client's competition as much as the stack. wrk's C loop costs a few µs per request (docs/performance.md,
-- "Eighth pass").
local thread

function setup(t)
  -- Every thread would send the whole list: a token used twice is measured twice (and answered 401 the second time).
  if thread then error("single-use.lua needs one thread: run wrk with -t1") end
  thread = t
end

function init(args)
  method, path = args[1], args[2]
  tokens = {}
  for line in io.lines(args[3]) do
    if line ~= "" then table.insert(tokens, line) end
  end
  if #tokens == 0 then error("single-use.lua: no tokens in " .. args[3]) end
  reserved, sent, answered, statuses = 0, 0, 0, {}
end

-- wrk calls delay() before every request it sends (the first on each connection too), then request() once the delay is
-- over. delay() reserves the token: deciding in request() alone let connections that asked together all send, past
-- the end of the list. Once every token is reserved, a connection waits (an hour, far past -d) instead of sending
-- anything that would be timed with the tokens' requests.
function delay()
  if reserved < #tokens then
    reserved = reserved + 1
    return 0
  end
  return 3600000
end

-- wrk also calls request() once before the run, on the first thread and without delay(), to count the requests it
-- returns (script_verify_request): that call must not use up a token.
local verified = false

function request()
  if not verified then
    verified = true
    return wrk.format(method, path, { ["Authorization"] = "Bearer " .. tokens[1], ["Content-Length"] = "0" })
  end
  sent = sent + 1
  return wrk.format(method, path, { ["Authorization"] = "Bearer " .. tokens[sent], ["Content-Length"] = "0" })
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if answered == #tokens then
    -- wrk's main thread sleeps for -d whatever its threads do; SIGINT (what Ctrl-C sends) wakes it to print the summary
    -- now. The PID is the first field of /proc/self/stat. io.popen, not os.execute: system(3) ignores SIGINT in the
    -- whole process while its child runs, so the signal would be lost. One signal was not always enough: in 2 of 40
    -- runs wrk still slept out -d. So a background shell sends it again after 0.2 s and 1 s (60 of 60 runs then ended
    -- at once or 0.2 s later); once wrk has exited, those kills find no process. When wrk ends does not change what it
    -- measured: every token has been answered by then.
    wrk.thread:stop()
    local stat = io.open("/proc/self/stat")
    local pid = stat:read("*n")
    stat:close()
    io.popen(string.format("(kill -INT %d; sleep 0.2; kill -INT %d; sleep 1; kill -INT %d) >/dev/null 2>&1 &", pid, pid, pid)):close()
  end
end

function done(summary, latency, requests)
  local total, count = {}, 0
  for code, n in pairs(thread:get("statuses")) do
    total[code] = n
    count = count + n
  end
  local parts = {}
  for code, n in pairs(total) do table.insert(parts, code .. "=" .. n) end
  table.sort(parts)
  io.write(string.format("COUNT %d\n", count))
  io.write(string.format("PCTL %.2f %.2f %.2f\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end
