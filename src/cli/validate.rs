//! `trek validate`: every check that needs no request, for CI and editors.

use super::load::{load_plan, print_diagnostics};
use super::{ValidateArgs, EXIT_INVALID};
use crate::plan;

pub fn validate(args: &ValidateArgs) -> i32 {
    let mut code = 0;
    for file in &args.files {
        let options = plan::Options {
            seed: 0,
            base_url: std::env::var("TREK_BASE_URL").ok(),
        };
        match load_plan(file, &options) {
            None => code = EXIT_INVALID,
            Some((_, plan, warnings)) => {
                print_diagnostics(&warnings);
                if args.deny_warnings && !warnings.is_empty() {
                    code = EXIT_INVALID;
                }
                println!(
                    "ok: {} ({} scenario{}, {} measured step{})",
                    file.display(),
                    plan.scenarios.len(),
                    if plan.scenarios.len() == 1 { "" } else { "s" },
                    plan.steps.len(),
                    if plan.steps.len() == 1 { "" } else { "s" },
                );
            }
        }
    }
    code
}
