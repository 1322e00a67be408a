/** The layer cases of the attention group (see `types.ts`). */

import type { LayerCases } from "./types.js";

export const cases: LayerCases = {};
