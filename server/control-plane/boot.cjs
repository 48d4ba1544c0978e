// Worker thread bootstrap: the console runs TypeScript through tsx, and a worker thread does not
// inherit the loader the main thread was started with, so it registers tsx itself before loading the
// control plane's entry (worker.ts).
require("tsx/cjs");
require("./worker.ts");
