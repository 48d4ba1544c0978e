// A condition alarm raised by one controller and over while no controller watched (a console restart,
// or a takeover by another console, issue 17) is cancelled by the next controller once its picture is
// complete — before, the new controller knew nothing of it and it stayed active for good.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLabStack, waitFor, type LabStack } from "../../harness/lab-stack";

const A = "pair-a-iptakeover";
let stack: LabStack;

const hostAlarm = () => stack.running.services.db.alarm.findFirst({ where: { source: "host-disconnected", host: "lab-host-2" }, orderBy: { firstSeen: "desc" }, select: { id: true, state: true, clearedHow: true, count: true } });

beforeAll(async () => {
  stack = await startLabStack({ pairs: [A] });
  await waitFor("the pair settled", async () => {
    const v = await stack.view(A);
    return v.plan === null && v.servers.every((s) => s.hostConnection === "connected") && v.servers.some((s) => s.role === "primary") ? v : undefined;
  }, { timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

it("W3 then a console restart: the backup's host came back while the console was down; the new controller cancels its host-disconnected alarm", async () => {
  stack.lab.disconnectHost("lab-host-2");
  const raised = await waitFor("host-disconnected raised for lab-host-2", async () => {
    const a = await hostAlarm();
    return a?.state === "active" ? a : undefined;
  }, { timeoutMs: 30_000 });
  await stack.restartConsole(() => stack.lab.reconnectHost("lab-host-2"));
  await waitFor("the inherited alarm cancelled by the new controller", async () => {
    const a = await stack.running.services.db.alarm.findUnique({ where: { id: raised.id }, select: { state: true, clearedHow: true } });
    return a?.state === "cleared" ? a : undefined;
  }, { timeoutMs: 30_000, describe: async () => JSON.stringify(await hostAlarm()) });
  // Cancelled by the controller (its condition ended), not raised again.
  expect(await stack.running.services.db.alarm.findUnique({ where: { id: raised.id }, select: { clearedHow: true, count: true } })).toEqual({ clearedHow: "cancel-event", count: raised.count });
  expect(await stack.running.services.db.alarm.count({ where: { source: "host-disconnected", state: "active" } })).toBe(0);
}, 120_000);
