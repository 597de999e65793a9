//! `voxfe sweep` and `voxfe merge`: the sweep's claim of `--out`, its
//! cases as they finish, and the outputs rewritten from all rows.

use super::*;

/// Checks the sweep and its `--out` before the first solve, then runs the
/// cases not already done there, appending each row as it finishes;
/// `sweep.json`, the results, plots and `summary.md` are rewritten at the
/// end from all rows.
pub(crate) fn cmd_sweep(
    path: &Path,
    vary: &[String],
    out: &Path,
    shard: Option<&str>,
    backend: Option<Backend>,
    set: &[String],
    reuse: voxfe::study::sweep::Reuse,
) -> Result<ExitCode, CliError> {
    let plan =
        voxfe::study::sweep::plan(path, vary, set, shard, backend).map_err(CliError::SweepInput)?;
    let (prepared, mut writer) = voxfe::study::sweep::prepare_out(out, &plan.manifest, reuse)
        .map_err(CliError::SweepInput)?;
    for note in &prepared.notes {
        eprintln!("note: {note}");
    }
    let done: Vec<usize> = prepared.done.iter().map(|r| r.case).collect();
    if !done.is_empty() {
        eprintln!(
            "resuming: {} of {} cases already in {} are skipped (--restart runs them again)",
            done.len(),
            plan.cases.len(),
            out.join("results.jsonl").display()
        );
    }
    let on_case = |case: &voxfe::study::sweep::Case,
                   total: usize,
                   outcome: &voxfe::study::sweep::CaseOutcome|
     -> Result<(), SweepError> {
        let row = &outcome.row;
        let name = format!(
            "case {}/{} [{}]",
            case.index + 1,
            total,
            case.set_args().join(" ")
        );
        for w in &outcome.warnings {
            eprintln!("warning: {name}: {w}");
        }
        match &row.error {
            // A failed case is an error of its own: printed even under -q.
            Some(e) => eprintln!("error: {name}: {e}"),
            None => info(format_args!("{name}: ok")),
        }
        writer.append(row)
    };
    let new = plan.run(&done, on_case).map_err(CliError::SweepOutput)?;
    let mut rows = prepared.done;
    rows.extend(new);
    rows.sort_by_key(|r| r.case);
    voxfe::study::sweep::write_outputs(out, &plan.manifest, &rows)
        .map_err(CliError::SweepOutput)?;
    let failed = rows.iter().filter(|r| !r.is_ok()).count();
    let earlier = if done.is_empty() {
        String::new()
    } else {
        format!(" ({} from an earlier run)", done.len())
    };
    println!(
        "{} cases run{earlier}, {failed} failed; results in {}",
        rows.len(),
        out.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(EXIT_NOT_CONVERGED)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn cmd_merge(dirs: &[PathBuf], out: &Path) -> Result<ExitCode, CliError> {
    for w in voxfe::study::sweep::merge_warnings(dirs) {
        eprintln!("warning: {w}");
    }
    let (manifest, rows) = voxfe::study::sweep::merge(dirs).map_err(CliError::SweepInput)?;
    voxfe::study::sweep::write_outputs(out, &manifest, &rows).map_err(CliError::SweepOutput)?;
    println!(
        "merged {} cases from {} directories into {}",
        rows.len(),
        dirs.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
