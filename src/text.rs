//! User text in messages: what a file or a key holds (a scene's strings,
//! an image header's lines, a file's first bytes) is shown with its
//! control characters escaped ([`escape`]) and, where it may be long or
//! binary, cut to a stated length ([`excerpt`]): a message never carries
//! raw bytes that a terminal would act on (escape sequences, bells,
//! carriage returns) or a screenful of binary data.

use std::fmt::Write;
use std::path::Path;

/// Characters of an [`excerpt`] kept before it is cut.
pub const EXCERPT_CHARS: usize = 60;

/// Whether `c` is shown escaped: control characters (C0, DEL, C1) and the
/// invisible format characters that reorder or hide text (zero-width
/// spaces and joiners, bidirectional embeddings, overrides and isolates,
/// the byte-order mark).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// `s` with every control or invisible format character escaped as Rust
/// writes it (`\n`, `\t`, `\u{1b}`); everything else as is.
pub fn escape(s: &str) -> String {
    if !s.chars().any(hidden) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hidden(c) {
            // `escape_debug` spells \n, \t, \r, \0 and \u{..} for the
            // rest, but leaves some format characters as they are.
            if c.escape_debug().nth(1).is_some() {
                let _ = write!(out, "{}", c.escape_debug());
            } else {
                let _ = write!(out, "{}", c.escape_unicode());
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// [`escape`] of the first [`EXCERPT_CHARS`] characters of `s`, followed
/// by `…` and the length of the whole when `s` is longer.
pub fn excerpt(s: &str) -> String {
    let n = s.chars().count();
    if n <= EXCERPT_CHARS {
        return escape(s);
    }
    let head: String = s.chars().take(EXCERPT_CHARS).collect();
    format!("{}… ({n} characters)", escape(&head))
}

/// A path as a message shows it: [`escape`] of its display form.
pub fn path(p: &Path) -> String {
    escape(&p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape("rd-80 µm × 2"), "rd-80 µm × 2");
        assert_eq!(escape("a\u{1b}[31mb\u{7}"), "a\\u{1b}[31mb\\u{7}");
        assert_eq!(escape("x\ny\tz\r\0"), "x\\ny\\tz\\r\\0");
        assert_eq!(escape("\u{202e}abc\u{200b}"), "\\u{202e}abc\\u{200b}");
        assert!(escape("\u{85}\u{9b}").chars().all(|c| !c.is_control()));
    }

    #[test]
    fn an_excerpt_is_cut_and_says_how_long_the_whole_is() {
        assert_eq!(excerpt("short"), "short");
        let long = "\u{1}".repeat(100);
        let e = excerpt(&long);
        assert!(e.ends_with("… (100 characters)"), "{e}");
        assert_eq!(e.matches("\\u{1}").count(), EXCERPT_CHARS);
        assert!(e.chars().all(|c| !c.is_control()));
    }
}
