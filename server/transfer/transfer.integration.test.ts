// Integration tests of configuration export/import against a real SQLite file: round trip, and an
// import with any invalid entry changes nothing and reports every problem with its path.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestConsole, type TestConsole } from "../test-support";

let t: TestConsole;
const demo = fs.readFileSync(path.resolve(__dirname, "../../scripts/demo-config.yaml"), "utf8");

beforeAll(async () => {
  t = await createTestConsole();
});
afterAll(() => t.close());

function problemsOf(e: unknown): { path: string; message: string }[] {
  return (e as { cause?: { problems?: { path: string; message: string }[] } }).cause?.problems ?? [];
}

async function refused(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return { message: (e as Error).message, problems: problemsOf(e) };
  }
  throw new Error("expected the import to be refused");
}

describe("import", () => {
  it("dry run reports the plan and writes nothing", async () => {
    const admin = t.callerAs("admin");
    const plan = await admin.config.import({ text: demo, dryRun: true, replace: false });
    expect(plan.hosts.created).toHaveLength(5);
    expect(plan.pairs.created).toEqual(["pair-a-iptakeover", "pair-b-nlb", "pair-c-single"]);
    expect(await admin.hosts.list()).toHaveLength(0);
  });

  it("imports the demo configuration and audits each object and the import", async () => {
    const admin = t.callerAs("admin");
    await admin.config.import({ text: demo, dryRun: false, replace: false });
    expect((await admin.pairs.list()).map((p) => p.haType).sort()).toEqual(["ip-takeover", "nlb-cluster", "single-host"]);
    const sipA1 = (await admin.applications.list()).find((a) => a.name === "sip-a1")!;
    expect(sipA1.options).toContainEqual({ dn: "7001", section: "TServer", name: "oos-check", value: "2" });
    const audit = await admin.audit.list({ limit: 100 });
    expect(audit.items.filter((e) => e.action === "pair.create")).toHaveLength(3);
    expect(audit.items.some((e) => e.action === "config.import" && e.detail.startsWith("hosts: 5 created"))).toBe(true);
  });

  it("round-trips: export then re-import changes nothing", async () => {
    const admin = t.callerAs("admin");
    const text = await admin.config.export();
    expect(text).toContain("ha-max-calls-sync-at-once");
    const plan = await admin.config.import({ text, dryRun: false, replace: false });
    for (const kind of ["hosts", "applications", "pairs"] as const) {
      expect(plan[kind].created).toEqual([]);
      expect(plan[kind].updated).toEqual([]);
    }
  });

  it("refuses a file with several invalid entries, changes nothing, and reports each with its path", async () => {
    const admin = t.callerAs("admin");
    const before = await admin.config.export();
    const bad = `
version: 1
hosts:
  - name: new-host
    nics:
      - { name: eth0, address: 10.0.0.999, carriesManagement: true, carriesSip: true }
applications:
  - name: sip-a1
    type: sip-server
    host: lab-host-1
    sipPort: 15060
    haPort: 15070
    options:
      TServer: { http-port: "15080", ha-max-calls-sync-at-once: "150" }
  - name: new-app
    type: sip-server
    host: nowhere
pairs:
  - name: pair-x
    haType: ip-takeover
    primary: sip-b1
    backup: sip-b2
    controlDriver: linux-ip
`;
    const result = await refused(admin.config.import({ text: bad, dryRun: false, replace: false }));
    expect(result.message).toMatch(/import refused, nothing was changed/);
    const byPath = Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
    expect(byPath["hosts[0].nics[0].address"]).toMatch(/10\.0\.0\.999 is not an IPv4 or IPv6 address/);
    expect(byPath["applications[0].options.TServer.ha-max-calls-sync-at-once"]).toMatch(/ha-max-calls-sync-at-once=150 is out of range 200–1000/);
    expect(byPath["applications[1].host"]).toMatch(/host nowhere does not exist/);
    expect(byPath["pairs[0].primary"]).toMatch(/sip-b1 already belongs to pair pair-b-nlb/);
    expect(byPath["pairs[0].vipAddress"]).toMatch(/needs a Virtual IP address/);
    // Value problems say where they are in the file, as format errors do.
    expect(byPath["hosts[0].nics[0].address"]).toMatch(/\(line 6\)$/);
    expect(byPath["applications[0].options.TServer.ha-max-calls-sync-at-once"]).toMatch(/\(line 14\)$/);
    expect(byPath["applications[1].host"]).toMatch(/\(line 17\)$/);
    // pairs[0] has no vipAddress: the problem is placed at the pair.
    expect(byPath["pairs[0].vipAddress"]).toMatch(/\(line 19\)$/);
    // Nothing changed (ignore the export timestamp line).
    const strip = (s: string) => s.replace(/exportedAt: .*/, "");
    expect(strip(await admin.config.export())).toBe(strip(before));
  });

  it("an import with one problem names the problem itself, with its line", async () => {
    const text = "version: 1\nhosts:\n  - name: lone\n    nics:\n      - { name: eth0, address: 10.0.0.300, carriesManagement: true, carriesSip: true }\n";
    const result = await refused(t.callerAs("admin").config.import({ text, dryRun: true, replace: false }));
    expect(result.message).toBe("import refused, nothing was changed: hosts[0]: NIC eth0 address 10.0.0.300 is not an IPv4 or IPv6 address (line 5)");
    expect(result.problems).toHaveLength(1);
  });

  it("reports file-format errors with their path and line", async () => {
    const text = "version: 1\nhosts:\n  - name: h\n    nics: []\n    colour: blue\n";
    const result = await refused(t.callerAs("admin").config.import({ text, dryRun: true, replace: false }));
    const messages = result.problems.map((p) => p.message).join("\n");
    expect(messages).toMatch(/hosts\[0\]\.nics: a host needs at least one NIC \(line 4\)/);
    expect(messages).toMatch(/hosts\[0\]: Unrecognized key: "colour"/);
  });

  it("reports YAML syntax errors and a wrong version", async () => {
    const admin = t.callerAs("admin");
    expect((await refused(admin.config.import({ text: "version: 1\nhosts: [\n", dryRun: true, replace: false }))).message).toMatch(/not valid YAML/);
    expect((await refused(admin.config.import({ text: "version: 2\n", dryRun: true, replace: false }))).message).toMatch(/version must be 1/);
  });

  it("replace mode deletes what the file does not name", async () => {
    const admin = t.callerAs("admin");
    const text = await admin.config.export();
    const onlyHost = `version: 1\nhosts:\n  - name: solo\n    nics:\n      - { name: eth0, address: 10.1.1.1, carriesManagement: true, carriesSip: true }\n`;
    const plan = await admin.config.import({ text: onlyHost, dryRun: true, replace: true });
    expect(plan.pairs.deleted).toHaveLength(3);
    expect(plan.hosts.deleted).toHaveLength(5);
    await admin.config.import({ text: onlyHost, dryRun: false, replace: true });
    expect((await admin.hosts.list()).map((h) => h.name)).toEqual(["solo"]);
    // And back.
    await admin.config.import({ text, dryRun: false, replace: true });
    expect(await admin.pairs.list()).toHaveLength(3);
  });

  it("is refused to operators and viewers", async () => {
    await expect(t.callerAs("operator").config.export()).rejects.toThrow(/needs the admin role/);
    await expect(t.callerAs("viewer").config.import({ text: demo, dryRun: true, replace: false })).rejects.toThrow(/needs the admin role/);
  });
});
