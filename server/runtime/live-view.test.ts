// Unit tests of the pair view's failure summary: the line of a failed process's output that says why.
import { describe, expect, it } from "vitest";
import { exitCause, failureOf, FAILURE_OUTPUT_MAX_LINES } from "./live-view";

describe("why a process failed, for its card", () => {
  it("picks the error line, not the last line", () => {
    const out = [
      "sip-c2 starting (version 9.0)",
      "sip-c2: cannot open the HTTP interface on 127.2.5.1:17081: listen EADDRINUSE: address already in use 127.2.5.1:17081",
      "bye",
    ].join("\n");
    expect(exitCause(out)).toBe("sip-c2: cannot open the HTTP interface on 127.2.5.1:17081: listen EADDRINUSE: address already in use 127.2.5.1:17081");
    // A stack trace's frames are not the cause; its message is.
    expect(exitCause("Error: ENOENT: no such file or directory, open '/etc/sip.conf'\n    at Object.openSync (node:fs:573:3)\n")).toBe("Error: ENOENT: no such file or directory, open '/etc/sip.conf'");
  });

  it("falls back to the last line, and says nothing of a process that wrote nothing", () => {
    expect(exitCause("one\ntwo\n\n")).toBe("two");
    expect(exitCause("  \n")).toBeNull();
  });

  it("only a failed process has a failure, with its last few lines", () => {
    expect(failureOf("running", "Error: x")).toBeNull();
    expect(failureOf("stopped", "Error: x")).toBeNull();
    const out = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n");
    const f = failureOf("failed", out)!;
    expect(f.output.split("\n")).toHaveLength(FAILURE_OUTPUT_MAX_LINES);
    expect(f.cause).toBe("line 19");
    expect(failureOf("failed", undefined)).toEqual({ cause: null, output: "" });
  });
});
