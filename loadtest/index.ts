/**
 * Load testing: the Node driver behind `npm run loadtest` and the scenario definitions it shares
 * with the k6 scripts in k6/ (which typecheck with loadtest/tsconfig.json, not the root project).
 */
export { runLoadtest } from "./driver/cli.ts";
export { type DriverOptions, parseDriverArgs } from "./driver/options.ts";
export { type RunReport, runScenario } from "./driver/run.ts";
export {
  type LoadParams,
  METRICS,
  paramsFor,
  SCENARIO_NAMES,
  SCENARIOS,
  type ScenarioName,
  thresholdsFor,
} from "./lib/scenarios.ts";
export type { RunSummary } from "./lib/summary.ts";
