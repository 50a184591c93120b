/**
 * The tests' resolver: a `.invalid` name (RFC 2606) answers ENOTFOUND, as getaddrinfo would,
 * without asking real DNS; any other name (localhost) goes to getaddrinfo.
 */
import { lookup } from "node:dns/promises";
import type { Lookup } from "../../src/net/egress";

export const testLookup: Lookup = async (host) => {
  if (/\.invalid\.?$/i.test(host)) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};
