// DATABASE_URL picks the database in one place: the environment check and the client ask the same function.
import { describe, expect, it } from "vitest";
import { dialectOf, redactUrl } from "./dialect";
import { parseEnv } from "../env";

describe("dialectOf", () => {
  it("file: is SQLite, postgresql:// and postgres:// are PostgreSQL", () => {
    expect(dialectOf("file:./data/switchyard.db")).toBe("sqlite");
    expect(dialectOf("postgresql://sy:pw@127.0.0.1:5432/switchyard")).toBe("postgresql");
    expect(dialectOf("postgres://db.example/switchyard?sslmode=require")).toBe("postgresql");
  });

  it("refuses anything else, without repeating the password", () => {
    expect(() => dialectOf("mysql://root:hunter2@db/switchyard")).toThrow(/file:.*postgresql:\/\/.*not mysql:\/\/root:\*\*\*@db\/switchyard/);
    expect(() => dialectOf("mysql://root:hunter2@db/switchyard")).not.toThrow(/hunter2/);
    expect(redactUrl("postgresql://sy@127.0.0.1/x")).toBe("postgresql://sy@127.0.0.1/x");
  });

  it("the environment check accepts what the client accepts and names DATABASE_URL otherwise", () => {
    expect(parseEnv({ NODE_ENV: "test", DATABASE_URL: "postgresql://sy:pw@127.0.0.1:5432/switchyard" }).DATABASE_URL).toBe("postgresql://sy:pw@127.0.0.1:5432/switchyard");
    expect(parseEnv({ NODE_ENV: "test" }).DATABASE_URL).toBe("file:./data/switchyard.db");
    expect(() => parseEnv({ NODE_ENV: "test", DATABASE_URL: "sqlite://x.db" })).toThrow(/DATABASE_URL: a SQLite file URL/);
  });
});
