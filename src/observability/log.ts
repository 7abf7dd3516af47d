import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; every line about an event carries eventId and seq. */
export const createLogger = (level: string, coordinatorId: string): Logger =>
  pino({ level, base: { coordinator: coordinatorId }, timestamp: pino.stdTimeFunctions.isoTime });
