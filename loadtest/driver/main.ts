// Entry of `npm run loadtest` (run with `node --import tsx`): the exit code says whether the
// thresholds passed; errors are printed with their code, as the livedrop CLI prints them.
import { isLivedropError } from "../../core/index.ts";
import { runLoadtest } from "./cli.ts";

runLoadtest(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = isLivedropError(err) ? err.code : "ERROR";
    process.stderr.write(`error ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = isLivedropError(err) && err.code === "INVALID_INPUT" ? 2 : 1;
  },
);
