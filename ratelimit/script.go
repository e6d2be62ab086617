package ratelimit

import "github.com/redis/go-redis/v9"

// slidingWindow is the sliding-window check as one atomic script.
// KEYS[1]: the key's sorted set. ARGV: limit, window in ms, a unique member.
// It returns {admitted (1|0), remaining, ms until the oldest member leaves the window}.
var slidingWindow = redis.NewScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local admitted = 0
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  count = count + 1
  admitted = 1
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local reset = tonumber(oldest[2]) + window - now
local remaining = limit - count
if remaining < 0 then remaining = 0 end
return {admitted, remaining, reset}
`)
