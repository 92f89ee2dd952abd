//! trek: load testing for HTTP APIs.
//!
//! The flow, one direction: a scenario file is read into a model
//! (`scenario`), compiled into a plan (`plan`), run by virtual users
//! (`run`), measured (`metrics`), judged (`slo`) and reported (`report`).
//! `cli` holds the commands; `demo` is the embedded demo target.

mod cli;
mod demo;
mod diagnostic;
mod metrics;
mod plan;
mod report;
mod run;
mod scenario;
mod schema;
mod slo;
mod template;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    std::process::exit(cli::dispatch(cli));
}
