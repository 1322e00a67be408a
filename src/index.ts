/**
 * Stratum: a functional tensor DSL for TypeScript, with shapes in the types.
 *
 * This is the public surface. The folders under `src/` are the pipeline:
 * `core/` (dtypes, shapes and their rules, the tensor, constructors) first,
 * then `backend/` (scalar ops, loop kernels, WebAssembly), `prims/`, `ir/`
 * (programs and the fusion pass), `transforms/`, `ops/`, and the user-facing
 * `layers/`, `optim/`, `data/`, `io/` and `random/` on top.
 */

export type { DType, Scalar, Storage } from "./core/dtype.js";
export { ShapeError } from "./core/errors.js";
export { MAX_DIM, type Concrete, type Dim, type RuntimeShape, type Shape, type ShowDim, type ShowShape } from "./core/shape.js";
export { Tensor, type Nested, type NestedArray } from "./core/tensor.js";
export {
  arange,
  assertShape,
  eye,
  fromArray,
  full,
  linspace,
  ones,
  tensor,
  zeros,
  type NestedInput,
  type NestedShape,
} from "./core/create.js";
export * from "./core/rules/index.js";
export * from "./ops/index.js";
export { jit, type JitFunction, type JitInfo, type JitOptions, type Jitted, type TreeFunction } from "./transforms/jit.js";
export { DEFAULT_CACHE_BYTES, DEFAULT_MAX_SIGNATURES, jitCacheStats, setJitCacheBudget } from "./transforms/jit-cache.js";
export { wasmAvailable } from "./backend/wasm/runtime.js";
export { getThreads, setThreads, threadsReady, threadStats, threadSupport, type ThreadStats, type ThreadSupport } from "./backend/threads/pool.js";
export { relaxedSimdSupport, setRelaxedSimd, type RelaxedSimdSupport } from "./backend/wasm/relaxed-simd.js";
export { traceProgram } from "./transforms/trace.js";
export { jvp } from "./transforms/jvp.js";
export { linearize, vjp } from "./transforms/linearize.js";
export { grad, valueAndGrad, type GradOf, type GradOptions, type ScalarFloat } from "./transforms/grad.js";
export { hessian, hvp, jacfwd, jacrev } from "./transforms/jacobian.js";
export { vmap, type Batched, type InAxis, type NestArgs, type NestResult, type VmapArgs, type VmapInput, type VmapLevel, type VmapOf, type Vmapped, type Vmapped2, type Vmapped3, type Vmapped4, type VmapOptions } from "./transforms/vmap.js";
export { foriLoop, scan, type ScanOptions, type Stacked, type Unstacked } from "./transforms/scan.js";
export { whileLoop } from "./transforms/while-loop.js";
export { customJvp, customVjp, stopGradient } from "./transforms/custom.js";
export { printProgram, typecheckProgram, type Eqn, type Program, type Var } from "./ir/program.js";
export type { Tree } from "./core/tree.js";
export * from "./random/index.js";
export * from "./io/index.js";
export * from "./optim/index.js";
export * as layers from "./layers/index.js";
export type { Add, CeilDiv, FloorDiv, Gt, Gte, IsNatural, Lt, Lte, Mod, Mul, Product, Sub } from "./core/arith/index.js";
export * as data from "./data/index.js";
