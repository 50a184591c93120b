import { describe, expect, it } from "vitest";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../../src/auth/passwords";

describe("password hashing", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", stored)).toBe(false);
    expect(await verifyPassword("Correct horse battery staple", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("salts: two hashes of the same password differ and both verify", async () => {
    const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
    expect(a).not.toBe(b);
    expect(await verifyPassword("same", a)).toBe(true);
    expect(await verifyPassword("same", b)).toBe(true);
  });

  it("treats composed and decomposed accents as the same password", async () => {
    const stored = await hashPassword("caf\u00e9");
    expect(await verifyPassword("cafe\u0301", stored)).toBe(true);
  });

  it("returns false for malformed or hostile stored values", async () => {
    const good = await hashPassword("pw");
    const parts = good.split("$");
    const malformed = [
      "",
      "pw",
      "bcrypt$2b$10$abcdefghijklmnopqrstuv",
      good.slice(0, -5),
      `scrypt$${good}`, // doubled scheme
      good.slice(0, -1), // hash one character short
      [...parts.slice(0, 4), "!!!!!!!!!!!!!!!!!!!!!!", parts[5]].join("$"),
      [parts[0], "1000", ...parts.slice(2)].join("$"), // N not a power of two
      [parts[0], String(2 ** 24), ...parts.slice(2)].join("$"), // would need GiBs of memory
      [parts[0], "1024", ...parts.slice(2)].join("$"), // too weak to accept
      `${good}$extra`,
    ];
    for (const stored of malformed) expect(await verifyPassword("pw", stored)).toBe(false);
  });

  it("has a valid dummy hash that no likely password matches", async () => {
    expect(DUMMY_PASSWORD_HASH).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword("", DUMMY_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword("password", DUMMY_PASSWORD_HASH)).toBe(false);
  });

  it("spends about as long on the dummy hash as on a real one", async () => {
    const real = await hashPassword("pw");
    const time = async (stored: string) => {
      const t = performance.now();
      await verifyPassword("guess", stored);
      return performance.now() - t;
    };
    await time(real); // warm up
    const realMs = await time(real);
    const dummyMs = await time(DUMMY_PASSWORD_HASH);
    expect(dummyMs).toBeGreaterThan(realMs / 3);
  });
});
