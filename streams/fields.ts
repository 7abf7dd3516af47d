// Rule 10 of docs/events.md, "send only the fields listed here": the fields an event may carry are
// the ones its io-ts codec names (streams/events.ts stays the one source of truth), and any other is
// refused with a reason naming it, `file.colour: not a field of file.updated (schema 1)`, instead of
// being dropped without a word. Maps (clocks, attributes) take any key their own rules allow.
import type * as t from 'io-ts';
import { SCHEMA_VERSION } from './events.js';

type Node = {
  readonly _tag?: string;
  readonly props?: Readonly<Record<string, Node>>;
  readonly types?: readonly Node[];
  readonly type?: Node;
  readonly is: (u: unknown) => boolean;
  readonly decode: (u: unknown) => { readonly _tag: 'Left' | 'Right' };
};

const isPlainObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** `a.b[" x"].3`: the same path notation as the decode errors. */
export const fieldPath = (keys: readonly string[]): string =>
  keys.map((k) => (/^[A-Za-z0-9_:-]+$/.test(k) ? `.${k}` : `[${JSON.stringify(k.slice(0, 40))}]`)).join('').replace(/^\./, '');

/** The named fields a codec gives an object (undefined: not an object of named fields). */
const fieldsOf = (codec: Node, value: unknown): Map<string, Node> | undefined => {
  switch (codec._tag) {
    case 'InterfaceType':
    case 'PartialType':
    case 'StrictType':
      return new Map(Object.entries(codec.props ?? {}));
    case 'ExactType':
    case 'RefinementType':
    case 'ReadonlyType':
      return codec.type === undefined ? undefined : fieldsOf(codec.type, value);
    case 'IntersectionType': {
      const out = new Map<string, Node>();
      for (const member of codec.types ?? []) for (const [k, v] of fieldsOf(member, value) ?? []) out.set(k, v);
      return out;
    }
    case 'UnionType': {
      // The member the value decodes as, as io-ts picks it: the first that accepts it.
      const member = (codec.types ?? []).find((m) => m.decode(value)._tag === 'Right') ?? codec.types?.[0];
      return member === undefined ? undefined : fieldsOf(member, value);
    }
    default:
      return undefined;
  }
};

const elementOf = (codec: Node): Node | undefined =>
  codec._tag === 'ArrayType' || codec._tag === 'ReadonlyArrayType' ? codec.type
    : codec._tag === 'RefinementType' && codec.type !== undefined ? elementOf(codec.type) : undefined;

const walk = (codec: Node, value: unknown, path: readonly string[], type: string, out: string[]): void => {
  if (Array.isArray(value)) {
    const element = elementOf(codec);
    if (element !== undefined) value.forEach((v, i) => walk(element, v, [...path, String(i)], type, out));
    return;
  }
  if (!isPlainObject(value)) return;
  const fields = fieldsOf(codec, value);
  if (fields === undefined) return;
  for (const key of Object.keys(value)) {
    const field = fields.get(key);
    if (field === undefined) out.push(`${fieldPath([...path, key])}: not a field of ${type} (schema ${SCHEMA_VERSION})`);
    else walk(field, value[key], [...path, key], type, out);
  }
};

/** One reason per field of `value` that `codec` does not name, at `path` inside an event of `type`. */
export const unknownFields = (codec: t.Decoder<unknown, unknown>, value: unknown, type: string, path: readonly string[] = []): string[] => {
  const out: string[] = [];
  walk(codec as unknown as Node, value, path, type, out);
  return out;
};
