-- wrk script: POST /api/v1/cart/items/ with a SKU taken in turn from a file (one per line), without
-- a cart cookie: every request is a new guest's first add (a cart is created, a signed cookie set).
-- usage: wrk -s bench/cart_add.lua <base-url> -- <skus-file>
local skus = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then skus[#skus + 1] = line end
  end
  counter = math.random(#skus)
end

function request()
  counter = counter % #skus + 1
  local headers = {["Content-Type"] = "application/json"}
  return wrk.format("POST", "/api/v1/cart/items/", headers, '{"sku": "' .. skus[counter] .. '", "quantity": 1}')
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.2f, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
