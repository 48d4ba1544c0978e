// A throwaway PostgreSQL server for tests, from Debian's `postgresql` package: initdb into a temporary
// directory, pg_ctl start bound to 127.0.0.1 on a free port with its unix socket in that directory,
// trust authentication for local connections only, and stop + remove at the end. As root it runs the
// server as the `postgres` system user (PostgreSQL refuses to run as root); otherwise as the current
// user. When the binaries are missing it fails naming the package to install.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import pg from "pg";

export interface PostgresServer {
  /** postgresql://…/postgres: the maintenance database, to create and drop test databases from. */
  adminUrl: string;
  /** The URL of another database on the same server. */
  urlFor(database: string): string;
  /** Creates an empty database on this server; its URL. */
  createDatabase(database: string): Promise<string>;
  stop(): void;
}

const INSTALL_HINT = "Install Debian's PostgreSQL server (it provides initdb and pg_ctl): sudo apt-get install -y postgresql";

/** The bin directory of the newest PostgreSQL installed from Debian's packages (/usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(base, v, "bin", "initdb")) && fs.existsSync(path.join(base, v, "bin", "pg_ctl")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`No PostgreSQL server binaries under ${base} (initdb, pg_ctl). ${INSTALL_HINT}`);
  return path.join(base, versions[0]!, "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-pg-"));
  const data = path.join(dir, "data");
  const user = asRoot ? "postgres" : os.userInfo().username;
  if (asRoot) {
    try {
      execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
    } catch {
      throw new Error(`Running as root, the test PostgreSQL runs as the "postgres" system user, which does not exist. ${INSTALL_HINT}`);
    }
    execFileSync("chown", ["postgres:postgres", dir]);
    fs.chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(asRoot ? "runuser" : cmd, asRoot ? ["-u", "postgres", "--", cmd, ...args] : args, { stdio: ["ignore", "pipe", "pipe"], cwd: dir });
  const logFile = path.join(dir, "server.log");
  const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  let port = 0;
  try {
    // C locale: text sorts and compares byte-wise, as SQLite does by default.
    run(path.join(bin, "initdb"), ["-D", data, "-U", user, "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"]);
    // The port is free when picked, but anything on the machine (an outgoing connection's ephemeral
    // port, another test's listener) may take it before the server binds it: then another port.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const logBefore = readLog().length;
      // A server time zone far from UTC, so a time the database fills in would show if a session were not in UTC.
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c TimeZone=Pacific/Chatham`;
      try {
        run(path.join(bin, "pg_ctl"), ["-D", data, "-l", logFile, "-o", options, "-w", "-t", "60", "start"]);
        break;
      } catch (err) {
        if (attempt >= 5 || !/could not bind .*Address already in use/.test(readLog().slice(logBefore))) throw err;
      }
    }
  } catch (err) {
    const log = readLog();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`The test PostgreSQL did not start: ${stderr}${log}`, { cause: err });
  }
  const urlFor = (database: string) => `postgresql://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`;
  return {
    adminUrl: urlFor("postgres"),
    urlFor,
    async createDatabase(database) {
      const admin = new pg.Client({ connectionString: urlFor("postgres") });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${database}"`);
      } finally {
        await admin.end();
      }
      return urlFor(database);
    },
    stop() {
      try {
        run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
