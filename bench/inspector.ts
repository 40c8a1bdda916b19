import type { ChildProcess } from "node:child_process";
import WebSocket from "ws";

/** Node flag that opens the inspector on a free loopback port (announced on stderr). */
export const INSPECT_FLAG = "--inspect=127.0.0.1:0";

/**
 * The inspector URL a child started with INSPECT_FLAG announces on stderr. Everything else on
 * the child's stderr is passed through.
 */
export function inspectorUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let found = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
      if (m?.[1] && !found) {
        found = true;
        resolve(m[1]);
      }
      const rest = text
        .split("\n")
        .filter(
          (l) => l && !/Debugger (listening|ending|attached)|For help, see|Waiting for the debugger/.test(l),
        );
      if (rest.length > 0) process.stderr.write(`${rest.join("\n")}\n`);
    });
    child.once("exit", () => found || reject(new Error("child exited before its inspector opened")));
  });
}

/**
 * Runs a full garbage collection in another Node process through its inspector
 * (HeapProfiler.collectGarbage), so memory read afterwards is what the process retains, not
 * garbage a later collection would free. Nothing in the measured server changes for this.
 */
export async function collectGarbage(url: string): Promise<void> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("message", () => resolve());
    ws.once("error", reject);
    ws.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
  });
  ws.close();
}
