/** The layer cases of the conv group (see `types.ts`). */

import type { LayerCases } from "./types.js";

export const cases: LayerCases = {};
