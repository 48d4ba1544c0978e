// W11 contact bindings with expiry and the call table (clock passed in).
import { describe, expect, it } from "vitest";
import { CallTable, Registrar } from "./calls";

describe("W11 registrar", () => {
  it("W11 bindings expire on the injected clock and expires 0 removes one", () => {
    const registrar = new Registrar();
    registrar.bind("sip:1001@lab", "sip:1001@127.0.0.1:5070", 60, 0);
    registrar.bind("sip:1001@lab", "sip:1001@127.0.0.1:5071", 120, 0);
    expect(registrar.lookup("sip:1001@lab", 59_999).map((binding) => binding.uri)).toEqual([
      "sip:1001@127.0.0.1:5070",
      "sip:1001@127.0.0.1:5071",
    ]);
    expect(registrar.lookup("sip:1001@lab", 60_000).map((binding) => binding.uri)).toEqual(["sip:1001@127.0.0.1:5071"]);
    registrar.bind("sip:1001@lab", "sip:1001@127.0.0.1:5071", 0, 61_000);
    expect(registrar.lookup("sip:1001@lab", 61_000)).toEqual([]);
  });

  it("W11 replace (what the backup does with the primary's update) keeps only live bindings", () => {
    const registrar = new Registrar();
    registrar.replace("sip:a@lab", [{ uri: "sip:a@1", expiresAtMs: 10 }, { uri: "sip:a@2", expiresAtMs: 5000 }], 100);
    expect(registrar.snapshot(100)).toEqual({ "sip:a@lab": [{ uri: "sip:a@2", expiresAtMs: 5000 }] });
  });
});

describe("W12 W13 call table", () => {
  it("W13 counts multisite calls created before a time; W12 lists non-multisite oldest first", () => {
    const table = new CallTable();
    table.put({ callId: "late", from: "a", to: "b", state: "established", multisite: false, createdAtMs: 30 });
    table.put({ callId: "early", from: "a", to: "b", state: "established", multisite: false, createdAtMs: 10 });
    table.put({ callId: "ms1", from: "a", to: "b", state: "established", multisite: true, createdAtMs: 5 });
    table.put({ callId: "ms2", from: "a", to: "b", state: "ringing", multisite: true, createdAtMs: 50 });
    expect(table.nonMultisiteIds()).toEqual(["early", "late"]);
    expect(table.countMultisiteExistingAt(20)).toBe(1);
    expect(table.countMultisiteExistingAt(50)).toBe(2);
    expect(table.countMultisite()).toBe(2);
  });
});
