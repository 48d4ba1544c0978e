-- PostgreSQL version of migration.sql: `prisma migrate diff` between the PostgreSQL variants of the schema
-- before and after this migration (scripts/postgres-schema.ts).
-- CreateTable
CREATE TABLE "PairRuntime" (
    "pairId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL DEFAULT 0,
    "intendedPrimaryAppId" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PairRuntime_pkey" PRIMARY KEY ("pairId")
);

-- CreateTable
CREATE TABLE "PairHistory" (
    "id" TEXT NOT NULL,
    "pairId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "epoch" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "data" JSONB,

    CONSTRAINT "PairHistory_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PairHistory_pairId_at_idx" ON "PairHistory"("pairId", "at");

-- AddForeignKey
ALTER TABLE "PairRuntime" ADD CONSTRAINT "PairRuntime_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PairHistory" ADD CONSTRAINT "PairHistory_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

