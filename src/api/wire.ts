// Protobuf encoding of the point-read replies (Get, GetLocations, BatchGet) straight from view
// records. The generic path builds a reply object (present.ts), which proto-loader turns into
// protobufjs messages (a Long per int64 string) and then encodes: three copies of every file, and
// most of a read's allocation. The bytes here are exactly the generic path's (test/unit/wire.test.ts
// compares them), so clients see no difference.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { VectorClock } from '../../streams/events.js';
import type { FileRecord, RegionLocation } from '../../projections/view.js';

/** A reply already encoded: server.ts hands its bytes to grpc-js as they are. */
export class Encoded {
  constructor(readonly bytes: Buffer) {}
}

const LOCATION_STATE = { synced: 1, syncing: 2, stale: 3 } as const;
const TWO_64 = 2n ** 64n;

class Writer {
  private buf: Buffer;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(expectedBytes = 1024) {
    this.buf = Buffer.allocUnsafe(expectedBytes);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  uint32(v: number): this {
    this.room(5);
    while (v > 127) {
      this.buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** int64, uint64 and negative int32 alike: a varint of the 64-bit two's complement. */
  int64(v: number): this {
    if (v >= 0 && v <= 0xffffffff) return this.uint32(v);
    let big = BigInt(v);
    if (big < 0n) big += TWO_64;
    this.room(10);
    while (big > 127n) {
      this.buf[this.pos++] = Number(big & 127n) | 128;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
    return this;
  }

  int32(v: number): this {
    return this.int64(v | 0);
  }

  bool(v: boolean): this {
    return this.uint32(v ? 1 : 0);
  }

  /** As protobufjs writes strings in Node: its own UTF-16 walk below 40 code units, Buffer's above. */
  string(s: string): this {
    const len = Buffer.byteLength(s);
    this.uint32(len);
    this.room(len);
    if (s.length >= 40) {
      this.buf.write(s, this.pos, len, 'utf8');
    } else {
      let p = this.pos;
      for (let i = 0; i < s.length; i++) {
        let c = s.charCodeAt(i);
        if (c < 128) {
          this.buf[p++] = c;
        } else if (c < 2048) {
          this.buf[p++] = (c >> 6) | 192;
          this.buf[p++] = (c & 63) | 128;
        } else {
          const d = s.charCodeAt(i + 1);
          if ((c & 0xfc00) === 0xd800 && (d & 0xfc00) === 0xdc00) {
            c = 0x10000 + ((c & 0x03ff) << 10) + (d & 0x03ff);
            i++;
            this.buf[p++] = (c >> 18) | 240;
            this.buf[p++] = ((c >> 12) & 63) | 128;
          } else {
            this.buf[p++] = (c >> 12) | 224;
          }
          this.buf[p++] = ((c >> 6) & 63) | 128;
          this.buf[p++] = (c & 63) | 128;
        }
      }
    }
    this.pos += len;
    return this;
  }

  /** Starts a length-delimited field's content; one byte is kept for its length. */
  fork(): this {
    this.room(1);
    this.starts.push(this.pos++);
    return this;
  }

  /** Ends it: the length goes in front, the content moves if the length needs more than a byte. */
  ldelim(): this {
    const start = this.starts.pop()!;
    const len = this.pos - start - 1;
    let size = 1;
    for (let v = len; v > 127; v >>>= 7) size++;
    if (size > 1) {
      this.room(size - 1);
      this.buf.copyWithin(start + size, start + 1, this.pos);
      this.pos += size - 1;
    }
    let at = start;
    let v = len;
    while (v > 127) {
      this.buf[at++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[at] = v;
    return this;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited), as in coordinator.proto.
const timestamp = (w: Writer, tag: number, iso: string | null | undefined): void => {
  if (iso === null || iso === undefined) return;
  const ms = Date.parse(iso);
  // present.ts's String(NaN) becomes a zero Long in protobufjs, and NaN nanos a zero int32.
  const seconds = Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  const nanos = Number.isFinite(ms) ? (((ms % 1000) + 1000) % 1000) * 1_000_000 : 0;
  w.uint32(tag).fork().uint32(8).int64(seconds).uint32(16).int32(nanos).ldelim();
};

const clock = (w: Writer, tag: number, c: VectorClock): void => {
  for (const k of Object.keys(c)) w.uint32(tag).fork().uint32(10).string(k).uint32(16).int64(c[k]!).ldelim();
};

const location = (w: Writer, tag: number, l: RegionLocation): void => {
  w.uint32(tag).fork().uint32(10).string(l.regionId).uint32(16).int32(LOCATION_STATE[l.state]);
  timestamp(w, 26, l.lastSyncAt);
  clock(w, 34, l.clock);
  w.ldelim();
};

const globalFile = (w: Writer, tag: number, f: FileRecord): void => {
  w.uint32(tag).fork();
  w.uint32(10).fork().uint32(10).string(f.fileId).uint32(18).string(f.path).uint32(24).int64(f.size).uint32(34).string(f.checksum);
  timestamp(w, 42, f.modifiedAt);
  clock(w, 50, f.clock);
  w.uint32(56).bool(f.deleted);
  for (const k of Object.keys(f.attributes)) w.uint32(66).fork().uint32(10).string(k).uint32(18).string(f.attributes[k]!).ldelim();
  w.ldelim();
  for (const l of f.locations) location(w, 18, l);
  let synced = 0;
  for (const l of f.locations) if (l.state === 'synced') synced++;
  w.uint32(26).string(f.primary).uint32(32).int32(f.replicas).uint32(42).string(f.version.region).uint32(50).string(f.version.eventId);
  w.uint32(56).int64(f.version.seq).uint32(64).int64(f.versions).uint32(72).int32(synced).uint32(80).bool(!f.deleted && synced < f.replicas);
  w.ldelim();
};

/** GetResponse { file, view_sequence }. */
export const getResponse = (file: FileRecord, viewSeq: number): Encoded => {
  const w = new Writer();
  globalFile(w, 10, file);
  return new Encoded(w.uint32(16).int64(viewSeq).finish());
};

/** GetLocationsResponse { locations, view_sequence }. */
export const locationsResponse = (file: FileRecord, viewSeq: number): Encoded => {
  const w = new Writer();
  for (const l of file.locations) location(w, 10, l);
  return new Encoded(w.uint32(16).int64(viewSeq).finish());
};

/**
 * BatchGetResponse { files, missing, view_sequence }, with a turn of the event loop every `chunk`
 * files: a batch of a thousand would otherwise hold up the point reads queued behind it for
 * milliseconds. The records are already read, so the reply is still of one view.
 */
export const batchGetResponse = async (files: readonly FileRecord[], missing: readonly string[], viewSeq: number, chunk = 100): Promise<Encoded> => {
  const w = new Writer(files.length * 320 + 64);
  for (let i = 0; i < files.length; i++) {
    if (i > 0 && i % chunk === 0) await nextTurn();
    globalFile(w, 10, files[i]!);
  }
  for (const id of missing) w.uint32(18).string(id);
  return new Encoded(w.uint32(24).int64(viewSeq).finish());
};
