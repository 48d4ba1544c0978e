-- PostgreSQL version of migration.sql ("builtIn" is a BOOLEAN here, not 0/1).
ALTER TABLE "AlarmCondition" ADD COLUMN "cancelControllerKind" TEXT;
UPDATE "AlarmCondition" SET "cancelControllerKind" = 'bind-failed', "description" = 'SIP listener bind failure: the server is running but cannot open its SIP port (W7); cleared when it reports its SIP listener bound again' WHERE "builtIn" = true AND "eventId" = '00-04200' AND "cancelControllerKind" IS NULL;
