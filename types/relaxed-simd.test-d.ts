import { expectError, expectType } from "tsd";
import { relaxedSimdSupport, setRelaxedSimd, type RelaxedSimdSupport } from "../src/index.js";

// setRelaxedSimd takes a boolean and says whether relaxed SIMD is used from now on
expectType<boolean>(setRelaxedSimd(true));
expectType<boolean>(setRelaxedSimd(false));
expectError(setRelaxedSimd("on"));
expectError(setRelaxedSimd(1));
expectError(setRelaxedSimd());

// relaxedSimdSupport: available here, enabled now, and why not
expectType<RelaxedSimdSupport>(relaxedSimdSupport());
expectType<boolean>(relaxedSimdSupport().available);
expectType<boolean>(relaxedSimdSupport().enabled);
expectType<string>(relaxedSimdSupport().reason);
expectError((relaxedSimdSupport().enabled = true));
