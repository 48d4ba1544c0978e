// The console's version, as package.json has it: /metrics' build info, the OpenAPI document.
import fs from "node:fs";
import path from "node:path";

export const CONSOLE_VERSION: string = (JSON.parse(fs.readFileSync(path.resolve(__dirname, "..", "package.json"), "utf8")) as { version: string }).version;
