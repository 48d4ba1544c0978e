// Pair configurations for tests of the core and of what is built on it: two servers on two hosts (or one
// host for single-host), 10 s scripts, a 30 s readiness hold and 60 s startup unless a test says otherwise.
import type { HaType } from "../../protocol/vocabulary";
import type { PairConfig } from "./core";

export function testPair(opts: { id?: string; haType?: HaType; failoverHoldMs?: number; apps?: [string, string]; hosts?: [string, string] } = {}): PairConfig {
  const id = opts.id ?? "pair-a";
  const haType = opts.haType ?? "ip-takeover";
  const [app1, app2] = opts.apps ?? ["sip-1", "sip-2"];
  const [host1, host2] = opts.hosts ?? ["host-1", "host-2"];
  const second = haType === "single-host" ? host1 : host2;
  return {
    id,
    name: id,
    haType,
    scriptTimeoutMs: 10_000,
    failoverHoldMs: opts.failoverHoldMs ?? 30_000,
    apps: [
      { appId: app1, appName: app1, hostId: host1, hostName: host1, startupTimeoutMs: 60_000 },
      { appId: app2, appName: app2, hostId: second, hostName: second, startupTimeoutMs: 60_000 },
    ],
  };
}
