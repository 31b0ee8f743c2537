//! The shared signaling suite (`signal_support/`) against the Redis
//! registry: every scenario starts its own redis-server on a free loopback
//! port and servers with `--redis-url` pointing at it.

mod common;
mod signal_support;

use common::redis_server::RedisServer;

// The RedisServer is a temporary of each test's one statement, so it lives
// until the scenario's future completes and is killed right after.
signaling_suite!(&RedisServer::start().args());
