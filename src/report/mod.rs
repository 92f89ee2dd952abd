//! Reports: one file per format, each rendered from [`results::Results`]
//! only (no statistics are computed here).

pub mod console;
pub mod json;
pub mod results;
