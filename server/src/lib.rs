//! Reference backend of ice-peer: `GET /api/calls/ice-servers` behind HS256 JWTs,
//! with an embedded TURN server, TURN-REST (coturn) or Twilio as the source of servers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dev;
pub mod http;
pub mod log_limit;
pub mod permits;
pub mod providers;
pub mod rate;
pub mod routes;
pub mod secret;
pub mod signal;
pub mod state;
pub mod static_files;
