-- One endpoint at fixed concurrency, reporting p50/p95/p99 and responses by status.
-- Args: METHOD PATH TOKEN BODY   (TOKEN "-" for none, "@FILE" for one token per line of FILE taken in turn, so each
-- connection acts for many users; BODY "-" for none; in BODY, EMAIL is replaced by a unique address)
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  method, path, token, body = args[1], args[2], args[3], args[4]
  statuses = {}
  tokens = nil
  if string.sub(token, 1, 1) == "@" then
    tokens = {}
    for line in io.lines(string.sub(token, 2)) do
      if line ~= "" then table.insert(tokens, line) end
    end
  end
end

function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json" }
  if tokens then
    -- Threads start at different places in the list, so concurrent requests rarely act for the same user.
    headers["Authorization"] = "Bearer " .. tokens[(counter + id * 7919) % #tokens + 1]
  elseif token ~= "-" then
    headers["Authorization"] = "Bearer " .. token
  end
  local b = nil
  if body ~= "-" then
    b = string.gsub(body, "EMAIL", string.format("bench-%d-%d-%d@bench.example.com", os.time(), id, counter))
  end
  return wrk.format(method, path, headers, b)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(total) do table.insert(parts, code .. "=" .. n) end
  table.sort(parts)
  io.write(string.format("PCTL %.2f %.2f %.2f\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
  io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
end
