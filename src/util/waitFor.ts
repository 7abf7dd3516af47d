// Waiting on a condition, never on the clock alone: polls `check` until it holds or time runs out.
export type WaitOptions = { timeoutMs?: number; intervalMs?: number; what?: string };

/** Runs `fn` until it succeeds, backing off, for at most `attempts` tries (start-up against servers that may be restarting). */
export const retrying = async <T>(fn: () => Promise<T>, onError: (error: unknown, attempt: number) => void, attempts = 30): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw error;
      onError(error, attempt);
      await delay(Math.min(2000, 100 * attempt));
    }
  }
};

/** Resolves after `ms`, or as soon as `signal` aborts (at once if it already has): a back-off never delays a stop. */
export const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * `promise`'s outcome, or a rejection naming `what` once `ms` have passed: for awaits on events, exits
 * and promises that might never settle. The promise itself is not cancelled.
 */
export const withTimeout = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

export const waitFor = async <T>(
  check: () => Promise<T | false | undefined | null> | T | false | undefined | null,
  { timeoutMs = 10_000, intervalMs = 25, what = 'condition' }: WaitOptions = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      // A check that never settles (a call to a server that went away) must not outlive the deadline.
      const value = await withTimeout(Promise.resolve().then(check), Math.max(intervalMs, deadline - Date.now()), `one check of ${what}`);
      if (value !== false && value !== undefined && value !== null) return value;
    } catch (error) {
      if (error instanceof Error && /could not start|exited with/.test(error.message)) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await delay(intervalMs);
  }
};
