// Reliable updates on the device in f64 (adapters with SHADER_F64): the
// kernels of shared/reliable_body.wgsl over Hi = f64.
// CPU mirror: src/gpu/mirror/reliable_body.rs with `f64` (src/gpu/mirror/reliable_f64.rs).
#import shared/params.wgsl
#import shared/reliable_body.wgsl

alias Hi = f64;

fn hi_zero() -> f64 {
    return 0.0lf;
}

fn hi_of(v: f32) -> f64 {
    return f64(v);
}

fn hi_add(a: f64, b: f64) -> f64 {
    return a + b;
}

fn hi_sub(a: f64, b: f64) -> f64 {
    return a - b;
}

fn hi_mul(a: f64, b: f64) -> f64 {
    return a * b;
}

fn hi_round(a: f64) -> f32 {
    return f32(a);
}
