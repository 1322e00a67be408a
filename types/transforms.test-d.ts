import { expectError, expectType } from "tsd";
import { grad, hessian, jacfwd, jacrev, jit, jitCacheStats, jvp, matmul, mul, setJitCacheBudget, sin, sum, valueAndGrad, vjp, wasmAvailable, type Tensor } from "../src/index.js";

declare const x: Tensor<[3]>;
declare const wrongTangent: Tensor<[4]>;
declare const params: { w: Tensor<[784, 512]>; b: Tensor<[512]> };
declare const batch: Tensor<["batch", 784]>;
declare const labels: Tensor<["batch"], "int32">;

const loss = (p: typeof params, xs: typeof batch, _ys: typeof labels): Tensor<[]> => sum(matmul(xs, p.w));

// jvp: tangents have the primals' types
expectType<[Tensor<[3]>, Tensor<[3]>]>(jvp((a: Tensor<[3]>) => sin(a), [x], [x]));
expectError(jvp((a: Tensor<[3]>) => sin(a), [x], [wrongTangent]));

// grad returns exactly the type of the differentiated argument
expectType<{ w: Tensor<[784, 512]>; b: Tensor<[512]> }>(grad(loss)(params, batch, labels));
expectType<Tensor<["batch", 784]>>(grad(loss, { argnums: 1 })(params, batch, labels));
expectType<[{ w: Tensor<[784, 512]>; b: Tensor<[512]> }, Tensor<["batch", 784]>]>(grad(loss, { argnums: [0, 1] })(params, batch, labels));
expectType<[Tensor<[]>, { w: Tensor<[784, 512]>; b: Tensor<[512]> }]>(valueAndGrad(loss)(params, batch, labels));
expectType<[[Tensor<[]>, Tensor<["batch"]>], Tensor<["batch", 784]>]>(
  valueAndGrad((p: typeof params, xs: typeof batch): readonly [Tensor<[]>, Tensor<["batch"]>] => [loss(p, xs, labels), sum(xs, -1)], { argnums: 1, hasAux: true })(params, batch),
);

// grad of a function whose value is not a scalar does not compile
expectError(grad((a: Tensor<[3]>) => sin(a)));
// nor does grad of an int-valued function
expectError(grad((a: Tensor<[3], "int32">): Tensor<[], "int32"> => sum(a)));

// vjp: the cotangent has the output's type
const [, pullback] = vjp((a: Tensor<[3]>) => mul(a, a), x);
expectType<[Tensor<[3]>]>(pullback(x));
expectError(pullback(wrongTangent));

// Jacobians: [...Out, ...In]
expectType<Tensor<[3, 3]>>(jacfwd((a: Tensor<[3]>) => sin(a))(x));
expectType<Tensor<[3]>>(jacrev((a: Tensor<[3]>): Tensor<[]> => sum(a))(x));
expectType<Tensor<[3, 3]>>(hessian((a: Tensor<[3]>): Tensor<[]> => sum(mul(a, a)))(x));

// differentiating with respect to an int32 argument does not compile
expectError(grad((p: typeof params, ys: typeof labels): Tensor<[]> => loss(p, batch, ys), { argnums: 1 })(params, labels));
expectError(grad((ys: typeof labels): Tensor<[]> => sum(matmul(batch, params.w)))(labels));
expectType<{ w: Tensor<[784, 512]>; b: Tensor<[512]> }>(grad((p: typeof params, ys: typeof labels): Tensor<[]> => loss(p, batch, ys))(params, labels));

// wasmAvailable says whether the WebAssembly SIMD kernels run here.
expectType<boolean>(wasmAvailable());
expectError(wasmAvailable(true));

// jit takes an optional bound on its signatures and reports what it holds; the global budget is a number of bytes.
const jitted = jit((a: Tensor<[3]>) => sin(a), { maxSignatures: 8 });
expectType<Tensor<[3]>>(jitted(x));
expectType<number>(jitted.cached);
expectType<number>(jitted.traces);
expectType<number>(setJitCacheBudget(2 ** 20));
expectType<{ readonly programs: number; readonly bytes: number; readonly budget: number }>(jitCacheStats());
expectError(jit((a: Tensor<[3]>) => sin(a), { maxSignatures: "8" }));
expectError(jit((a: Tensor<[3]>) => sin(a), { maxSignature: 8 }));
expectError(setJitCacheBudget("1GB"));

// jit may be told which arguments the caller donates (by position); the function's type is unchanged.
const donating = jit((a: Tensor<[3]>, b: Tensor<[3]>) => sin(a), { donate: [0] });
expectType<Tensor<[3]>>(donating(x, x));
expectError(jit((a: Tensor<[3]>) => sin(a), { donate: 0 }));
expectError(jit((a: Tensor<[3]>) => sin(a), { donate: ["a"] }));
