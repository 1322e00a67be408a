import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "laws/**/*.test.ts"],
    exclude: ["test/package/**", "test/browser/**", "**/node_modules/**"],
    testTimeout: 60_000,
  },
});
