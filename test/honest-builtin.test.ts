// builtin on every built-in fixture, judged as any agent is (test/helpers/honest.ts).
import { honestEngineSuite } from "./helpers/honest.ts";

await honestEngineSuite("builtin");
