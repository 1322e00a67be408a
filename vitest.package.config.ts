import { defineConfig } from "vitest/config";

/** The package tests: the packed tarball as a consumer uses it, in Node and in headless Chromium. */
export default defineConfig({
  test: {
    include: ["test/package/**/*.test.ts", "test/browser/**/*.test.ts"],
    globalSetup: ["test/package/install.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
