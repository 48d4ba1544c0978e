-- CreateTable
CREATE TABLE "PairRuntime" (
    "pairId" TEXT NOT NULL PRIMARY KEY,
    "epoch" INTEGER NOT NULL DEFAULT 0,
    "intendedPrimaryAppId" TEXT,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "PairRuntime_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PairHistory" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "pairId" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "epoch" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "data" JSONB,
    CONSTRAINT "PairHistory_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "PairHistory_pairId_at_idx" ON "PairHistory"("pairId", "at");

