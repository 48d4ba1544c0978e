-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_PairRuntime" (
    "pairId" TEXT NOT NULL PRIMARY KEY,
    "epoch" INTEGER NOT NULL DEFAULT 0,
    "intendedPrimaryAppId" TEXT,
    "stoppedAppIds" TEXT NOT NULL DEFAULT '',
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "PairRuntime_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "HaPair" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_PairRuntime" ("epoch", "intendedPrimaryAppId", "pairId", "updatedAt") SELECT "epoch", "intendedPrimaryAppId", "pairId", "updatedAt" FROM "PairRuntime";
DROP TABLE "PairRuntime";
ALTER TABLE "new_PairRuntime" RENAME TO "PairRuntime";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

