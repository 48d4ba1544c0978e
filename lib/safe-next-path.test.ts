// Unit tests of the after-login target: paths of this console pass (with their query and fragment),
// everything a browser could read as another site falls back to the dashboard.
import { describe, expect, it } from "vitest";
import { safeNextPath } from "./safe-next-path";

const origin = "http://console.example:3000";

describe("safeNextPath", () => {
  it("keeps a path of this console, its query and its fragment", () => {
    expect(safeNextPath("/hosts", origin)).toBe("/hosts");
    expect(safeNextPath("/pairs/abc?tab=timeline#latest", origin)).toBe("/pairs/abc?tab=timeline#latest");
    expect(safeNextPath("/a/../hosts", origin)).toBe("/hosts");
  });

  it("falls back to the dashboard without a target", () => {
    expect(safeNextPath(null, origin)).toBe("/");
    expect(safeNextPath("", origin)).toBe("/");
  });

  it("refuses every form a browser reads as another origin", () => {
    for (const next of [
      "//evil.example/x",
      "/\\evil.example/x", // what /login?next=/%5Cevil.example/x decodes to; Chromium reads \ as /
      "\\\\evil.example",
      "/\t/evil.example", // tabs and newlines are dropped by the URL parser, leaving //evil.example
      "/\n/evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "evil.example",
      " //evil.example",
      "/\r/evil.example",
    ]) {
      expect(safeNextPath(next, origin), JSON.stringify(next)).toBe("/");
    }
  });
});
