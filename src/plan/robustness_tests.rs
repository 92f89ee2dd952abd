//! No input makes loading or compiling panic: every bundled scenario,
//! truncated at every line and at random characters, and with random
//! characters replaced by YAML punctuation, must give a plan or diagnostics.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const BUNDLED: [&str; 3] = [
    include_str!("../../scenarios/smoke_endpoints.yaml"),
    include_str!("../../scenarios/wikipro_journey.yaml"),
    include_str!("../../scenarios/ryze_modules.yaml"),
];

fn load_and_compile(text: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/fuzz.yaml");
    let _ = super::validate(
        crate::scenario::load_str(&path, text),
        &super::Options::default(),
    );
}

fn survives(text: String) -> bool {
    catch_unwind(AssertUnwindSafe(|| load_and_compile(text))).is_ok()
}

#[test]
fn truncated_and_corrupted_scenarios_never_panic() {
    let mut rng = SmallRng::seed_from_u64(7);
    let junk = [
        ":", "-", "{", "}", "[", "]", "'", "\"", "&a", "*a", "{{", "}}", "\t", "\n", " ", "#", "!",
        "|", ">", "%", "@", "$", "\u{0}",
    ];
    let mut cases = 0;
    for text in BUNDLED {
        let chars: Vec<char> = text.chars().collect();
        let line_ends = text.match_indices('\n').map(|(i, _)| i);
        for end in line_ends {
            assert!(
                survives(text[..end].to_string()),
                "panic on prefix ending at byte {end}"
            );
            cases += 1;
        }
        for _ in 0..300 {
            let cut = rng.random_range(0..chars.len());
            let prefix: String = chars[..cut].iter().collect();
            assert!(survives(prefix.clone()), "panic on prefix {prefix:?}");
            let mut mutated = chars.clone();
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..mutated.len());
                let with = junk[rng.random_range(0..junk.len())];
                mutated.splice(at..=at, with.chars());
            }
            let mutated: String = mutated.into_iter().collect();
            assert!(survives(mutated.clone()), "panic on {mutated:?}");
            cases += 2;
        }
    }
    assert!(cases > 1500);
}
