#!/usr/bin/env node
// The demo lab's install command for a W14 rolling upgrade: "installs" a new version of a simulated SIP
// Server by writing it to $SWITCHYARD_LAB_VERSION_DIR/<application>; the server runs and reports it from
// its next start (lab/sip-server-sim/settings.ts, withInstalledVersion). The lab's agents run it when an
// upgrade's install step comes (run-os-command, no shell):
//   node lab/install-version.mjs <application> [version]
// Without a version the minor number goes up by one (1.0.0-sim → 1.1.0-sim).
import fs from "node:fs";
import path from "node:path";

const [app, wanted] = process.argv.slice(2);
const dir = process.env.SWITCHYARD_LAB_VERSION_DIR;
const fail = (why) => {
  process.stderr.write(`install-version: ${why}\n`);
  process.exit(2);
};
if (!app || !/^[A-Za-z0-9._-]{1,64}$/.test(app)) fail("usage: install-version.mjs <application> [version]");
if (!dir) fail("SWITCHYARD_LAB_VERSION_DIR is not set: this runs on a lab host only");
const file = path.join(dir, app);
let current = process.env.SWITCHYARD_LAB_VERSION || "1.0.0-sim";
try {
  current = fs.readFileSync(file, "utf8").trim() || current;
} catch {
  // Nothing installed yet: the lab's default version runs.
}
const bumped = current.replace(/^(\d+)\.(\d+)(?:\.\d+)?/, (_, major, minor) => `${major}.${Number(minor) + 1}.0`);
const version = wanted ?? (bumped === current ? `${current}+1` : bumped);
if (!/^\S{1,64}$/.test(version)) fail(`version "${version}" must be 1–64 characters without spaces`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(`${file}.tmp`, `${version}\n`);
fs.renameSync(`${file}.tmp`, file);
process.stdout.write(`installed ${app} ${version} (was ${current}); it runs from its next start\n`);
