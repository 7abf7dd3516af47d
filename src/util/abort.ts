// An AbortSignal fires 'abort' once: a listener added after that never runs. Every loop that stops on
// a signal attaches its listeners through these helpers, which act at once on an abort that came
// before them (a stop() landing between two awaits of a start-up is then seen, not lost).

/**
 * Runs `fn` once when `signal` aborts, at once (synchronously) if it already has. Returns a function
 * that removes the listener (a no-op once it has run).
 */
export const onAbort = (signal: AbortSignal, fn: () => void): (() => void) => {
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
};

/** A promise that resolves when `signal` aborts (already resolved if it has), and a cleanup for its listener. */
export const whenAborted = (signal: AbortSignal): { readonly aborted: Promise<void>; readonly dispose: () => void } => {
  let dispose: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => {
    dispose = onAbort(signal, resolve);
  });
  return { aborted, dispose };
};

/**
 * `promise`'s value, or `undefined` as soon as `signal` aborts (at once if it already has). The
 * promise itself is not cancelled: the caller cleans up whatever it stands for.
 */
export const unlessAborted = async <T>(signal: AbortSignal, promise: Promise<T>): Promise<T | undefined> => {
  const { aborted, dispose } = whenAborted(signal);
  try {
    return await Promise.race([promise, aborted.then(() => undefined)]);
  } finally {
    dispose();
  }
};
