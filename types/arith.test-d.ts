import { expectError, expectType } from "tsd";
import type { Add, CeilDiv, FloorDiv, Gt, Gte, IsNatural, Lt, Lte, Mod, Mul, Product, Sub } from "../src/core/arith/index.js";

// The @example of each export.
expectType<100000000>({} as Add<99999999, 1>);
expectType<-2>({} as Sub<3, 5>);
expectType<38597376>({} as Mul<50257, 768>);
expectType<-1>({} as FloorDiv<-1, 2>);
expectType<1>({} as Mod<7, 3>);
expectType<4>({} as CeilDiv<7, 2>);
expectType<24>({} as Product<[2, 3, 4]>);
expectType<true>({} as Lt<-3, 2>);
expectType<true>({} as Lte<4, 4>);
expectType<true>({} as Gt<10, 9>);
expectType<false>({} as Gte<-5, -4>);
expectType<false>({} as IsNatural<1.5>);

// 0 and 1 are ordinary operands.
expectType<0>({} as Add<0, 0>);
expectType<7>({} as Add<0, 7>);
expectType<0>({} as Sub<7, 7>);
expectType<-1>({} as Sub<0, 1>);
expectType<0>({} as Mul<0, 2147483647>);
expectType<0>({} as Mul<-3, 0>);
expectType<2147483647>({} as Mul<1, 2147483647>);
expectType<-5>({} as Mul<-1, 5>);
expectType<0>({} as FloorDiv<0, 5>);
expectType<5>({} as FloorDiv<5, 1>);
expectType<0>({} as Mod<5, 1>);
expectType<0>({} as Mod<0, 3>);
expectType<0>({} as CeilDiv<0, 3>);
expectType<1>({} as CeilDiv<1, 1>);
expectType<1>({} as Product<[]>);
expectType<1>({} as Product<[1]>);
expectType<0>({} as Product<[0, 50257]>);

// Carries and borrows that run through every digit.
expectType<1000000000000000>({} as Add<999999999999999, 1>);
expectType<99999999>({} as Sub<100000000, 1>);
expectType<-99999999>({} as Sub<1, 100000000>);
expectType<-99999999>({} as Add<-100000000, 1>);
expectType<0>({} as Add<-2147483647, 2147483647>);
expectType<99999980000001>({} as Mul<9999999, 9999999>);
expectType<12345679>({} as FloorDiv<99999999999999, 8100000>);
expectType<99999>({} as Mod<99999999999999, 8100000>);
expectType<0>({} as Mod<99999999, 99999999>);

// Large operands, results up to 2^53; past it, inexact digits widen to `number`.
expectType<2147483647000>({} as Product<[2147483647, 1000]>);
expectType<9007199250546688>({} as Mul<4194304, 2147483647>);
expectType<9007199254740992>({} as Add<4503599627370496, 4503599627370496>);
expectType<1>({} as FloorDiv<2147483647, 2147483647>);
expectType<1073741823>({} as FloorDiv<2147483647, 2>);
expectType<number>({} as Mul<2147483647, 2147483647>);

// Conv and pool output sizes: floor((224 + 2 * 3 - 7) / 2) + 1 = 112.
expectType<111>({} as FloorDiv<223, 2>);
expectType<112>({} as Add<FloorDiv<Sub<Add<224, Mul<2, 3>>, 7>, 2>, 1>);
expectType<75>({} as CeilDiv<224, 3>);
expectType<1204224>({} as Product<[8, 3, 224, 224]>);

// Floor division rounds toward -Infinity; Mod stays in [0, B).
expectType<-4>({} as FloorDiv<-7, 2>);
expectType<1>({} as Mod<-7, 2>);
expectType<-2>({} as FloorDiv<-6, 3>);
expectType<0>({} as Mod<-6, 3>);
expectType<2>({} as Mod<-1, 3>);
expectType<-3>({} as CeilDiv<-7, 2>);

// Comparisons, across lengths and signs.
expectType<false>({} as Lt<5, 5>);
expectType<true>({} as Lte<-1, 0>);
expectType<false>({} as Gt<-10, -9>);
expectType<true>({} as Gte<100000000, 99999999>);
expectType<true>({} as Lt<99999999, 100000000>);
expectType<true>({} as Lt<-100000000, -99999999>);
expectType<false>({} as Gt<0, 0>);

// IsNatural: the valid dims.
expectType<true>({} as IsNatural<0>);
expectType<true>({} as IsNatural<2147483647>);
expectType<false>({} as IsNatural<-1>);
expectType<false>({} as IsNatural<1e21>);
expectType<boolean>({} as IsNatural<number>);
expectType<never>({} as IsNatural<never>);

// Edge rules: `never` wins over `number`, which wins over the digits.
expectType<number>({} as Add<number, 1>);
expectType<number>({} as Sub<1, number>);
expectType<never>({} as Mul<number, never>);
expectType<number>({} as FloorDiv<number, 2>);
expectType<never>({} as Mod<never, 2>);
expectType<number>({} as CeilDiv<7, number>);
expectType<boolean>({} as Lt<number, 1>);
expectType<never>({} as Gte<never, 1>);
expectType<number>({} as Product<number[]>);
expectType<number>({} as Product<[2, number]>);
expectType<never>({} as Product<never>);

// Fractional or exponent-form literals, and divisors <= 0, give `never`.
expectType<never>({} as Add<1.5, 1>);
expectType<never>({} as Mul<2, 1e21>);
expectType<never>({} as Lt<0.5, 1>);
expectType<never>({} as Product<[2, 0.5]>);
expectType<never>({} as FloorDiv<1.5, 2>);
expectType<never>({} as FloorDiv<7, 0>);
expectType<never>({} as Mod<7, 0>);
expectType<never>({} as CeilDiv<7, -2>);

// Operands must be numbers, and results are exact literals.
expectError({} as Add<"3", 1>);
expectError({} as Product<[1, "2"]>);
expectError<Mul<2, 3>>(7);
