//! The library's messages name a command's arguments as the Python front end
//! does (`max_solves=0`), never by a command-line flag (`--max-solves 0`):
//! a Python user has no flags. The binary turns the names into flags where
//! it prints an error (`cli::with_flags`, unit-tested there; the CLI tests
//! check the flags a user sees).
//!
//! This test reads every string literal of the library's source (`src/`
//! but `src/main.rs` and `src/cli/`) outside comments and fails on each
//! `--name` in one, except in a command line quoted for the user to run
//! (a literal naming `voxfe COMMAND`) and in the few literals listed in
//! [`COMMAND_LINE_DATA`], which record or print a command line as data.

use std::path::{Path, PathBuf};

/// Literals that are command-line text on purpose, by file and a piece of
/// the literal: what `voxfe calibrate` prints to paste after a command
/// (its `pin`, a JSON field), and a sweep's provenance, which records its
/// variations as the flags that gave them.
const COMMAND_LINE_DATA: &[(&str, &str)] = &[
    ("study/calibrate.rs", "--set voxel.fill=fraction"),
    ("study/calibrate.rs", " --set solver.element="),
    ("study/sweep/mod.rs", "--vary {v}"),
];

/// The string literals of `src`, comments left out, each with its line.
fn literals(src: &str) -> Vec<(usize, String)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let next = c.get(i + 1).copied();
        match c[i] {
            '\n' => line += 1,
            '/' if next == Some('/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
                i += 2;
                continue;
            }
            // A character literal ('"', '\''); a lifetime has no closing quote
            // two or three characters on.
            '\'' if c.get(i + 2) == Some(&'\'') => i += 2,
            '\'' if next == Some('\\') && c.get(i + 3) == Some(&'\'') => i += 3,
            'r' if next == Some('#') || (next == Some('"') && (i == 0 || !ident(c[i - 1]))) => {
                // A raw string r"…" or r#"…"#.
                let mut j = i + 1;
                let mut hashes = 0;
                while c.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if c.get(j) == Some(&'"') {
                    let start = line;
                    let mut text = String::new();
                    j += 1;
                    while j < c.len() {
                        if c[j] == '"' && (1..=hashes).all(|k| c.get(j + k) == Some(&'#')) {
                            break;
                        }
                        line += usize::from(c[j] == '\n');
                        text.push(c[j]);
                        j += 1;
                    }
                    out.push((start, text));
                    i = j + 1 + hashes;
                    continue;
                }
            }
            '"' => {
                let start = line;
                let mut text = String::new();
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        text.push(c[i]);
                        i += 1;
                    }
                    line += usize::from(c[i] == '\n');
                    text.push(c[i]);
                    i += 1;
                }
                out.push((start, text));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Each `--name` in `text` (a flag: two dashes, a lowercase letter).
fn flags(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        let after = &rest[at + 2..];
        let before_ok = rest[..at]
            .chars()
            .last()
            .is_none_or(|p| !ident(p) && p != '-');
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        if before_ok && name.starts_with(|c: char| c.is_ascii_lowercase()) {
            out.push(format!("--{name}"));
        }
        rest = &after[name.len()..];
    }
    out
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

#[test]
fn library_messages_name_arguments_not_flags() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut used = vec![false; COMMAND_LINE_DATA.len()];
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "main.rs" || rel.starts_with("cli/") {
            continue;
        }
        for (line, text) in literals(&std::fs::read_to_string(file).unwrap()) {
            let named = flags(&text);
            if named.is_empty() || text.contains("voxfe ") {
                continue;
            }
            if let Some(k) = COMMAND_LINE_DATA
                .iter()
                .position(|(f, piece)| *f == rel && text.contains(piece))
            {
                used[k] = true;
                continue;
            }
            found.push(format!(
                "src/{rel}:{line}: {} in \"{text}\"",
                named.join(", ")
            ));
        }
    }
    let stale: Vec<_> = COMMAND_LINE_DATA
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(d, _)| format!("{d:?}"))
        .collect();
    assert!(
        found.is_empty() && stale.is_empty(),
        "library literals naming command-line flags (name the argument as `name=value`; \
         the CLI shows the flag):\n{}\nentries of COMMAND_LINE_DATA matching nothing:\n{}",
        found.join("\n"),
        stale.join("\n")
    );
}

#[test]
fn the_reader_finds_flags_in_literals_only() {
    let src = r##"
        // "--in-a-comment"
        /* "--in-a-block" */
        let a = "max_solves=0, not --max-solves 0";
        let b = r#"raw "--raw-flag" here"#;
        let c = '"'; let d = "a-b --c--d e--f";
        fn f<'a>(x: &'a str) -> &'a str { "--lifetime-ok" }
    "##;
    let lits = literals(src);
    let texts: Vec<&str> = lits.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "max_solves=0, not --max-solves 0",
            "raw \"--raw-flag\" here",
            "a-b --c--d e--f",
            "--lifetime-ok"
        ]
    );
    assert_eq!(lits[0].0, 4);
    assert_eq!(flags(texts[0]), ["--max-solves"]);
    assert_eq!(flags(texts[1]), ["--raw-flag"]);
    assert_eq!(flags(texts[2]), ["--c--d"]);
    assert!(flags("e--f x-- --1 --X").is_empty());
}
