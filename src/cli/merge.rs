//! `voxfe merge`: the output directories of sharded sweeps combined.

use std::path::PathBuf;

use super::CliError;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Shard output directories.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    super::outputs::Outputs::default()
        .dir("--out", &a.out)
        .check(&a.dirs)?;
    for w in voxfe::study::sweep::merge_warnings(&a.dirs) {
        eprintln!("warning: {w}");
    }
    let (manifest, rows) = voxfe::study::sweep::merge(&a.dirs).map_err(CliError::SweepInput)?;
    voxfe::study::sweep::write_outputs(&a.out, &manifest, &rows).map_err(CliError::SweepOutput)?;
    println!(
        "merged {} cases from {} directories into {}",
        rows.len(),
        a.dirs.len(),
        a.out.display()
    );
    Ok(0)
}
