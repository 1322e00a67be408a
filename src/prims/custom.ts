/**
 * `custom_linear`: a linear map given by the user, with its transpose.
 *
 * It is how a user-defined backward pass (`customVjp`) enters a linearized
 * program: the tangents of the function's inputs go in, the tangent of its
 * output comes out, and transposing the program calls the user's backward
 * function on the output's cotangent. `forward` is the map itself when it is
 * known; a `customVjp` function gives none (as in JAX, it supports reverse
 * mode only), and evaluating the map forward is then a clear error.
 */

import { shapeError } from "../core/errors.js";
import { formatShape, sameShape } from "../core/shape.js";
import { perExample } from "./batching.js";
import { bind } from "./bind.js";
import { zerosLike } from "./lax.js";
import type { CustomLinearParams } from "./params.js";
import type { AnyTensor, Aval, Primitive } from "./types.js";

function run(inputs: readonly AnyTensor[], p: CustomLinearParams): AnyTensor {
  if (p.forward === undefined) {
    throw new Error(`${p.name}: a function with a custom VJP has no forward-mode derivative (use grad or vjp, not jvp)`);
  }
  const y = p.forward(inputs);
  if (!sameShape(y.shape, p.out.shape) || y.dtype !== p.out.dtype) {
    shapeError(p.name, `the linear map gave ${y.dtype}${formatShape(y.shape)}, not ${p.out.dtype}${formatShape(p.out.shape)}`);
  }
  return y;
}

/** A user-given linear map and its transpose. */
export const customLinear: Primitive<CustomLinearParams> = {
  name: "custom_linear",
  shape: (_, p) => p.out,
  impl: run,
  // linear: the tangent of the output is the same map applied to the tangents
  jvp: (primals, tangents, p) => {
    if (tangents.every((t) => (t ?? null) === null)) return null;
    return bind("custom_linear", primals.map((x, i) => tangents[i] ?? zerosLike(x)), p);
  },
  transpose: (ct, inputs, p) => {
    const cts = p.transpose(ct);
    return inputs.map((input, i) => {
      const c = cts[i] ?? null;
      if (!input.linear || c === null) return null;
      if (!sameShape(c.shape, input.aval.shape) || c.dtype !== input.aval.dtype) {
        shapeError(p.name, `cotangent ${i} is ${c.dtype}${formatShape(c.shape)}, not ${input.aval.dtype}${formatShape(input.aval.shape)}`);
      }
      return c;
    });
  },
  // NOTE: the user's map is known only on one example's shapes: applied to each example in turn
  batch: (inputs, dims, p, size) => perExample("custom_linear", inputs, dims, p, size),
};

/** Applies a custom linear map through the interpreter stack. */
export function applyCustomLinear(inputs: readonly AnyTensor[], params: CustomLinearParams): AnyTensor {
  return bind("custom_linear", inputs, params);
}
