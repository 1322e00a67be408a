// A/B of two builds of the matmul-heavy training steps (bench/mm-steps.ts) in one process:
// each build's steps are made from its own modules, and the rounds alternate a step of one
// with a step of the other, so that a busy machine slows both alike. Prints medians and the
// after / before ratio per workload and thread count.
// Usage: node bench/mm-ab.mjs BEFORE_BUILD AFTER_BUILD BUDGET_MS THREADS,... [WORKLOAD...]
// (a build is a directory holding bench/mm-steps.js, as `npm run compile` makes under .build)
import { resolve } from "node:path";
import { loadavg } from "node:os";

const [beforeDir, afterDir, budget = "6000", counts = "1,2", ...names] = process.argv.slice(2);
const builds = { before: await import(resolve(beforeDir, "bench/mm-steps.js")), after: await import(resolve(afterDir, "bench/mm-steps.js")) };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const threads of counts.split(",").map(Number)) {
  for (const name of names.length > 0 ? names : Object.keys(builds.after.steps)) {
    const sides = {};
    for (const [side, build] of Object.entries(builds)) {
      await build.useThreads(threads);
      sides[side] = build.steps[name]();
      for (let i = 0; i < 3; i++) sides[side]();
    }
    const times = { before: [], after: [] };
    const load = loadavg()[0];
    const start = performance.now();
    for (let round = 0; round < 10 || (round < 2000 && performance.now() - start < Number(budget)); round++) {
      for (const side of round % 2 === 0 ? ["before", "after"] : ["after", "before"]) {
        await builds[side].useThreads(threads);
        const t = performance.now();
        sides[side]();
        times[side].push(performance.now() - t);
      }
    }
    const [b, a] = [median(times.before), median(times.after)];
    console.log(`${name} ${threads}T: before ${b.toFixed(2)} ms, after ${a.toFixed(2)} ms, after/before ${(a / b).toFixed(2)} (${times.after.length} rounds, load ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)})`);
  }
}
process.exit(0);
