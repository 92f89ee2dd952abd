//! The `trek` command; everything it does lives in the library (`src/lib.rs`).

use clap::Parser;
use trek::cli;

fn main() {
    let cli = cli::Cli::parse();
    std::process::exit(cli::dispatch(cli));
}
