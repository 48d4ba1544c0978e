-- PostgreSQL version of migration.sql (the same statement).
ALTER TABLE "PairRuntime" ADD COLUMN "stoppedAppIds" TEXT NOT NULL DEFAULT '';
