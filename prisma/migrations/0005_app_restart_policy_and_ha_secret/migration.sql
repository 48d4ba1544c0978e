-- Per-application restart policy and startup timeout; the HA link's shared secret per pair.
-- Written as ALTER TABLE ADD COLUMN instead of the RedefineTables script `prisma migrate diff` prints:
-- the runner applies a migration inside a transaction, where SQLite ignores PRAGMA foreign_keys=OFF, so
-- dropping "Application" to rebuild it would cascade-delete every OptionValue row.
ALTER TABLE "Application" ADD COLUMN "restartEnabled" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "Application" ADD COLUMN "restartMaxRestarts" INTEGER NOT NULL DEFAULT 5;
ALTER TABLE "Application" ADD COLUMN "restartWindowMs" INTEGER NOT NULL DEFAULT 600000;
ALTER TABLE "Application" ADD COLUMN "restartDelayMs" INTEGER NOT NULL DEFAULT 1000;
ALTER TABLE "Application" ADD COLUMN "restartDelayMaxMs" INTEGER NOT NULL DEFAULT 60000;
ALTER TABLE "Application" ADD COLUMN "restartBackoffMultiplier" REAL NOT NULL DEFAULT 2;
ALTER TABLE "Application" ADD COLUMN "startupTimeoutMs" INTEGER NOT NULL DEFAULT 60000;
ALTER TABLE "HaPair" ADD COLUMN "haSecret" TEXT NOT NULL DEFAULT '';
-- Pairs that exist already get their secret now (new pairs get one when they are created).
UPDATE "HaPair" SET "haSecret" = lower(hex(randomblob(32))) WHERE "haSecret" = '';
