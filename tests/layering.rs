//! The layering ARCHITECTURE.md states, checked on the sources: each module of `src/` imports
//! (`crate::X`) only the modules its row allows. The rows are in dependency order, and a row may
//! only allow rows above it, so the table itself has no cycle. Test code (`*tests.rs` files and
//! a file's inline `#[cfg(test)] mod … {` at its end) may borrow fixtures from anywhere.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and what it may import, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    ("proto", &[]),
    ("settings_table", &["proto"]),
    ("model", &["proto"]),
    ("present", &["proto", "model"]),
    ("app", &["proto", "model", "present"]),
    ("ui", &["proto", "model", "present", "app"]),
    ("headless", &["proto", "model", "present"]),
    ("net", &["proto", "model"]),
    ("store", &["proto", "model"]),
    ("cli", &["settings_table", "store"]),
    (
        "config",
        &["proto", "settings_table", "model", "net", "store", "cli"],
    ),
    ("session", &["proto", "model", "net", "store"]),
    (
        "front",
        &[
            "proto", "model", "present", "app", "net", "store", "config", "session",
        ],
    ),
    (
        "run",
        &[
            "proto",
            "settings_table",
            "model",
            "present",
            "app",
            "ui",
            "headless",
            "net",
            "store",
            "cli",
            "config",
            "session",
            "front",
        ],
    ),
];

/// The crate root and the binary see everything.
const ROOTS: &[&str] = &["lib", "main"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let first = file
        .strip_prefix(src)
        .expect("under src/")
        .components()
        .next()
        .expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_string()
}

/// The code a layer's rules apply to: comments and a trailing inline test module left out.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod ") && next.contains('{'))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// Every module of parlor's that `code` names as `crate::X`, also in `use crate::{X, Y::…}`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let preceded = code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if preceded {
            continue; // `$crate::`, `other_crate::`
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group only: `{a, b::{c, d}}` names a and b.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        start = false;
                        found.insert(ident(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

fn allowed(module: &str) -> Option<&'static [&'static str]> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, may)| *may)
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let module = module_of(&src, file);
        if ROOTS.contains(&module.as_str()) {
            continue;
        }
        let Some(may) = allowed(&module) else {
            broken.push(format!(
                "{}: module `{module}` has no row in LAYERS (add it, and to ARCHITECTURE.md)",
                file.display()
            ));
            continue;
        };
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with("tests.rs") {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(file).expect("a source file is readable");
        for import in imports(&code_of(&text)) {
            if import != module && !may.contains(&import.as_str()) {
                broken.push(format!(
                    "{}: `{module}` imports `crate::{import}`, which its layer may not",
                    file.display()
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} files checked: is src/ there?"
    );
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn the_table_has_no_cycle_and_names_only_its_own_rows() {
    for (at, (module, may)) in LAYERS.iter().enumerate() {
        let above: Vec<&str> = LAYERS[..at].iter().map(|(name, _)| *name).collect();
        for import in *may {
            assert!(
                above.contains(import),
                "`{module}` may import `{import}`, which is not a row above it"
            );
        }
    }
}

#[test]
fn imports_are_found_in_every_form_and_comments_and_tests_skipped() {
    let code = code_of(
        "use crate::proto::wire::FileRef;\n\
         use crate::{model::NetView, present::{net, time}};\n\
         fn f() { crate::store::open(); $crate::x(); other_crate::y(); }\n\
         /// See [`crate::session`].\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::front::Core;\n}\n",
    );
    let found: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(found, ["model", "present", "proto", "store"]);
}
