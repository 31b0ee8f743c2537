//! The signaling protocol (`/api/calls/rooms`, `/api/calls/signal`) with a
//! real client against the real server and the in-memory registry. The
//! scenarios live in `signal_support/`, shared with other registries.

mod common;
mod signal_support;

signaling_suite!(&[]);
