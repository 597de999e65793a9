// What mg_galerkin_fine.wgsl and mg_galerkin_stencil.wgsl share: one
// thread per (coarse node, stencil entry), the thread's entry, the fine
// node look-up, weights by offset, and the write of one coarse block. They
// use the importing kernel's bindings gp, coarse_ids, fine_map, coarse_map,
// blocks and nbrs (both kernels declare them alike). `fine_index` gives
// the global active index (the node map is bound from gp.fine_map_base
// on); a kernel subtracts gp.fine_win_base to read the finer level's
// per-node bindings.
//
// Thread k computes entry d = k / n of coarse node ca = k % n: the threads
// of a workgroup share d (and so their loop bounds and weights), and the
// block is accumulated in registers.

struct Entry {
    // The coarse node, its coordinates, the entry and its offset D.
    ca: u32,
    ci: vec3<i32>,
    d: u32,
    off: vec3<i32>,
}

fn entry_of(k: u32) -> Entry {
    let d = k / gp.n;
    let ca = k % gp.n;
    let cid = coarse_ids[ca];
    let ci = vec3<i32>(i32(cid % gp.csx), i32((cid / gp.csx) % gp.csy), i32(cid / (gp.csx * gp.csy)));
    let off = vec3<i32>(i32(d % 3u) - 1, i32((d / 3u) % 3u) - 1, i32(d / 9u) - 1);
    return Entry(ca, ci, d, off);
}

fn fine_index(f: vec3<i32>) -> u32 {
    if (f.x < 0 || f.y < 0 || f.z < 0 || f.x >= i32(gp.fsx) || f.y >= i32(gp.fsy) || f.z >= i32(gp.fsz)) {
        return NO_NODE;
    }
    return fine_map[u32(f.x) + gp.fsx * (u32(f.y) + gp.fsy * u32(f.z)) - gp.fine_map_base];
}

// Trilinear weight of the fine node at offset o from 2I (per axis: 1 at
// 0, ½ at ±1, 0 beyond).
fn weight(o: vec3<i32>) -> f32 {
    return axis_weight(o.x) * axis_weight(o.y) * axis_weight(o.z);
}

// Writes block e.d of coarse node e.ca (rows r0, r1, r2) and its
// neighbour: the coarse node at offset D when the block is not zero,
// NO_NODE otherwise (as the host's `galerkin` sets it).
fn write_entry(e: Entry, r0: vec3<f32>, r1: vec3<f32>, r2: vec3<f32>) {
    let b = (27u * e.ca + e.d) * 9u;
    blocks[b] = r0.x;
    blocks[b + 1u] = r0.y;
    blocks[b + 2u] = r0.z;
    blocks[b + 3u] = r1.x;
    blocks[b + 4u] = r1.y;
    blocks[b + 5u] = r1.z;
    blocks[b + 6u] = r2.x;
    blocks[b + 7u] = r2.y;
    blocks[b + 8u] = r2.z;
    let zero = vec3<f32>(0.0, 0.0, 0.0);
    let nonzero = any(r0 != zero) || any(r1 != zero) || any(r2 != zero);
    let c = e.ci + e.off;
    var m = NO_NODE;
    if (nonzero && c.x >= 0 && c.y >= 0 && c.z >= 0
        && c.x < i32(gp.csx) && c.y < i32(gp.csy) && c.z < i32(gp.csz)) {
        m = coarse_map[u32(c.x) + gp.csx * (u32(c.y) + gp.csy * u32(c.z)) - gp.coarse_map_base];
    }
    nbrs[27u * e.ca + e.d] = m;
}
