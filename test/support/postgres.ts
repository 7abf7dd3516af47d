// PLACEHOLDER until the test PostgreSQL lands (branch hA).
export type Postgres = { readonly url: string; readonly port: number; stop(): Promise<void>; kill(): Promise<void>; restart(): Promise<void> };
export const startPostgres = (_dir: string): Promise<Postgres> => Promise.reject(new Error('not landed yet'));
