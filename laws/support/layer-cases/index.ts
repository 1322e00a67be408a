/**
 * Every group of layer cases; `layers.law.test.ts` checks that together they
 * cover every layer factory of the `layers` namespace.
 */

import { cases as attention } from "./attention.js";
import { cases as basic } from "./basic.js";
import { cases as conv } from "./conv.js";
import { cases as embedding } from "./embedding.js";
import { cases as recurrent } from "./recurrent.js";
import type { LayerCases } from "./types.js";

export const groups: readonly LayerCases[] = [basic, conv, recurrent, attention, embedding];
