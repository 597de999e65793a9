//! Solver tests written once and run on every backend (the cubecl idea):
//! each test is a function of a [`Backend`], and `backend_suite!` makes one
//! `#[test]` per test and backend. The GPU suite runs on any adapter
//! (lavapipe in CI) and prints that it was skipped without one
//! (`VOXFE_REQUIRE_GPU=1` makes that a failure).

mod common;

use std::cell::OnceCell;
use voxfe::fem::hex8::Element;
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::fem::{solve_cpu, Preconditioner, SolveResult, SolverOptions};
use voxfe::gpu::{context_or_skip, solve_gpu, AdapterRequest, GpuContext};
use voxfe::grid::VoxelGrid;
use voxfe::material::YoungPoisson;

/// A backend under test.
struct Backend {
    name: &'static str,
    /// Relative accuracy of an exact modulus at tolerance 1e-10 (f64 CPU;
    /// f32 GPU iterations with f64 reliable updates).
    exact: f64,
    solve: fn(&VoxelGrid, &LoadCase, &SolverOptions) -> Option<Result<SolveResult, String>>,
}

fn cpu(
    grid: &VoxelGrid,
    load: &LoadCase,
    o: &SolverOptions,
) -> Option<Result<SolveResult, String>> {
    Some(solve_cpu(grid, YoungPoisson::tantalum(), load, o).map_err(|e| e.to_string()))
}

thread_local! {
    /// One device per test (each test runs on its own thread), or `None`:
    /// skipped, as printed by `context_or_skip`.
    static CTX: OnceCell<Option<GpuContext>> = const { OnceCell::new() };
}

fn gpu(
    grid: &VoxelGrid,
    load: &LoadCase,
    o: &SolverOptions,
) -> Option<Result<SolveResult, String>> {
    CTX.with(|ctx| {
        let ctx = ctx
            .get_or_init(|| context_or_skip(&AdapterRequest::default(), "the GPU backend suite"))
            .as_ref()?;
        Some(solve_gpu(ctx, grid, YoungPoisson::tantalum(), load, o).map_err(|e| e.to_string()))
    })
}

const CPU: Backend = Backend {
    name: "cpu",
    exact: 1e-6,
    solve: cpu,
};
const GPU: Backend = Backend {
    name: "gpu",
    exact: 1e-5,
    solve: gpu,
};

const FRICTIONLESS: LoadCase = LoadCase::Compression {
    platens: Platens::Frictionless,
};
const BONDED: LoadCase = LoadCase::Compression {
    platens: Platens::Bonded,
};

fn tight(p: Preconditioner) -> SolverOptions {
    SolverOptions {
        tolerance: 1e-10,
        preconditioner: p,
        check_every: 10,
        ..Default::default()
    }
}

/// Solves, or returns from the test when the backend is unavailable.
macro_rules! solve {
    ($b:expr, $grid:expr, $load:expr, $opts:expr) => {
        match ($b.solve)($grid, $load, $opts) {
            Some(r) => r,
            None => return,
        }
    };
}

/// A solid block in frictionless compression: E_eff = E, and von Mises
/// equals the applied stress in every voxel; both preconditioners.
fn solid_block_gives_e(b: &Backend) {
    let grid = VoxelGrid::full([6, 5, 4], 0.5);
    for p in [Preconditioner::Jacobi, Preconditioner::Multigrid] {
        let r = solve!(b, &grid, &FRICTIONLESS, &tight(p)).unwrap();
        assert!(r.converged, "{}: {r:?}", b.name);
        assert_eq!(r.backend, b.name);
        let e = r.e_eff.unwrap();
        assert!(
            (e / 186_000.0 - 1.0).abs() < b.exact,
            "{} {p:?}: E_eff = {e}",
            b.name
        );
        let sigma = r.reaction_force.unwrap() / (3.0 * 2.5);
        for &v in &r.von_mises {
            assert!(
                (v as f64 / sigma - 1.0).abs() < 10.0 * b.exact,
                "{v} vs {sigma}"
            );
        }
        assert!((r.peak_von_mises_per_nominal.unwrap() - 1.0).abs() < 10.0 * b.exact);
    }
}

/// Bonded platens hold the lateral expansion: stiffer than frictionless,
/// softer than the fully confined (oedometric) modulus.
fn bonded_platens_stiffen_a_solid_block(b: &Backend) {
    let m = YoungPoisson::tantalum();
    let grid = VoxelGrid::full([6, 6, 4], 0.5);
    let o = tight(Preconditioner::Multigrid);
    let free = solve!(b, &grid, &FRICTIONLESS, &o).unwrap().e_eff.unwrap();
    let bonded = solve!(b, &grid, &BONDED, &o).unwrap().e_eff.unwrap();
    let oedometric = m.e * (1.0 - m.nu) / ((1.0 + m.nu) * (1.0 - 2.0 * m.nu));
    assert!(
        bonded > free * 1.01 && bonded < oedometric,
        "{}: {free} {bonded} {oedometric}",
        b.name
    );
}

/// Timoshenko three-point bending (bending + shear, κ = 5/6):
/// E_f = 1 / (1/E + t²/(κ G S²)); contact indentation (softer) and hex8
/// bending stiffness (stiffer) leave a few per cent (README's table).
fn solid_bar_in_three_point_bending_is_near_timoshenko(b: &Backend) {
    let m = YoungPoisson::tantalum();
    let g = m.e / (2.0 * (1.0 + m.nu));
    let (t, span) = (10.0, 60.0);
    let expected = 1.0 / (1.0 / m.e + t * t / (5.0 / 6.0 * g * span * span));
    let load = LoadCase::ThreePointBending { span, contact: 1.0 };
    // h = 0.5 mm: c/2 is one voxel.
    let grid = VoxelGrid::full([160, 20, 20], 0.5);
    let r = solve!(b, &grid, &load, &SolverOptions::default()).unwrap();
    assert!(
        r.converged && r.relative_residual <= 1e-6,
        "{}: {r:?}",
        b.name
    );
    assert_eq!(r.contact_width, Some(1.0));
    let ef = r.e_flex.unwrap();
    assert!(
        (ef / expected - 1.0).abs() < 0.10,
        "{}: E_f = {ef:.0}, Timoshenko {expected:.0}",
        b.name
    );
    assert!(
        (r.flexural_stress_per_newton.unwrap() - 3.0 * span / (2.0 * 10.0 * t * t)).abs() < 1e-15
    );
}

/// With incompatible modes a solid block still gives E exactly (a uniform
/// strain leaves the modes idle) and a lattice, whose struts bend, comes
/// out softer than with the locking trilinear brick; the run reports its
/// element.
fn incompatible_modes_pass_the_patch_test_and_soften_bending(b: &Backend) {
    let solve = |grid: &VoxelGrid, element| {
        let o = SolverOptions {
            element,
            ..tight(Preconditioner::Multigrid)
        };
        let r = (b.solve)(grid, &FRICTIONLESS, &o)?.unwrap();
        assert!(r.converged, "{}: {r:?}", b.name);
        assert_eq!(r.element, element);
        Some(r.e_eff.unwrap())
    };
    let Some(block) = solve(&VoxelGrid::full([6, 5, 4], 0.5), Element::Incompatible) else {
        return;
    };
    assert!(
        (block / 186_000.0 - 1.0).abs() < b.exact,
        "{}: {block}",
        b.name
    );
    let rd = common::rd_grid(0.15);
    let hex8 = solve(&rd, Element::Hex8).unwrap();
    let inc = solve(&rd, Element::Incompatible).unwrap();
    eprintln!("{}: RD E_eff hex8 {hex8:.1}, incompatible {inc:.1}", b.name);
    assert!(
        inc < 0.99 * hex8 && inc > 0.5 * hex8,
        "{}: {inc} vs {hex8}",
        b.name
    );
}

/// The same solve twice gives the same bits (no atomics, ordered sums).
fn repeated_solves_are_bit_identical(b: &Backend) {
    let grid = common::rd_grid(0.15);
    let o = SolverOptions::default();
    let x = solve!(b, &grid, &FRICTIONLESS, &o).unwrap();
    let y = solve!(b, &grid, &FRICTIONLESS, &o).unwrap();
    assert_eq!(
        x.e_eff.unwrap().to_bits(),
        y.e_eff.unwrap().to_bits(),
        "{}",
        b.name
    );
    assert_eq!(x.iterations, y.iterations);
    assert_eq!(x.displacement, y.displacement);
}

/// A solve that reaches its iteration limit is reported as such, with its
/// residual and no modulus.
fn a_solve_that_does_not_converge_says_so(b: &Backend) {
    let grid = common::rd_grid(0.15);
    let o = SolverOptions {
        max_iterations: 5,
        preconditioner: Preconditioner::Jacobi,
        ..Default::default()
    };
    let r = solve!(b, &grid, &FRICTIONLESS, &o).unwrap();
    assert!(!r.converged, "{}", b.name);
    assert_eq!(r.iterations, 5);
    assert!(r.relative_residual > 1e-6);
    assert!(r.e_eff.is_none() && r.reaction_force.is_none());
}

/// A specimen that does not reach a loaded face is an error naming it,
/// before any iteration.
fn no_load_path_is_reported_before_solving(b: &Backend) {
    let mut grid = VoxelGrid::empty([4, 4, 6], 0.5);
    for k in 0..3 {
        for j in 0..4 {
            for i in 0..4 {
                let v = grid.voxel_id(i, j, k);
                grid.solid[v] = 1;
            }
        }
    }
    let o = SolverOptions::default();
    let e = solve!(b, &grid, &FRICTIONLESS, &o).unwrap_err();
    assert!(
        e.contains("no load path") && e.contains("top face"),
        "{}: {e}",
        b.name
    );
    let bend = LoadCase::ThreePointBending {
        span: 1.0,
        contact: 0.5,
    };
    let e = solve!(b, &grid, &bend, &o).unwrap_err();
    assert!(e.contains("loading strip"), "{}: {e}", b.name);
}

/// Multigrid reaches Jacobi's moduli (RD lattice, both platens; solid bar
/// in bending) in far fewer iterations. At 1e-8 they agree within 1e-5.
fn multigrid_gives_the_jacobi_moduli_in_far_fewer_iterations(b: &Backend) {
    let cases = [
        (common::rd_grid(0.15), FRICTIONLESS),
        (common::rd_grid(0.15), BONDED),
        (
            VoxelGrid::full([80, 10, 10], 1.0),
            LoadCase::ThreePointBending {
                span: 60.0,
                contact: 2.0,
            },
        ),
    ];
    let at = |p| SolverOptions {
        tolerance: 1e-8,
        preconditioner: p,
        ..Default::default()
    };
    for (grid, load) in cases {
        let j = solve!(b, &grid, &load, &at(Preconditioner::Jacobi)).unwrap();
        let g = solve!(b, &grid, &load, &at(Preconditioner::Multigrid)).unwrap();
        assert!(j.converged && g.converged, "{}", b.name);
        let modulus = |r: &SolveResult| r.e_eff.or(r.e_flex).unwrap();
        let (x, y) = (modulus(&j), modulus(&g));
        assert!(
            (x - y).abs() <= 1e-5 * x,
            "{} {load:?}: jacobi {x}, multigrid {y}",
            b.name
        );
        assert!(
            4 * g.iterations < j.iterations,
            "{} {load:?}: multigrid {} iterations, jacobi {}",
            b.name,
            g.iterations,
            j.iterations
        );
        assert_eq!(g.preconditioner, Preconditioner::Multigrid);
    }
}

/// One `#[test]` per test function for backend `$b`, in module `$m`.
macro_rules! backend_suite {
    ($m:ident, $b:expr, [$($t:ident),* $(,)?]) => {
        mod $m {
            $(
                #[test]
                fn $t() {
                    super::$t(&$b);
                }
            )*
        }
    };
}

macro_rules! suite {
    ($m:ident, $b:expr) => {
        backend_suite!(
            $m,
            $b,
            [
                solid_block_gives_e,
                bonded_platens_stiffen_a_solid_block,
                solid_bar_in_three_point_bending_is_near_timoshenko,
                incompatible_modes_pass_the_patch_test_and_soften_bending,
                repeated_solves_are_bit_identical,
                a_solve_that_does_not_converge_says_so,
                no_load_path_is_reported_before_solving,
                multigrid_gives_the_jacobi_moduli_in_far_fewer_iterations,
            ]
        );
    };
}

suite!(cpu_backend, super::CPU);
suite!(gpu_backend, super::GPU);
