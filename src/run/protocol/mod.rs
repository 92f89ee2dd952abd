//! The protocols a step speaks. Each sends, times, and hands back the
//! response; none evaluates checks or SLOs.

pub mod h1;
pub mod http;
pub mod sse;
