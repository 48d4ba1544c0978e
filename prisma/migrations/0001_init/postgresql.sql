-- PostgreSQL version of migration.sql: `prisma migrate diff` between the PostgreSQL variants of the schema
-- before and after this migration (scripts/postgres-schema.ts).
-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ip" TEXT NOT NULL DEFAULT '',
    "userAgent" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Host" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Host_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Nic" (
    "id" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "carriesManagement" BOOLEAN NOT NULL DEFAULT true,
    "carriesSip" BOOLEAN NOT NULL DEFAULT true,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "Nic_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Application" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "sipPort" INTEGER,
    "haPort" INTEGER,
    "startCommand" TEXT NOT NULL DEFAULT '',
    "startArgs" JSONB NOT NULL,
    "workingDirectory" TEXT NOT NULL DEFAULT '',
    "environment" JSONB NOT NULL,
    "stopCommand" TEXT NOT NULL DEFAULT '',
    "stopTimeoutMs" INTEGER NOT NULL DEFAULT 10000,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Application_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OptionValue" (
    "id" TEXT NOT NULL,
    "applicationId" TEXT NOT NULL,
    "dn" TEXT NOT NULL DEFAULT '',
    "section" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OptionValue_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HaPair" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "haType" TEXT NOT NULL,
    "primaryAppId" TEXT NOT NULL,
    "backupAppId" TEXT NOT NULL,
    "vipAddress" TEXT NOT NULL DEFAULT '',
    "vipPrefixLength" INTEGER,
    "vipInterface" TEXT NOT NULL DEFAULT '',
    "nlbClusterName" TEXT NOT NULL DEFAULT '',
    "nlbPort" INTEGER,
    "controlDriver" TEXT NOT NULL,
    "enableScript" TEXT NOT NULL DEFAULT '',
    "disableScript" TEXT NOT NULL DEFAULT '',
    "scriptTimeoutMs" INTEGER NOT NULL DEFAULT 10000,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "HaPair_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorName" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "objectId" TEXT,
    "objectName" TEXT NOT NULL DEFAULT '',
    "before" JSONB,
    "after" JSONB,
    "detail" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Host_name_key" ON "Host"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Nic_hostId_name_key" ON "Nic"("hostId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Application_name_key" ON "Application"("name");

-- CreateIndex
CREATE INDEX "Application_hostId_idx" ON "Application"("hostId");

-- CreateIndex
CREATE UNIQUE INDEX "OptionValue_applicationId_dn_section_name_key" ON "OptionValue"("applicationId", "dn", "section", "name");

-- CreateIndex
CREATE UNIQUE INDEX "HaPair_name_key" ON "HaPair"("name");

-- CreateIndex
CREATE UNIQUE INDEX "HaPair_primaryAppId_key" ON "HaPair"("primaryAppId");

-- CreateIndex
CREATE UNIQUE INDEX "HaPair_backupAppId_key" ON "HaPair"("backupAppId");

-- CreateIndex
CREATE INDEX "AuditEntry_at_idx" ON "AuditEntry"("at");

-- CreateIndex
CREATE INDEX "AuditEntry_objectType_objectId_idx" ON "AuditEntry"("objectType", "objectId");

-- CreateIndex
CREATE INDEX "AuditEntry_actorName_idx" ON "AuditEntry"("actorName");

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Nic" ADD CONSTRAINT "Nic_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Application" ADD CONSTRAINT "Application_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OptionValue" ADD CONSTRAINT "OptionValue_applicationId_fkey" FOREIGN KEY ("applicationId") REFERENCES "Application"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HaPair" ADD CONSTRAINT "HaPair_primaryAppId_fkey" FOREIGN KEY ("primaryAppId") REFERENCES "Application"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HaPair" ADD CONSTRAINT "HaPair_backupAppId_fkey" FOREIGN KEY ("backupAppId") REFERENCES "Application"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

