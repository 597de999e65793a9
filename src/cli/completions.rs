//! `voxfe completions SHELL` and `voxfe man`: the shell completion script
//! and the man page (roff), both generated from the command line's own
//! definitions (`clap_complete`, `clap_mangen`) and printed on stdout, so
//! that they never drift from `--help`.

use super::CliError;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Prints the completion script of `cmd` for `a.shell`, e.g.
/// `voxfe completions bash > ~/.local/share/bash-completion/completions/voxfe`.
pub(crate) fn run(a: Args, mut cmd: clap::Command) -> Result<u8, CliError> {
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, name, &mut out);
    print_all(&out);
    Ok(0)
}

/// Writes `bytes` to stdout; a closed pipe (`voxfe man | head`) is not an
/// error.
fn print_all(bytes: &[u8]) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(bytes).and_then(|_| stdout.flush());
}

/// Prints the man page of `cmd` (section 1, its subcommands listed), e.g.
/// `voxfe man > voxfe.1`.
pub(crate) fn man(cmd: clap::Command) -> Result<u8, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .expect("renders into memory");
    print_all(&out);
    Ok(0)
}
