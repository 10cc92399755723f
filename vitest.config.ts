import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Runs spawn real processes (git, bwrap, agents): two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
