// The boundaries of the repository, checked by `npm run check:boundaries` (part of `npm test`).
// Each rule says what it keeps apart and why; docs/architecture.md draws the same picture.
/** Test files and fixtures may reach across boundaries to set a scene; product code may not. */
const TESTS = "(\\.test\\.ts$|\\.spec\\.ts$|/test-fixtures/)";
/**
 * Everything outside the given folders of this repository: npm packages and Node's own modules are
 * allowed (they are not "ours"), any other folder or root file of the repository is not. An allow-list,
 * so a folder added later is forbidden until a rule says otherwise.
 */
const outside = (...folders) => ({ path: `^(?!(${[...folders, "node_modules"].join("|")})/)`, dependencyTypesNot: ["core"] });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import circle is the wiring asking to be redrawn: build the parts in order in server/console.ts and pass what each needs.",
      from: {},
      to: { circular: true },
    },
    {
      name: "agent-imports-only-protocol",
      severity: "error",
      comment: "The host agent runs on other machines: it shares the wire protocol with the console and nothing else.",
      from: { path: "^agent/", pathNot: TESTS },
      to: outside("agent", "protocol"),
    },
    {
      name: "lab-imports-only-protocol",
      severity: "error",
      comment: "The SIP Server simulator stands where a real SIP Server stands: it knows only the local contract.",
      from: { path: "^lab/", pathNot: TESTS },
      to: outside("lab", "protocol"),
    },
    {
      name: "cli-speaks-only-http",
      comment: "The switchyard CLI runs on operators' machines and talks to a console over its REST API: only the answers' types come from the server.",
      severity: "error",
      from: { path: "^cli/", pathNot: TESTS },
      to: { path: "^(server|agent|lab|components|app|harness|bench|scripts)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "browser-code-never-imports-server",
      severity: "error",
      comment: "Pages and components run in the browser; only the tRPC router's type may come from the server.",
      from: { path: "^(app|components)/" },
      to: { path: "^(server|harness|agent|lab|generated)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "lib-imports-only-protocol",
      severity: "error",
      comment: "lib/ runs in the browser and in the console alike: it can lean on protocol/ and npm packages, nothing of either side.",
      from: { path: "^lib/", pathNot: TESTS },
      to: outside("lib", "protocol"),
    },
    {
      name: "server-reaches-agent-and-lab-only-through-protocol",
      severity: "error",
      comment: "The console speaks to agents over the wire and starts the simulator as a process (server/lab/lab.ts); what both sides need is in protocol/.",
      from: { path: "^server/", pathNot: TESTS },
      to: { path: "^(agent|lab)/" },
    },
    {
      name: "controller-core-is-pure",
      severity: "error",
      comment: "The failover core decides; it never does I/O, so the simulation can find its bugs. Time arrives in events.",
      from: { path: "^server/controller/", pathNot: TESTS },
      to: {
        pathNot: "^(server/controller/|protocol/vocabulary\\.ts$)",
        dependencyTypesNot: ["type-only"],
      },
    },
    {
      name: "product-code-never-imports-the-harness",
      severity: "error",
      comment: "harness/ builds test and benchmark scenes around the console; the console does not depend on it.",
      from: { path: "^(server|agent|lab|lib|components|app|protocol|cli)/", pathNot: TESTS },
      to: { path: "^harness/" },
    },
    {
      name: "protocol-stands-alone",
      severity: "error",
      comment: "protocol/ is what the console, the agent and the simulator share; it depends on none of them.",
      from: { path: "^protocol/", pathNot: TESTS },
      to: outside("protocol"),
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that does not resolve is a typo or a missing package.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // The generated Prisma clients are seen (so browser code importing one is caught) but not read.
    doNotFollow: { path: "^(node_modules|generated)/" },
    exclude: { path: "^(node_modules/\\.cache|\\.next|data|\\.tmp)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".tsx", ".js", ".cjs", ".mjs", ".json"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
