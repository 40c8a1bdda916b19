import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { TokenService } from "../auth/index.ts";
import { childLogger, loadConfig } from "../core/index.ts";
import { freePort } from "../deploy/index.ts";
import { type Broadcast, MediaTier, startBroadcast } from "../media/index.ts";
import { percentile, progress, round } from "./measure.ts";
import { processCpuMicros } from "./process-cpu.ts";

/**
 * The media tier under load, on one mediasoup worker:
 * - timeToFirstHlsSegmentMs: from opening the test-pattern ingest to the room's first playlist;
 * - hlsLatencyMs: hls.js in Chromium plays the room; median of now - hls.playingDate (the
 *   program-date-time of the frame on screen, as served: calibrated, see media/README.md);
 * - consumersPerWorker / cpuPerConsumerPct: server-side viewers (a PlainTransport with SRTP, like
 *   a WebRTC consumer's encryption cost, consuming video + audio, sending to a closed loopback
 *   port) are added in steps while the worker's CPU is read from /proc/<pid>/stat, until it
 *   passes 85 % of a core or the time budget ends; the per-consumer cost is the least-squares
 *   slope, and a worker that did not saturate is extrapolated to 100 % of a core.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { quick: { type: "boolean", default: false } },
    strict: true,
  });
  const quick = values.quick;
  const room = "bench";
  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-media-"));
  const cfg = loadConfig({
    LIVEDROP_DATA_DIR: dir,
    MEDIA_PORT: String(await freePort()),
    MEDIA_WORKERS: "1",
    MEDIA_MAX_CONSUMERS_PER_ROUTER: "100000",
    LOG_LEVEL: "warn",
  });
  const log = childLogger("bench-media").child({}, { level: "warn" });
  const tokens = await TokenService.create({ secret: randomBytes(32).toString("hex") });
  const tier = await MediaTier.create(cfg, { tokens, log });
  let broadcast: Broadcast | undefined;
  try {
    const workerPid = tier.pool.pids[0] as number;
    progress(`media tier ${tier.url}, one worker pid ${workerPid}`);

    // 1. Going live: test pattern in, first HLS segment out.
    const wall0 = Date.now();
    broadcast = await startBroadcast({
      source: "testsrc",
      size: "640x360",
      fps: 25,
      videoKbps: 600,
      open: (request) => tier.openIngest(room, request),
      log,
    });
    const firstAt = await until(() => tier.hls.get(room)?.firstPlaylistAt, 30_000);
    const timeToFirstHlsSegmentMs = Math.round(firstAt - wall0);
    progress(`first HLS segment listed ${timeToFirstHlsSegmentMs} ms after the ingest opened`);

    // 2. HLS latency as a browser sees it.
    const hls = await measureHlsLatency(`${tier.publicUrl}/hls/${room}/index.m3u8`, quick ? 5_000 : 15_000);
    progress(
      `hls.js latency: median ${hls.medianMs} ms over ${hls.samples} samples (server estimate ${round(tier.hls.get(room)?.latencyEstimateS ?? 0)} s)`,
    );

    // 3. Consumers until the worker saturates.
    const ramp = await rampConsumers(tier, room, workerPid, quick);
    const result = {
      bench: "media",
      timeToFirstHlsSegmentMs,
      hlsLatencyMs: hls.medianMs,
      consumersPerWorker: ramp.consumersPerWorker,
      cpuPerConsumerPct: ramp.cpuPerConsumerPct,
      saturated: ramp.saturated,
      stalled: ramp.stalled,
      measuredConsumers: ramp.consumers,
      workerCpuPctAtMax: ramp.cpuPct,
      baselineWorkerCpuPct: ramp.baselinePct,
      producerPacketsPerSec: ramp.inPacketsPerSec,
      hlsLatencyP90Ms: hls.p90Ms,
      hlsPdtCorrectionMs: tier.hls.get(room)?.pdtCorrectionMs ?? 0,
      quick,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } finally {
    await broadcast?.stop();
    await tier.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until<T>(read: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Plays the playlist with hls.js in Debian's chromium and samples now - playingDate. */
async function measureHlsLatency(playlistUrl: string, sampleMs: number) {
  const hlsJs = readFileSync(path.resolve("node_modules/hls.js/dist/hls.min.js"), "utf8");
  const page = `<!doctype html><script>${hlsJs}</script><video muted autoplay></video><script>
    const v = document.querySelector("video"); const h = new Hls(); h.loadSource(${JSON.stringify(playlistUrl)});
    h.attachMedia(v); v.play().catch(() => {}); window.sample = () => ({ t: v.currentTime, d: h.playingDate ? h.playingDate.getTime() : null, now: Date.now() });
  </script>`;
  const server = http.createServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end(page),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    type Sample = { t: number; d: number | null; now: number };
    const sample = () => tab.evaluate(() => (globalThis as unknown as { sample(): Sample }).sample());
    const start = Date.now();
    while ((await sample()).t < 1 && Date.now() - start < 20_000)
      await new Promise((r) => setTimeout(r, 200));
    const lags: number[] = [];
    const end = Date.now() + sampleMs;
    while (Date.now() < end) {
      const s = await sample();
      if (s.d !== null) lags.push(s.now - s.d);
      await new Promise((r) => setTimeout(r, 250));
    }
    const sorted = Float64Array.from(lags).sort();
    return {
      medianMs: Math.round(percentile(sorted, 50)),
      p90Ms: Math.round(percentile(sorted, 90)),
      samples: lags.length,
    };
  } finally {
    await browser.close();
    server.close();
  }
}

/**
 * Worker CPU (percent of one core) over `ms`, and the packets per second the producers received
 * meanwhile: what each consumer has to forward (a starved encoder sends fewer).
 */
async function measureWindow(pid: number, ms: number, packets: () => Promise<number>) {
  const [a, p0] = [processCpuMicros(pid) ?? 0, await packets()];
  const t = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const [b, p1] = [processCpuMicros(pid) ?? 0, await packets()];
  const elapsed = performance.now() - t;
  return { cpuPct: ((b - a) / 1000 / elapsed) * 100, inPacketsPerSec: ((p1 - p0) * 1000) / elapsed };
}

async function rampConsumers(tier: MediaTier, room: string, workerPid: number, quick: boolean) {
  const r = tier.rooms.get(room);
  if (!r) throw new Error("the bench room is not live");
  const router = r.originRouter;
  const producers = r.producerList().map((p) => p.id);
  const caps = router.rtpCapabilities;
  // Nothing listens here: the kernel drops the packets after the worker did its work for them.
  const sinkPort = await freePort();
  const step = quick ? 50 : 75; // viewers (2 consumers each) per step
  const budgetMs = quick ? 12_000 : 90_000;
  const windowMs = quick ? 2_000 : 3_000;
  const packets = async () => {
    let n = 0;
    for (const id of producers)
      for (const st of (await r.producer(id)?.getStats()) ?? []) n += st.packetCount;
    return n;
  };
  const base = await measureWindow(workerPid, windowMs, packets);
  const baselinePct = base.cpuPct;
  let inPacketsPerSec = base.inPacketsPerSec;
  progress(
    `worker CPU with the ingest and HLS only: ${round(baselinePct)} %, ${Math.round(inPacketsPerSec)} packets/s in`,
  );
  let consumers = 0;
  let cpuPct = baselinePct;
  const points: [number, number][] = [[0, baselinePct]];
  const end = Date.now() + budgetMs;
  const transports: { close(): void }[] = [];
  let stalled = false;
  const addViewers = async () => {
    for (let made = 0; made < step; made += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, step - made) }, async () => {
          const t = await router.createPlainTransport({
            listenIp: "127.0.0.1",
            comedia: false,
            enableSrtp: true,
          });
          transports.push(t);
          await t.connect({
            ip: "127.0.0.1",
            port: sinkPort,
            srtpParameters: {
              cryptoSuite: "AES_CM_128_HMAC_SHA1_80",
              keyBase64: randomBytes(30).toString("base64"),
            },
          });
          for (const producerId of producers) {
            await t.consume({ producerId, rtpCapabilities: caps });
            consumers++;
          }
        }),
      );
    }
  };
  try {
    while (Date.now() < end && cpuPct < 85 && !stalled) {
      // Ten at a time: a burst of channel requests on a busy machine can time out. A step that
      // outlives the budget by 3 s counts as the worker no longer keeping up.
      try {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("a step outlived the time budget")),
            end - Date.now() + 3_000,
          );
        });
        const adding = addViewers();
        adding.catch(() => undefined); // an abandoned step may still fail later
        await Promise.race([late, adding]).finally(() => clearTimeout(timer));
      } catch (err) {
        // The worker (or the machine) no longer answers in time: as far as this bench goes, full.
        progress(`worker stopped keeping up: ${(err as Error).message}`);
        stalled = true;
        break;
      }
      // The creation requests and first keyframes are work of their own: measure after them.
      await new Promise((res) => setTimeout(res, 1_000));
      const m = await measureWindow(workerPid, windowMs, packets);
      cpuPct = m.cpuPct;
      inPacketsPerSec = m.inPacketsPerSec;
      points.push([consumers, cpuPct]);
      progress(
        `${consumers} consumers (${transports.length} viewers): worker CPU ${round(cpuPct)} %, ${Math.round(inPacketsPerSec)} packets/s in`,
      );
    }
  } finally {
    for (const t of transports) t.close();
  }
  // Least-squares slope of CPU over consumers: one noisy window (a shared machine) moves it less.
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const slope = sxx > 0 ? points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx : 0;
  const cpuPerConsumerPct = Math.max(0, slope);
  const saturated = cpuPct >= 85 || stalled;
  const consumersPerWorker = saturated
    ? consumers
    : cpuPerConsumerPct > 0
      ? Math.round((100 - baselinePct) / cpuPerConsumerPct)
      : 0;
  return {
    consumers,
    cpuPct: round(cpuPct),
    baselinePct: round(baselinePct),
    cpuPerConsumerPct: round(cpuPerConsumerPct, 4),
    consumersPerWorker,
    saturated,
    stalled,
    inPacketsPerSec: Math.round(inPacketsPerSec),
  };
}
