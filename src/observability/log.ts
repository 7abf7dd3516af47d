import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

/** How lines are written: one JSON object each, or coloured for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** A person reads a terminal; anything else (a pipe, a file, a log shipper) gets JSON lines. */
export const logFormatFor = (stdout: { readonly isTTY?: boolean }): LogFormat => (stdout.isTTY === true ? 'pretty' : 'json');

/**
 * Fields that would hold a secret if some caller ever logged one: censored, not trusted to care.
 * (Nothing logs them today; docs/security.md promises no token in any log line.)
 */
export const REDACTED_PATHS = [
  'token', '*.token', 'password', '*.password', 'secret', '*.secret',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
];

export const loggerOptions = (level: string, coordinatorId: string): LoggerOptions => ({
  level,
  base: { coordinator: coordinatorId },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
});

/**
 * Synchronous, so the last lines before process.exit (a fatal start error) are on the terminal;
 * the fields every line carries (coordinator) are left out of the pretty form, not out of JSON.
 */
const prettyStream = (destination: NodeJS.WritableStream | undefined): DestinationStream =>
  PinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,coordinator', ...(destination === undefined ? {} : { destination }) });

export type LogOutput = {
  readonly format?: LogFormat;
  /** Default: stdout. */
  readonly destination?: NodeJS.WritableStream;
};

/** JSON lines on stdout unless stdout is a terminal; every line about an event carries eventId and seq. */
export const createLogger = (level: string, coordinatorId: string, output: LogOutput = {}): Logger => {
  const options = loggerOptions(level, coordinatorId);
  if ((output.format ?? logFormatFor(process.stdout)) === 'pretty') return pino(options, prettyStream(output.destination));
  return output.destination === undefined ? pino(options) : pino(options, output.destination as DestinationStream);
};
