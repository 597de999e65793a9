//! The on-disk calibration cache (`voxfe::calibration::cache`) on real
//! files in temporary folders: round trips, misses, corrupt entries that
//! are never trusted and are repaired by the next write, the bypass, where
//! the environment puts the folder, errors, and many threads writing and
//! reading the same keys at once.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use voxfe::calibration::cache::{Cache, CacheError};

/// A key shaped like the calibration's: names and floats.
#[derive(Debug, Clone, Serialize)]
struct Key {
    lattice: &'static str,
    porosity: f64,
    element: &'static str,
}

fn key(porosity: f64) -> Key {
    Key {
        lattice: "rhombic-dodecahedron",
        porosity,
        element: "incompatible",
    }
}

/// A value shaped like a calibrated exponent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Exponent {
    p: f64,
    error: f64,
    solves: u32,
}

fn exponent() -> Exponent {
    Exponent {
        p: 2.0 + 0.1 + 0.2 / 3.0,
        error: 1.0e-300 * 7.0,
        solves: 5,
    }
}

/// The JSON object stored in `path`.
fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(folder) = todo.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn round_trip_stores_one_file_with_key_value_and_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    assert_eq!(cache.dir(), Some(dir.path()));
    assert_eq!(cache.get::<_, Exponent>("exponent", &key(0.8)), None);

    cache.put("exponent", &key(0.8), &exponent()).unwrap();
    // Floats come back bit for bit.
    assert_eq!(cache.get("exponent", &key(0.8)), Some(exponent()));
    // A second cache on the same folder (another process) sees it.
    assert_eq!(
        Cache::at(dir.path()).get("exponent", &key(0.8)),
        Some(exponent())
    );

    let files = files_under(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let path = cache.entry_path("exponent", &key(0.8)).unwrap();
    assert_eq!(files[0], path);
    assert_eq!(
        path.parent().unwrap(),
        dir.path().join("v1").join("exponent")
    );

    let entry = read_json(&path);
    let fields: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(fields, ["format", "key", "value", "checksum"]);
    assert_eq!(entry["format"], 1);
    assert_eq!(entry["key"], serde_json::to_value(key(0.8)).unwrap());
    assert_eq!(entry["value"], serde_json::to_value(exponent()).unwrap());
    let checksum = entry["checksum"].as_str().unwrap();
    assert_eq!(checksum.len(), 64);
    assert!(checksum
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

#[test]
fn entry_names_are_sha256_of_the_key_json() {
    // sha256 of the 5 bytes `"abc"` (the key's JSON text), computed with
    // Python's hashlib: the name must not depend on the build or platform.
    let cache = Cache::at("/some/cache");
    assert_eq!(
        cache.entry_path("reference", &"abc").unwrap(),
        Path::new("/some/cache/v1/reference")
            .join("6cc43f858fbb763301637b5af970e2a46b46f461f27e5a0f41e009c59b827b25.json")
    );
}

#[test]
fn another_key_or_kind_misses() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    cache.put("exponent", &key(0.8), &exponent()).unwrap();

    let next = f64::from_bits(0.8f64.to_bits() + 1);
    assert_eq!(cache.get::<_, Exponent>("exponent", &key(next)), None);
    assert_eq!(cache.get::<_, Exponent>("reference", &key(0.8)), None);
    let mut other = key(0.8);
    other.element = "hex8";
    assert_eq!(cache.get::<_, Exponent>("exponent", &other), None);
    // The misses removed nothing.
    assert_eq!(cache.get("exponent", &key(0.8)), Some(exponent()));

    // A second key lives beside the first.
    let second = Exponent {
        p: 1.5,
        ..exponent()
    };
    cache.put("exponent", &key(next), &second).unwrap();
    assert_eq!(cache.get("exponent", &key(next)), Some(second));
    assert_eq!(cache.get("exponent", &key(0.8)), Some(exponent()));
}

/// A named way to damage an entry's file in place.
type Corruption = (&'static str, Box<dyn Fn(&Path)>);

/// Ways an entry's file goes bad, each applied to a sound entry.
fn corruptions() -> Vec<Corruption> {
    fn edit(path: &Path, change: impl Fn(&mut Value)) {
        let mut entry = read_json(path);
        change(&mut entry);
        std::fs::write(path, serde_json::to_vec(&entry).unwrap()).unwrap();
    }
    vec![
        (
            "truncated",
            Box::new(|path: &Path| {
                let text = std::fs::read(path).unwrap();
                std::fs::write(path, &text[..text.len() / 2]).unwrap();
            }),
        ),
        (
            "empty",
            Box::new(|path: &Path| std::fs::write(path, b"").unwrap()),
        ),
        (
            "garbage",
            Box::new(|path: &Path| std::fs::write(path, [0xffu8, 0, 17, b'{', 3, 200]).unwrap()),
        ),
        (
            "checksum tampered",
            Box::new(|path: &Path| {
                edit(path, |e| e["checksum"] = Value::from("0".repeat(64)));
            }),
        ),
        (
            "value tampered, checksum kept",
            Box::new(|path: &Path| edit(path, |e| e["value"]["p"] = Value::from(3.0))),
        ),
        (
            "key tampered",
            Box::new(|path: &Path| edit(path, |e| e["key"]["porosity"] = Value::from(0.7))),
        ),
        (
            "another format version",
            Box::new(|path: &Path| edit(path, |e| e["format"] = Value::from(2))),
        ),
        (
            "valid JSON of another shape",
            Box::new(|path: &Path| std::fs::write(path, b"[1, 2, 3]").unwrap()),
        ),
    ]
}

#[test]
fn a_corrupt_entry_is_a_miss_is_removed_and_a_put_repairs_it() {
    for (name, corrupt) in corruptions() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        cache.put("exponent", &key(0.8), &exponent()).unwrap();
        let path = cache.entry_path("exponent", &key(0.8)).unwrap();
        corrupt(&path);

        assert_eq!(
            cache.get::<_, Exponent>("exponent", &key(0.8)),
            None,
            "{name}: a corrupt entry was trusted"
        );
        assert!(!path.exists(), "{name}: the corrupt entry was not removed");
        assert_eq!(
            cache.get::<_, Exponent>("exponent", &key(0.8)),
            None,
            "{name}"
        );

        cache.put("exponent", &key(0.8), &exponent()).unwrap();
        assert_eq!(cache.get("exponent", &key(0.8)), Some(exponent()), "{name}");
    }
}

#[test]
fn a_corrupt_entry_is_repaired_by_a_put_without_a_get_first() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    cache.put("exponent", &key(0.8), &exponent()).unwrap();
    let path = cache.entry_path("exponent", &key(0.8)).unwrap();
    std::fs::write(&path, b"{\"format\":1,\"key\":").unwrap();
    cache.put("exponent", &key(0.8), &exponent()).unwrap();
    assert_eq!(cache.get("exponent", &key(0.8)), Some(exponent()));
}

#[test]
fn bypassed_never_stores() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::bypassed();
    assert_eq!(cache.dir(), None);
    assert_eq!(cache.entry_path("exponent", &key(0.8)), None);
    cache.put("exponent", &key(0.8), &exponent()).unwrap();
    assert_eq!(cache.get::<_, Exponent>("exponent", &key(0.8)), None);

    // VOXFE_NO_CACHE wins over VOXFE_CACHE_DIR.
    for on in ["1", "true", "TRUE", "yes"] {
        let cache = Cache::from_vars(Some(dir.path().as_os_str()), Some(OsStr::new(on)));
        assert_eq!(cache.dir(), None, "VOXFE_NO_CACHE={on}");
        cache.put("exponent", &key(0.8), &exponent()).unwrap();
        assert_eq!(cache.get::<_, Exponent>("exponent", &key(0.8)), None);
    }
    assert!(files_under(dir.path()).is_empty());
}

#[test]
fn the_environment_moves_or_keeps_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let moved = Cache::from_vars(Some(dir.path().as_os_str()), None);
    assert_eq!(moved.dir(), Some(dir.path()));
    moved.put("reference", &key(0.8), &exponent()).unwrap();
    assert!(dir.path().join("v1/reference").is_dir());
    assert_eq!(
        Cache::at(dir.path()).get("reference", &key(0.8)),
        Some(exponent())
    );

    // VOXFE_NO_CACHE off or empty keeps the cache.
    for off in ["", "0", "false", "No", "off"] {
        let cache = Cache::from_vars(Some(dir.path().as_os_str()), Some(OsStr::new(off)));
        assert_eq!(cache.dir(), Some(dir.path()), "VOXFE_NO_CACHE={off:?}");
    }

    // Unset or empty VOXFE_CACHE_DIR: the platform's per-user folder.
    let platform = dirs::cache_dir().map(|d| d.join("voxfe"));
    for unset in [None, Some(OsStr::new(""))] {
        let cache = Cache::from_vars(unset, None);
        assert_eq!(
            cache.dir(),
            platform.as_deref(),
            "VOXFE_CACHE_DIR={unset:?}"
        );
    }
    if let Some(platform) = &platform {
        assert_eq!(platform.file_name(), Some(OsStr::new("voxfe")));
    }
}

#[test]
fn an_unwritable_folder_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let cache = Cache::at(&file);
    let err = cache.put("exponent", &key(0.8), &exponent()).unwrap_err();
    assert!(matches!(err, CacheError::Io { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("not-a-folder"), "{message}");
    // Reading it is a plain miss and removes nothing.
    assert_eq!(cache.get::<_, Exponent>("exponent", &key(0.8)), None);
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn a_key_that_is_not_json_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let mut bad = std::collections::BTreeMap::new();
    bad.insert((1, 2), 3);
    let err = cache.put("exponent", &bad, &exponent()).unwrap_err();
    assert!(
        matches!(err, CacheError::Json { what: "key", .. }),
        "{err:?}"
    );
    assert_eq!(cache.get::<_, Exponent>("exponent", &bad), None);
    assert!(files_under(dir.path())
        .iter()
        .all(|f| f.extension().is_some_and(|e| e == "json")));
}

/// A namespace that is not a plain name is a programming error: a debug
/// build stops on it, a release build misses and refuses to write.
#[test]
#[cfg_attr(debug_assertions, should_panic(expected = "cache namespace"))]
fn a_namespace_that_is_not_a_plain_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    for kind in ["", "Exponent", "../escape", "a/b", "a b", "ré"] {
        assert_eq!(cache.get::<_, Exponent>(kind, &key(0.8)), None, "{kind:?}");
        let err = cache.put(kind, &key(0.8), &exponent()).unwrap_err();
        assert!(matches!(err, CacheError::Kind { .. }), "{kind:?}: {err:?}");
        assert!(err
            .to_string()
            .contains("lowercase letters, digits and '-'"));
    }
    assert!(files_under(dir.path()).is_empty());
}

/// A value big enough that a torn write would show: every element is
/// derived from (key, writer, iteration), so a mix of two writes is
/// detectable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Written {
    key: usize,
    writer: usize,
    iteration: usize,
    samples: Vec<f64>,
}

fn written(key: usize, writer: usize, iteration: usize) -> Written {
    let seed = (key * 1000 + writer * 100 + iteration) as f64;
    Written {
        key,
        writer,
        iteration,
        samples: (0..400).map(|i| seed + i as f64 / 7.0).collect(),
    }
}

const THREADS: usize = 8;
const ITERATIONS: usize = 50;
const KEYS: usize = 3;

#[test]
fn concurrent_writers_and_readers_see_only_valid_entries() {
    let dir = tempfile::tempdir().unwrap();
    let barrier = Barrier::new(THREADS);
    let hits: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|writer| {
                // Each thread its own handle, as separate processes would.
                let cache = Cache::at(dir.path());
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let mut hits = 0;
                    for iteration in 0..ITERATIONS {
                        for k in 0..KEYS {
                            let k = (k + writer) % KEYS;
                            let name = format!("key-{k}");
                            cache
                                .put("reference", &name, &written(k, writer, iteration))
                                .unwrap_or_else(|e| panic!("writer {writer}: {e}"));
                            let got: Option<Written> = cache.get("reference", &name);
                            if let Some(got) = got {
                                assert_eq!(got.key, k, "an entry of another key");
                                assert!(got.writer < THREADS && got.iteration < ITERATIONS);
                                assert_eq!(got, written(k, got.writer, got.iteration), "torn");
                                hits += 1;
                            }
                        }
                    }
                    hits
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    // Nothing corrupt was ever seen, so nothing was removed: a reader
    // right after its own write finds an entry every time.
    assert_eq!(hits, THREADS * ITERATIONS * KEYS);

    let cache = Cache::at(dir.path());
    for k in 0..KEYS {
        let got: Written = cache.get("reference", &format!("key-{k}")).unwrap();
        assert_eq!(got, written(k, got.writer, got.iteration));
    }
    let files = files_under(dir.path());
    assert_eq!(files.len(), KEYS, "temporary files left behind: {files:?}");
    assert!(files
        .iter()
        .all(|f| f.extension().is_some_and(|e| e == "json")));
}
