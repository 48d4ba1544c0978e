-- Per host: its own heartbeat interval and timeout (both null: the console's HEARTBEAT_INTERVAL_MS and
-- HEARTBEAT_TIMEOUT_MS). ADD COLUMN, not a table redefine: see docs/migrations.md.
ALTER TABLE "Host" ADD COLUMN "heartbeatIntervalMs" INTEGER;
ALTER TABLE "Host" ADD COLUMN "heartbeatTimeoutMs" INTEGER;
