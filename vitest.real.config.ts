import { defineConfig } from "vitest/config";

// The real-server tier (`npm run test:real`): a real llama.cpp llama-server with a tiny random
// model (docs/real-server.md). `npm run test:real` builds llama-server first (cached per machine).
export default defineConfig({
  test: {
    include: ["test/real/**/*.test.ts"],
    globalSetup: ["test/helpers/global-tmp.ts"],
    setupFiles: ["test/helpers/cleanup-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Each file starts its own llama-server(s); two cores: one file at a time.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
