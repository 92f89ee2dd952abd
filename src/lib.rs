//! trek: load testing for HTTP APIs.
//!
//! The flow, one direction: a scenario file is read into a model
//! (`scenario`), compiled into a plan (`plan`), run by virtual users
//! (`run`), measured (`metrics`), judged (`slo`) and reported (`report`).
//! `cli` holds the commands; `demo` is the embedded demo target.
//!
//! The modules are public for the binary and for the micro-benchmarks in
//! `benches/`; trek makes no promise about them as a library.

pub mod cli;
pub mod demo;
pub mod diagnostic;
pub mod events;
pub mod format;
pub mod k8s;
pub mod live;
pub mod metrics;
pub mod plan;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod template;
pub mod verdict;
