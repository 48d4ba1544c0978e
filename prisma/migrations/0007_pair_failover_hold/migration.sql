-- Per pair: how long an automatic failover that lets the primary keep its calls waits for a backup
-- still synchronising calls (readiness-aware failover). ADD COLUMN, not a table redefine: see docs/migrations.md.
ALTER TABLE "HaPair" ADD COLUMN "failoverHoldMs" INTEGER NOT NULL DEFAULT 30000;
