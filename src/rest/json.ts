// Request bodies: JSON, at most MAX_DEPTH deep (checked on the text, before a parser recurses),
// no `__proto__` keys (prototype poisoning of whoever merges it later), and no lone surrogates in strings.
import * as E from 'fp-ts/lib/Either.js';

export const MAX_DEPTH = 32;

/** Nesting depth of a JSON text, counting brackets outside strings; stops at the first excess. */
const depthOk = (text: string): boolean => {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
};

const POISON = new Set(['__proto__']);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const checkJson = (text: string): E.Either<string, unknown> => {
  if (text.trim() === '') return E.left('(request): the body is empty; send a JSON object');
  if (!depthOk(text)) return E.left(`(request): the body is nested more than ${MAX_DEPTH} levels deep`);
  let bad: string | undefined;
  try {
    const value: unknown = JSON.parse(text, function (key, v: unknown) {
      if (POISON.has(key)) bad ??= `the key ${JSON.stringify(key)} is not allowed in a body`;
      else if (LONE_SURROGATE.test(key) || (typeof v === 'string' && LONE_SURROGATE.test(v))) bad ??= 'a string holds a lone UTF-16 surrogate';
      return v;
    });
    return bad === undefined ? E.right(value) : E.left(`(request): ${bad}`);
  } catch (error) {
    return E.left(`(request): the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
};
