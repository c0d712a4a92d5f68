/**
 * A call of a named prepared statement whose result rows are not needed (the commit function),
 * as a node-postgres "submittable": the driver's documented extension point (pg-cursor and
 * pg-query-stream use it) for objects that write their own protocol messages and receive the
 * backend's answers through `handle*` callbacks.
 *
 * Against `client.query({ name, text, values })` it saves, per call, what the commit path does
 * not use: the query config's normalisation and copy, the Query and Result objects, the value
 * mapping of every parameter, the Describe message (and so the RowDescription answer and its
 * field list), the parsing of the result row, and the stream's cork/uncork: the whole call
 * (Parse on a connection's first use of the statement, then Bind, Execute, Sync) is one buffer
 * and one socket write. Parameters are text (or null), result rows are ignored.
 *
 * Errors take the driver's usual paths: an ErrorResponse from the server (a raised exception,
 * a missing function, a failed Parse) reaches `handleError` as the driver's DatabaseError, and
 * a dropped connection reaches it as the driver's connection error; the statement is then
 * parsed again on the next call, as the driver does for its own named queries.
 */
import type pg from 'pg';

/** The parts of node-postgres's connection a submittable uses (not in its type declarations). */
interface PgConnection {
  stream: { writable: boolean; write(chunk: Buffer): boolean };
  /** Statements the server has parsed on this connection: name → text. */
  parsedStatements: Record<string, string | undefined>;
  /** Statements sent for parsing, not yet confirmed: name → text. */
  submittedNamedStatements: Record<string, string | undefined>;
  sendCopyFail(message: string): void;
}

/** A named statement and its text; its Parse message is encoded once. */
export class PreparedStatement {
  /** The Parse message (no parameter types given: the server infers them). */
  readonly parseMessage: Buffer;
  /** The name as a C string, for Bind. */
  readonly nameBytes: Buffer;

  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    if (name.length === 0 || name.length > 63)
      throw new RangeError(`a prepared statement needs a name of 1 to 63 characters: ${name}`);
    this.nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const textBytes = Buffer.from(`${text}\0`, 'utf8');
    const length = 4 + this.nameBytes.length + textBytes.length + 2;
    const m = Buffer.allocUnsafe(1 + length);
    m[0] = 0x50; // 'P'
    m.writeInt32BE(length, 1);
    this.nameBytes.copy(m, 5);
    textBytes.copy(m, 5 + this.nameBytes.length);
    m.writeInt16BE(0, 1 + length - 2);
    this.parseMessage = m;
  }
}

/** Execute (unnamed portal, no row limit) and Sync. */
const EXECUTE_SYNC = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0x53, 0, 0, 0, 4]);

/** Bind, Execute and Sync for `statement` with text parameters; Parse first when `parse`. */
export function encodeCall(statement: PreparedStatement, params: readonly (string | null)[], parse: boolean): Buffer {
  // Bind: portal "", statement, 0 parameter format codes (all text), the parameters, 0 result
  // format codes (all text).
  let bindLength = 4 + 1 + statement.nameBytes.length + 2 + 2 + 2;
  const sizes: number[] = new Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const size = p === null || p === undefined ? -1 : Buffer.byteLength(p, 'utf8');
    sizes[i] = size;
    bindLength += 4 + Math.max(0, size);
  }
  const head = parse ? statement.parseMessage.length : 0;
  const out = Buffer.allocUnsafe(head + 1 + bindLength + EXECUTE_SYNC.length);
  let at = 0;
  if (parse) at += statement.parseMessage.copy(out, 0);
  out[at++] = 0x42; // 'B'
  out.writeInt32BE(bindLength, at);
  at += 4;
  out[at++] = 0; // unnamed portal
  at += statement.nameBytes.copy(out, at);
  out.writeInt16BE(0, at);
  at += 2;
  out.writeInt16BE(params.length, at);
  at += 2;
  for (let i = 0; i < params.length; i++) {
    const size = sizes[i]!;
    out.writeInt32BE(size, at);
    at += 4;
    if (size > 0) at += out.write(params[i]!, at, size, 'utf8');
  }
  out.writeInt16BE(0, at);
  at += 2;
  EXECUTE_SYNC.copy(out, at);
  return out;
}

/** One call: settles `done` with null once the server is ready again, or with the error. */
export class PreparedCall implements pg.Submittable {
  /** Read by the driver: a failed Parse forgets the statement, a completed one records it. */
  readonly name: string;
  readonly text: string;
  private settled = false;

  constructor(
    private readonly statement: PreparedStatement,
    private readonly params: readonly (string | null)[],
    /** Named `callback` for the driver, which wraps it when the connection has a query timeout. */
    public callback: (err: Error | null) => void,
  ) {
    this.name = statement.name;
    this.text = statement.text;
  }

  /**
   * Writes the call. An error returned (not thrown) is the driver's contract for a query that
   * cannot be sent: it reports it through `handleError` and moves on to the next query.
   */
  submit(connection: pg.Connection): Error | undefined {
    const c = connection as unknown as PgConnection;
    const { name, text } = this.statement;
    const known = c.parsedStatements[name] ?? c.submittedNamedStatements[name];
    // As the driver's own check: one name, one text per connection.
    if (known !== undefined && known !== text)
      return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`);
    const parse = known === undefined;
    let message: Buffer;
    try {
      message = encodeCall(this.statement, this.params, parse);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    if (parse) c.submittedNamedStatements[name] = text;
    // A stream that is no longer writable has ended or failed: the driver errors every query
    // it holds (this one too) when it learns of it, as for its own queries.
    if (c.stream.writable) c.stream.write(message);
    return undefined;
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: pg.Connection): void {
    (connection as unknown as PgConnection).sendCopyFail('a prepared call takes no COPY data');
  }
  handleCopyData(): void {}

  handleError(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(err);
  }

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(null);
  }
}

/** Calls `statement` on `client`; resolves once it has completed (its rows are not read). */
export function callPrepared(client: pg.Client, statement: PreparedStatement, params: readonly (string | null)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    client.query(new PreparedCall(statement, params, (err) => (err ? reject(err) : resolve())));
  });
}

/** A text[] parameter in PostgreSQL's array literal form: `{"a","b"}`. */
export function textArrayLiteral(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i > 0) out += ',';
    out += `"${NEEDS_ESCAPE.test(v) ? v.replace(ESCAPE, '\\$&') : v}"`;
  }
  return `${out}}`;
}
const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;
