-- A log-event alarm cleared by the controller's view of the server (00-04200 cleared when the server
-- reports its SIP listener bound again). ADD COLUMN, not a table redefine: see docs/migrations.md.
ALTER TABLE "AlarmCondition" ADD COLUMN "cancelControllerKind" TEXT;
-- The built-in 00-04200 condition of consoles created before: cleared by the bind state from now on.
UPDATE "AlarmCondition" SET "cancelControllerKind" = 'bind-failed', "description" = 'SIP listener bind failure: the server is running but cannot open its SIP port (W7); cleared when it reports its SIP listener bound again' WHERE "builtIn" = 1 AND "eventId" = '00-04200' AND "cancelControllerKind" IS NULL;
