//! One file per step kind that speaks to the target: each renders its
//! message from the user's variables, goes through its protocol
//! (`run/protocol/`), checks and captures what came back, and records it.

pub mod http;
pub mod sse;
pub mod websocket;
