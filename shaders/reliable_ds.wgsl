// Reliable updates on the device in double-single arithmetic (adapters
// without SHADER_F64): the kernels of shared/reliable_body.wgsl over
// Hi = vec2<f32>(hi, lo), the unevaluated sum hi + lo with |lo| ≤ ulp(hi)/2.
// Sums by Knuth's TwoSum, products by Dekker's TwoProd with the operands
// split by masking the low 12 significand bits (every partial product is then
// exact, so a compiler that fuses a multiply and an add changes nothing).
// About 44 significant bits. CPU mirror: src/gpu/mirror/reliable_ds.rs (`Ds` in src/gpu/abi.rs).
#import shared/params.wgsl
#import shared/reliable_body.wgsl

alias Hi = vec2<f32>;

fn hi_zero() -> vec2<f32> {
    return vec2<f32>(0.0, 0.0);
}

fn hi_of(v: f32) -> vec2<f32> {
    return vec2<f32>(v, 0.0);
}

// v, through an integer operation with a zero the compiler cannot know
// (params._pad1, always 0): shader compilers may simplify float expressions
// algebraically when no NoContraction decoration forbids it (Mesa's NIR
// turns (a + b) − a into b), which would cancel the error terms below.
fn g(v: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(v) ^ params._pad1);
}

// s + e = a + b exactly (Knuth).
fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = g(a + b);
    let bb = g(s - a);
    let e = g(a - g(s - bb)) + g(b - bb);
    return vec2<f32>(s, e);
}

// The top 12 significand bits of a, and the rest.
fn split(a: f32) -> vec2<f32> {
    let hi = bitcast<f32>(bitcast<u32>(a) & 0xfffff000u);
    return vec2<f32>(hi, a - hi);
}

// p + e = a · b exactly (Dekker).
fn two_prod(a: f32, b: f32) -> vec2<f32> {
    let p = g(a * b);
    let sa = split(a);
    let sb = split(b);
    let e = g(g(g(g(sa.x * sb.x) - p) + g(sa.x * sb.y)) + g(sa.y * sb.x)) + g(sa.y * sb.y);
    return vec2<f32>(p, e);
}

fn hi_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let s = two_sum(a.x, b.x);
    let t = two_sum(a.y, b.y);
    let u = two_sum(s.x, s.y + t.x);
    return two_sum(u.x, u.y + t.y);
}

fn hi_sub(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return hi_add(a, -b);
}

fn hi_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let p = two_prod(a.x, b.x);
    return two_sum(p.x, p.y + (a.x * b.y + a.y * b.x));
}

fn hi_round(a: vec2<f32>) -> f32 {
    return a.x;
}
