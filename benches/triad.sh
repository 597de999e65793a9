#!/usr/bin/env bash
# The machine's STREAM triad bandwidth (a[i] = b[i] + s·c[i], f64, 24 bytes
# an element as STREAM counts them: two reads, one write), the yardstick the
# solver benches' GB/s are read against (docs/performance.md).
#
#   benches/triad.sh [ACHIEVED_GBPS ...]
#
# THREADS (default 2) OpenMP threads, MB (default 256) per array: far over
# the last-level cache of a laptop or CI runner (set it above the L3 of a
# big server). Best of 20 repetitions. With arguments, prints each as a
# fraction of the triad (e.g. the GB/s `cargo bench --bench solver -- kernels`
# prints). Needs a C compiler with OpenMP (gcc, clang + libomp).
set -euo pipefail
THREADS=${THREADS:-2}
MB=${MB:-256}
CC=${CC:-cc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/triad.c" <<'C'
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    size_t n = (size_t)atol(argv[1]) * 1024 * 1024 / sizeof(double);
    double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double)),
           *c = malloc(n * sizeof(double));
    if (!a || !b || !c) { fprintf(stderr, "triad: out of memory\n"); return 1; }
    /* First touch on the threads that use the pages. */
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 2.0; }
    double best = 1e30, s = 3.0;
    for (int k = 0; k < 20; k++) {
        double t = omp_get_wtime();
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    /* Keep the stores. */
    if (a[n / 2] != 7.0) { fprintf(stderr, "triad: wrong result\n"); return 1; }
    printf("%.2f\n", 3.0 * n * sizeof(double) / best / 1e9);
    return 0;
}
C
"$CC" -O3 -fopenmp -o "$dir/triad" "$dir/triad.c"
gbps=$(OMP_NUM_THREADS=$THREADS OMP_PROC_BIND=spread "$dir/triad" "$MB")
echo "triad: $gbps GB/s ($THREADS threads, 3 x $MB MB arrays, best of 20)"
for x in "$@"; do
    awk -v x="$x" -v t="$gbps" 'BEGIN { printf "%s GB/s = %.1f %% of the triad\n", x, 100 * x / t }'
done
