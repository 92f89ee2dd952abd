//! The protocols a step speaks. Each sends, times, and hands back the
//! response; none evaluates checks or SLOs.

pub mod cookies;
pub mod decode;
pub mod h1;
pub mod h2;
pub mod headers;
pub mod http;
pub mod payload;
pub mod proxy;
pub mod side;
pub mod sse;
pub mod stream;
pub mod tls;
pub mod websocket;
pub mod wire;
