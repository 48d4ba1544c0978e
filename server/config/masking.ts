// Application environments and start arguments carry secrets (database passwords, tokens, a
// `--password=…` on the command line), so only admins — who may export them anyway — see their values;
// viewers and operators see which variables are set and how many arguments there are. Masked here, on
// the way out of the API, by the caller's role: what the browser never receives it cannot show.
import type { Role } from "../auth/roles";

export const MASKED_VALUE = "••••••••";

function maskedEnvironment(environment: unknown): unknown {
  if (!environment || typeof environment !== "object" || Array.isArray(environment)) return environment;
  return Object.fromEntries(Object.keys(environment).map((name) => [name, MASKED_VALUE]));
}

function maskedArgs(args: unknown): unknown {
  return Array.isArray(args) ? args.map(() => MASKED_VALUE) : args;
}

/**
 * An object with an `environment` or `startArgs` (an application, or an application's audit snapshot)
 * as the role may see it.
 */
export function withSecretsFor<T>(value: T, role: Role): T {
  if (role === "admin" || !value || typeof value !== "object") return value;
  const masked: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if ("environment" in masked) masked.environment = maskedEnvironment(masked.environment);
  if ("startArgs" in masked) masked.startArgs = maskedArgs(masked.startArgs);
  return masked as T;
}

/** An audit entry as the role may see it: environments and start arguments in its before and after snapshots masked. */
export function auditEntryFor<T extends { before: unknown; after: unknown }>(entry: T, role: Role): T {
  if (role === "admin") return entry;
  return { ...entry, before: withSecretsFor(entry.before, role), after: withSecretsFor(entry.after, role) };
}
