/**
 * Runs the whole test suite and ends with the plain line `N passed, N failed`, counted from the JUnit
 * report (bun's own console summary is not a stable format). Exits non-zero on any failure, or when no
 * test ran. Extra arguments go to `bun test` (e.g. a path filter).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "vbatch-junit-"));
const report = join(dir, "junit.xml");
const proc = Bun.spawn(
  ["bun", "test", "--timeout=120000", "--reporter=junit", `--reporter-outfile=${report}`, ...process.argv.slice(2)],
  { stdout: "inherit", stderr: "inherit", stdin: "ignore" },
);
const code = await proc.exited;

let xml = "";
try {
  xml = readFileSync(report, "utf8");
} catch {}
rmSync(dir, { recursive: true, force: true });

const cases = xml.match(/<testcase\b[^>]*?(\/>|>[\s\S]*?<\/testcase>)/g) ?? [];
let passed = 0;
let failed = 0;
for (const c of cases) {
  if (/<(failure|error)\b/.test(c)) failed++;
  else if (!/<skipped\b/.test(c)) passed++;
}
// A crash outside any test (a file that fails to load) makes bun exit non-zero without a failed case.
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
