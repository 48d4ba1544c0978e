// Builds the configuration the console pushes to a host's agent: the applications on that host with
// their start/stop commands, options, the pair each belongs to and its control driver, and for SIP
// Servers the application config file of the local contract (peer for the HA link, DNs, options).
import type { ConfigSnapshot, ApplicationShape, PairShape } from "../config/config.schema";
import type { ControlDriverConfig, HeartbeatSettings, HostConfigInput } from "../../protocol/agent-wire";
import type { AppConfig } from "../../protocol/app-contract";

/** The configuration as stored, with each pair's HA-link secret (loadSnapshot gives both). */
export type DeliverableSnapshot = ConfigSnapshot & { pairSecrets?: ReadonlyMap<string, string> };

export interface HostConfigOptions {
  /** Lab mode: every pair uses the lab VIP driver with this shared state directory (no real addresses). */
  labStateDir?: string | null;
  readinessPollMs?: number;
  /** The console's heartbeat (HEARTBEAT_INTERVAL_MS, HEARTBEAT_TIMEOUT_MS), for a host without its own. */
  heartbeat?: HeartbeatSettings;
}

function sipAddressOf(snapshot: ConfigSnapshot, hostName: string): string {
  const host = snapshot.hosts.find((h) => h.name === hostName);
  return host?.nics.find((n) => n.carriesSip)?.address ?? host?.nics[0]?.address ?? "127.0.0.1";
}

function driverFor(pair: PairShape, opts: HostConfigOptions): ControlDriverConfig {
  if (pair.haType === "single-host") return { kind: "none" };
  if (opts.labStateDir) return { kind: "lab", vip: pair.vipAddress || `${pair.name}-vip`, stateDir: opts.labStateDir };
  switch (pair.controlDriver) {
    case "linux-ip":
      return { kind: "linux-ip", vip: pair.vipAddress, prefix: pair.vipPrefixLength ?? 32, interface: pair.vipInterface, gratuitousArp: true, arpCount: 2 };
    case "nlb":
      return {
        kind: "nlb",
        vip: pair.vipAddress || "0.0.0.0",
        port: pair.nlbPort ?? 0,
        cluster: pair.nlbClusterName,
        enable: pair.enableScript || "nlb.exe enable {vip}:{port}",
        disable: pair.disableScript || "nlb.exe disable {vip}:{port}",
        presence: null,
      };
    case "command":
      return {
        kind: "command",
        vip: pair.vipAddress,
        prefix: pair.vipPrefixLength ?? 0,
        interface: pair.vipInterface,
        cluster: pair.nlbClusterName,
        port: pair.nlbPort ?? 0,
        enable: pair.enableScript,
        disable: pair.disableScript,
        presence: null,
      };
    case "none":
      return { kind: "none" };
  }
}

function appContractConfig(app: ApplicationShape, snapshot: DeliverableSnapshot, pair: PairShape | undefined, revision: string): AppConfig {
  const options: Record<string, string> = {};
  const dns: Record<string, Record<string, string>> = {};
  for (const o of app.options) {
    if (o.dn === "") options[o.name] = o.value;
    else (dns[o.dn] ??= {})[o.name] = o.value;
  }
  const peerName = pair ? (pair.primary === app.name ? pair.backup : pair.primary) : null;
  const peer = peerName ? snapshot.applications.find((a) => a.name === peerName) : undefined;
  const sipAddress = sipAddressOf(snapshot, app.host);
  // SIP endpoints send to the VIP of an ip-takeover pair, so its primary answers there; management
  // and the HA link keep using the host's own address.
  const vip = pair?.haType === "ip-takeover" && pair.vipAddress ? pair.vipAddress : null;
  return {
    name: app.name,
    type: app.type,
    host: app.host,
    configRevision: revision,
    sipAddress,
    sipListenAddress: vip ?? sipAddress,
    sipAdvertisedAddress: vip ?? sipAddress,
    sipPort: app.sipPort,
    haPort: app.haPort,
    peer: peer && peer.haPort !== null ? { name: peer.name, address: sipAddressOf(snapshot, peer.host), haPort: peer.haPort } : null,
    initialRole: pair && pair.backup === app.name ? "backup" : "primary",
    initialEpoch: 0,
    // Both servers of the pair get the same secret; without one (a pair from before secrets) the link runs unauthenticated.
    haSecret: (pair && snapshot.pairSecrets?.get(pair.name)) || null,
    options,
    dns,
  };
}

/** The heartbeat a host's agent runs with: the host's own when it has one, else the console's. */
export function heartbeatOf(host: { heartbeatIntervalMs?: number | null; heartbeatTimeoutMs?: number | null }, consoleDefault?: HeartbeatSettings): HeartbeatSettings | undefined {
  if (host.heartbeatIntervalMs != null && host.heartbeatTimeoutMs != null) return { intervalMs: host.heartbeatIntervalMs, timeoutMs: host.heartbeatTimeoutMs };
  return consoleDefault;
}

export function buildHostConfig(snapshot: DeliverableSnapshot, hostName: string, revision: string, opts: HostConfigOptions = {}): HostConfigInput | null {
  const host = snapshot.hosts.find((h) => h.name === hostName);
  if (!host) return null;
  const applications = snapshot.applications
    .filter((a) => a.host === hostName && a.startCommand !== "")
    .map((app) => {
      const pair = snapshot.pairs.find((p) => p.primary === app.name || p.backup === app.name);
      const options = Object.fromEntries(app.options.filter((o) => o.dn === "").map((o) => [o.name, o.value]));
      return {
        name: app.name,
        type: app.type,
        start: { command: app.startCommand, args: app.startArgs, env: app.environment, workingDir: app.workingDirectory || null },
        stop: { command: app.stopCommand || null, timeoutMs: app.stopTimeoutMs },
        // The application's own policy. Safe for a pair's servers: the agent restarts one only as backup
        // at the newest epoch it holds, and the controller promotes it if it should serve.
        restart: { ...app.restartPolicy },
        startupTimeoutMs: app.startupTimeoutMs,
        options,
        // Applications serve their HTTP interface on loopback; lab servers sharing one machine each
        // bind their host's address instead (SWITCHYARD_LAB_HTTP_ADDRESS in their environment).
        httpHost: app.environment.SWITCHYARD_LAB_HTTP_ADDRESS ?? "127.0.0.1",
        appConfig: app.type === "sip-server" ? appContractConfig(app, snapshot, pair, revision) : null,
        pair: pair
          ? {
              name: pair.name,
              haType: pair.haType,
              configuredRole: pair.primary === app.name ? ("primary" as const) : ("backup" as const),
              driver: driverFor(pair, opts),
              scriptTimeoutMs: pair.scriptTimeoutMs,
            }
          : null,
      };
    });
  const heartbeat = heartbeatOf(host, opts.heartbeat);
  return { hostName, revision, readinessPollMs: opts.readinessPollMs ?? 1000, ...(heartbeat ? { heartbeat } : {}), applications };
}
