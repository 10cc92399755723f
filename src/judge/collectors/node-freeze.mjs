// Preloaded into every Node process of the judged tests (NODE_OPTIONS --import): the
// assertion library is frozen before any test or code under test loads, so the code under
// test cannot replace an assertion (in ESM the attempt throws; in sloppy CommonJS it is a
// no-op and the real assertion still runs).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
for (const id of ["node:assert", "node:assert/strict"]) {
  const mod = require(id);
  Object.freeze(mod);
  if (mod.AssertionError) {
    Object.freeze(mod.AssertionError);
    Object.freeze(mod.AssertionError.prototype);
  }
}
