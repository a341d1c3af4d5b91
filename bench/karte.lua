-- wrk script for the karte benchmark: random customers of the demo tenant, bearer token auth.
-- Environment: KIMOCHI_BENCH_TOKEN (required), KIMOCHI_BENCH_MIN_ID, KIMOCHI_BENCH_MAX_ID.
local token = os.getenv("KIMOCHI_BENCH_TOKEN")
local min_id = tonumber(os.getenv("KIMOCHI_BENCH_MIN_ID") or "1")
local max_id = tonumber(os.getenv("KIMOCHI_BENCH_MAX_ID") or "1000000")
local headers = { ["Authorization"] = "Bearer " .. token }
local thread_counter = 0

setup = function(thread)
  thread_counter = thread_counter + 1
  thread:set("seed", thread_counter)
end

init = function(args)
  math.randomseed(seed or 1)
end

request = function()
  local id = math.random(min_id, max_id)
  return wrk.format("GET", "/api/v1/customers/" .. id .. "/karte", headers)
end
