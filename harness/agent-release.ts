// A "newer release" of the host agent for upgrade tests: the agent's code (agent/ and protocol/, all it
// runs on) copied to a directory of its own with another version string and, optionally, a newer keeper
// protocol version — as an operator would unpack a new release next to (or over) the old one. The
// dependencies are the checkout's (node_modules is linked), so it starts as the checkout's agent does.
import fs from "node:fs";
import path from "node:path";

export interface AgentRelease {
  root: string;
  agentVersion: string;
  keeperProtocolVersion: number;
}

/** Replaces exactly one match of `pattern` in a file, or throws (a renamed constant must not leave the copy unchanged). */
function patchOnce(file: string, pattern: RegExp, replacement: string): void {
  const text = fs.readFileSync(file, "utf8");
  const matches = text.match(new RegExp(pattern.source, "g")) ?? [];
  if (matches.length !== 1) throw new Error(`agent release: expected one match of ${pattern} in ${file}, found ${matches.length}`);
  fs.writeFileSync(file, text.replace(pattern, replacement));
}

export function makeAgentRelease(fromRoot: string, intoDir: string, opts: { agentVersion: string; keeperProtocolVersion?: number }): AgentRelease {
  fs.mkdirSync(intoDir, { recursive: true });
  for (const dir of ["agent", "protocol"]) fs.cpSync(path.join(fromRoot, dir), path.join(intoDir, dir), { recursive: true });
  for (const file of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(fromRoot, file), path.join(intoDir, file));
  fs.symlinkSync(path.join(fromRoot, "node_modules"), path.join(intoDir, "node_modules"), "dir");
  patchOnce(path.join(intoDir, "agent", "agent.ts"), /export const AGENT_VERSION = "[^"]*";/, `export const AGENT_VERSION = ${JSON.stringify(opts.agentVersion)};`);
  const protocolFile = path.join(intoDir, "agent", "keeper", "protocol.ts");
  const current = Number(/export const KEEPER_PROTOCOL_VERSION = (\d+);/.exec(fs.readFileSync(protocolFile, "utf8"))?.[1]);
  const keeperProtocolVersion = opts.keeperProtocolVersion ?? current;
  patchOnce(protocolFile, /export const KEEPER_PROTOCOL_VERSION = \d+;/, `export const KEEPER_PROTOCOL_VERSION = ${keeperProtocolVersion};`);
  return { root: intoDir, agentVersion: opts.agentVersion, keeperProtocolVersion };
}
