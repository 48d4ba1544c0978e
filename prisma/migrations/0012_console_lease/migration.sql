-- CreateTable
CREATE TABLE "ConsoleLease" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "holder" TEXT,
    "incarnation" TEXT,
    "term" INTEGER NOT NULL DEFAULT 0,
    "expiresAtMs" BIGINT NOT NULL DEFAULT 0,
    "acquiredAtMs" BIGINT NOT NULL DEFAULT 0,
    "renewedAtMs" BIGINT NOT NULL DEFAULT 0,
    "agentUrl" TEXT,
    "webUrl" TEXT,
    "peerSecret" TEXT
);

-- CreateTable
CREATE TABLE "ConsoleInstance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "incarnation" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "webUrl" TEXT NOT NULL,
    "agentUrl" TEXT NOT NULL,
    "startedAtMs" BIGINT NOT NULL,
    "seenAtMs" BIGINT NOT NULL
);


-- The one lease row: every acquisition and renewal is an UPDATE of it (server/leader/lease-store.ts).
INSERT INTO "ConsoleLease" ("id") VALUES ('controller');
