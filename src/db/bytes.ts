/** Prisma's Bytes columns take a Uint8Array over a plain ArrayBuffer; Node's Buffers may not be one. */
export function toBytes(buffer: Buffer): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(new ArrayBuffer(buffer.length));
  bytes.set(buffer);
  return bytes;
}
