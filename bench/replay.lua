-- Replays pre-signed requests, each one once, for wrk.
--
-- bench/run.py writes one file per wrk thread (REQ_DIR/req-<n>.txt), one request per line:
--   METHOD <TAB> PATH <TAB> X-Timestamp <TAB> X-Signature <TAB> BODY
-- A thread reads only its own file, so no two threads ever send the same request.
-- Accepted (2xx) responses that carry an order_no are written to REQ_DIR/ok-<n>.txt, so the
-- runner can check that there is exactly one payment per accepted request.
-- Environment: REQ_DIR, API_KEY.

local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

function init(args)
   local dir = os.getenv("REQ_DIR")
   local key = os.getenv("API_KEY")
   requests = {}
   for line in io.lines(dir .. "/req-" .. id .. ".txt") do
      local method, path, stamp, sig, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {["X-API-Key"] = key, ["X-Timestamp"] = stamp, ["X-Signature"] = sig}
      if body ~= "" then
         headers["Content-Type"] = "application/json"
      else
         body = nil
      end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
   end
   index = 0
   exhausted = 0
   ok_file = io.open(dir .. "/ok-" .. id .. ".txt", "w")
end

function request()
   index = index + 1
   if index > #requests then
      -- Out of pre-signed requests: replaying the last one would be a duplicate, so
      -- count it; the runner sizes the files so that this does not happen.
      exhausted = exhausted + 1
      index = #requests
   end
   return requests[index]
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      local order_no = body:match('"order_no":"([^"]+)"')
      if order_no then
         ok_file:write(order_no, "\n")
      end
   end
end

function done(summary, latency, requests)
   for _, thread in ipairs(threads) do
      local n = thread:get("exhausted")
      if n and n > 0 then
         io.stderr:write("thread ran out of pre-signed requests: " .. n .. "\n")
      end
   end
end
