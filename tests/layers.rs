//! The layers, kept so: every `crate::` (and `super::`) path in `src/` points
//! into its own layer or a lower one, the folders of one layer do not import
//! each other, and no files or folders import each other in a circle.
//!
//! Layers, lowest first (ARCHITECTURE.md draws them):
//! `domain` (pure) ← `aws` | `render` | `term` (the edges) ← `app` (one module
//! per command) ← `cli` and the crate root (the ways in).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &["domain"]),
    ("edges", &["aws", "render", "term"]),
    ("app", &["app"]),
    ("entry", &["cli", "lib", "main"]),
];

/// A file's module path: `src/domain/facts.rs` → `["domain", "facts"]`,
/// `src/render/mod.rs` → `["render"]`, `src/lib.rs` → `["lib"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs").to_string();
    if stem != "mod" {
        parts.push(stem);
    }
    parts
}

fn layer_of(top: &str) -> Option<(usize, &'static str)> {
    LAYERS
        .iter()
        .enumerate()
        .find(|(_, (_, mods))| mods.contains(&top))
        .map(|(i, (name, _))| (i, *name))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every module path a line of code names: `crate::a::b::C`, `$crate::a`,
/// `super::x`, and each item of a `crate::a::{b, c::d}` group; `super`
/// resolved against `module`.
fn paths_in(line: &str, module: &[String]) -> Vec<Vec<String>> {
    let ident = |s: &str| -> usize {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = [rest.find("crate::"), rest.find("super::")]
        .into_iter()
        .flatten()
        .min()
    {
        let (base, skip) = if rest[at..].starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else {
            // The parent module: a `mod.rs` file's module path already
            // names its folder, so one step up either way.
            let mut m = module.to_vec();
            m.pop();
            (m, "super::".len())
        };
        if at > 0 && rest[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            rest = &rest[at + skip..];
            continue;
        }
        let mut s = &rest[at + skip..];
        let mut path = base;
        loop {
            if let Some(group) = s.strip_prefix('{') {
                // One level of a group: each item's first segment.
                let mut depth = 0;
                let mut end = group.len();
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            end = i;
                            break;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                for item in group[..end].split(',') {
                    let item = item.trim();
                    let n = ident(item);
                    if n > 0 && &item[..n] != "self" {
                        let mut p = path.clone();
                        p.push(item[..n].to_string());
                        found.push(p);
                    }
                }
                if !path.is_empty() {
                    found.push(path.clone());
                }
                path.clear();
                break;
            }
            let n = ident(s);
            if n == 0 {
                break;
            }
            path.push(s[..n].to_string());
            s = &s[n..];
            match s.strip_prefix("::") {
                Some(r) => s = r,
                None => break,
            }
        }
        if !path.is_empty() {
            found.push(path);
        }
        rest = s;
    }
    found
}

/// The file a module path lands in: the longest prefix that is a file of
/// the tree.
fn resolve(files: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| files.contains_key(p))
}

/// Strongly connected groups of more than one node (Tarjan).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        if let Some(next) = t.edges.get(v) {
            for w in next {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut group = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                group.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                t.out.push(group);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// What breaks the layering in the tree under `src`, one line each.
fn violations(src: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.sort();
    let files: BTreeMap<Vec<String>, PathBuf> = paths
        .iter()
        .map(|p| (module_of(src, p), p.clone()))
        .collect();
    let name = |m: &[String]| {
        files[m]
            .strip_prefix(src.parent().unwrap())
            .unwrap()
            .display()
            .to_string()
    };
    let mut out = Vec::new();
    let mut file_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut folder_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let top = &module[0];
        let Some((from_layer, from_name)) = layer_of(top) else {
            out.push(format!(
                "{} is in no layer (put it in one of {:?})",
                name(module),
                LAYERS
            ));
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        // Inside an inline `mod x { … }` (the tests), `super` is this file.
        let mut inline = false;
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if code.ends_with('{')
                && code
                    .trim_start_matches("pub ")
                    .trim_start_matches("pub(crate) ")
                    .starts_with("mod ")
            {
                inline = true;
            }
            let mut here = module.clone();
            if inline {
                here.push("(inline)".into());
            }
            for target in paths_in(line, &here) {
                let Some(tfile) = resolve(&files, &target) else {
                    continue;
                };
                if &tfile == module {
                    continue;
                }
                let ttop = &tfile[0];
                file_edges
                    .entry(name(module))
                    .or_default()
                    .insert(name(&tfile));
                if ttop != top {
                    folder_edges
                        .entry(top.clone())
                        .or_default()
                        .insert(ttop.clone());
                }
                let Some((to_layer, to_name)) = layer_of(ttop) else {
                    continue;
                };
                let at = format!("{}:{}", name(module), n + 1);
                if to_layer > from_layer {
                    out.push(format!(
                        "upward: {at} ({from_name}) imports {} ({to_name}): crate::{}",
                        name(&tfile),
                        target.join("::")
                    ));
                } else if to_layer == from_layer && ttop != top {
                    out.push(format!(
                        "sideways: {at} ({top}) imports {} ({ttop}): the {from_name} layer's folders \
                         stand side by side; what both need belongs lower",
                        name(&tfile)
                    ));
                }
            }
        }
    }
    for group in circles(&file_edges) {
        out.push(format!("circle between files: {}", group.join(" ⇄ ")));
    }
    for group in circles(&folder_edges) {
        out.push(format!("circle between folders: {}", group.join(" ⇄ ")));
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn imports_only_point_down_and_nothing_is_a_circle() {
    let v = violations(&src());
    assert!(v.is_empty(), "the layering is broken:\n{}", v.join("\n"));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

#[test]
fn an_upward_import_or_a_circle_is_named_with_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("src");
    copy_tree(&src(), &copy);
    // The pure core reaching up into a command.
    let text = copy.join("domain/text.rs");
    let mut body = std::fs::read_to_string(&text).unwrap();
    body.push_str("\n#[allow(unused_imports)]\nuse crate::app::Stop;\n");
    std::fs::write(&text, &body).unwrap();
    let v = violations(&copy);
    assert!(
        v.iter()
            .any(|l| l.starts_with("upward: src/domain/text.rs:")
                && l.contains("(domain) imports src/app/mod.rs (app)")),
        "{v:#?}"
    );
    // Two domain files importing each other.
    body.push_str("use crate::domain::org::OrgReport;\n");
    std::fs::write(&text, &body).unwrap();
    let v = violations(&copy);
    assert!(
        v.iter().any(|l| l.starts_with("circle between files:")
            && l.contains("src/domain/text.rs")
            && l.contains("src/domain/org.rs")),
        "{v:#?}"
    );
    // One edge folder leaning on another.
    let html = copy.join("render/html.rs");
    let mut body = std::fs::read_to_string(&html).unwrap();
    body.push_str("\nfn _w() -> Option<usize> { crate::term::out::stderr_width() }\n");
    std::fs::write(&html, body).unwrap();
    let v = violations(&copy);
    assert!(
        v.iter().any(
            |l| l.starts_with("sideways: src/render/html.rs:") && l.contains("src/term/out.rs")
        ),
        "{v:#?}"
    );
    // A module outside every layer.
    std::fs::write(copy.join("stray.rs"), "").unwrap();
    assert!(violations(&copy)
        .iter()
        .any(|l| l.starts_with("src/stray.rs is in no layer")));
}

#[test]
fn paths_are_read_from_uses_groups_macros_and_super() {
    let m = vec!["render".to_string(), "html".to_string()];
    let got = paths_in(
        "use crate::domain::{facts::Fact, org::{A, B}, self}; $crate::term::quiet(); super::escape(x)",
        &m,
    );
    let got: Vec<String> = got.iter().map(|p| p.join("::")).collect();
    assert!(got.contains(&"domain::facts".to_string()), "{got:?}");
    assert!(got.contains(&"domain::org".to_string()), "{got:?}");
    assert!(got.contains(&"term::quiet".to_string()), "{got:?}");
    assert!(got.contains(&"render::escape".to_string()), "{got:?}");
}
