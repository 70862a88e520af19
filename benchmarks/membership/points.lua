-- wrk script: GET /v1/membership for points read from POINTS_FILE (one "lon,lat" per line),
-- cycling through them; counts non-200 answers and answers mixing two releases.
-- A release's names end with its mark: "v1" units have plain names, "v2" names end in "·二版".
paths = {}
local key = os.getenv("WANGGE_KEY") or ""
local check = os.getenv("CHECK_RELEASES") == "1"
for line in io.lines(os.getenv("POINTS_FILE")) do
  local lon, lat = line:match("([^,]+),([^,]+)")
  paths[#paths + 1] = "/v1/membership?lon=" .. lon .. "&lat=" .. lat .. "&crs=EPSG:4490"
end
local threads = {}
local i = 0
errors, mixed, v1, v2 = 0, 0, 0, 0  -- globals: done() reads them per thread

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  i = math.random(#paths)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["X-API-Key"] = key})
end

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    return
  end
  if check then
    local rid = tonumber(body:match('"release_id":(%d+)'))
    local marked = select(2, body:gsub("·二版", ""))
    local names = select(2, body:gsub('"name":', ""))
    if rid == 2 then
      v2 = v2 + 1
      if marked ~= names then mixed = mixed + 1 end
    else
      v1 = v1 + 1
      if marked ~= 0 then mixed = mixed + 1 end
    end
  end
end

function done(summary, latency, requests)
  local e, m, a, b = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("errors"); m = m + t:get("mixed"); a = a + t:get("v1"); b = b + t:get("v2")
  end
  io.write(string.format("RESULT errors=%d mixed=%d v1=%d v2=%d\n", e, m, a, b))
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f socket_errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
