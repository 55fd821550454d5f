-- wrk script for the Mirage bench: request shape from the environment, one JSON result line.
--
--   BENCH_METHOD       GET (default) or POST
--   BENCH_PATH         request path; may hold %d (with BENCH_ID_MAX) and {{VAR}}
--   BENCH_AUTH         full Authorization header value ("Bearer ...")
--   BENCH_BODY_FILE    file holding the request body (JSON); may hold {{VAR}}
--   BENCH_ID_MAX       when > 0, each request formats BENCH_PATH with a random 1..N
--   BENCH_VARS         comma list; wrk thread i substitutes item i for {{VAR}}
--                      (run with -t equal to -c so that each connection has its own)
--
-- done() prints: BENCH_RESULT {"requests":..., "p50_us":..., ...}

local method = os.getenv("BENCH_METHOD") or "GET"
local path_template = os.getenv("BENCH_PATH") or "/"
local auth = os.getenv("BENCH_AUTH")
local body_file = os.getenv("BENCH_BODY_FILE")
local id_max = tonumber(os.getenv("BENCH_ID_MAX") or "0") or 0
local vars_env = os.getenv("BENCH_VARS") or ""

local body_template = nil
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body_template = f:read("*a")
  f:close()
end

local vars = {}
for item in string.gmatch(vars_env, "[^,]+") do
  table.insert(vars, item)
end

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count)
  if #vars > 0 then
    thread:set("thread_var", vars[((thread_count - 1) % #vars) + 1])
  end
end

local function substitute(text)
  if text == nil or thread_var == nil then
    return text
  end
  return (string.gsub(text, "{{VAR}}", function() return thread_var end))
end

local fixed_request = nil
local thread_path = nil
local thread_body = nil
local thread_headers = nil

function init(args)
  math.randomseed(os.time() * 1000 + (thread_index or 0))
  thread_path = substitute(path_template)
  thread_body = substitute(body_template)
  thread_headers = {}
  if auth and auth ~= "" then
    thread_headers["Authorization"] = auth
  end
  if thread_body then
    thread_headers["Content-Type"] = "application/json"
  end
  if id_max <= 0 then
    fixed_request = wrk.format(method, thread_path, thread_headers, thread_body)
  end
end

function request()
  if fixed_request then
    return fixed_request
  end
  local path = string.format(thread_path, math.random(id_max))
  return wrk.format(method, path, thread_headers, thread_body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
