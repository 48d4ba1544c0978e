-- PostgreSQL version of migration.sql: `prisma migrate diff` between the PostgreSQL variants of the schema
-- before and after this migration (scripts/postgres-schema.ts).
-- AlterTable
ALTER TABLE "PairRuntime" ADD COLUMN     "maintenanceBy" TEXT,
ADD COLUMN     "maintenanceReason" TEXT,
ADD COLUMN     "maintenanceSince" TIMESTAMP(3),
ADD COLUMN     "maintenanceUntil" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "UpgradeRun" (
    "id" TEXT NOT NULL,
    "pairId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "startedBy" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "state" JSONB NOT NULL,

    CONSTRAINT "UpgradeRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InstallCommand" (
    "applicationId" TEXT NOT NULL,
    "command" TEXT NOT NULL,
    "timeoutMs" INTEGER NOT NULL DEFAULT 300000,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "InstallCommand_pkey" PRIMARY KEY ("applicationId")
);

-- CreateTable
CREATE TABLE "ScheduledSwitchover" (
    "id" TEXT NOT NULL,
    "pairId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT NOT NULL DEFAULT '',
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL DEFAULT '',
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "ScheduledSwitchover_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UpgradeRun_pairId_startedAt_idx" ON "UpgradeRun"("pairId", "startedAt");

-- CreateIndex
CREATE INDEX "UpgradeRun_status_idx" ON "UpgradeRun"("status");

-- CreateIndex
CREATE INDEX "ScheduledSwitchover_status_at_idx" ON "ScheduledSwitchover"("status", "at");

-- CreateIndex
CREATE INDEX "ScheduledSwitchover_pairId_at_idx" ON "ScheduledSwitchover"("pairId", "at");

-- AddForeignKey
ALTER TABLE "UpgradeRun" ADD CONSTRAINT "UpgradeRun_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InstallCommand" ADD CONSTRAINT "InstallCommand_applicationId_fkey" FOREIGN KEY ("applicationId") REFERENCES "Application"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScheduledSwitchover" ADD CONSTRAINT "ScheduledSwitchover_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

