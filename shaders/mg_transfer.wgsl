// Grid transfers between multigrid levels: coarse node I sits on fine node
// 2I, P is trilinear (weights 1 and ½ per axis), restriction is Pᵀ.
// `restrict_residual`: one thread per coarse node gathers its 3×3×3 fine support.
// `prolong_add`: one thread per fine node adds its ≤ 8 coarse parents.
// Periodic grids (mg.periodic = 1) wrap: fine coordinates modulo the fine
// size, coarse ones modulo the coarse size ⌈n/2⌉, and a restriction weight
// is the one the wrapped fine node's parents give (Pᵀ exactly, also where
// an odd grid's last coarse interval spans one fine interval).
// Split bindings: ids and dst are the dispatch's nodes; map is bound from
// grid id mg.map_base on, src from node mg.win_base on.
// CPU mirrors: src/gpu/mirror/mg_transfer.rs `mg_restrict`, `mg_prolong`.
#import shared/params.wgsl
#import shared/mg_params.wgsl

@group(0) @binding(0) var<uniform> mg: MgParams;
// restrict_residual: coarse grid ids and the fine node map; prolong: fine grid ids
// and the coarse node map.
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> map: array<u32>;
// restrict_residual: the fine residual; prolong: the coarse correction.
@group(0) @binding(3) var<storage, read> src: array<f32>;
// restrict_residual: the coarse right-hand side; prolong: the fine x (added to).
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

fn coords(id: u32, sx: u32, sy: u32) -> vec3<i32> {
    return vec3<i32>(i32(id % sx), i32((id / sx) % sy), i32(id / (sx * sy)));
}

// x modulo n, in [0, n), for x in [−n, 2n) (every caller's range: a
// coordinate one step off its grid). No `%` of signed integers in any
// kernel: naga 30's GLSL (the GL backend) leaves it undefined for a
// negative operand (the test `no_kernel_takes_a_signed_remainder`,
// src/gpu/wgsl_checks.rs).
fn wrap(x: i32, n: i32) -> i32 {
    return select(select(x, x - n, x >= n), x + n, x < 0);
}

// The weight of coarse coordinate c (in [0, nc)) among the parents of the
// wrapped fine coordinate f (in [0, nf)) along one axis.
fn parent_weight(f: i32, c: i32, nc: i32) -> f32 {
    if ((f & 1) == 0) {
        return select(0.0, 1.0, f / 2 == c);
    }
    var w = 0.0;
    if ((f - 1) / 2 == c) { w = w + 0.5; }
    if (wrap((f + 1) / 2, nc) == c) { w = w + 0.5; }
    return w;
}

@compute @workgroup_size(WG_NODES)
fn restrict_residual(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let a = linear_group(wg, num) * WG_NODES + li;
    if (a >= mg.n) {
        return;
    }
    let c = coords(ids[a], mg.csx, mg.csy);
    let fs = vec3<i32>(i32(mg.fsx), i32(mg.fsy), i32(mg.fsz));
    var acc = vec3<f32>(0.0, 0.0, 0.0);
    for (var dz = -1; dz <= 1; dz = dz + 1) {
        for (var dy = -1; dy <= 1; dy = dy + 1) {
            for (var dx = -1; dx <= 1; dx = dx + 1) {
                var f = 2 * c + vec3<i32>(dx, dy, dz);
                var w = 1.0;
                if (mg.periodic == 1u) {
                    let cs = vec3<i32>(i32(mg.csx), i32(mg.csy), i32(mg.csz));
                    f = vec3<i32>(wrap(f.x, fs.x), wrap(f.y, fs.y), wrap(f.z, fs.z));
                    w = parent_weight(f.x, c.x, cs.x) * parent_weight(f.y, c.y, cs.y)
                        * parent_weight(f.z, c.z, cs.z);
                    if (w == 0.0) {
                        continue;
                    }
                } else {
                    if (any(f < vec3<i32>(0)) || any(f >= fs)) {
                        continue;
                    }
                    if (dx != 0) { w = w * 0.5; }
                    if (dy != 0) { w = w * 0.5; }
                    if (dz != 0) { w = w * 0.5; }
                }
                var i = map[u32(f.x) + mg.fsx * (u32(f.y) + mg.fsy * u32(f.z)) - mg.map_base];
                if (i == NO_NODE) {
                    continue;
                }
                i = i - mg.win_base;
                acc = acc + w * vec3<f32>(src[3u * i], src[3u * i + 1u], src[3u * i + 2u]);
            }
        }
    }
    dst[3u * a] = acc.x;
    dst[3u * a + 1u] = acc.y;
    dst[3u * a + 2u] = acc.z;
}

@compute @workgroup_size(WG_NODES)
fn prolong_add(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) num: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = linear_group(wg, num) * WG_NODES + li;
    if (i >= mg.n) {
        return;
    }
    let f = coords(ids[i], mg.fsx, mg.fsy);
    // Per axis: the first parent and how many (1 on even, 2 on odd coordinates).
    let lo = f / 2;
    let two = f & vec3<i32>(1);
    var acc = vec3<f32>(0.0, 0.0, 0.0);
    for (var ix = 0; ix <= two.x; ix = ix + 1) {
        for (var iy = 0; iy <= two.y; iy = iy + 1) {
            for (var iz = 0; iz <= two.z; iz = iz + 1) {
                var c = lo + vec3<i32>(ix, iy, iz);
                if (mg.periodic == 1u) {
                    c = vec3<i32>(wrap(c.x, i32(mg.csx)), wrap(c.y, i32(mg.csy)), wrap(c.z, i32(mg.csz)));
                }
                var j = map[u32(c.x) + mg.csx * (u32(c.y) + mg.csy * u32(c.z)) - mg.map_base];
                if (j == NO_NODE) {
                    continue;
                }
                j = j - mg.win_base;
                var w = 1.0;
                if (two.x == 1) { w = w * 0.5; }
                if (two.y == 1) { w = w * 0.5; }
                if (two.z == 1) { w = w * 0.5; }
                acc = acc + w * vec3<f32>(src[3u * j], src[3u * j + 1u], src[3u * j + 2u]);
            }
        }
    }
    dst[3u * i] = dst[3u * i] + acc.x;
    dst[3u * i + 1u] = dst[3u * i + 1u] + acc.y;
    dst[3u * i + 2u] = dst[3u * i + 2u] + acc.z;
}
