//! `trek plan`: prints the compiled step graph of each file, so a reviewer
//! sees a journey's shape, load and SLOs without reading YAML.

use super::prepare::{load_plan, print_diagnostics};
use super::{PlanArgs, PlanFormat, EXIT_INVALID};
use crate::plan::{self, render};

pub fn plan(args: &PlanArgs) -> i32 {
    let options = plan::Options {
        seed: 0,
        base_url: args.base_url.clone(),
        maybe_defined: None,
    };
    let format = match args.format {
        PlanFormat::Text => render::Format::Text,
        PlanFormat::Mermaid => render::Format::Mermaid,
        PlanFormat::Dot => render::Format::Dot,
    };
    let mut code = 0;
    for (i, file) in args.files.iter().enumerate() {
        let Some((_, compiled, warnings)) = load_plan(file, &options) else {
            code = EXIT_INVALID;
            continue;
        };
        print_diagnostics(&warnings);
        if i > 0 {
            println!();
        }
        print!("{}", render::render(&compiled, format));
    }
    code
}
