import { expectError, expectType } from "tsd";
import { zeros } from "../src/core/create.js";
import type { Tensor } from "../src/core/tensor.js";
import { key } from "../src/random/key.js";
import { dense, gru, lstm, rnn, sequential, type GruParams, type LstmParams, type RnnParams } from "../src/layers/index.js";

const k = key(0);
declare const sequences: Tensor<["batch", 32, 64]>;
declare const prefixed: Tensor<[2, "batch", 32, 64]>;
declare const anyLength: Tensor<["batch", "time", 64]>;
declare const state: Tensor<["batch", 128]>;

// lstm: fused gate kernels [I, 4H], every step by default
const l = lstm(64, 128);
const pl = l.init(k);
expectType<LstmParams<64, 128>>(pl);
expectType<{ wx: Tensor<[64, 512]>; wh: Tensor<[128, 512]>; b: Tensor<[512]> }>(pl);
expectType<Tensor<["batch", 32, 128]>>(l.apply(pl, sequences));
expectType<Tensor<[8, 32, 128]>>(l.apply(pl, zeros([8, 32, 64])));
expectType<Tensor<[2, "batch", 32, 128]>>(l.apply(pl, prefixed));
expectType<Tensor<["batch", "time", 128]>>(l.apply(pl, anyLength));

// returnSequences: false gives the last step
const last = lstm(64, 128, { returnSequences: false });
expectType<Tensor<["batch", 128]>>(last.apply(last.init(k), sequences));
expectType<Tensor<[8, 128]>>(last.apply(last.init(k), zeros([8, 32, 64])));

// applyWithState takes and returns the state [N, H]
const out = last.applyWithState(pl, sequences, { h: state, c: state });
expectType<Tensor<["batch", 128]>>(out.y);
expectType<Tensor<["batch", 128]>>(out.h);
expectType<Tensor<["batch", 128]>>(out.c);
expectError(last.applyWithState(pl, zeros([8, 32, 64]), { h: zeros([8, 64]), c: zeros([8, 128]) }));

// gru and rnn
const g = gru(64, 128);
const pg = g.init(k);
expectType<GruParams<64, 128>>(pg);
expectType<{ wx: Tensor<[64, 384]>; wh: Tensor<[128, 384]>; bx: Tensor<[384]>; bh: Tensor<[384]> }>(pg);
expectType<Tensor<["batch", 32, 128]>>(g.apply(pg, sequences));
expectType<Tensor<["batch", 128]>>(gru(64, 128, { returnSequences: false }).apply(pg, sequences));
expectType<Tensor<["batch", 128]>>(g.applyWithState(pg, sequences).h);
const r = rnn(64, 16, { activation: "relu" });
expectType<RnnParams<64, 16>>(r.init(k));
expectType<Tensor<["batch", 32, 16]>>(r.apply(r.init(k), sequences));

// a wrong feature size and a wrong rank do not compile
expectError(l.apply(pl, zeros([8, 32, 100])));
expectError(l.apply(pl, zeros([8, 64])));
expectError(g.apply(pg, zeros([64])));
expectError(r.apply(r.init(k), zeros([8, 32, 65])));

// a sequential stack folds the shapes: [N, 32, 64] to [N, 10]
const model = sequential(lstm(64, 128, { returnSequences: false }), dense(128, 10));
expectType<Tensor<["batch", 10]>>(model.apply(model.init(k), sequences));
expectType<Tensor<[8, 10]>>(model.apply(model.init(k), zeros([8, 32, 64])));
const stacked = sequential(lstm(64, 128), gru(128, 32, { returnSequences: false }), dense(32, 10));
expectType<Tensor<["batch", 10]>>(stacked.apply(stacked.init(k), sequences));
expectError(sequential(lstm(64, 128), dense(64, 10)));
expectError(sequential(lstm(64, 128), lstm(64, 128)));
