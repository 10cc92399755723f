// vitest setupFiles: after each test file, the temp dirs it made with tempDir() are removed
// (the run's private TMPDIR, test/helpers/global-tmp.ts, catches anything else at the end).
import { afterAll } from "vitest";
import { removeTempDirs } from "./run-env.ts";

afterAll(() => removeTempDirs());
