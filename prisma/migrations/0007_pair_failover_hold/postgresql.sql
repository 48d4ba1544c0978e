-- PostgreSQL version of migration.sql (the same statement).
ALTER TABLE "HaPair" ADD COLUMN "failoverHoldMs" INTEGER NOT NULL DEFAULT 30000;
