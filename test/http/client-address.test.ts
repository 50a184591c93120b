import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientAddress } from "../../src/http/io";

function request(forwardedFor: string | string[] | undefined, socket = "10.0.0.1"): IncomingMessage {
  return { headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }, socket: { remoteAddress: socket } } as unknown as IncomingMessage;
}

describe("the client address", () => {
  it.each([
    [0, "1.1.1.1, 2.2.2.2", "10.0.0.1"],
    [1, "1.1.1.1", "1.1.1.1"],
    [1, "6.6.6.6, 1.1.1.1", "1.1.1.1"],
    [1, " 6.6.6.6 ,  2001:db8::1 ", "2001:db8::1"],
    [2, "6.6.6.6, 1.1.1.1, 192.168.0.9", "1.1.1.1"],
    [2, "1.1.1.1", "1.1.1.1"],
    [1, "", "10.0.0.1"],
    [1, "6.6.6.6, garbage", "10.0.0.1"],
    [1, "6.6.6.6, 1.1.1.1:443", "10.0.0.1"],
  ])("with %i trusted proxies and X-Forwarded-For %j is %s", (proxies, header, expected) => {
    expect(clientAddress(request(header), proxies)).toBe(expected);
  });

  it("reads repeated X-Forwarded-For headers as one list", () => {
    expect(clientAddress(request(["6.6.6.6", "1.1.1.1"]), 1)).toBe("1.1.1.1");
  });
});
