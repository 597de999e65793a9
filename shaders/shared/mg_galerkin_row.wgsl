// The parts of a Galerkin row that mg_galerkin_fine.wgsl and
// mg_galerkin_stencil.wgsl share: fine node look-up, the scatter of a fine
// block into the entries of the coarse parents, and the write of a coarse
// row. They use the importing kernel's bindings gp, fine_map, coarse_map,
// blocks and nbrs (both kernels declare them alike).

// Adds w·blk (9 values) into entry d of the 27-block accumulator.
fn add_block(acc: ptr<function, array<f32, 243>>, d: u32, w: f32, blk: array<f32, 9>) {
    for (var k = 0u; k < 9u; k = k + 1u) {
        (*acc)[9u * d + k] = (*acc)[9u * d + k] + w * blk[k];
    }
}

fn fine_index(x: i32, y: i32, z: i32) -> u32 {
    if (x < 0 || y < 0 || z < 0 || x >= i32(gp.fsx) || y >= i32(gp.fsy) || z >= i32(gp.fsz)) {
        return NO_NODE;
    }
    return fine_map[u32(x) + gp.fsx * (u32(y) + gp.fsy * u32(z))];
}

// Coarse parent t (0, 1) along one axis of the fine node at offset o from
// 2I (o in −2..2; the same for every thread of a dispatch, so the
// accumulator is indexed alike across threads): its offset from I, and
// its weight (0 where there is none).
fn parent_offset(o: i32, t: u32) -> i32 {
    if ((o & 1) == 0) {
        return o / 2;
    }
    return (o - 1) / 2 + i32(t);
}

fn parent_weight(o: i32, t: u32) -> f32 {
    if ((o & 1) == 0) {
        return select(0.0, 1.0, t == 0u);
    }
    return 0.5;
}

// Scatters w·blk into the entries of the coarse parents of the fine node
// at offset o from 2I.
fn scatter(acc: ptr<function, array<f32, 243>>, o: vec3<i32>, w: f32, blk: array<f32, 9>) {
    for (var tz = 0u; tz < 2u; tz = tz + 1u) {
        let wz = parent_weight(o.z, tz);
        if (wz == 0.0) { continue; }
        let oz = parent_offset(o.z, tz);
        for (var ty = 0u; ty < 2u; ty = ty + 1u) {
            let wy = parent_weight(o.y, ty);
            if (wy == 0.0) { continue; }
            let oy = parent_offset(o.y, ty);
            for (var tx = 0u; tx < 2u; tx = tx + 1u) {
                let wx = parent_weight(o.x, tx);
                if (wx == 0.0) { continue; }
                let ox = parent_offset(o.x, tx);
                let d = u32((ox + 1) + 3 * (oy + 1) + 9 * (oz + 1));
                add_block(acc, d, w * wx * wy * wz, blk);
            }
        }
    }
}

// Writes the 27 blocks of coarse node ca and the neighbour of each.
fn write_row(ca: u32, ci: vec3<i32>, acc: ptr<function, array<f32, 243>>) {
    for (var d = 0u; d < 27u; d = d + 1u) {
        var nonzero = false;
        for (var k = 0u; k < 9u; k = k + 1u) {
            let v = (*acc)[9u * d + k];
            blocks[(27u * ca + d) * 9u + k] = v;
            nonzero = nonzero || v != 0.0;
        }
        let c = ci + vec3<i32>(i32(d % 3u) - 1, i32((d / 3u) % 3u) - 1, i32(d / 9u) - 1);
        var m = NO_NODE;
        if (nonzero && c.x >= 0 && c.y >= 0 && c.z >= 0
            && c.x < i32(gp.csx) && c.y < i32(gp.csy) && c.z < i32(gp.csz)) {
            m = coarse_map[u32(c.x) + gp.csx * (u32(c.y) + gp.csy * u32(c.z))];
        }
        nbrs[27u * ca + d] = m;
    }
}
