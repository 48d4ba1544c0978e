-- PostgreSQL version of migration.sql (the same statements).
ALTER TABLE "Host" ADD COLUMN "heartbeatIntervalMs" INTEGER;
ALTER TABLE "Host" ADD COLUMN "heartbeatTimeoutMs" INTEGER;
