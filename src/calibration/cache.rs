//! The on-disk cache of small calibration results ([`Cache`]): calibrated
//! fraction exponents, lattice reference moduli, anything that is costly to
//! compute, small to store and a pure function of its key.
//!
//! # Where
//!
//! The cache folder is `VOXFE_CACHE_DIR` when that is set (and not empty),
//! else the platform's per-user cache folder plus `voxfe`:
//! `$XDG_CACHE_HOME/voxfe` or `~/.cache/voxfe` on Linux,
//! `~/Library/Caches/voxfe` on macOS, `%LOCALAPPDATA%\voxfe` on Windows.
//! `VOXFE_NO_CACHE` set to anything but empty, `0`, `false`, `no` or `off`
//! bypasses the cache (as `--no-cache` does), and so does a platform with
//! no per-user cache folder: every lookup then misses and nothing is
//! stored. Deleting the folder at any time is safe; entries are recomputed.
//!
//! # Layout
//!
//! One file per entry: `<dir>/v1/<kind>/<sha256 of the key JSON>.json`.
//! `kind` names a namespace (`exponent`, `reference`; lowercase letters,
//! digits and `-`); the key is any serializable value, written as compact
//! JSON by `serde_json` (floats in their shortest round-trip form, struct
//! fields in declaration order), and two keys are the same key when their
//! JSON texts are equal. The file holds one JSON object:
//!
//! ```json
//! {"format":1,"key":<key JSON>,"value":<value JSON>,"checksum":"<sha256 of the value JSON text>"}
//! ```
//!
//! Hashes are SHA-256 in lowercase hex, stable across runs, builds and
//! platforms. `v1` and `format` change together when the layout changes;
//! entries of another version are never read.
//!
//! # Concurrency
//!
//! Any number of processes (parallel sweeps, shards) may read and write the
//! same cache. A write goes to a temporary file in the entry's folder and is
//! renamed over the entry, which replaces it atomically: a reader sees the
//! old entry, the new one or none, never a torn one. Two writers of the same
//! key both succeed and the last rename wins; both wrote a valid value for
//! that key, so either is right. No locks are taken, so a killed process
//! leaves at worst a stray temporary file (named `.tmp…`, never read).
//!
//! # A corrupt entry
//!
//! An entry is trusted only if it parses, its `format` is this one's, its
//! key's JSON text equals the key asked for (a hash collision or a renamed
//! file reads as a miss), the SHA-256 of its value's text equals its
//! `checksum` (a truncated, edited or half-flushed file after a power loss
//! reads as a miss), and its value deserializes as the type asked for.
//! Anything else is a miss, and the file is removed (best effort) so that
//! the caller recomputes the value and stores it again. The worst a race
//! of that removal can do is delete a fresh entry another process just
//! wrote, which costs one more computation, never a wrong value.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that moves the cache folder.
pub const DIR_VAR: &str = "VOXFE_CACHE_DIR";
/// The environment variable that bypasses the cache.
pub const NO_CACHE_VAR: &str = "VOXFE_NO_CACHE";
/// The entry format: the `format` field of every entry and the `v1` folder.
pub const FORMAT: u32 = 1;

/// How many times a rename refused with "permission denied" is tried
/// (Windows refuses to replace a file another process has open; the
/// reader closes it within moments).
const PERSIST_TRIES: u32 = 20;

/// Where entries live, or bypassed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// The cache folder; `None` when bypassed.
    dir: Option<PathBuf>,
}

/// A cache write that failed. Callers print it as a warning and go on: a
/// cache that cannot be written never fails a run.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Creating the entry's folder, writing the temporary file or renaming
    /// it over the entry failed.
    #[error("cannot write cache entry '{path}': {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The key or value cannot be written as JSON (e.g. a map whose keys
    /// are not strings).
    #[error("cannot write the {what} of a '{kind}' cache entry as JSON: {error}")]
    Json {
        kind: String,
        what: &'static str,
        error: serde_json::Error,
    },
    /// `kind` is not a plain name (a programming error).
    #[error("'{kind}' is not a cache namespace: allowed are lowercase letters, digits and '-'")]
    Kind { kind: String },
}

/// An entry as stored: the key and value are kept as their exact JSON text.
#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    format: u32,
    #[serde(borrow)]
    key: &'a RawValue,
    #[serde(borrow)]
    value: &'a RawValue,
    checksum: String,
}

impl Cache {
    /// The cache the environment asks for: [`DIR_VAR`] if set (non-empty),
    /// else the platform's per-user cache folder plus `voxfe`; bypassed
    /// when [`NO_CACHE_VAR`] says so or no folder can be found.
    pub fn from_env() -> Cache {
        Cache::from_vars(
            std::env::var_os(DIR_VAR).as_deref(),
            std::env::var_os(NO_CACHE_VAR).as_deref(),
        )
    }

    /// [`Cache::from_env`] given the values of [`DIR_VAR`] and
    /// [`NO_CACHE_VAR`] (`None` when unset).
    pub fn from_vars(cache_dir: Option<&OsStr>, no_cache: Option<&OsStr>) -> Cache {
        if no_cache.is_some_and(bypasses) {
            return Cache::bypassed();
        }
        match cache_dir.filter(|dir| !dir.is_empty()) {
            Some(dir) => Cache::at(dir),
            None => Cache {
                dir: dirs::cache_dir().map(|dir| dir.join("voxfe")),
            },
        }
    }

    /// A cache in `dir` (tests, `--cache-dir`).
    pub fn at(dir: impl Into<PathBuf>) -> Cache {
        Cache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every get misses, every put is dropped (`--no-cache`).
    pub fn bypassed() -> Cache {
        Cache { dir: None }
    }

    /// The cache folder, or `None` when bypassed.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The file that holds (or would hold) the entry of `key` in namespace
    /// `kind`; `None` when bypassed, `kind` is not a plain name or the key
    /// cannot be written as JSON.
    pub fn entry_path<K: Serialize>(&self, kind: &str, key: &K) -> Option<PathBuf> {
        let dir = self.dir.as_deref()?;
        if !plain_name(kind) {
            return None;
        }
        let key = serde_json::value::to_raw_value(key).ok()?;
        Some(entry_file(dir, kind, key.get()))
    }

    /// The entry of `key` in namespace `kind` (e.g. `exponent`,
    /// `reference`), or `None`: missing, bypassed, unreadable, not
    /// parseable, key mismatch (hash collision), checksum mismatch or
    /// written by another format version. A bad entry is never trusted,
    /// and is removed (best effort) so it is recomputed.
    pub fn get<K: Serialize, V: DeserializeOwned>(&self, kind: &str, key: &K) -> Option<V> {
        let dir = self.dir.as_deref()?;
        debug_assert!(
            plain_name(kind),
            "cache namespace '{kind}' is not [a-z0-9-]+"
        );
        if !plain_name(kind) {
            return None;
        }
        let key = serde_json::value::to_raw_value(key).ok()?;
        let path = entry_file(dir, kind, key.get());
        // Missing, or unreadable (permissions, a folder in its place): a
        // miss, and not ours to remove.
        let text = std::fs::read(&path).ok()?;
        let value = decode(&text, key.get());
        if value.is_none() {
            let _ = std::fs::remove_file(&path);
        }
        value
    }

    /// Stores `value` under `key` in namespace `kind`. Atomic: written to a
    /// temporary file in the same folder and renamed over the entry, so a
    /// concurrent reader sees the old entry, the new one, or none, never a
    /// torn one; two writers of the same key both succeed (the last rename
    /// wins). A bypassed cache drops the value and returns `Ok`.
    pub fn put<K: Serialize, V: Serialize>(
        &self,
        kind: &str,
        key: &K,
        value: &V,
    ) -> Result<(), CacheError> {
        let Some(dir) = self.dir.as_deref() else {
            return Ok(());
        };
        debug_assert!(
            plain_name(kind),
            "cache namespace '{kind}' is not [a-z0-9-]+"
        );
        if !plain_name(kind) {
            return Err(CacheError::Kind { kind: kind.into() });
        }
        let json_error = |what| {
            move |error| CacheError::Json {
                kind: kind.into(),
                what,
                error,
            }
        };
        let key = serde_json::value::to_raw_value(key).map_err(json_error("key"))?;
        let value = serde_json::value::to_raw_value(value).map_err(json_error("value"))?;
        let entry = Entry {
            format: FORMAT,
            key: &key,
            value: &value,
            checksum: sha256_hex(value.get()),
        };
        let mut text = serde_json::to_vec(&entry).map_err(json_error("entry"))?;
        text.push(b'\n');

        let folder = entry_folder(dir, kind);
        let path = entry_file(dir, kind, key.get());
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |error| CacheError::Io { path, error }
        };
        std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
        let mut temp = tempfile::NamedTempFile::new_in(&folder).map_err(io_error(&folder))?;
        temp.write_all(&text).map_err(io_error(temp.path()))?;
        persist(temp, &path).map_err(io_error(&path))
    }
}

/// Renames `temp` over `path`, retrying while the platform refuses to
/// replace a file that is open elsewhere. A temporary file that cannot be
/// renamed is deleted.
fn persist(mut temp: tempfile::NamedTempFile, path: &Path) -> std::io::Result<()> {
    let mut tries = 1;
    loop {
        match temp.persist(path) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.error.kind() == std::io::ErrorKind::PermissionDenied
                    && tries < PERSIST_TRIES =>
            {
                temp = e.file;
                std::thread::sleep(std::time::Duration::from_millis(5 * u64::from(tries)));
                tries += 1;
            }
            Err(e) => return Err(e.error),
        }
    }
}

/// The value of an entry's `text` if the entry is sound and holds `key`
/// (see the module doc for what sound means).
fn decode<V: DeserializeOwned>(text: &[u8], key: &str) -> Option<V> {
    let entry: Entry = serde_json::from_slice(text).ok()?;
    if entry.format != FORMAT
        || entry.key.get() != key
        || entry.checksum != sha256_hex(entry.value.get())
    {
        return None;
    }
    serde_json::from_str(entry.value.get()).ok()
}

/// `<dir>/v1/<kind>`: the folder of a namespace's entries.
fn entry_folder(dir: &Path, kind: &str) -> PathBuf {
    dir.join(format!("v{FORMAT}")).join(kind)
}

/// `<dir>/v1/<kind>/<sha256 of key>.json`.
fn entry_file(dir: &Path, kind: &str, key: &str) -> PathBuf {
    entry_folder(dir, kind).join(format!("{}.json", sha256_hex(key)))
}

/// A namespace name: one or more of `a-z`, `0-9`, `-`.
fn plain_name(kind: &str) -> bool {
    !kind.is_empty()
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether a value of [`NO_CACHE_VAR`] bypasses the cache: anything but
/// empty, `0`, `false`, `no` or `off` (any case).
fn bypasses(value: &OsStr) -> bool {
    let value = value.to_string_lossy();
    let value = value.trim();
    !(value.is_empty()
        || ["0", "false", "no", "off"]
            .iter()
            .any(|off| value.eq_ignore_ascii_case(off)))
}

/// SHA-256 of `text`, lowercase hex.
fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}
