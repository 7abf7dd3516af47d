// What a command talks to: two output streams and the environment. main.ts passes the process's
// own; tests pass streams of their own (with isTTY set to pretend to be a terminal).
export type Out = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export type CliIo = {
  readonly stdout: Out;
  readonly stderr: Out;
  readonly env: NodeJS.ProcessEnv;
};
