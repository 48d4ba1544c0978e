// IP address checks usable in the browser and on the server (no node:net in client bundles).
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(value: string): boolean {
  return IPV4.test(value);
}

export function isIPv6(value: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(":")) return false;
  const parts = value.split("::");
  if (parts.length > 2) return false;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  let left = groups(parts[0]!);
  let right = parts.length === 2 ? groups(parts[1]!) : [];
  const all = [...left, ...right];
  let slots = all.length;
  const last = all[all.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4(last)) return false;
    slots += 1; // an embedded IPv4 takes two groups
    if (right.length) right = right.slice(0, -1);
    else left = left.slice(0, -1);
  }
  if ([...left, ...right].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return parts.length === 2 ? slots < 8 : slots === 8;
}

export function isIP(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}
