// The browsers' live channel is typed from one map of event → payload schema (lib/ui-events.ts): the
// socket.io event types are derived from it, and what the console encodes is what the browser parses.
import superjson, { type SuperJSONResult } from "superjson";
import { describe, expect, expectTypeOf, it } from "vitest";
import { encodeLivePairs, uiEventSchemas, type LiveApplications, type UiEventName, type UiServerToClientEvents } from "./ui-events";

describe("/ui events", () => {
  it("socket.io's event map has exactly the events of the schema map, with their payloads as they travel", () => {
    expectTypeOf<keyof UiServerToClientEvents>().toEqualTypeOf<UiEventName>();
    expectTypeOf<Parameters<UiServerToClientEvents["live:applications"]>>().toEqualTypeOf<[payload: LiveApplications]>();
    expectTypeOf<Parameters<UiServerToClientEvents["live:pairs"]>>().toEqualTypeOf<[payload: SuperJSONResult]>();
    expectTypeOf<Parameters<UiServerToClientEvents["alarms:changed"]>>().toEqualTypeOf<[]>();
    expect(Object.keys(uiEventSchemas).sort()).toEqual(["alarms:changed", "live:applications", "live:changed", "live:pairs", "procedures:changed"]);
  });

  it("live:pairs as the console encodes it is what the browser's schema accepts", () => {
    const sent = { changed: [], removed: ["pair-a"] };
    const parsed = uiEventSchemas["live:pairs"].safeParse(superjson.deserialize(encodeLivePairs(sent)));
    expect(parsed.success && parsed.data).toEqual(sent);
    expect(uiEventSchemas["live:pairs"].safeParse(superjson.deserialize(superjson.serialize({ changed: [{ id: "pair-a" }], removed: [] }))).success).toBe(false);
  });
});
