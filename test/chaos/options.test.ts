import { describe, expect, it } from "vitest";
import { schedule } from "../../chaos/faults.ts";
import { CHAOS_DEFAULTS, parseChaosArgs } from "../../chaos/index.ts";
import { seeded, ValidationError } from "../../core/index.ts";

describe("chaos run options", () => {
  it("defaults to every fault with the partition lasting 3 node timeouts", () => {
    const o = parseChaosArgs([]);
    expect(o).toMatchObject({
      seed: 1,
      quick: false,
      ackReplicas: 1,
      cutMs: 3 * CHAOS_DEFAULTS.nodeTimeoutMs,
    });
    expect(new Set(schedule(o, seeded(o.seed))).size).toBe(6);
  });

  it("--quick is one master kill and one gateway cut; a seed orders the full schedule the same way each time", () => {
    expect(schedule(parseChaosArgs(["--quick"]), seeded(1))).toEqual(["redis-master-kill", "gateway-cut"]);
    const a = schedule(parseChaosArgs(["--seed", "7"]), seeded(7));
    expect(schedule(parseChaosArgs(["--seed", "7"]), seeded(7))).toEqual(a);
  });

  it("--ack-replicas takes a count or auto", () => {
    expect(parseChaosArgs(["--ack-replicas", "0"]).ackReplicas).toBe(0);
    expect(parseChaosArgs(["--ack-replicas", "auto"]).ackReplicas).toBe("auto");
    expect(() => parseChaosArgs(["--ack-replicas", "some"])).toThrow(ValidationError);
  });

  it("refuses bad options and unknown faults with a typed error", () => {
    expect(() => parseChaosArgs(["--seed", "x"])).toThrow(ValidationError);
    expect(() => parseChaosArgs(["--buyers", "0"])).toThrow(ValidationError);
    expect(() => parseChaosArgs(["--nope"])).toThrow(ValidationError);
    expect(() => schedule(parseChaosArgs(["--faults", "meteor"]), seeded(1))).toThrow(ValidationError);
  });
});
