/**
 * A tiny stand-in for MongoDB, enough of the wire protocol (OP_MSG, and OP_QUERY for a legacy
 * hello) and of SCRAM-SHA-256 (RFC 5802/7677) for the official driver to connect, log in and
 * run the adapter's commands, on 127.0.0.1 and a free port. It is not MongoDB: one user, a
 * handful of commands, no TLS. It lets the mongodb adapter's success and auth-failure paths
 * run without a real server, which cannot run on these machines.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { BSON } from "mongodb";

export interface FakeMongoOptions {
  user: string;
  password: string;
  /** The database the user is defined in. */
  authSource: string;
  /** Commands other than hello, ping and buildInfo need a login (access control on). */
  requireAuth?: boolean;
  version?: string;
  /** Reported in hello: the server is a member of this replica set. */
  setName?: string;
}

export interface FakeMongo {
  port: number;
  /** Command names received, in order, across connections. */
  commands: string[];
  close(): Promise<void>;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const ITERATIONS = 4096;

export async function fakeMongo(options: FakeMongoOptions): Promise<FakeMongo> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(options.password, salt, ITERATIONS, 32, "sha256");
  let nextId = 1;

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
    const session: Session = { authenticated: false };
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 16 && buffered.length >= buffered.readInt32LE(0)) {
        const message = buffered.subarray(0, buffered.readInt32LE(0));
        buffered = buffered.subarray(message.length);
        handle(socket, session, message);
      }
    });
  });

  function handle(socket: Socket, session: Session, message: Buffer): void {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_MSG) {
      // flagBits, then a kind-0 section holding the command document.
      const command = BSON.deserialize(message.subarray(21), { promoteBuffers: true });
      socket.write(opMsg(requestId, run(session, command)));
    } else if (opCode === OP_QUERY) {
      let at = 20;
      while (message[at] !== 0) at++;
      const command = BSON.deserialize(message.subarray(at + 1 + 8), { promoteBuffers: true });
      socket.write(opReply(requestId, run(session, command)));
    }
  }

  function run(session: Session, command: Record<string, unknown>): Record<string, unknown> {
    const name = Object.keys(command)[0];
    commands.push(name);
    switch (name) {
      case "hello":
      case "ismaster":
      case "isMaster":
        return {
          ok: 1,
          isWritablePrimary: true,
          ismaster: true,
          helloOk: true,
          ...(options.setName ? { setName: options.setName, hosts: ["127.0.0.1:1"], setVersion: 1 } : {}),
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId: nextId++,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false,
          ...(command.saslSupportedMechs ? { saslSupportedMechs: ["SCRAM-SHA-256"] } : {}),
        };
      case "saslStart":
        return saslStart(session, command);
      case "saslContinue":
        return saslContinue(session, command);
      case "ping":
        return { ok: 1 };
      case "buildInfo":
      case "buildinfo":
        return { ok: 1, version: options.version ?? "7.0.14", versionArray: [7, 0, 14, 0] };
      case "endSessions":
        return { ok: 1 };
      case "listCollections":
        if (options.requireAuth && !session.authenticated) {
          return { ok: 0, code: 13, codeName: "Unauthorized", errmsg: "command listCollections requires authentication fake-7f3a" };
        }
        return { ok: 1, cursor: { id: BSON.Long.fromNumber(0), ns: `${String(command.$db)}.$cmd.listCollections`, firstBatch: [] } };
      default:
        return { ok: 0, code: 59, codeName: "CommandNotFound", errmsg: `no such command: '${name}'` };
    }
  }

  function refuse(): Record<string, unknown> {
    return { ok: 0, code: 18, codeName: "AuthenticationFailed", errmsg: "Authentication failed. fake-7f3a" };
  }

  function saslStart(session: Session, command: Record<string, unknown>): Record<string, unknown> {
    const payload = Buffer.from(command.payload as Buffer).toString("utf8");
    const match = /^n,,(n=([^,]*),r=([^,]*))$/.exec(payload);
    if (command.mechanism !== "SCRAM-SHA-256" || !match) return refuse();
    const user = match[2].replace(/=2C/g, ",").replace(/=3D/g, "=");
    const nonce = `${match[3]}${randomBytes(18).toString("base64")}`;
    const serverFirst = `r=${nonce},s=${salt.toString("base64")},i=${ITERATIONS}`;
    session.scram = { clientFirstBare: match[1], serverFirst, nonce, userOk: user === options.user && command.$db === options.authSource };
    return { ok: 1, conversationId: 1, done: false, payload: new BSON.Binary(Buffer.from(serverFirst)) };
  }

  function saslContinue(session: Session, command: Record<string, unknown>): Record<string, unknown> {
    const scram = session.scram;
    const payload = Buffer.from(command.payload as Buffer).toString("utf8");
    const match = /^(c=[^,]*,r=([^,]*)),p=([^,]*)$/.exec(payload);
    if (!scram || !match || match[2] !== scram.nonce || !scram.userOk) return refuse();
    const authMessage = `${scram.clientFirstBare},${scram.serverFirst},${match[1]}`;
    const clientKey = hmac(salted, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(match[3], "base64");
    if (proof.length !== clientKey.length) return refuse();
    const recovered = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
    if (!timingSafeEqual(createHash("sha256").update(recovered).digest(), storedKey)) return refuse();
    session.authenticated = true;
    const serverSignature = hmac(hmac(salted, "Server Key"), authMessage).toString("base64");
    return { ok: 1, conversationId: 1, done: true, payload: new BSON.Binary(Buffer.from(`v=${serverSignature}`)) };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    commands,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Session {
  authenticated: boolean;
  scram?: { clientFirstBare: string; serverFirst: string; nonce: string; userOk: boolean };
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

function header(length: number, responseTo: number, opCode: number): Buffer {
  const head = Buffer.alloc(16);
  head.writeInt32LE(length, 0);
  head.writeInt32LE(responseTo + 1_000_000, 4);
  head.writeInt32LE(responseTo, 8);
  head.writeInt32LE(opCode, 12);
  return head;
}

function opMsg(responseTo: number, document: Record<string, unknown>): Buffer {
  const body = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), BSON.serialize(document)]);
  return Buffer.concat([header(16 + body.length, responseTo, OP_MSG), body]);
}

function opReply(responseTo: number, document: Record<string, unknown>): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeInt32LE(1, 16); // numberReturned
  const body = Buffer.concat([fixed, BSON.serialize(document)]);
  return Buffer.concat([header(16 + body.length, responseTo, OP_REPLY), body]);
}
