//! `trek init`: writes a commented starter scenario (a journey, CRUD with
//! fake data, or streaming) that validates clean and runs against the demo
//! target as written, with the editor-schema modeline set up.

use std::path::{Path, PathBuf};

use super::{InitArgs, InitTemplate, EXIT_INVALID};
use crate::schema;

const JOURNEY: &str = include_str!("init/journey.yaml");
const CRUD: &str = include_str!("init/crud.yaml");
const STREAMING: &str = include_str!("init/streaming.yaml");

/// The name of the schema file written beside a new scenario when no
/// `schemas/scenario.schema.json` is found above it.
const LOCAL_SCHEMA: &str = "trek.schema.json";

pub fn init(args: &InitArgs) -> i32 {
    let path = scenario_path(&args.name);
    if path.exists() && !args.force {
        eprintln!(
            "trek: {} already exists; choose another name, or pass --force to overwrite it",
            path.display()
        );
        return EXIT_INVALID;
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Err(e) = std::fs::create_dir_all(&folder) {
        eprintln!("trek: cannot create {}: {e}", folder.display());
        return 1;
    }
    let schema_ref = match schema_above(&folder) {
        Some(rel) => rel,
        None => {
            let local = folder.join(LOCAL_SCHEMA);
            if !local.exists() {
                if let Err(e) = std::fs::write(&local, schema::scenario_schema()) {
                    eprintln!("trek: cannot write {}: {e}", local.display());
                    return 1;
                }
                println!("wrote {} (the editor schema)", local.display());
            }
            LOCAL_SCHEMA.to_string()
        }
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = starter(args.template)
        .replacen("SCHEMA", &schema_ref, 1)
        .replace("NAME.yaml", &file_name);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("trek: cannot write {}: {e}", path.display());
        return 1;
    }
    println!("wrote {}", path.display());
    println!(
        "next: trek demo-target &  then  trek run {} --smoke",
        path.display()
    );
    0
}

/// The text of a starter, with `SCHEMA` and `NAME.yaml` still to fill in.
pub fn starter(template: InitTemplate) -> &'static str {
    match template {
        InitTemplate::Journey => JOURNEY,
        InitTemplate::Crud => CRUD,
        InitTemplate::Streaming => STREAMING,
    }
}

fn scenario_path(name: &Path) -> PathBuf {
    match name.extension() {
        Some(e) if e == "yaml" || e == "yml" => name.to_path_buf(),
        _ => {
            let mut p = name.as_os_str().to_owned();
            p.push(".yaml");
            PathBuf::from(p)
        }
    }
}

/// `../schemas/scenario.schema.json` (as many `..` as needed) when a folder
/// above `folder` holds the schema, as in a clone of trek's repository.
fn schema_above(folder: &Path) -> Option<String> {
    let start = std::fs::canonicalize(folder).ok()?;
    for (up, dir) in start.ancestors().enumerate() {
        if dir.join(schema::SCENARIO_SCHEMA_FILE).is_file() {
            return Some(format!(
                "{}{}",
                "../".repeat(up),
                schema::SCENARIO_SCHEMA_FILE
            ));
        }
    }
    None
}
