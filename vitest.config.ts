import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The real-server tier has its own config and command (vitest.real.config.ts, npm run test:real).
    exclude: [...configDefaults.exclude, "test/real/**"],
    // One private TMPDIR for the run, removed at its end; each file's tempDir()s removed after it.
    globalSetup: ["test/helpers/global-tmp.ts"],
    setupFiles: ["test/helpers/cleanup-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Runs spawn real processes (git, bwrap, agents): two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
