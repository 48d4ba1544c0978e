// Unit tests of the option catalogue: every option, boundary values, wrong types, levels.
import { describe, expect, it } from "vitest";
import { crossOptionProblems, effectiveOption, findOption, optionCatalogue, validateOption, validValuesText, type TakesEffect } from "./options-catalogue";
import { optionTakesEffect } from "../lab/sip-server-sim/live-config";
import fs from "node:fs";
import path from "node:path";

describe("catalogue rows", () => {
  it("holds every option of the domain (docs/domain.md) with section, level, type, takes-effect and meaning", () => {
    const names = optionCatalogue.map((o) => o.name);
    for (const name of [
      "ha-max-calls-sync-at-once",
      "http-port",
      "sip-pass-check",
      "oos-check",
      "oos-force",
      "control-vip-scripts",
      "sip-iptakeover-monitoring",
      "tlib-nic-monitoring",
      "sip-nic-monitoring",
      "sip-nic-address",
    ]) {
      expect(names).toContain(name);
    }
    for (const o of optionCatalogue) {
      expect(o.section, o.name).toBe("TServer");
      expect(o.meaning.length, o.name).toBeGreaterThan(10);
      expect(o.takesEffect, o.name).toBeTruthy();
      // A default must itself be valid.
      if (o.default !== null) expect(validateOption(o.name, o.default, o.level).ok, o.name).toBe(true);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it("W16: the backup checks are stored and delivered, off by default, and take effect at a restart", () => {
    for (const name of ["backup-init-check", "backup-sip-port-check"]) {
      expect(findOption(name), name).toMatchObject({ level: "application", type: "bool", default: "false", takesEffect: "after restart" });
      expect(validateOption(name, "TRUE", "application")).toMatchObject({ ok: true, value: "true" });
      expect(validateOption(name, "yes", "application")).toEqual({ ok: false, message: `${name}=yes is not true or false` });
    }
  });

  it("gives the documented defaults", () => {
    expect(findOption("ha-max-calls-sync-at-once")?.default).toBe("500");
    expect(findOption("sip-pass-check")?.default).toBe("false");
    expect(findOption("oos-force")?.default).toBe("0");
    expect(findOption("http-port")?.default).toBeNull();
  });
});

describe("takes effect: what the editor says is what the simulator does", () => {
  // lab/ cannot import lib/, so the simulator repeats the column (live-config.ts); this keeps them equal.
  const simulatorWord: Record<TakesEffect, string> = {
    immediately: "immediately",
    "after restart": "at-restart",
    "when the HA connection is established": "at-ha-link",
  };
  it.each(optionCatalogue.filter((o) => o.level === "application").map((o) => [o.name, o.takesEffect] as const))("%s: %s", (name, takesEffect) => {
    expect(optionTakesEffect[name] ?? "immediately").toBe(simulatorWord[takesEffect]);
  });
});

describe("the documentation's option tables say what the catalogue says", () => {
  const rowsOf = (file: string, marker: string) => {
    const text = fs.readFileSync(path.resolve(__dirname, "..", file), "utf8");
    const start = text.indexOf(marker);
    expect(start, `${file} has its option table`).toBeGreaterThanOrEqual(0);
    const rows: string[][] = [];
    for (const line of text.slice(start).split("\n").slice(1)) {
      if (rows.length && !line.startsWith("|")) break;
      const m = /^\| `([^`]+)` \|/.exec(line);
      if (m) rows.push(line.split("|").slice(1, -1).map((c) => c.trim().replaceAll("`", "")));
    }
    return rows;
  };
  const expected = optionCatalogue.map((o) => [o.name, o.level === "dn" ? "DN" : "application", o.takesEffect]).sort();

  it("README: when each option takes effect", () => {
    const rows = rowsOf("README.md", "<!-- takes-effect table");
    expect(rows.map(([name, level, takesEffect]) => [name, level, takesEffect]).sort()).toEqual(expected);
  });

  it("docs/domain.md: the catalogue table", () => {
    const rows = rowsOf("docs/domain.md", "| option | level | type |");
    expect(rows.map((r) => [r[0], r[1], r[5]]).sort()).toEqual(expected);
  });
});

describe("W12 ha-max-calls-sync-at-once boundaries", () => {
  it.each([
    ["199", false],
    ["200", true],
    ["500", true],
    ["1000", true],
    ["1001", false],
  ])("%s valid=%s", (value, valid) => {
    expect(validateOption("ha-max-calls-sync-at-once", value, "application").ok).toBe(valid);
  });

  it("names option, value and rule in the message", () => {
    expect(validateOption("ha-max-calls-sync-at-once", "150", "application")).toEqual({
      ok: false,
      message: "ha-max-calls-sync-at-once=150 is out of range 200–1000",
    });
  });

  it.each(["abc", "5.5", "", "1e3", "0x200"])("refuses %j as not a whole number", (value) => {
    const check = validateOption("ha-max-calls-sync-at-once", value, "application");
    expect(check.ok).toBe(false);
  });

  it("normalises surrounding spaces and leading zeros", () => {
    expect(validateOption("ha-max-calls-sync-at-once", " 0800 ", "application")).toMatchObject({ ok: true, value: "800" });
  });
});

describe("other option types", () => {
  it.each([
    ["http-port", "0", false],
    ["http-port", "1", true],
    ["http-port", "65535", true],
    ["http-port", "65536", false],
    ["sip-pass-check", "true", true],
    ["sip-pass-check", "FALSE", true],
    ["sip-pass-check", "yes", false],
    ["sip-pass-check", "1", false],
    ["control-vip-scripts", "true", true],
    ["sip-iptakeover-monitoring", "maybe", false],
    ["tlib-nic-monitoring", "false", true],
    ["sip-nic-monitoring", "true", true],
    ["sip-nic-address", "10.0.1.5", true],
    ["sip-nic-address", "fe80::1", true],
    ["sip-nic-address", "::ffff:10.0.0.1", true],
    ["sip-nic-address", "10.0.1.256", false],
    ["sip-nic-address", "host.example", false],
    ["sip-nic-address", "1:2:3:4:5:6:7:8:9", false],
  ] as const)("%s=%s valid=%s", (name, value, valid) => {
    expect(validateOption(name, value, "application").ok).toBe(valid);
  });

  it.each([
    ["oos-check", "-1", false],
    ["oos-check", "0", true],
    ["oos-check", "3600", true],
    ["oos-force", "4", true],
    ["oos-force", "x", false],
    ["contact", "sip:10.0.0.5:5060", true],
    ["contact", "sip:gw@[fe80::1]:5060", true],
    ["contact", "10.0.0.5", false],
  ] as const)("DN option %s=%s valid=%s", (name, value, valid) => {
    expect(validateOption(name, value, "dn").ok).toBe(valid);
  });

  it("lower-cases booleans", () => {
    expect(validateOption("sip-pass-check", "TRUE", "application")).toMatchObject({ ok: true, value: "true" });
  });

  it("refuses an option at the wrong level", () => {
    const check = validateOption("oos-check", "5", "application");
    expect(check).toEqual({ ok: false, message: "oos-check is a DN-level option: set it on a service DN" });
    expect(validateOption("sip-pass-check", "true", "dn").ok).toBe(false);
  });

  it("accepts and flags unknown options, but refuses unusable names", () => {
    expect(validateOption("x-site-specific", "anything", "application")).toEqual({ ok: true, value: "anything", known: false });
    expect(validateOption("bad name", "1", "application").ok).toBe(false);
  });

  it("describes valid values in words", () => {
    expect(validValuesText(findOption("oos-check")!)).toBe("≥ 0 seconds");
    expect(validValuesText(findOption("sip-pass-check")!)).toBe("true or false");
  });
});

describe("rules across options", () => {
  it("W10 sip-nic-monitoring needs sip-nic-address", () => {
    const on = [{ dn: "", section: "TServer", name: "sip-nic-monitoring", value: "true" }];
    expect(crossOptionProblems(on)).toEqual([{ name: "sip-nic-monitoring", message: "sip-nic-monitoring=true needs sip-nic-address to be set" }]);
    expect(crossOptionProblems([...on, { dn: "", section: "TServer", name: "sip-nic-address", value: "10.0.0.1" }])).toEqual([]);
  });

  it("falls back to the catalogue default", () => {
    expect(effectiveOption([], "ha-max-calls-sync-at-once")).toBe("500");
    expect(effectiveOption([{ dn: "", section: "TServer", name: "ha-max-calls-sync-at-once", value: "800" }], "ha-max-calls-sync-at-once")).toBe("800");
  });
});
