-- Applications an operator stopped (comma-separated ids), so the controller does not start them again.
-- ADD COLUMN rather than the RedefineTables script `prisma migrate diff` prints: see docs/migrations.md.
ALTER TABLE "PairRuntime" ADD COLUMN "stoppedAppIds" TEXT NOT NULL DEFAULT '';
