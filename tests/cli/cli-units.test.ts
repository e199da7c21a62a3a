import { describe, expect, test } from "bun:test";
import { normaliseArgv } from "../../src/cli/main.ts";
import { ProgressBar } from "../../src/cli/progress.ts";

describe("CLI pieces", () => {
  test("rf-cloud and groups map onto one command name", () => {
    expect(normaliseArgv(["rf-cloud", "data-staging", "list-batches", "--json"])).toEqual(["data-staging list-batches", "--json"]);
    expect(normaliseArgv(["data-staging", "export-batch", "--batch-id", "x"])).toEqual(["data-staging export-batch", "--batch-id", "x"]);
    expect(normaliseArgv(["serve", "--port", "1"])).toEqual(["serve", "--port", "1"]);
    expect(normaliseArgv(["data-staging", "--help"])).toEqual(["data-staging", "--help"]);
  });

  test("the progress bar draws on a terminal only, with count, rate and ETA", () => {
    const written: string[] = [];
    const tty = new ProgressBar("Uploading", 10, { isTTY: true, write: (s: string) => written.push(s) });
    tty.tick(5, 1024);
    tty.tick(5, 1024);
    tty.finish();
    expect(written.join("")).toContain("[############################] 100% 10/10");
    expect(tty.line()).toMatch(/Uploading \[#+\] 100% 10\/10 \d+\/s/);
    const half = new ProgressBar("x", 4, { isTTY: true, write: () => {} });
    half.tick(1);
    expect(half.line()).toMatch(/25% 1\/4 .*ETA/);
    const piped: string[] = [];
    const pipe = new ProgressBar("Uploading", 10, { isTTY: false, write: (s: string) => piped.push(s) });
    pipe.tick(10);
    pipe.finish();
    expect(piped).toEqual([]);
  });
});
