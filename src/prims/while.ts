/**
 * `while`: a loop that runs its body while its condition holds, both traced
 * once into programs (by `transforms/while-loop.ts`), so a program holding a
 * while loop has one equation for it whatever the number of steps, which
 * only the values decide. Like `scan`, the primitive carries its rules in its
 * parameters. Forward only, like JAX's `while_loop`: the number of steps is
 * not a smooth function of the operands, so a tangent or a cotangent asked
 * of it is an error that says so (integer carries have none to ask).
 */

import type { WhileParams } from "./params.js";
import { signatureShape } from "./scan.js";
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
  shape: (inputs, p) => signatureShape("while", inputs, p),
  impl: (inputs, p) => p.run(inputs),
  jvp: (_, tangents) => (tangents.every((t) => t === null) ? null : noDerivative()),
  transpose: () => noDerivative(),
  batch: (inputs, dims, p, size) => p.batch(inputs, dims, size),
};
