import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "./harness.ts";

const fixture = path.join(path.dirname(new URL(import.meta.url).pathname), "fixtures/ffmpeg-parent.ts");

/** The process's state letter from /proc ("Z" for a zombie), undefined once it is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

describe("supervised ffmpeg", () => {
  it("dies with its Node parent even when the parent is SIGKILLed (no exit hook runs)", async () => {
    const parent = spawn(process.execPath, ["--import", "tsx", fixture], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        let out = "";
        parent.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /ffmpeg (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        parent.once("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
      });
      // It is ffmpeg itself (setpriv execs in place), running under the Node parent.
      await waitFor(
        "ffmpeg running",
        () => readFileSync(`/proc/${pid}/comm`, "utf8").trim(),
        (comm) => comm === "ffmpeg",
        5_000,
      );
      expect(stateOf(pid)).not.toBe("Z");

      parent.kill("SIGKILL");
      await waitFor(
        "ffmpeg to die with its parent",
        () => stateOf(pid),
        (state) => state === undefined || state === "Z",
        5_000,
      );
    } finally {
      parent.kill("SIGKILL");
    }
  }, 30_000);
});
