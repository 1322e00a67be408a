/**
 * `scan`: a loop over a leading axis whose body is one traced program.
 *
 * The body is traced once (by `transforms/scan.ts`), whatever the number of
 * steps, so a program holding a scan has one equation for the whole loop.
 * Like `custom_linear`, the primitive carries its rules in its parameters:
 * they close over the body program, which lives on a floor above this one.
 */

import { shapeError } from "../core/errors.js";
import { formatShape, sameShape } from "../core/shape.js";
import type { ScanParams } from "./params.js";
import type { Aval, Primitive } from "./types.js";

/** The shape rule of a loop primitive whose operands were fixed when its body was traced: `out`, once they match. */
export function signatureShape(name: string, inputs: readonly Aval[], p: { readonly signature: { readonly operands: readonly Aval[] }; readonly out: Aval }): Aval {
  if (inputs.length !== p.signature.operands.length) shapeError(name, `takes ${p.signature.operands.length} operands, got ${inputs.length}`);
  inputs.forEach((a, i) => {
    const want = p.signature.operands[i];
    if (want === undefined || a.dtype !== want.dtype || !sameShape(a.shape, want.shape)) {
      shapeError(name, `operand ${i} is ${a.dtype}${formatShape(a.shape)}, not ${want?.dtype ?? "?"}${formatShape(want?.shape ?? [])}`);
    }
  });
  return p.out;
}

/** A loop compiled once: its operands are the body's captured values, the initial carry and the stacked inputs. */
export const scan: Primitive<ScanParams> = {
  name: "scan",
  shape: (inputs, p) => signatureShape("scan", inputs, p),
  impl: (inputs, p) => p.run(inputs),
  jvp: (primals, tangents, p) => (tangents.every((t) => t === null) ? null : p.jvp(primals, tangents)[1]),
  // the tangent's scans compute the value on the way: the loop runs once, not twice
  jvpJoint: (primals, tangents, p) => p.jvp(primals, tangents),
  transpose: (ct, inputs, p) => p.transpose(ct, inputs),
  batch: (inputs, dims, p, size) => p.batch(inputs, dims, size),
};
