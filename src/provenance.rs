//! What produced a result ([`Provenance`]): voxfe's version and the git
//! commit it was built from (embedded by `build.rs`; `unknown` for a build
//! outside a git checkout), the scene (its file's path and the hash of its
//! text, and the canonical TOML of the parsed scene with its hash), the
//! overrides (`--set`, and a sweep case's `--vary` values), the backend and
//! adapter, and the date.
//!
//! Every output carries it: `run --json`, `voxelize --json`, sweep rows
//! and `sweep.json` (an object `provenance`), `results.csv` (columns
//! [`CSV_COLUMNS`]), `summary.md` (a short block), VTK files (string field
//! data, [`Provenance::pairs`]) and PNGs (text chunks, [`add_png_text`]).
//!
//! Hashes are [`scene_hash`] (FNV-1a 64): `scene_file_hash`
//! of the file's bytes (the value `sweep.json`'s `scene_hash` holds),
//! `scene_hash` of the canonical TOML (the scene after overrides, defaults
//! filled in: two runs with the same `scene_hash` solved the same scene,
//! however their files were written).
//!
//! The date (UTC, RFC 3339, whole seconds) is metadata: it enters no
//! number.

use crate::scene::Scene;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// voxfe's version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit of the build (40 hex digits), or `unknown`.
pub const COMMIT: &str = env!("VOXFE_GIT_COMMIT");
/// `true` when the build's tracked files differed from [`COMMIT`],
/// `false`, or `unknown`.
pub const DIRTY: &str = env!("VOXFE_GIT_DIRTY");

/// The provenance fields `results.csv` carries as columns (the whole
/// object is in `results.jsonl`).
pub const CSV_COLUMNS: [&str; 4] = ["voxfe_version", "commit", "scene_hash", "scene_file_hash"];

/// What produced a result. Field order is the JSON order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// voxfe's version.
    pub voxfe_version: String,
    /// The git commit voxfe was built from, or `unknown`.
    pub commit: String,
    /// Whether the build's tracked files differed from `commit` (`None`:
    /// unknown).
    pub dirty: Option<bool>,
    /// The scene file as given on the command line.
    pub scene_path: String,
    /// Hash of the scene file's bytes as read (`fnv1a64:…`), or `unknown`
    /// for a scene not read from a file.
    pub scene_file_hash: String,
    /// Hash of `scene`, the canonical TOML.
    pub scene_hash: String,
    /// The parsed scene, overrides applied and defaults filled in, as TOML.
    pub scene: String,
    /// The overrides applied to the file, as `key=value` (`--set`, then a
    /// sweep case's varied values).
    pub overrides: Vec<String>,
    /// The backend that solved (`cpu`, `gpu`), or asked for; `None` where
    /// nothing is solved.
    pub backend: Option<String>,
    /// The adapter that solved (`None` where nothing is solved).
    pub adapter: Option<String>,
    /// When the run that made the result started (before its solve): UTC,
    /// RFC 3339.
    pub date: String,
}

impl Provenance {
    /// The provenance of `scene` (its file, the hash of the file's text as
    /// it was read, and its overrides and edits), made now, before any
    /// solve (no backend yet). Nothing is read again.
    pub fn of_scene(scene: &Scene) -> Provenance {
        let canonical = canonical_toml(scene);
        let file_hash = scene.file_hash();
        Provenance {
            voxfe_version: VERSION.to_string(),
            commit: COMMIT.to_string(),
            dirty: DIRTY.parse().ok(),
            scene_path: scene.path().display().to_string(),
            scene_file_hash: if file_hash.is_empty() {
                "unknown".into()
            } else {
                file_hash.to_string()
            },
            scene_hash: scene_hash(canonical.as_bytes()),
            scene: canonical,
            overrides: scene.overrides().to_vec(),
            backend: None,
            adapter: None,
            date: rfc3339_utc(std::time::SystemTime::now()),
        }
    }

    /// The same, with the backend and adapter that solved.
    pub fn with_backend(mut self, backend: &str, adapter: &str) -> Provenance {
        self.backend = Some(backend.to_string());
        self.adapter = Some(adapter.to_string());
        self
    }

    /// As a JSON value (an object).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("provenance serializes")
    }

    /// `value` (a struct or map, serialized to a JSON object) with this
    /// provenance as its last field, `provenance`.
    pub fn add_to(&self, value: impl Serialize) -> serde_json::Value {
        let mut v = serde_json::to_value(value).expect("a report serializes");
        if let Some(m) = v.as_object_mut() {
            m.insert("provenance".into(), self.to_json());
        }
        v
    }

    /// Every field as a `(name, text)` pair, in JSON order: the strings
    /// of VTK field data and of PNG text chunks. `dirty`, `backend` and
    /// `adapter` read `unknown` or `none` when absent; `overrides` is one
    /// line, space-separated.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        vec![
            ("voxfe_version", self.voxfe_version.clone()),
            ("commit", self.commit.clone()),
            (
                "dirty",
                self.dirty.map_or("unknown".into(), |d| d.to_string()),
            ),
            ("scene_path", self.scene_path.clone()),
            ("scene_file_hash", self.scene_file_hash.clone()),
            ("scene_hash", self.scene_hash.clone()),
            ("scene", self.scene.clone()),
            ("overrides", self.overrides.join(" ")),
            ("backend", opt(&self.backend)),
            ("adapter", opt(&self.adapter)),
            ("date", self.date.clone()),
        ]
    }

    /// A short Markdown block (for `summary.md`): version, commit, scene
    /// path and hashes, overrides, backend and date.
    pub fn markdown(&self) -> String {
        let mut s = String::from("## Provenance\n\n");
        let dirty = match self.dirty {
            Some(true) => " (uncommitted changes)",
            _ => "",
        };
        s.push_str(&format!(
            "- voxfe {}, commit {}{dirty}\n",
            self.voxfe_version, self.commit
        ));
        s.push_str(&format!(
            "- scene `{}` (file {}, canonical {})\n",
            self.scene_path, self.scene_file_hash, self.scene_hash
        ));
        if !self.overrides.is_empty() {
            s.push_str(&format!("- overrides `{}`\n", self.overrides.join(" ")));
        }
        if let Some(b) = &self.backend {
            s.push_str(&format!("- backend {b}"));
            if let Some(a) = &self.adapter {
                s.push_str(&format!(" ({a})"));
            }
            s.push('\n');
        }
        s.push_str(&format!("- date {}\n", self.date));
        s
    }
}

/// FNV-1a 64 of `bytes`, as `fnv1a64:` and 16 hex digits: stable across
/// builds and platforms, to tell whether a scene file changed.
pub fn scene_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// The canonical TOML of a parsed scene: every key with its value after
/// overrides and defaults, tables in the scene's order.
pub fn canonical_toml(scene: &Scene) -> String {
    toml::to_string(scene).expect("a parsed scene serializes to TOML")
}

/// `t` as UTC RFC 3339 with whole seconds, e.g. `2026-11-26T09:21:38Z`
/// (times before 1970 read as 1970).
pub fn rfc3339_utc(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date of a day count (H. Hinnant's days_from_civil, inverted).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Why text could not be added to a PNG.
#[derive(Debug, thiserror::Error)]
pub enum PngTextError {
    #[error("cannot add text to PNG '{path}': {error}")]
    Io { path: String, error: std::io::Error },
    #[error("cannot add text to PNG '{path}': not a PNG file (no IHDR chunk first)")]
    NotPng { path: String },
}

/// Adds `pairs` to the PNG file at `path` as text chunks right after its
/// header chunk: `tEXt` when key and text are ASCII, else `iTXt` (UTF-8).
/// Keys must be 1 to 79 printable ASCII characters (as [`Provenance::pairs`]'
/// names are). The image data is untouched.
pub fn add_png_text(path: &Path, pairs: &[(&str, String)]) -> Result<(), PngTextError> {
    let io = |error| PngTextError::Io {
        path: path.display().to_string(),
        error,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    const SIGNATURE: [u8; 8] = [137, 80, 78, 71, 13, 10, 26, 10];
    // Signature, then IHDR: length (13), type, data, CRC.
    let ihdr_end = 8 + 4 + 4 + 13 + 4;
    if bytes.len() < ihdr_end || bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return Err(PngTextError::NotPng {
            path: path.display().to_string(),
        });
    }
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    out.extend_from_slice(&bytes[..ihdr_end]);
    for (key, text) in pairs {
        debug_assert!(
            (1..80).contains(&key.len()) && key.bytes().all(|b| (32..127).contains(&b)),
            "PNG text keyword '{key}'"
        );
        let mut data = key.as_bytes().to_vec();
        data.push(0);
        let kind = if text.is_ascii() {
            b"tEXt"
        } else {
            // Not compressed, no language tag, no translated keyword.
            data.extend_from_slice(&[0, 0, 0, 0]);
            b"iTXt"
        };
        data.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(&data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out.extend_from_slice(&bytes[ihdr_end..]);
    std::fs::write(path, out).map_err(io)
}

/// CRC-32 (ISO 3309, as PNG chunks use) of `bytes`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in bytes {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    c ^ 0xffff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_are_utc_rfc3339() {
        let at = |s: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        // `date -u -d @951782400` = 2000-02-29 00:00:00 (a leap day).
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        // `date -u -d @1795685498` = 2026-11-26 09:31:38.
        assert_eq!(at(1_795_685_498), "2026-11-26T09:31:38Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn scene_hash_is_fnv1a64() {
        assert_eq!(scene_hash(b""), "fnv1a64:cbf29ce484222325");
    }

    #[test]
    fn crc_of_the_iend_chunk_is_the_known_one() {
        // Every PNG ends with IEND and its CRC ae 42 60 82.
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }
}
