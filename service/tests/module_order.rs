//! The service crate's modules import one way, from the binary down to the
//! error type, as DataFusion's dependency check keeps its crates in order:
//!
//! ```text
//! cli, demo -> node -> serve -> exec -> cluster, read -> plan -> catalog, load -> cache, storage -> config -> error
//! ```
//!
//! A module may name (`use crate::x`, or `crate::x::...` in code) only modules
//! of lower layers; modules of one layer do not name each other. A new module
//! must be given a layer here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers, top first.
const LAYERS: &[&[&str]] = &[
    &["cli", "demo"],
    &["node"],
    &["serve"],
    &["exec"],
    &["cluster", "read"],
    &["plan"],
    &["catalog", "load"],
    &["cache", "storage"],
    &["config"],
    &["error"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules named by `crate::name` in the code (not comments) of `source`.
fn named_modules(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in source.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let preceded_by_ident = rest[..at].chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name.is_empty() && !preceded_by_ident {
                names.insert(name);
            }
            rest = after;
        }
    }
    names
}

#[test]
fn modules_import_downwards_only() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut wrong = vec![];
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module =
            relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(mine) = layer(&module) else {
            wrong.push(format!("{}: module `{module}` has no layer in tests/module_order.rs", relative.display()));
            continue;
        };
        for name in named_modules(&std::fs::read_to_string(file).unwrap()) {
            match layer(&name) {
                Some(theirs) if theirs > mine => {}
                Some(_) if name == module => {}
                // `crate::Result` and the like: what lib.rs re-exports from `error`.
                None if name.starts_with(char::is_uppercase) => {}
                _ => wrong.push(format!("{}: `{module}` names `crate::{name}`", relative.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the module order:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_imports() {
    let names =
        named_modules("use crate::plan::Planner;\n// crate::node in a comment\nlet x = crate::exec::f(); a_crate::x");
    assert_eq!(names, BTreeSet::from(["exec".to_string(), "plan".to_string()]));
}
