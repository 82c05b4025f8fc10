-- wrk script for bench/run.py.
--
--   wrk -t T -c C -d D -s bench/wrk.lua URL -- MODE NTHREADS [AUTH] [BODY_PREFIX VALUES_FILE BODY_SUFFIX]
--
-- MODE get     GET URL (discovery, JWKS, hello)
-- MODE bearer  GET URL with "Authorization: Bearer AUTH" (UserInfo, one access token throughout)
-- MODE post    POST a fixed form body BODY_PREFIX with HTTP Basic AUTH (client_credentials);
--              wrk builds the request once, so this costs no Lua per request
-- MODE values  POST BODY_PREFIX .. value .. BODY_SUFFIX, one fresh value a request, values read
--              from VALUES_FILE (one a line, each used once): authorization codes, refresh tokens.
--              Thread i of N takes lines i, i+N, i+2N...; once a thread runs out it sends
--              "exhausted" (the server answers 400) and counts it, so run.py can reject the run.
--
-- done() prints one line starting with BENCH_JSON for run.py to parse.

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("tid", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   mode = args[1] or "get"
   nthreads = tonumber(args[2] or "1")
   used = 0
   exhausted = 0
   if mode == "get" then
      return
   end
   if mode == "bearer" then
      wrk.headers["Authorization"] = "Bearer " .. args[3]
      return
   end
   local headers = {}
   headers["Content-Type"] = "application/x-www-form-urlencoded"
   headers["Authorization"] = "Basic " .. args[3]
   if mode == "post" then
      wrk.method = "POST"
      wrk.body = args[4]
      wrk.headers["Content-Type"] = headers["Content-Type"]
      wrk.headers["Authorization"] = headers["Authorization"]
      return
   end
   prefix = args[4]
   suffix = args[6] or ""
   values = {}
   local i = 0
   for line in io.lines(args[5]) do
      if line ~= "" then
         if i % nthreads == tid then
            values[#values + 1] = line
         end
         i = i + 1
      end
   end
   req_headers = headers
   path = wrk.path
   request = function()
      used = used + 1
      local v = values[used]
      if v == nil then
         exhausted = exhausted + 1
         v = "exhausted"
      end
      return wrk.format("POST", path, req_headers, prefix .. v .. suffix)
   end
end

function done(summary, latency, requests)
   local total_used, total_exhausted = 0, 0
   for _, t in ipairs(threads) do
      total_used = total_used + (tonumber(t:get("used")) or 0)
      total_exhausted = total_exhausted + (tonumber(t:get("exhausted")) or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"values_used":%d,"exhausted":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      total_used, total_exhausted))
end
