-- PostgreSQL version of migration.sql: `prisma migrate diff` between the PostgreSQL variants of the schema
-- before and after this migration (scripts/postgres-schema.ts).
-- CreateTable
CREATE TABLE "LogEvent" (
    "id" TEXT NOT NULL,
    "application" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "time" TIMESTAMP(3) NOT NULL,
    "level" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LogEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AlarmCondition" (
    "id" TEXT NOT NULL,
    "eventId" TEXT,
    "controllerKind" TEXT,
    "scopeKind" TEXT NOT NULL,
    "scopeValues" JSONB NOT NULL,
    "severity" TEXT NOT NULL,
    "cancelEventId" TEXT,
    "autoClearSeconds" INTEGER,
    "description" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "builtIn" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AlarmCondition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Alarm" (
    "id" TEXT NOT NULL,
    "conditionId" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "application" TEXT NOT NULL DEFAULT '',
    "host" TEXT NOT NULL DEFAULT '',
    "pair" TEXT NOT NULL DEFAULT '',
    "activeKey" TEXT,
    "state" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 1,
    "firstSeen" TIMESTAMP(3) NOT NULL,
    "lastSeen" TIMESTAMP(3) NOT NULL,
    "lastText" TEXT NOT NULL DEFAULT '',
    "acknowledgedBy" TEXT,
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgeNote" TEXT,
    "clearedBy" TEXT,
    "clearedAt" TIMESTAMP(3),
    "clearComment" TEXT,
    "clearedHow" TEXT,

    CONSTRAINT "Alarm_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AlarmReaction" (
    "id" TEXT NOT NULL,
    "conditionId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "onClear" BOOLEAN NOT NULL DEFAULT false,
    "settings" JSONB NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AlarmReaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReactionRun" (
    "id" TEXT NOT NULL,
    "alarmId" TEXT NOT NULL,
    "reactionId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ok" BOOLEAN NOT NULL,
    "detail" TEXT NOT NULL,

    CONSTRAINT "ReactionRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "LogEvent_time_idx" ON "LogEvent"("time");

-- CreateIndex
CREATE INDEX "LogEvent_eventId_time_idx" ON "LogEvent"("eventId", "time");

-- CreateIndex
CREATE INDEX "LogEvent_application_time_idx" ON "LogEvent"("application", "time");

-- CreateIndex
CREATE INDEX "LogEvent_host_time_idx" ON "LogEvent"("host", "time");

-- CreateIndex
CREATE INDEX "LogEvent_receivedAt_idx" ON "LogEvent"("receivedAt");

-- CreateIndex
CREATE INDEX "AlarmCondition_eventId_idx" ON "AlarmCondition"("eventId");

-- CreateIndex
CREATE INDEX "AlarmCondition_controllerKind_idx" ON "AlarmCondition"("controllerKind");

-- CreateIndex
CREATE UNIQUE INDEX "Alarm_activeKey_key" ON "Alarm"("activeKey");

-- CreateIndex
CREATE INDEX "Alarm_state_lastSeen_idx" ON "Alarm"("state", "lastSeen");

-- CreateIndex
CREATE INDEX "Alarm_conditionId_idx" ON "Alarm"("conditionId");

-- CreateIndex
CREATE INDEX "Alarm_firstSeen_idx" ON "Alarm"("firstSeen");

-- CreateIndex
CREATE INDEX "AlarmReaction_conditionId_idx" ON "AlarmReaction"("conditionId");

-- CreateIndex
CREATE INDEX "ReactionRun_alarmId_idx" ON "ReactionRun"("alarmId");

-- AddForeignKey
ALTER TABLE "Alarm" ADD CONSTRAINT "Alarm_conditionId_fkey" FOREIGN KEY ("conditionId") REFERENCES "AlarmCondition"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AlarmReaction" ADD CONSTRAINT "AlarmReaction_conditionId_fkey" FOREIGN KEY ("conditionId") REFERENCES "AlarmCondition"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReactionRun" ADD CONSTRAINT "ReactionRun_alarmId_fkey" FOREIGN KEY ("alarmId") REFERENCES "Alarm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

