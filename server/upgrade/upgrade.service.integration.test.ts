// The W14 upgrade's service through the real procedures and a real SQLite file: the install command is
// admin configuration, checked as the agent would check it and audited with before and after; a run
// needs the controller.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIpTakeoverPair, createTestConsole, type TestConsole } from "../test-support";

let t: TestConsole;
let pairId: string;
let appId: string;

beforeAll(async () => {
  t = await createTestConsole();
  ({ pairId, primaryAppId: appId } = await createIpTakeoverPair(t));
});

afterAll(async () => {
  await t?.close();
});

describe("W14 upgrade service", () => {
  it("W14 install command: admins set it (checked as the agent would), everyone sees it, an empty one removes it; audited with before and after", async () => {
    const admin = t.callerAs("admin");
    await expect(t.callerAs("operator").upgrade.setInstallCommand({ appId, command: "/opt/sip/install" })).rejects.toThrow(/this needs the admin role/);
    await expect(admin.upgrade.setInstallCommand({ appId, command: `/opt/sip/install "unclosed` })).rejects.toThrow(/^command: /);
    await expect(admin.upgrade.setInstallCommand({ appId, command: Array.from({ length: 65 }, (_, i) => `a${i}`).join(" ") })).rejects.toThrow("command: has 65 words; at most 64 are allowed");
    await expect(admin.upgrade.setInstallCommand({ appId: "nope", command: "/opt/x" })).rejects.toThrow("application nope does not exist");
    await admin.upgrade.setInstallCommand({ appId, command: "/opt/sip/install --version 8.1.104 'with space'", timeoutMs: 120_000 });
    const seen = await t.callerAs("viewer").upgrade.installCommands({ pairId });
    expect(seen.map((c) => [c.appName, c.command, c.timeoutMs])).toEqual([
      ["sip-1", "/opt/sip/install --version 8.1.104 'with space'", 120_000],
      ["sip-2", null, 300_000],
    ]);
    await admin.upgrade.setInstallCommand({ appId, command: "  " });
    expect((await admin.upgrade.installCommands({ pairId }))[0]!.command).toBeNull();
    const audit = await t.services.db.auditEntry.findMany({ where: { action: { startsWith: "application.install-command" } }, orderBy: { at: "asc" }, select: { action: true, before: true, after: true } });
    expect(audit).toEqual([
      { action: "application.install-command-set", before: null, after: { command: "/opt/sip/install --version 8.1.104 'with space'", timeoutMs: 120_000 } },
      { action: "application.install-command-remove", before: { command: "/opt/sip/install --version 8.1.104 'with space'", timeoutMs: 120_000 }, after: null },
    ]);
  });

  it("W14 a run needs the controller; a viewer may not start one, and an unknown run is named", async () => {
    await expect(t.callerAs("viewer").upgrade.start({ pairId })).rejects.toThrow(/this needs the operator role/);
    await expect(t.callerAs("operator").upgrade.start({ pairId })).rejects.toThrow("the controller is not running on this console (SWITCHYARD_CONTROLLER=false): an upgrade needs it");
    await expect(t.callerAs("operator").upgrade.pause({ runId: "nope" })).rejects.toThrow("upgrade run nope does not exist");
    expect(await t.callerAs("viewer").upgrade.runs({ pairId })).toEqual([]);
  });

  it("maintenance (OperationsService.setMaintenance): a reason is required, its end must be ahead and within 30 days; without a controller it is refused", async () => {
    const operator = t.callerAs("operator");
    await expect(operator.maintenance.set({ pairId, on: true, reason: "" })).rejects.toThrow("maintenance of pair-a needs a reason (why the controller should leave the pair alone)");
    await expect(operator.maintenance.set({ pairId, on: true, reason: "x", until: new Date(Date.now() - 1_000) })).rejects.toThrow(/^until: .* is not in the future$/);
    await expect(operator.maintenance.set({ pairId, on: true, reason: "x", until: new Date(Date.now() + 31 * 24 * 3600_000) })).rejects.toThrow(/is more than 30 days ahead; set no end instead, on purpose/);
    await expect(t.callerAs("viewer").maintenance.set({ pairId, on: false })).rejects.toThrow(/this needs the operator role/);
    await expect(operator.maintenance.set({ pairId, on: true, reason: "network work" })).rejects.toThrow("the controller is not running on this console (SWITCHYARD_CONTROLLER=false)");
  });
});
