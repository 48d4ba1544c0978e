-- PostgreSQL version of migration.sql: the same columns (Float is DOUBLE PRECISION here), and the
-- existing pairs' secrets from PostgreSQL's own randomness (gen_random_uuid is built in since 13).
ALTER TABLE "Application" ADD COLUMN "restartEnabled" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "Application" ADD COLUMN "restartMaxRestarts" INTEGER NOT NULL DEFAULT 5;
ALTER TABLE "Application" ADD COLUMN "restartWindowMs" INTEGER NOT NULL DEFAULT 600000;
ALTER TABLE "Application" ADD COLUMN "restartDelayMs" INTEGER NOT NULL DEFAULT 1000;
ALTER TABLE "Application" ADD COLUMN "restartDelayMaxMs" INTEGER NOT NULL DEFAULT 60000;
ALTER TABLE "Application" ADD COLUMN "restartBackoffMultiplier" DOUBLE PRECISION NOT NULL DEFAULT 2;
ALTER TABLE "Application" ADD COLUMN "startupTimeoutMs" INTEGER NOT NULL DEFAULT 60000;
ALTER TABLE "HaPair" ADD COLUMN "haSecret" TEXT NOT NULL DEFAULT '';
-- Pairs that exist already get their secret now (new pairs get one when they are created).
UPDATE "HaPair" SET "haSecret" = encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex') WHERE "haSecret" = '';
