import type { Engine, EngineName } from "./types.ts";
import { caseEngine } from "./case.ts";
import { fakeNoop, fakeOracle } from "./fake.ts";

/** Engines are loaded lazily: the real agents pull in their own modules only when used. */
export async function getEngine(name: EngineName): Promise<Engine> {
  switch (name) {
    case "fake-noop":
      return fakeNoop;
    case "fake-oracle":
      return fakeOracle;
    case "case":
      return caseEngine;
    case "builtin":
      return (await import("./builtin.ts")).builtinEngine;
    case "pi":
      return (await import("./pi.ts")).piEngine;
    case "qwen-code":
      return (await import("./qwen-code.ts")).qwenCodeEngine;
  }
}
