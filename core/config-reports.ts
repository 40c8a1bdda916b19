import { z } from "zod";

/** The BI reports' fields of the configuration (core/config.ts composes them). */
export const reportsConfigFields = {
  LIVEDROP_REPORTS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Folder of the end-of-live summaries (`<room>.json` and `<room>.csv` per room). Default `<LIVEDROP_DATA_DIR>/reports`.",
    ),
  LIVEDROP_REPORTS_MAX_RANGE_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(366)
    .default(92)
    .describe(
      "Longest date range (`to` − `from`) one report download covers, days; a longer one is refused INVALID_INPUT. Default 92.",
    ),
  LIVEDROP_REPORTS_MAX_ROWS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(100_000)
    .describe(
      "Most rows one report download returns; a range with more is refused INVALID_INPUT (ask for a shorter range, or read the reporting_v1 views directly). Default 100000.",
    ),
  LIVEDROP_REPORTS_SUMMARY_INTERVAL_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(60)
    .describe(
      "How often the summary pass writes the end-of-live summary of rooms whose drops have all ended, seconds; 0 turns the pass off. Default 60.",
    ),
  LIVEDROP_REPORTS_SUMMARY_SCAN_DROPS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(500)
    .describe(
      "How many of the newest drops the summary pass looks at to find rooms whose drops have all ended. Default 500.",
    ),
  LIVEDROP_REPORTS_FUNNEL_SNAPSHOT_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(3_600)
    .default(30)
    .describe(
      "How often viewers and buy clicks of running drops are copied into drop_funnel_snapshots, seconds. Default 30.",
    ),
};
