// Benchmark helper (a worker thread): writes to the database every 20 ms through its own connection,
// the way the control plane persists decisions, and reports the longest time a write had to wait.
const { parentPort, workerData } = require("node:worker_threads");
const Database = require("better-sqlite3");
const db = new Database(workerData.file, { timeout: 60_000 });
db.exec("CREATE TABLE IF NOT EXISTS lock_probe (t INTEGER)");
let maxWaitMs = 0;
let stop = false;
parentPort.on("message", () => (stop = true));
parentPort.postMessage("ready");
(function loop() {
  if (stop) {
    parentPort.postMessage({ maxWaitMs });
    return;
  }
  const t0 = performance.now();
  db.prepare("INSERT INTO lock_probe (t) VALUES (?)").run(Date.now());
  maxWaitMs = Math.max(maxWaitMs, performance.now() - t0);
  setTimeout(loop, 20);
})();
