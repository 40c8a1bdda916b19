import path from "node:path";
import { type Config, loadConfig } from "../../core/index.ts";

/** The reports' limits and schedule; each is a config field (core/config-reports.ts) with its default. */
export interface ReportLimits {
  /** Folder of the end-of-live summaries. */
  readonly dir: string;
  readonly maxRangeDays: number;
  readonly maxRows: number;
  /** 0: no summary pass. */
  readonly summaryIntervalS: number;
  readonly summaryScanDrops: number;
  readonly funnelSnapshotS: number;
}

export function reportLimitsFromConfig(cfg: Config): ReportLimits {
  return {
    dir: cfg.LIVEDROP_REPORTS_DIR
      ? path.resolve(cfg.LIVEDROP_REPORTS_DIR)
      : path.join(cfg.dataDir, "reports"),
    maxRangeDays: cfg.LIVEDROP_REPORTS_MAX_RANGE_DAYS,
    maxRows: cfg.LIVEDROP_REPORTS_MAX_ROWS,
    summaryIntervalS: cfg.LIVEDROP_REPORTS_SUMMARY_INTERVAL_S,
    summaryScanDrops: cfg.LIVEDROP_REPORTS_SUMMARY_SCAN_DROPS,
    funnelSnapshotS: cfg.LIVEDROP_REPORTS_FUNNEL_SNAPSHOT_S,
  };
}

/** The configuration's defaults: what a gateway built without a config (tests, benches) uses. */
export const DEFAULT_REPORT_LIMITS: ReportLimits = reportLimitsFromConfig(loadConfig({}));
