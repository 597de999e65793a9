//! The file-level import graph of the crate: no two files (modules) may
//! import each other, directly or around a circle.
//!
//! Each source file of `src/` is a module, found from the crate roots
//! (`src/lib.rs`, `src/main.rs`) through their `mod name;` declarations
//! (a parent declaring `mod child;` is not an import). A file imports the
//! module of every `crate::…` and `super::…` path in it (a `use` with brace
//! groups, `use super::{a::X, b::{Y, Z}}`, names each branch; a path in an
//! expression counts as well), mapped to the file that defines it: the
//! longest prefix of the path that is a module with a file of its own
//! (`src/a/b.rs` or `src/a/b/mod.rs`). Comments, string and character
//! literals and `#[cfg(test)] mod … { … }` blocks are left out.
//!
//! The test fails listing every import circle (a strongly connected
//! component of more than one file) that is not in [`KNOWN_CIRCLES`], and
//! every entry of [`KNOWN_CIRCLES`] that no longer exists, so that the list
//! cannot go stale. It prints, without failing, the modules importing
//! upward (a file that imports its own ancestor module, the crate root
//! aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Import circles known to exist while the work that removes them is
/// under way, each as the sorted files of its component, relative to
/// `src/`. Empty: an entry that no longer matches a circle fails the test,
/// and so does a circle not listed here.
const KNOWN_CIRCLES: &[&[&str]] = &[];

/// A module of one crate: its path from the crate root and its file.
#[derive(Debug, Clone)]
struct Module {
    path: Vec<String>,
    file: PathBuf,
}

/// One crate's modules by path.
struct Crate {
    modules: BTreeMap<Vec<String>, Module>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// The source without comments, string, byte-string and character
/// literals (each replaced by a space; lifetimes are kept as they are).
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && !c[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string r"…", r#"…"# (or an identifier r#name).
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|h| c.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push(' ');
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c[i] == '\'' {
            // A character literal 'x', '\n', '\u{..}'; else a lifetime.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < c.len() && c[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push(' ');
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(' ');
            } else {
                out.push(c[i]);
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut t = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_alphabetic() || c[i] == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            t.push(Tok::Ident(c[start..i].iter().collect()));
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            t.push(Tok::Path);
            i += 2;
        } else if c[i].is_whitespace() || c[i].is_ascii_digit() {
            i += 1;
        } else {
            t.push(Tok::Punct(c[i]));
            i += 1;
        }
    }
    t
}

fn is_ident(t: Option<&Tok>, name: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s == name)
}

/// The tokens without `#[cfg(test)] mod name { … }` blocks.
fn without_test_modules(t: Vec<Tok>) -> Vec<Tok> {
    let cfg_test = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if t[i..].starts_with(&cfg_test) {
            // Skip further attributes and a visibility, then `mod name {`.
            let mut j = i + cfg_test.len();
            while t.get(j) == Some(&Tok::Punct('#')) {
                while j < t.len() && t[j] != Tok::Punct(']') {
                    j += 1;
                }
                j += 1;
            }
            if is_ident(t.get(j), "pub") {
                j += 1;
                if t.get(j) == Some(&Tok::Punct('(')) {
                    while j < t.len() && t[j] != Tok::Punct(')') {
                        j += 1;
                    }
                    j += 1;
                }
            }
            if is_ident(t.get(j), "mod") && t.get(j + 2) == Some(&Tok::Punct('{')) {
                let mut depth = 0;
                let mut k = j + 2;
                while k < t.len() {
                    match t[k] {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    k += 1;
                }
                i = k + 1;
                continue;
            }
        }
        out.push(t[i].clone());
        i += 1;
    }
    out
}

/// The paths of a use tree starting at `t[i]` (after a `::`), each
/// appended to `prefix`; returns the index after the tree.
fn use_tree(t: &[Tok], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match t.get(i) {
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match t.get(i) {
                        Some(Tok::Punct('}')) => return i + 1,
                        Some(Tok::Punct(',')) => i += 1,
                        None => return i,
                        _ => i = use_tree(t, i, &path, out),
                    }
                }
            }
            Some(Tok::Punct('*')) => {
                out.push(path);
                return i + 1;
            }
            Some(Tok::Ident(s)) if s == "self" => {
                out.push(path);
                return i + 1;
            }
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                i += 1;
                if t.get(i) == Some(&Tok::Path) {
                    i += 1;
                } else {
                    if is_ident(t.get(i), "as") {
                        i += 2;
                    }
                    out.push(path);
                    return i;
                }
            }
            _ => {
                out.push(path);
                return i;
            }
        }
    }
}

/// Every `crate::…` and `super::…` path of a module, made absolute.
fn referenced_paths(t: &[Tok], module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let after_path = i > 0 && (t[i - 1] == Tok::Path || t[i - 1] == Tok::Punct('$'));
        if !after_path && t.get(i + 1) == Some(&Tok::Path) {
            let base: Option<Vec<String>> = if is_ident(t.get(i), "crate") {
                i += 2;
                Some(Vec::new())
            } else if is_ident(t.get(i), "super") {
                let mut base = module.to_vec();
                while is_ident(t.get(i), "super") && t.get(i + 1) == Some(&Tok::Path) {
                    base.pop();
                    i += 2;
                }
                Some(base)
            } else {
                None
            };
            if let Some(base) = base {
                i = use_tree(t, i, &base, &mut out);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The `mod name;` declarations of a module's tokens.
fn child_modules(t: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    for w in t.windows(3) {
        if let [Tok::Ident(m), Tok::Ident(name), Tok::Punct(';')] = w {
            if m == "mod" {
                out.push(name.clone());
            }
        }
    }
    out
}

fn read_tokens(file: &Path) -> Vec<Tok> {
    let src = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    without_test_modules(tokens(&strip(&src)))
}

/// The modules of the crate rooted at `root`, through `mod name;`.
fn crate_modules(src: &Path, root: &Path) -> Crate {
    let mut modules = BTreeMap::new();
    let mut todo = vec![Module {
        path: Vec::new(),
        file: root.to_path_buf(),
    }];
    while let Some(m) = todo.pop() {
        let t = read_tokens(&m.file);
        // Children of `a/mod.rs`, `lib.rs`, `main.rs` live in `a/`; of
        // `a/b.rs` in `a/b/`.
        let dir = {
            let stem = m.file.file_stem().unwrap().to_str().unwrap();
            let parent = m.file.parent().unwrap().to_path_buf();
            if m.path.is_empty() || stem == "mod" {
                parent
            } else {
                parent.join(stem)
            }
        };
        for child in child_modules(&t) {
            let flat = dir.join(format!("{child}.rs"));
            let nested = dir.join(&child).join("mod.rs");
            let file = if flat.is_file() { flat } else { nested };
            assert!(
                file.is_file(),
                "{}: mod {child}; has no file under {}",
                m.file.display(),
                src.display()
            );
            let mut path = m.path.clone();
            path.push(child);
            todo.push(Module { path, file });
        }
        modules.insert(m.path.clone(), m);
    }
    Crate { modules }
}

/// A file's name relative to `src/`.
fn name(src: &Path, file: &Path) -> String {
    file.strip_prefix(src)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// Which files each file imports, by name relative to `src/`.
type Edges = BTreeMap<String, BTreeSet<String>>;

/// The import edges between files, and the upward ones (file → its
/// ancestor module, the crate root aside).
fn import_graph(src: &Path) -> (Edges, Vec<(String, String)>) {
    let mut edges = Edges::new();
    let mut upward = Vec::new();
    for root in ["lib.rs", "main.rs"] {
        let root = src.join(root);
        if !root.is_file() {
            continue;
        }
        let krate = crate_modules(src, &root);
        for m in krate.modules.values() {
            let from = name(src, &m.file);
            let targets = edges.entry(from.clone()).or_default();
            for path in referenced_paths(&read_tokens(&m.file), &m.path) {
                let target = (0..=path.len())
                    .rev()
                    .find_map(|n| krate.modules.get(&path[..n]))
                    .expect("the crate root is a module");
                if target.path == m.path {
                    continue;
                }
                let to = name(src, &target.file);
                if !target.path.is_empty()
                    && target.path.len() < m.path.len()
                    && m.path.starts_with(&target.path)
                    && !upward.contains(&(from.clone(), to.clone()))
                {
                    upward.push((from.clone(), to.clone()));
                }
                targets.insert(to);
            }
        }
    }
    (edges, upward)
}

/// Strongly connected components of more than one file, each sorted
/// (Tarjan).
fn circles(edges: &Edges) -> Vec<Vec<String>> {
    struct State<'g> {
        edges: &'g Edges,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(ws) = s.edges.get(v) {
            for w in ws {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found.sort();
    s.found
}

#[test]
fn no_import_circles_between_files() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (edges, upward) = import_graph(&src);
    println!(
        "modules importing upward (file -> its ancestor module): {}",
        upward.len()
    );
    for (from, to) in &upward {
        println!("  {from} -> {to}");
    }
    let found = circles(&edges);
    let known: Vec<Vec<String>> = KNOWN_CIRCLES
        .iter()
        .map(|c| {
            let mut c: Vec<String> = c.iter().map(|s| s.to_string()).collect();
            c.sort();
            c
        })
        .collect();
    let mut problems = Vec::new();
    for c in &found {
        if !known.contains(c) {
            let inner: Vec<String> = c
                .iter()
                .map(|f| {
                    let to: Vec<&str> = edges[f]
                        .iter()
                        .filter(|t| c.contains(t))
                        .map(String::as_str)
                        .collect();
                    format!("    {f} imports {}", to.join(", "))
                })
                .collect();
            problems.push(format!(
                "import circle: {}\n{}",
                c.join(", "),
                inner.join("\n")
            ));
        }
    }
    for c in &known {
        if !found.contains(c) {
            problems.push(format!(
                "KNOWN_CIRCLES lists {} but no such circle exists any more: remove it from the list",
                c.join(", ")
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn use_trees_and_comments_are_read_as_the_compiler_reads_them() {
    let src = r##"
        // use crate::commented::Out;
        /* crate::block::Out /* nested */ crate::still::Out */
        use super::{a::X, b::{Y, Z}, c};
        use crate::{d::e::F, g as h, i::*};
        fn f<'a>(x: &'a str) -> char { let _ = "crate::string::Out"; crate::j::k(x); '{' }
        const RAW: &str = r#"crate::raw::Out"#;
        pub(crate) fn g() {}
        #[cfg(test)]
        mod tests {
            use crate::test_only::Out;
        }
    "##;
    let t = without_test_modules(tokens(&strip(src)));
    let module = vec!["m".to_string(), "n".to_string()];
    let paths: Vec<String> = referenced_paths(&t, &module)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        paths,
        ["m::a::X", "m::b::Y", "m::b::Z", "m::c", "d::e::F", "g", "i", "j::k"]
    );
    let up = referenced_paths(&tokens("use super::super::x::Y;"), &module);
    assert_eq!(up, [vec!["x".to_string(), "Y".to_string()]]);
    assert_eq!(
        child_modules(&tokens("pub mod a; mod b; mod c { }")),
        ["a", "b"]
    );
}
