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

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const waitFor = async <T>(
  check: () => Promise<T | false | undefined | null> | T | false | undefined | null,
  { timeoutMs = 10_000, intervalMs = 25, what = 'condition' }: WaitOptions = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
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
