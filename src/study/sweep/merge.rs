//! Combining the output directories of sharded sweeps (`voxfe merge`).

use serde_json::Value;
use std::path::Path;

use super::{bad_results, io, Manifest, Row, SweepError};

/// Reads rows written by [`super::write_jsonl`].
pub fn read_jsonl(path: &Path) -> Result<Vec<Row>, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|source| io("read", path, source))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(m)) => Row::from_json(m).map_err(|why| bad_results(path, n, why)),
            Ok(_) => Err(bad_results(path, n, "not a JSON object".into())),
            Err(e) => Err(bad_results(path, n, e.to_string())),
        })
        .collect()
}

/// Combines the rows of several shards: sorted by case index, each index
/// exactly once, `0..total` all present.
pub fn merge_rows(shards: Vec<Vec<Row>>, total: usize) -> Result<Vec<Row>, SweepError> {
    let mut rows: Vec<Row> = shards.into_iter().flatten().collect();
    rows.sort_by_key(|r| r.case);
    for (expected, r) in rows.iter().enumerate() {
        let got = r.case;
        if got != expected {
            return Err(SweepError::Mismatch(if got < expected {
                format!("case {got} appears twice")
            } else {
                format!("case {expected} is missing")
            }));
        }
    }
    if rows.len() != total {
        return Err(SweepError::Mismatch(format!(
            "{} cases found, the sweep has {total}",
            rows.len()
        )));
    }
    Ok(rows)
}

/// Reads the shards in `dirs` and combines them.
pub fn merge(dirs: &[std::path::PathBuf]) -> Result<(Manifest, Vec<Row>), SweepError> {
    let mut manifest: Option<Manifest> = None;
    let mut shards = Vec::new();
    for d in dirs {
        let m = d.join("sweep.json");
        let text = std::fs::read_to_string(&m).map_err(|source| io("read", &m, source))?;
        let mine: Manifest =
            serde_json::from_str(&text).map_err(|e| bad_results(&m, 0, e.to_string()))?;
        if let Some(first) = &manifest {
            let hashes_differ = !first.scene_hash.is_empty()
                && !mine.scene_hash.is_empty()
                && first.scene_hash != mine.scene_hash;
            if first.scene != mine.scene
                || first.set != mine.set
                || first.variations != mine.variations
            {
                return Err(SweepError::Mismatch(format!(
                    "'{}' is a different sweep (scene, set or vary differ)",
                    d.display()
                )));
            }
            if hashes_differ {
                return Err(SweepError::Mismatch(format!(
                    "'{}' was run on a different text of scene '{}' ({} vs {})",
                    d.display(),
                    mine.scene,
                    mine.scene_hash,
                    first.scene_hash
                )));
            }
        } else {
            manifest = Some(mine);
        }
        shards.push(read_jsonl(&d.join("results.jsonl"))?);
    }
    let mut manifest =
        manifest.ok_or_else(|| SweepError::Mismatch("no directories to merge".into()))?;
    let rows = merge_rows(shards, manifest.total)?;
    manifest.shard = None;
    Ok((manifest, rows))
}

/// Warnings about the shards in `dirs` that do not stop a merge: shards
/// (their `sweep.json`) or rows written by builds of different commits.
/// Unreadable directories give no warning here ([`merge`] reports them).
pub fn merge_warnings(dirs: &[std::path::PathBuf]) -> Vec<String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for d in dirs {
        let manifest: Option<Manifest> = std::fs::read_to_string(d.join("sweep.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let mut commits: Vec<String> = manifest
            .and_then(|m| m.provenance)
            .map(|p| p.commit)
            .into_iter()
            .collect();
        if let Ok(rows) = read_jsonl(&d.join("results.jsonl")) {
            commits.extend(super::outputs::row_commits(&rows));
        }
        for c in commits {
            if !seen.iter().any(|(s, _)| *s == c) {
                seen.push((c, d.display().to_string()));
            }
        }
    }
    if seen.len() < 2 {
        return Vec::new();
    }
    let list: Vec<String> = seen
        .iter()
        .map(|(c, d)| format!("{c} (first in '{d}')"))
        .collect();
    vec![format!(
        "the shards were run by builds of {} different voxfe commits: {}; the results may differ between them",
        seen.len(),
        list.join(", ")
    )]
}

#[cfg(test)]
mod tests {
    use super::super::{case_row, Case};
    use super::*;

    #[test]
    fn merge_checks_every_case_once() {
        let row = |index| {
            let case = Case {
                index,
                settings: Vec::new(),
            };
            case_row(&case, Err("x".into()))
        };
        let merged = merge_rows(vec![vec![row(0), row(2)], vec![row(1)]], 3).unwrap();
        assert_eq!(merged.iter().map(|r| r.case).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(merge_rows(vec![vec![row(0), row(2)]], 3)
            .unwrap_err()
            .to_string()
            .contains("case 1 is missing"));
        assert!(merge_rows(vec![vec![row(0), row(0), row(1)]], 2)
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }
}
