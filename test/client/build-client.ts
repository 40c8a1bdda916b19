import { spawn } from "node:child_process";
import path from "node:path";

/**
 * Builds the client (`npm run build`'s script) in a child process, so Vite never shares the
 * test worker, and returns its printed report. Tests build from the checkout they run in:
 * client/dist is git-ignored, so CI starts without one.
 */
export function buildClientForTests(outDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A folder of the test's own: a build elsewhere (npm start, another test) never swaps files under it.
    const child = spawn(path.resolve("node_modules/.bin/tsx"), ["client/build.ts", "--out-dir", outDir], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`client build failed (${code}):\n${out}`)),
    );
  });
}
