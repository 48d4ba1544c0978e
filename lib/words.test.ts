// Unit test of the article before the console's words.
import { describe, expect, it } from "vitest";
import { withArticle } from "./words";

describe("withArticle", () => {
  it("says a or an as the word is said", () => {
    expect(["operator", "admin", "viewer", "ip-takeover", "nlb-cluster", "single-host", "application", "host", "pair", "SIP Server"].map(withArticle)).toEqual([
      "an operator",
      "an admin",
      "a viewer",
      "an ip-takeover",
      "an nlb-cluster",
      "a single-host",
      "an application",
      "a host",
      "a pair",
      "a SIP Server",
    ]);
  });
});
