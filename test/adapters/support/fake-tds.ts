/**
 * A tiny stand-in for SQL Server, enough of TDS 7.4 ([MS-TDS]) to drive tedious through a
 * pre-login, a login and one query, on 127.0.0.1 and a free port. It is not SQL Server: no
 * TLS, one user, and a batch that asks for @@VERSION is answered with one NVARCHAR row. It
 * lets the mssql adapter's success and login-error paths run without a real server, which
 * cannot run on these machines.
 */
import { createServer, type Socket } from "node:net";

export interface FakeTdsOptions {
  user: string;
  password: string;
  /** Databases that exist; a login naming another gets 4060 then 18456, as SQL Server sends. */
  databases: string[];
  /** The pre-login ENCRYPTION answer: 0x02 (not supported, the default) or 0x00 (off). */
  encryption?: number;
  /** What SELECT @@VERSION returns. */
  version?: string;
}

export interface FakeTds {
  port: number;
  /** Login packets received, decoded: what the server was told. */
  logins: Array<{ user: string; password: string; database: string; appName: string; hostName: string }>;
  close(): Promise<void>;
}

const PACKET = { SQL_BATCH: 0x01, TABULAR_RESULT: 0x04, LOGIN7: 0x10, PRELOGIN: 0x12 } as const;

export async function fakeTds(options: FakeTdsOptions): Promise<FakeTds> {
  const logins: FakeTds["logins"] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 8 && buffered.length >= buffered.readUInt16BE(2)) {
        const length = buffered.readUInt16BE(2);
        const type = buffered[0];
        const payload = buffered.subarray(8, length);
        buffered = buffered.subarray(length);
        answer(socket, type, payload);
      }
    });
  });

  function answer(socket: Socket, type: number, payload: Buffer): void {
    if (type === PACKET.PRELOGIN) return reply(socket, prelogin(options.encryption ?? 0x02));
    if (type === PACKET.LOGIN7) {
      const login = decodeLogin7(payload);
      logins.push(login);
      if (login.user !== options.user || login.password !== options.password) {
        return reply(socket, Buffer.concat([errorToken(18456, `Login failed for user '${login.user}'. fake-7f3a`), done(0x0002)]));
      }
      if (login.database && !options.databases.includes(login.database)) {
        return reply(
          socket,
          Buffer.concat([
            errorToken(4060, `Cannot open database "${login.database}" requested by the login. The login failed. fake-7f3a`),
            errorToken(18456, `Login failed for user '${login.user}'. fake-7f3a`),
            done(0x0002),
          ]),
        );
      }
      return reply(socket, Buffer.concat([loginAck(), done(0x0000)]));
    }
    if (type === PACKET.SQL_BATCH) {
      // ALL_HEADERS (its total length first), then the SQL text in UCS-2.
      const sql = payload.subarray(payload.readUInt32LE(0)).toString("utf16le");
      // tedious's own SET statements after the login expect no result set.
      if (!/@@VERSION/i.test(sql)) return reply(socket, done(0x0000, 0x0079));
      return reply(socket, Buffer.concat([columnMetadata("version"), row(options.version ?? "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n\tFake TDS"), done(0x0010, 0x00c1, 1)]));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    logins,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function reply(socket: Socket, payload: Buffer): void {
  const header = Buffer.alloc(8);
  header[0] = PACKET.TABULAR_RESULT;
  header[1] = 0x01; // end of message
  header.writeUInt16BE(payload.length + 8, 2);
  header[6] = 1;
  socket.write(Buffer.concat([header, payload]));
}

function prelogin(encryption: number): Buffer {
  // VERSION at offset 11 (6 bytes), ENCRYPTION at 17 (1 byte), then the terminator's table end.
  const table = Buffer.from([0x00, 0x00, 11, 0x00, 6, 0x01, 0x00, 17, 0x00, 1, 0xff]);
  return Buffer.concat([table, Buffer.from([16, 0, 0x03, 0xe8, 0, 0]), Buffer.from([encryption])]);
}

function ucs2(text: string): Buffer {
  return Buffer.from(text, "utf16le");
}

function bVarchar(text: string): Buffer {
  return Buffer.concat([Buffer.from([text.length]), ucs2(text)]);
}

function usVarchar(text: string): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(text.length);
  return Buffer.concat([length, ucs2(text)]);
}

function withLength(token: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = token;
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

function errorToken(number: number, message: string): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeInt32LE(number, 0);
  fixed[4] = 1; // state
  fixed[5] = 14; // class
  const line = Buffer.alloc(4);
  return withLength(0xaa, Buffer.concat([fixed, usVarchar(message), bVarchar("FAKETDS"), bVarchar(""), line]));
}

function loginAck(): Buffer {
  const head = Buffer.from([0x01, 0x74, 0x00, 0x00, 0x04]); // interface, TDS 7.4
  return withLength(0xad, Buffer.concat([head, bVarchar("Microsoft SQL Server"), Buffer.from([16, 0, 0x03, 0xe8])]));
}

function done(status: number, command = 0, rows = 0): Buffer {
  const token = Buffer.alloc(13);
  token[0] = 0xfd;
  token.writeUInt16LE(status, 1);
  token.writeUInt16LE(command, 3);
  token.writeBigUInt64LE(BigInt(rows), 5);
  return token;
}

function columnMetadata(name: string): Buffer {
  const head = Buffer.from([0x81, 0x01, 0x00]); // one column
  const column = Buffer.alloc(4 + 2 + 1 + 2 + 5);
  // user type 0, flags 0x0001 (nullable)
  column.writeUInt16LE(0x0001, 4);
  column[6] = 0xe7; // NVARCHAR
  column.writeUInt16LE(8000, 7);
  Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]).copy(column, 9); // a Latin1_General collation
  return Buffer.concat([head, column, bVarchar(name)]);
}

function row(value: string): Buffer {
  const data = ucs2(value);
  const length = Buffer.alloc(2);
  length.writeUInt16LE(data.length);
  return Buffer.concat([Buffer.from([0xd1]), length, data]);
}

/** The fields of a LOGIN7 packet this fake looks at ([MS-TDS] 2.2.6.4). */
function decodeLogin7(packet: Buffer): FakeTds["logins"][number] {
  const text = (at: number) => {
    const offset = packet.readUInt16LE(at);
    const chars = packet.readUInt16LE(at + 2);
    return packet.subarray(offset, offset + chars * 2);
  };
  // Passwords are "encrypted" by swapping each byte's nibbles and XOR-ing with 0xA5.
  const password = Buffer.from(text(44).map((b) => (((b ^ 0xa5) << 4) & 0xf0) | ((b ^ 0xa5) >> 4)));
  return {
    hostName: text(36).toString("utf16le"),
    user: text(40).toString("utf16le"),
    password: password.toString("utf16le"),
    appName: text(48).toString("utf16le"),
    database: text(68).toString("utf16le"),
  };
}
