// A configuration with many ip-takeover pairs (host hN runs server sN; pair pK is s2K primary, s2K+1
// backup), for the benchmarks of the console at scale.

/** `hostFields(i)` adds fields to host hN (e.g. its own heartbeat), as YAML flow-mapping entries. */
export function manyPairsYaml(pairs: number, hostFields: (i: number) => string = () => ""): string {
  const lines = ["version: 1", "hosts:"];
  for (let i = 0; i < pairs * 2; i++) {
    const extra = hostFields(i);
    lines.push(`  - { name: h${i}, nics: [{ name: eth0, address: 10.${Math.floor(i / 250)}.${i % 250}.1, carriesManagement: true, carriesSip: true }]${extra ? `, ${extra}` : ""} }`);
  }
  lines.push("applications:");
  for (let i = 0; i < pairs * 2; i++) lines.push(`  - { name: s${i}, type: sip-server, host: h${i}, sipPort: 5060, startCommand: sim }`);
  lines.push("pairs:");
  for (let p = 0; p < pairs; p++) {
    lines.push(`  - { name: p${p}, haType: ip-takeover, primary: s${2 * p}, backup: s${2 * p + 1}, vipAddress: 10.200.${Math.floor(p / 250)}.${p % 250}, vipPrefixLength: 32, vipInterface: eth0, controlDriver: linux-ip }`);
  }
  return lines.join("\n");
}

/** The fake agents' hosts for manyPairsYaml: hN runs sN, even ones primary. */
export function manyPairsHosts(pairs: number): { hostName: string; roles: Record<string, "primary" | "backup"> }[] {
  return Array.from({ length: pairs * 2 }, (_, i) => ({ hostName: `h${i}`, roles: { [`s${i}`]: i % 2 === 0 ? ("primary" as const) : ("backup" as const) } }));
}
