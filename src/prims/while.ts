/**
 * `while`: a loop that runs its body while its condition holds, both traced
 * once into programs (by `transforms/while-loop.ts`), so a program holding a
 * while loop has one equation for it whatever the number of steps, which
 * only the values decide. Like `scan`, the primitive carries its rules in its
 * parameters. Forward only, like JAX's `while_loop`: the number of steps is
 * not a smooth function of the operands, so a tangent or a cotangent asked
 * of it is an error that says so (integer carries have none to ask).
 */

import { shapeError } from "../core/errors.js";
import { formatShape, sameShape } from "../core/shape.js";
import type { WhileParams } from "./params.js";
import type { Primitive } from "./types.js";

/** The error of a derivative asked of a while loop. */
function noDerivative(): never {
  throw new Error(
    "whileLoop: it has no derivative (forward only, like JAX): its number of steps depends on the values; " +
      "use foriLoop or scan for a fixed number of steps, which grad and jvp go through",
  );
}

/** A loop compiled once: its operands are the condition's and the body's captured values and the initial carry. */
export const whileLoop: Primitive<WhileParams> = {
  name: "while",
  shape: (inputs, p) => {
    if (inputs.length !== p.signature.operands.length) shapeError("while", `takes ${p.signature.operands.length} operands, got ${inputs.length}`);
    inputs.forEach((a, i) => {
      const want = p.signature.operands[i];
      if (want === undefined || a.dtype !== want.dtype || !sameShape(a.shape, want.shape)) {
        shapeError("while", `operand ${i} is ${a.dtype}${formatShape(a.shape)}, not ${want?.dtype ?? "?"}${formatShape(want?.shape ?? [])}`);
      }
    });
    return p.out;
  },
  impl: (inputs, p) => p.run(inputs),
  jvp: (_, tangents) => (tangents.every((t) => t === null) ? null : noDerivative()),
  transpose: () => noDerivative(),
  batch: (inputs, dims, p, size) => p.batch(inputs, dims, size),
};
