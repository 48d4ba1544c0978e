-- Issue 14: a pair's maintenance (with its runtime state, so a console restart keeps it), guided W14 upgrade
-- runs, install commands per application, and scheduled switchovers. ADD COLUMN and CREATE TABLE only
-- (docs/migrations.md).
-- AlterTable
ALTER TABLE "PairRuntime" ADD COLUMN "maintenanceBy" TEXT;
ALTER TABLE "PairRuntime" ADD COLUMN "maintenanceReason" TEXT;
ALTER TABLE "PairRuntime" ADD COLUMN "maintenanceSince" DATETIME;
ALTER TABLE "PairRuntime" ADD COLUMN "maintenanceUntil" DATETIME;

-- CreateTable
CREATE TABLE "UpgradeRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "pairId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "startedBy" TEXT NOT NULL,
    "startedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "state" JSONB NOT NULL,
    CONSTRAINT "UpgradeRun_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "InstallCommand" (
    "applicationId" TEXT NOT NULL PRIMARY KEY,
    "command" TEXT NOT NULL,
    "timeoutMs" INTEGER NOT NULL DEFAULT 300000,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "InstallCommand_applicationId_fkey" FOREIGN KEY ("applicationId") REFERENCES "Application" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ScheduledSwitchover" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "pairId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT NOT NULL DEFAULT '',
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL DEFAULT '',
    "finishedAt" DATETIME,
    CONSTRAINT "ScheduledSwitchover_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "UpgradeRun_pairId_startedAt_idx" ON "UpgradeRun"("pairId", "startedAt");

-- CreateIndex
CREATE INDEX "UpgradeRun_status_idx" ON "UpgradeRun"("status");

-- CreateIndex
CREATE INDEX "ScheduledSwitchover_status_at_idx" ON "ScheduledSwitchover"("status", "at");

-- CreateIndex
CREATE INDEX "ScheduledSwitchover_pairId_at_idx" ON "ScheduledSwitchover"("pairId", "at");

