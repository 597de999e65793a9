//! CPU and GPU solvers side by side on `scenes/rd-compression.toml`:
//! operator throughput (active nodes per second; effective GB/s from the
//! bytes each apply must move) and whole solves.
//!
//! `cargo bench --bench solver` (`-- kernels` for the CPU fine apply, one
//! Jacobi-PCG iteration and one multigrid V-cycle at two sizes in GB/s by
//! their byte models, to read against `benches/triad.sh`, and a periodic
//! cell's six V-cycles one by one and batched). The GPU entries run on the best adapter
//! (lavapipe in CI machines) and are skipped without one. A whole GPU solve
//! of the shipped scene takes minutes on a software adapter, so the
//! whole-solve group also has a coarser variant (h = 0.1 mm).
//!
//! Binary voxels and the hex8 element (`voxel.fill = "binary"`,
//! `solver.element = "hex8"`, set here; the defaults are fraction fill, the
//! incompatible element and a calibrated exponent): the classic voxel model
//! the performance history in docs/performance.md was measured on.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use voxfe::fem::operator::LinearOperator;
use voxfe::fem::{solve_cpu, Problem, SolverOptions};
use voxfe::gpu::{context_or_skip, solve_gpu, AdapterRequest, GpuPcg, Kernel, Slot};
use voxfe::pipeline::load::load_case;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

/// `scenes/rd-compression.toml` with binary hex8 voxels and `set`
/// overrides; `VOXFE_SCENES` names another scenes folder (a bench binary
/// carried to another machine).
fn scene(set: &[&str]) -> Scene {
    let path = scenes_dir().join("rd-compression.toml");
    let set: Vec<String> = ["voxel.fill=binary", "solver.element=hex8"]
        .iter()
        .chain(set)
        .map(|s| s.to_string())
        .collect();
    Scene::load(&path, &set).expect("scene loads")
}

/// The shipped scenes' folder, or the one `VOXFE_SCENES` names.
fn scenes_dir() -> PathBuf {
    std::env::var("VOXFE_SCENES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes"))
}

/// The loaded problem of [`scene`] with `set`; its grid lives for the
/// whole bench run.
fn problem(set: &[&str]) -> Problem<'static> {
    let s = scene(set);
    let (_, vox, _) = voxelize_scene(&s).unwrap();
    let load = load_case(&s).unwrap();
    let grid = Box::leak(Box::new(vox.grid));
    Problem::new(grid, s.material().unwrap(), &load).unwrap()
}

/// Bytes one apply must move per active node at least: x gathered once
/// (3 values), y written once, the node's id and flags, and its map entry.
fn bytes_per_node(value: usize) -> usize {
    6 * value + 4 + 4 + 4
}

fn operator(c: &mut Criterion) {
    let p = problem(&[]);
    let n = p.mesh.len();
    let mut g = c.benchmark_group("operator rd-compression");
    g.sample_size(20);
    g.throughput(Throughput::Elements(n as u64));
    let op = p.operator();
    let x: Vec<f64> = (0..op.len()).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut y = vec![0.0; op.len()];
    g.bench_function("cpu f64 (active nodes)", |b| {
        b.iter(|| op.apply(&x, &mut y))
    });
    g.throughput(Throughput::Bytes((n * bytes_per_node(8)) as u64));
    g.bench_function("cpu f64 (bytes)", |b| b.iter(|| op.apply(&x, &mut y)));
    if let Some(ctx) = context_or_skip(&AdapterRequest::default(), "GPU operator bench") {
        let gpu = GpuPcg::new(&ctx, &p.mesh, &p.table, &p.bc.fixed).unwrap();
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        gpu.write(Slot::P, &x32);
        // 20 applies per submission, then a read-back to wait for them.
        let batch = [Kernel::ApplyK; 20];
        let name = format!("gpu f32 ×20 on {} (active nodes)", ctx.adapter_name());
        g.throughput(Throughput::Elements(20 * n as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                gpu.run(&batch).unwrap();
                gpu.read::<f32>(Slot::Scalars).unwrap()
            })
        });
        g.throughput(Throughput::Bytes((20 * n * bytes_per_node(4)) as u64));
        g.bench_function(
            format!("gpu f32 ×20 on {} (bytes)", ctx.adapter_name()),
            |b| {
                b.iter(|| {
                    gpu.run(&batch).unwrap();
                    gpu.read::<f32>(Slot::Scalars).unwrap()
                })
            },
        );
    }
    g.finish();
}

/// Bytes one constrained fine apply y = A·x must move per active node by
/// the byte model of docs/performance.md: x read once (24), y written once
/// (24), the node's pattern (1) and grid id (4), and the node map's 4 bytes
/// per grid node (`map_per_node` grid nodes per active node: the map is
/// read once if its three planes stay cached).
fn apply_bytes(map_per_node: f64) -> f64 {
    24.0 + 24.0 + 1.0 + 4.0 + 4.0 * map_per_node
}

/// The shipped scene's own model, given as flags over [`scene`]'s binary
/// hex8: fraction fill, the incompatible element and the exponent its
/// calibration gives (so the bench does not calibrate).
const AS_SHIPPED: [&str; 3] = [
    "voxel.fill=fraction",
    "solver.element=incompatible",
    "voxel.fraction_exponent=2.1843",
];

/// Extra bytes of an apply per active node under sub-voxel fill: which
/// voxels are partial (1) and the node's own voxel's product slot (4).
const PARTIAL_NODE_BYTES: f64 = 5.0;

/// Bytes per partial voxel of an apply: its corner node and weight (8), its
/// 24 f64 products written once and read once (384).
const PARTIAL_VOXEL_BYTES: f64 = 8.0 + 384.0;

/// Bytes of the rest of one Jacobi-PCG iteration per active node (p·Ap is
/// summed inside the apply): x += αp, r −= αq with r·r (read x, r, p, q,
/// write x, r: 144); z = D⁻¹r with r·z (read r, D⁻¹, write z: 72);
/// p = z + βp (read z, p, write p: 72).
const PCG_VECTOR_BYTES: f64 = 144.0 + 72.0 + 72.0;

/// The fine apply and one Jacobi-PCG iteration on the CPU at the shipped
/// h and at h/2, each with its GB/s by the byte model; compare with
/// `benches/triad.sh`.
fn kernels(c: &mut Criterion) {
    use voxfe::fem::cg::{HostPcg, PcgBackend};
    use voxfe::fem::precond::Jacobi;
    let mut g = c.benchmark_group("kernels rd-compression");
    g.sample_size(10);
    for (label, set) in [
        ("h=0.05", vec![]),
        ("h=0.025", vec!["voxel.size=0.025"]),
        ("h=0.05 as shipped", AS_SHIPPED.to_vec()),
    ] {
        let p = problem(&set);
        let n = p.mesh.len();
        let map_per_node = p.mesh.node_map.len() as f64 / n as f64;
        let partial = p.stiffness().partial_voxels() as f64 / n as f64;
        let mut apply = apply_bytes(map_per_node);
        if partial > 0.0 {
            apply += PARTIAL_NODE_BYTES + partial * PARTIAL_VOXEL_BYTES;
        }
        let iteration = apply + PCG_VECTOR_BYTES;
        eprintln!(
            "{label}: {n} active nodes, {partial:.3} partial voxels a node; byte model: \
             apply {apply:.0} B/node ({:.1} MB), Jacobi-PCG iteration {iteration:.0} B/node ({:.1} MB)",
            apply * n as f64 / 1e6,
            iteration * n as f64 / 1e6
        );
        let op = p.operator();
        let x: Vec<f64> = (0..op.len()).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut y = vec![0.0; op.len()];
        g.throughput(Throughput::Bytes((apply * n as f64) as u64));
        g.bench_function(format!("fine apply {label} (bytes)"), |b| {
            b.iter(|| op.apply(&x, &mut y))
        });
        let jacobi = Jacobi::new(&op);
        let mut cg = HostPcg::new(&op, &jacobi, p.rhs());
        cg.start().unwrap();
        let mut steps = 0;
        g.throughput(Throughput::Bytes((iteration * n as f64) as u64));
        g.bench_function(format!("jacobi-pcg iteration {label} (bytes)"), |b| {
            b.iter(|| {
                // Restart well before CG could converge and break down.
                steps += 1;
                if steps % 1000 == 0 {
                    cg.start().unwrap();
                }
                cg.step().unwrap()
            })
        });
    }
    g.finish();
}

/// Bytes a stored (coarse) level's apply moves per node: 27 blocks of nine
/// f32 and 27 neighbour indices, x gathered once, y written once.
const STORED_APPLY_BYTES: f64 = 27.0 * (36.0 + 4.0) + 24.0 + 24.0;

/// Operator applies per smoothed level in one V-cycle with Chebyshev
/// smoothing of degree k (`smoothing_degree`: 1 on the finest level, 3
/// below): pre-smoothing from zero k − 1 (its first step needs none), the
/// residual 1, post-smoothing k.
fn vcycle_applies(k: usize) -> f64 {
    2.0 * k as f64
}

/// Bytes of a V-cycle's vector passes per node of a smoothed level with
/// smoothing degree k (f64 vectors of 24 B a node, inverse diagonal blocks
/// of 36 in f32): x zeroed 24; pre-smoothing r = b 48, first direction
/// (read D⁻¹, r; write d) 84, x += d 72, then per further step r −= Ad
/// 72, d = c1·d + c2·D⁻¹r 108 and x += d 72 (252); the residual
/// r = b − Ax 72; restriction (read r) 24; prolongation (read and write x)
/// 48; post-smoothing r = b − Ax 72, then the pre-smoothing's 84 + 72 and
/// 252 per further step. In all 600 + 504·(k − 1): 600 at k = 1, 1 608 at
/// k = 3. The transfer lists (about 37 B per active node over all levels)
/// are not counted.
fn vcycle_vector_bytes(k: usize) -> f64 {
    600.0 + 504.0 * (k as f64 - 1.0)
}

/// One multigrid V-cycle (the CPU preconditioner of every solve) at the
/// shipped h and at h/2, with its GB/s by the byte model above summed over
/// the levels (the coarsest: two triangular solves reading its dense
/// factor, 8 n² bytes for n unknowns); compare with `benches/triad.sh`.
fn vcycle(c: &mut Criterion) {
    use voxfe::fem::multigrid::{smoothing_degree, Multigrid};
    use voxfe::fem::precond::Preconditioner;
    let mut g = c.benchmark_group("kernels rd-compression");
    g.sample_size(10);
    for (label, set) in [("h=0.05", vec![]), ("h=0.025", vec!["voxel.size=0.025"])] {
        let p = problem(&set);
        let mg = Multigrid::new(&p.mesh, &p.table, &p.bc.fixed).unwrap();
        let nodes = mg.info().nodes;
        let map_per_node = p.mesh.node_map.len() as f64 / nodes[0] as f64;
        let smoothed = &nodes[..nodes.len() - 1];
        let coarsest = 3.0 * *nodes.last().unwrap() as f64;
        let bytes: f64 = smoothed
            .iter()
            .enumerate()
            .map(|(l, &n)| {
                let apply = if l == 0 {
                    apply_bytes(map_per_node)
                } else {
                    STORED_APPLY_BYTES
                };
                let k = smoothing_degree(l);
                n as f64 * (vcycle_applies(k) * apply + vcycle_vector_bytes(k))
            })
            .sum::<f64>()
            + 8.0 * coarsest * coarsest;
        eprintln!(
            "{label}: nodes per level {nodes:?}; byte model: V-cycle {:.1} MB ({:.0} B per fine node)",
            bytes / 1e6,
            bytes / nodes[0] as f64
        );
        let r: Vec<f64> = (0..3 * nodes[0]).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut z = vec![0.0; r.len()];
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function(format!("v-cycle {label} (bytes)"), |b| {
            b.iter(|| mg.apply(&r, &mut z))
        });
    }
    g.finish();
}

/// The six V-cycles of a periodic cell's columns (`homogenize`'s
/// preconditioner): one after another, and batched
/// (`Multigrid::apply_many`, the stored levels read once for all six). One
/// RD cell of `scenes/ta-lattice-homogenized.toml` at M/90 (90³ voxels),
/// as shipped (fraction fill, incompatible element); the right-hand sides
/// are the six unit strains'.
fn homogenize_cycles(c: &mut Criterion) {
    use voxfe::fem::multigrid::Multigrid;
    use voxfe::fem::precond::Preconditioner;
    use voxfe::homogenize::solve::PeriodicProblem;
    let path = scenes_dir().join("ta-lattice-homogenized.toml");
    let s =
        Scene::load(&path, &["voxel.size=0.016666666666666666".to_string()]).expect("scene loads");
    let (_, vox, _) = voxelize_scene(&s).unwrap();
    let problem = PeriodicProblem::new(&vox.grid, s.material().unwrap(), s.solver.element).unwrap();
    let system = problem.system();
    let mg = Multigrid::new(system.mesh, system.table, system.fixed).unwrap();
    eprintln!("M/90 cell: nodes per level {:?}", mg.info().nodes);
    let rs: Vec<Vec<f64>> = (0..6).map(|j| problem.rhs(j)).collect();
    let mut zs = vec![vec![0.0; rs[0].len()]; 6];
    let mut g = c.benchmark_group("kernels ta-lattice-homogenized");
    g.sample_size(10);
    g.bench_function("six v-cycles one by one (M/90)", |b| {
        b.iter(|| {
            for (r, z) in rs.iter().zip(zs.iter_mut()) {
                mg.apply(r, z);
            }
        })
    });
    let r_refs: Vec<&[f64]> = rs.iter().map(|r| &r[..]).collect();
    g.bench_function("six v-cycles batched (M/90)", |b| {
        b.iter(|| {
            let mut z_refs: Vec<&mut [f64]> = zs.iter_mut().map(|z| &mut z[..]).collect();
            mg.apply_many(&r_refs, &mut z_refs)
        })
    });
    g.finish();
}

fn whole_solve(c: &mut Criterion) {
    let mut g = c.benchmark_group("solve rd-compression");
    g.sample_size(10);
    let ctx = context_or_skip(&AdapterRequest::default(), "GPU solve bench");
    for (label, set) in [
        ("h=0.05 (shipped)", vec![]),
        ("h=0.1", vec!["voxel.size=0.1"]),
    ] {
        let s = scene(&set);
        let (_, vox, _) = voxelize_scene(&s).unwrap();
        let load = load_case(&s).unwrap();
        let m = s.material().unwrap();
        let opts = SolverOptions {
            tolerance: s.solver.tolerance,
            max_iterations: s.solver.max_iterations as usize,
            check_every: 25,
            preconditioner: voxfe::fem::Preconditioner::Jacobi,
            element: s.solver.element,
        };
        g.bench_function(format!("cpu {label}"), |b| {
            b.iter(|| solve_cpu(&vox.grid, m, &load, &opts).unwrap())
        });
        // The same solve preconditioned by a multigrid V-cycle (set-up included).
        let mg = SolverOptions {
            preconditioner: voxfe::fem::Preconditioner::Multigrid,
            ..opts
        };
        g.bench_function(format!("cpu multigrid {label}"), |b| {
            b.iter(|| solve_cpu(&vox.grid, m, &load, &mg).unwrap())
        });
        if let Some(ctx) = &ctx {
            if ctx.is_software() && set.is_empty() {
                eprintln!(
                    "skipped gpu {label}: minutes per solve on the software adapter {}",
                    ctx.adapter_name()
                );
                continue;
            }
            g.bench_function(format!("gpu {label} on {}", ctx.adapter_name()), |b| {
                b.iter(|| solve_gpu(ctx, &vox.grid, m, &load, &opts).unwrap())
            });
            g.bench_function(
                format!("gpu multigrid {label} on {}", ctx.adapter_name()),
                |b| b.iter(|| solve_gpu(ctx, &vox.grid, m, &load, &mg).unwrap()),
            );
        }
    }
    g.finish();
}

// No plots: criterion's plotters backend needs system fonts, which headless
// machines (CI, the lent GPU machines) do not have; the numbers are printed.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = operator, kernels, vcycle, homogenize_cycles, whole_solve
}
criterion_main!(benches);
