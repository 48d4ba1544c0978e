// Unit tests for shell-free script templates.
import { describe, expect, it } from "vitest";
import { renderTemplate, splitTemplate } from "./template";

describe("script templates", () => {
  it("splits on spaces and keeps quoted words together", () => {
    expect(splitTemplate(`powershell.exe -Command "Start-NlbClusterNode -HostName {host}" 'a b'`)).toEqual([
      "powershell.exe",
      "-Command",
      "Start-NlbClusterNode -HostName {host}",
      "a b",
    ]);
  });

  it("substitutes after splitting, so a value cannot add arguments or commands", () => {
    const argv = renderTemplate("nlb.exe disable {vip}:{port} {cluster}", { vip: "10.0.0.5", port: "5060", cluster: "c1; rm -rf / x" });
    expect(argv).toEqual(["nlb.exe", "disable", "10.0.0.5:5060", "c1; rm -rf / x"]);
  });

  it("refuses unknown placeholders, missing values and unclosed quotes", () => {
    expect(() => renderTemplate("run {vipp}", { vip: "1" })).toThrow("unknown placeholder {vipp}");
    expect(() => renderTemplate("run {interface}", { vip: "1" })).toThrow("placeholder {interface} has no value");
    expect(() => splitTemplate(`run "open`)).toThrow("unclosed");
  });
});
