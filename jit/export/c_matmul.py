"""Matmul as plain C: a cache-blocked, vectorizable GEMM per batch element, or a CBLAS
call when model.c is compiled with -DMODEL_USE_BLAS (`make BLAS=1`).

`gemm_source(t)` is the kernel for one C type, emitted once per type the model uses;
`render_matmul(node, name)` is the node's function: numpy's matmul rules (1-D operands
promoted, batch dims broadcast), one GEMM per batch element.

>>> "ej_gemm_float" in gemm_source("float")
True
"""
from __future__ import annotations

import numpy as np

from kernels.codegen.c_render import ctype
from kernels.codegen.group import broadcast_strides
from tracer.graph import Node

# Tiles: a KB x NB panel of B (32 KiB of float) stays in L1/L2 while every row of A
# streams past it; the innermost loop runs over contiguous columns, which gcc vectorizes.
KB, NB, MR = 64, 128, 4
SMALL_N, SMALL_KN, LANES = 16, 4096, 8
_BLAS = {"float": "cblas_sgemm", "double": "cblas_dgemm"}


def gemm_source(t: str) -> str:
    """`ej_gemm_<t>(A, B, C, M, K, N)`: C[M,N] = A[M,K] @ B[K,N], all row-major."""
    blas = _BLAS.get(t)
    blas_call = (f"""#ifdef MODEL_USE_BLAS
    {blas}(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1, A, (int)K,
                B, (int)N, 0, C, (int)N);
    return;
#endif
""" if blas else "")
    return f"""static void ej_gemm_{t.replace(' ', '_')}(const {t} *restrict A, const {t} *restrict B,
                                {t} *restrict C, int64_t M, int64_t K, int64_t N) {{
{blas_call}    if (N < {SMALL_N} && K * N <= {SMALL_KN}) {{
        /* Few columns (a classifier head): a row-times-column loop over j would be too
         * short to vectorize, so transpose B and take dot products over k instead, in
         * {LANES} partial sums the compiler keeps in one vector register. */
        {t} bt[{SMALL_KN}];
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++) bt[j * K + k] = B[k * N + j];
        for (int64_t i = 0; i < M; i++) {{
            const {t} *a = A + i * K;
            for (int64_t j = 0; j < N; j++) {{
                const {t} *b = bt + j * K;
                {t} acc[{LANES}] = {{0}};
                int64_t k = 0;
                for (; k + {LANES} <= K; k += {LANES})
                    for (int u = 0; u < {LANES}; u++) acc[u] += a[k + u] * b[k + u];
                {t} sum = 0;
                for (int u = 0; u < {LANES}; u++) sum += acc[u];
                for (; k < K; k++) sum += a[k] * b[k];
                C[i * N + j] = sum;
            }}
        }}
        return;
    }}
    for (int64_t i = 0; i < M * N; i++) C[i] = 0;
    for (int64_t j0 = 0; j0 < N; j0 += {NB}) {{
        const int64_t j1 = j0 + {NB} < N ? j0 + {NB} : N;
        for (int64_t k0 = 0; k0 < K; k0 += {KB}) {{
            const int64_t k1 = k0 + {KB} < K ? k0 + {KB} : K;
            int64_t i = 0;
            for (; i + {MR} <= M; i += {MR}) {{   /* {MR} rows share each load of B */
                {t} *restrict c0 = C + i * N, *restrict c1 = c0 + N;
                {t} *restrict c2 = c1 + N, *restrict c3 = c2 + N;
                const {t} *a = A + i * K;
                for (int64_t k = k0; k < k1; k++) {{
                    const {t} a0 = a[k], a1 = a[K + k], a2 = a[2 * K + k], a3 = a[3 * K + k];
                    const {t} *restrict b = B + k * N;
                    for (int64_t j = j0; j < j1; j++) {{
                        const {t} bv = b[j];
                        c0[j] += a0 * bv;
                        c1[j] += a1 * bv;
                        c2[j] += a2 * bv;
                        c3[j] += a3 * bv;
                    }}
                }}
            }}
            for (; i < M; i++) {{
                {t} *restrict c = C + i * N;
                const {t} *a = A + i * K;
                for (int64_t k = k0; k < k1; k++) {{
                    const {t} av = a[k];
                    const {t} *restrict b = B + k * N;
                    for (int64_t j = j0; j < j1; j++) c[j] += av * b[j];
                }}
            }}
        }}
    }}
}}
"""


def matmul_ctype(node: Node) -> str:
    """The C type of the node's GEMM."""
    return ctype(node.out.dtype)


def render_matmul(node: Node, name: str) -> str:
    """`static int name(in0, in1, out)` computing numpy's matmul of two contiguous arrays."""
    a, b = node.inputs
    sa, sb = list(a.shape), list(b.shape)
    if len(sa) == 1:
        sa = [1] + sa
    if len(sb) == 1:
        sb = sb + [1]
    m, k, n = sa[-2], sa[-1], sb[-1]
    batch = tuple(np.broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2])))
    t = matmul_ctype(node)
    # element strides of each operand's (M,K) / (K,N) matrices over the batch dims
    a_steps = broadcast_strides(tuple(sa[:-2]), batch) if batch else ()
    b_steps = broadcast_strides(tuple(sb[:-2]), batch) if batch else ()
    lines = [f"static int {name}(const void *in0_, const void *in1_, void *out_) {{",
             f"    const {t} *A = (const {t} *)in0_;",
             f"    const {t} *B = (const {t} *)in1_;",
             f"    {t} *C = ({t} *)out_;"]
    indent = "    "
    for d, size in enumerate(batch):
        lines.append(f"{indent}for (int64_t i{d} = 0; i{d} < {size}LL; i{d}++) {{")
        indent += "    "
    out_steps = broadcast_strides(batch, batch) if batch else ()
    a_off = "".join(f" + i{d} * {s * m * k}LL" for d, s in enumerate(a_steps) if s)
    b_off = "".join(f" + i{d} * {s * k * n}LL" for d, s in enumerate(b_steps) if s)
    c_off = "".join(f" + i{d} * {s * m * n}LL" for d, s in enumerate(out_steps) if s)
    lines.append(f"{indent}ej_gemm_{t.replace(' ', '_')}(A + 0{a_off}, B + 0{b_off}, "
                 f"C + 0{c_off}, {m}, {k}, {n});")
    for _ in batch:
        indent = indent[:-4]
        lines.append(f"{indent}}}")
    lines += ["    return MODEL_OK;", "}"]
    return "\n".join(lines) + "\n"
