//! `voxfe sweep`: the sweep's claim of `--out`, its cases as they finish,
//! and the outputs rewritten from all rows.

use std::path::PathBuf;

use super::{info, load_scene, CliError, EXIT_NOT_CONVERGED};
use voxfe::study::sweep::{Case, CaseOutcome, Reuse, SweepError};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Base scene file (TOML).
    scene: PathBuf,
    /// KEY=a,b,c or KEY=start:stop:count (repeatable; the first varies slowest).
    /// (default: the scene's `[sweep] vary` list)
    #[arg(long, value_name = "KEY=VALUES")]
    vary: Vec<String>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Run only every N-th case, starting at I (I/N, I from 0).
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    #[command(flatten)]
    device: super::Device,
    #[command(flatten)]
    overrides: super::Overrides,
    /// Run every case again, when --out holds this sweep (default:
    /// resume, skipping the cases already in results.jsonl).
    #[arg(long)]
    restart: bool,
    /// Write into an --out that holds a different sweep or other files:
    /// voxfe's own outputs there are removed first.
    #[arg(long)]
    force: bool,
}

/// Checks the sweep and its `--out` before the first solve, then runs the
/// cases not already done there, appending each row as it finishes;
/// `sweep.json`, the results, plots and `summary.md` are rewritten at the
/// end from all rows. Exit status 3 when a case failed.
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let reuse = if a.force {
        Reuse::Force
    } else if a.restart {
        Reuse::Restart
    } else {
        Reuse::Resume
    };
    let base = load_scene(&a.scene, &a.overrides, Some(&a.device))?;
    super::outputs::Outputs::default()
        .dir("--out", &a.out)
        .check(&super::outputs::scene_inputs(&base))?;
    let plan = voxfe::study::sweep::plan(&base, &a.vary, a.shard.as_deref())
        .map_err(CliError::SweepInput)?;
    // `prepared` holds the lock of --out until the sweep ends.
    let (prepared, mut writer) = voxfe::study::sweep::prepare_out(&a.out, &plan.manifest, reuse)
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
            a.out.join("results.jsonl").display()
        );
    }
    let on_case = |case: &Case, total: usize, outcome: &CaseOutcome| -> Result<(), SweepError> {
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
    voxfe::study::sweep::write_outputs(&a.out, &plan.manifest, &rows)
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
        a.out.display()
    );
    Ok(if failed > 0 { EXIT_NOT_CONVERGED } else { 0 })
}
