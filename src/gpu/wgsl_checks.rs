//! Checks of the host side against the WGSL as naga parses it, without any
//! adapter: every kernel's bind-group layout (the PCG table in
//! [`super::kernels`], the multigrid tables in [`super::mg_kernels`] and
//! the reliable-update table in [`super::reliable_device`])
//! against the global variables its entry point uses, its workgroup size
//! against `@workgroup_size`, and the Rust twins of the WGSL `const`s
//! in [`super::abi`] (workgroup sizes, the reduction block, the scalar
//! slots, `NO_NODE`).

use super::abi::{self, NO_NODE, WG_DOFS, WG_NODES, WG_REDUCE};
use super::kernels::KERNEL_LIST;
use super::mg_kernels::{self, PIPELINES};
use super::shaders;

/// The module of kernel file `file` (imports expanded) and naga's analysis.
pub(super) fn parse(file: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let source = shaders::source(file).unwrap_or_else(|| panic!("{file} is a kernel file"));
    parse_source(file, &source)
}

/// The module of WGSL `source` (named `name` in a panic) and naga's
/// analysis.
fn parse_source(name: &str, source: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::FLOAT64,
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    (module, info)
}

/// What a binding is, as the WGSL declares it or a layout entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Uniform,
    StorageRead,
    StorageReadWrite,
}

/// A binding of group 0: its index, kind and the least bytes it needs
/// (the struct size of a uniform, the element stride of a storage array).
type Binding = (u32, Kind, u64);

/// The group-0 bindings that entry point `entry` of `file` uses, sorted,
/// and its workgroup size.
fn used_bindings(file: &str, entry: &str) -> (Vec<Binding>, [u32; 3]) {
    let (module, info) = parse(file);
    let (index, ep) = module
        .entry_points
        .iter()
        .enumerate()
        .find(|(_, e)| e.name == entry)
        .unwrap_or_else(|| panic!("{file} has no entry point {entry}"));
    let uses = info.get_entry_point(index);
    let mut bindings: Vec<Binding> = module
        .global_variables
        .iter()
        .filter(|(handle, _)| !uses[*handle].is_empty())
        .filter_map(|(_, var)| {
            let binding = var.binding.as_ref()?;
            assert_eq!(binding.group, 0, "{file}::{entry}: {:?}", var.name);
            let kind = match var.space {
                naga::AddressSpace::Uniform => Kind::Uniform,
                naga::AddressSpace::Storage { access }
                    if access.contains(naga::StorageAccess::STORE) =>
                {
                    Kind::StorageReadWrite
                }
                naga::AddressSpace::Storage { .. } => Kind::StorageRead,
                ref s => panic!("{file}::{entry}: {:?} in {s:?}", var.name),
            };
            let bytes = match module.types[var.ty].inner {
                naga::TypeInner::Struct { span, .. } => span as u64,
                naga::TypeInner::Array { stride, .. } => stride as u64,
                naga::TypeInner::Atomic(scalar) => scalar.width as u64,
                ref t => panic!("{file}::{entry}: {:?} is a {t:?}", var.name),
            };
            Some((binding.binding, kind, bytes))
        })
        .collect();
    bindings.sort();
    (bindings, ep.workgroup_size)
}

/// Checks a layout against the bindings `entry` of `file` uses: the same
/// indices and kinds, and each `min_binding_size` at least what the shader
/// needs (exactly the struct's size for a uniform).
fn check_layout(file: &str, entry: &str, layout: &[wgpu::BindGroupLayoutEntry]) {
    let mut table: Vec<Binding> = layout
        .iter()
        .map(|e| {
            assert_eq!(e.visibility, wgpu::ShaderStages::COMPUTE);
            assert_eq!(e.count, None);
            let wgpu::BindingType::Buffer {
                ty,
                has_dynamic_offset: false,
                min_binding_size,
            } = e.ty
            else {
                panic!(
                    "{file}::{entry}: binding {} is not a plain buffer",
                    e.binding
                )
            };
            let kind = match ty {
                wgpu::BufferBindingType::Uniform => Kind::Uniform,
                wgpu::BufferBindingType::Storage { read_only: true } => Kind::StorageRead,
                wgpu::BufferBindingType::Storage { read_only: false } => Kind::StorageReadWrite,
            };
            let min = min_binding_size
                .unwrap_or_else(|| panic!("{file}::{entry}: binding {} has no minimum", e.binding))
                .get();
            (e.binding, kind, min)
        })
        .collect();
    table.sort();
    let (used, _) = used_bindings(file, entry);
    let shape = |b: &[Binding]| b.iter().map(|&(i, k, _)| (i, k)).collect::<Vec<_>>();
    assert_eq!(
        shape(&table),
        shape(&used),
        "{file}::{entry}: the table's bindings (left) against the shader's (right)"
    );
    for (&(i, kind, min), &(_, _, needs)) in table.iter().zip(&used) {
        match kind {
            Kind::Uniform => assert_eq!(min, needs, "{file}::{entry}: uniform {i}"),
            _ => assert!(
                min >= needs && min % needs == 0,
                "{file}::{entry}: binding {i} minimum {min} B, elements of {needs} B"
            ),
        }
    }
}

#[test]
fn every_pcg_kernel_binds_what_its_entry_point_uses() {
    for kernel in KERNEL_LIST {
        let spec = kernel.spec();
        check_layout(spec.file, spec.entry, &kernel.layout());
        assert_eq!(
            used_bindings(spec.file, spec.entry).1,
            [spec.workgroup_size, 1, 1],
            "{}::{}: @workgroup_size",
            spec.file,
            spec.entry
        );
    }
}

#[test]
fn every_multigrid_kernel_binds_what_its_entry_point_uses() {
    for (kernel, file, entry, bindings) in PIPELINES {
        check_layout(file, entry, &mg_kernels::layout(bindings));
        assert_eq!(
            used_bindings(file, entry).1,
            [WG_NODES, 1, 1],
            "{file}::{entry} ({kernel:?}): @workgroup_size"
        );
    }
}

#[test]
fn a_wrong_table_row_is_caught() {
    use super::kernels::{storage_entry, uniform_entry, Access};
    let wrong = [
        uniform_entry(48),
        storage_entry(1, Access::Read, 4),
        storage_entry(2, Access::Read, 4),
        // update_pz writes p: read_only would not match its WGSL.
        storage_entry(3, Access::Read, 4),
    ];
    let caught = std::panic::catch_unwind(|| check_layout("update_pz.wgsl", "update_pz", &wrong));
    assert!(caught.is_err());
}

/// The value of the `u32` constant `name` of kernel file `file`.
fn wgsl_const(file: &str, name: &str) -> u32 {
    let (module, _) = parse(file);
    let (_, c) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("{file} has no const {name}"));
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref e => panic!("{file}: const {name} is {e:?}, not a u32"),
    }
}

#[test]
fn rust_constants_match_their_wgsl_twins() {
    // shared/params.wgsl, as every PCG kernel imports it.
    let shared = [
        ("RHO", abi::RHO as u32),
        ("PQ", abi::PQ as u32),
        ("ALPHA", abi::ALPHA as u32),
        ("BETA", abi::BETA as u32),
        ("RR", abi::RR as u32),
        ("RHO_NEW", abi::RHO_NEW as u32),
        ("BREAKDOWN", abi::BREAKDOWN as u32),
        ("SCALARS", abi::SCALARS as u32),
        ("REDUCE_WG", abi::REDUCE_WG as u32),
        ("REDUCE_PER_THREAD", abi::REDUCE_PER_THREAD as u32),
        ("WG_NODES", WG_NODES),
        ("WG_DOFS", WG_DOFS),
    ];
    for (name, rust) in shared {
        assert_eq!(wgsl_const("update_xr.wgsl", name), rust, "{name}");
    }
    assert_eq!(WG_REDUCE, wgsl_const("update_xr.wgsl", "REDUCE_WG"));
    const { assert!(abi::BREAKDOWN < abi::SCALARS) };
    // shared/mg_params.wgsl, as every multigrid kernel imports it.
    assert_eq!(wgsl_const("mg_apply.wgsl", "NO_NODE"), NO_NODE);
}

#[test]
fn the_high_precision_values_match_their_wgsl_twins() {
    // x_acc (binding 13 of `accumulate`): an array of the file's `Hi`.
    let hi = [
        ("reliable_ds.wgsl", std::mem::size_of::<abi::Ds>()),
        ("reliable_f64.wgsl", std::mem::size_of::<f64>()),
    ];
    for (file, size) in hi {
        let (used, _) = used_bindings(file, "accumulate");
        let x_acc = used.iter().find(|b| b.0 == 13).expect("binding 13");
        assert_eq!(x_acc.2, size as u64, "{file}: the stride of Hi");
    }
}

#[test]
fn every_hierarchy_kernel_binds_what_its_entry_point_uses() {
    use super::mg_kernels::{galerkin_layout, GALERKIN_PIPELINES};
    for (kernel, file, entry, bindings) in GALERKIN_PIPELINES {
        check_layout(file, entry, &galerkin_layout(bindings));
        assert_eq!(
            used_bindings(file, entry).1,
            [WG_NODES, 1, 1],
            "{file}::{entry} ({kernel:?}): @workgroup_size"
        );
    }
}

#[test]
fn every_reliable_update_kernel_binds_what_its_entry_point_uses() {
    use super::reliable_device::{layout, FILES, PIPELINES};
    for file in FILES {
        for (entry, workgroup_size, rows) in PIPELINES {
            check_layout(file, entry, &layout(rows));
            assert_eq!(
                used_bindings(file, entry).1,
                [workgroup_size, 1, 1],
                "{file}::{entry}: @workgroup_size"
            );
        }
    }
}

#[test]
fn every_plastic_kernel_binds_what_its_entry_point_uses() {
    use super::plastic::{layout, PIPELINES};
    for (file, entry, _, rows) in PIPELINES {
        check_layout(file, entry, &layout(rows));
        assert_eq!(
            used_bindings(file, entry).1,
            [WG_NODES, 1, 1],
            "{file}::{entry}: @workgroup_size"
        );
    }
    for file in ["plastic_update.wgsl", "plastic_tangent.wgsl"] {
        assert_eq!(wgsl_const(file, "GRADS") as usize, abi::PLASTIC_GRADS);
        assert_eq!(wgsl_const(file, "NO_BRICK"), NO_NODE);
    }
}

/// The signed-integer remainders (`%` with an i32 operand) of the WGSL
/// `source` named `name`: "function: expression" of each.
fn signed_remainders(name: &str, source: &str) -> Vec<String> {
    let (module, info) = parse_source(name, source);
    let functions = module.functions.iter().map(|(h, f)| (f, &info[h])).chain(
        module
            .entry_points
            .iter()
            .enumerate()
            .map(|(i, e)| (&e.function, info.get_entry_point(i))),
    );
    let mut found = Vec::new();
    for (function, fi) in functions {
        for (handle, expr) in function.expressions.iter() {
            if let naga::Expression::Binary {
                op: naga::BinaryOperator::Modulo,
                left,
                ..
            } = *expr
            {
                let kind = fi[left].ty.inner_with(&module.types).scalar_kind();
                if kind == Some(naga::ScalarKind::Sint) {
                    found.push(format!(
                        "{}: {handle:?}",
                        function.name.as_deref().unwrap_or("?")
                    ));
                }
            }
        }
    }
    found
}

/// No kernel takes `%` of signed integers. WGSL defines it for negative
/// operands, but naga 30.0.1's GLSL writer (the GL backend) emits GLSL's
/// `%`, undefined for them (gfx-rs/wgpu#9687; its SPIR-V writer lowers it
/// correctly). The periodic transfers' wrap took it of −1 and gave a
/// wrong restriction on llvmpipe's GL.
#[test]
fn no_kernel_takes_a_signed_remainder() {
    for (file, _, _) in shaders::KERNELS {
        let source = shaders::source(file).expect("a kernel file");
        let found = signed_remainders(file, &source);
        assert!(found.is_empty(), "{file}: signed % in {found:?}");
    }
    // The check sees one where there is one.
    let wrapped = "fn wrap(x: i32, n: i32) -> i32 { return ((x % n) + n) % n; }\n\
                   @compute @workgroup_size(1) fn main() { _ = wrap(-1, 3); }";
    assert_eq!(signed_remainders("the old wrap", wrapped).len(), 2);
}
