//! `trek k8s FILE --parts N --image IMAGE`: the Kubernetes manifests that
//! run a test split into N parts (see `k8s.rs` and docs/distributed.md).
//! The file is checked as `trek run` would, its files gathered, every part
//! given the same seed and start instant.

use std::path::Path;

use super::prepare::{load_plan, print_diagnostics};
use super::{K8sArgs, EXIT_INVALID};
use crate::k8s::{name_of, relative, tidy, Manifests, Shipped};
use crate::run::segment::{Segment, MAX_PARTS};
use crate::scenario::units::parse_duration;

pub fn k8s(args: &K8sArgs) -> i32 {
    match manifests(args) {
        Ok(text) => match &args.out {
            Some(path) => match std::fs::write(path, text) {
                Ok(()) => {
                    eprintln!(
                        "trek: wrote {}; `kubectl apply -f {}` starts the parts",
                        path.display(),
                        path.display()
                    );
                    0
                }
                Err(e) => {
                    eprintln!("trek: cannot write {}: {e}", path.display());
                    super::EXIT_UNWRITTEN
                }
            },
            None => {
                print!("{text}");
                0
            }
        },
        Err(e) => {
            eprintln!("trek: {e}");
            EXIT_INVALID
        }
    }
}

fn manifests(args: &K8sArgs) -> Result<String, String> {
    if args.parts == 0 || args.parts > MAX_PARTS {
        return Err(format!("--parts must be 1 to {MAX_PARTS}"));
    }
    if args.cpu == 0 {
        return Err("--cpu must be at least 1".into());
    }
    let seed = args.seed.unwrap_or_else(rand::random);
    let start_at = match &args.start_at {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t.trim())
            .map_err(|e| format!("--start-at `{t}`: {e}"))?
            .with_timezone(&chrono::Utc),
        None => {
            let delay = parse_duration(&args.start_in).map_err(|e| format!("--start-in: {e}"))?;
            let delay =
                chrono::Duration::from_std(delay).map_err(|e| format!("--start-in: {e}"))?;
            chrono::Utc::now() + delay
        }
    };
    let start_at = start_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    parse_duration(&args.start_tolerance).map_err(|e| format!("--start-tolerance: {e}"))?;
    let options = crate::plan::Options {
        seed,
        base_url: args.base_url.clone(),
        maybe_defined: None,
    };
    let Some((test, plan, warnings)) = load_plan(&args.file, &options) else {
        return Err(format!("{} is not valid (see above)", args.file.display()));
    };
    print_diagnostics(&warnings);
    if plan.scenarios.is_empty() {
        return Err(format!("{} has no scenario to run", args.file.display()));
    }
    let whole = Segment {
        index: 0,
        count: args.parts,
    };
    for idle in super::part::idle_scenarios(
        &plan,
        Segment {
            index: args.parts - 1,
            ..whole
        },
    ) {
        eprintln!("trek: warning: {idle}");
    }
    // The first part is the largest.
    let peak_users: u64 = plan
        .scenarios
        .iter()
        .map(|s| whole.share(crate::run::max_vus(&s.load.executor)))
        .sum();
    let parent = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let folder = tidy(
        &std::path::absolute(parent)
            .map_err(|e| format!("cannot find the folder of {}: {e}", args.file.display()))?,
    );
    let ship = |path: &Path, secret: bool| -> Result<Shipped, String> {
        let full =
            tidy(&std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?);
        let rel = relative(&folder, &full).ok_or_else(|| {
            format!(
                "{} lies outside the scenario's folder {}: a part's files are mounted in one folder; move it (or a copy) under it",
                path.display(),
                folder.display()
            )
        })?;
        let bytes =
            std::fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))?;
        Ok(Shipped {
            path: rel,
            bytes,
            secret,
        })
    };
    let mut files = vec![ship(&args.file, false)?];
    for f in &test.files {
        files.push(ship(&f.path, f.secret)?);
    }
    let scenario = files[0].path.clone();
    let name = match &args.name {
        Some(n) if name_of(n, 52) == *n => n.clone(),
        Some(n) => {
            return Err(format!(
                "--name `{n}`: a Kubernetes name is lower-case letters, digits and `-`, at most 52 characters (try `{}`)",
                name_of(n, 52)
            ))
        }
        None => format!("trek-{}", name_of(&plan.name, 47)),
    };
    let run_args = vec![
        "--start-at".to_string(),
        start_at.clone(),
        "--start-tolerance".into(),
        args.start_tolerance.clone(),
        "--seed".into(),
        seed.to_string(),
    ];
    // Read by `trek run` from TREK_BASE_URL, out of the Secret: a URL may
    // carry a password.
    let secret_env: Vec<(String, String)> = args
        .base_url
        .iter()
        .map(|u| ("TREK_BASE_URL".to_string(), u.clone()))
        .collect();
    let m = Manifests {
        name,
        namespace: args.namespace.clone(),
        image: args.image.clone(),
        parts: args.parts,
        scenario,
        files,
        run_args,
        secret_env,
        cpu: args.cpu,
        peak_users,
        made_from: format!(
            "Made by trek {} from {}: {} parts starting at {start_at}, seed {seed}",
            env!("CARGO_PKG_VERSION"),
            args.file.display(),
            args.parts
        ),
    };
    eprintln!(
        "trek: {} parts of {} users at most each, {} CPU and {} MiB each; they start at {start_at}",
        args.parts,
        peak_users,
        args.cpu,
        m.memory_mib()
    );
    m.render()
}
