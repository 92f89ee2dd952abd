//! `trek schema`: the JSON Schemas of scenario files and results, and the
//! key reference, printed or written where the repository keeps them.

use super::{SchemaArgs, SchemaKind};
use crate::schema;

pub fn schema(args: &SchemaArgs) -> i32 {
    if let Some(root) = &args.write {
        let files = [
            (schema::SCENARIO_SCHEMA_FILE, schema::scenario_schema()),
            (schema::RESULTS_SCHEMA_FILE, schema::results_schema()),
            (schema::KEYS_REFERENCE_FILE, schema::keys_reference()),
        ];
        for (rel, text) in files {
            let path = root.join(rel);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|_| std::fs::write(&path, text));
            if let Err(e) = written {
                eprintln!("trek: cannot write {}: {e}", path.display());
                return 1;
            }
            println!("wrote {}", path.display());
        }
        return 0;
    }
    let text = match args.format {
        SchemaKind::Scenario => schema::scenario_schema(),
        SchemaKind::Results => schema::results_schema(),
        SchemaKind::Reference => schema::keys_reference(),
    };
    print!("{text}");
    0
}
