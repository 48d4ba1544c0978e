// The console's log: the line format every Switchyard process writes lives in protocol/log.ts (the host
// agent writes the same), re-exported here for the console's parts.
export * from "../protocol/log";
