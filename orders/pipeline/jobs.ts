import type { SaleEvent } from "../../sale-engine/index.ts";

/** What moves through the `orders` queue. Job ids make every job idempotent to add. */
export type OrderJob =
  | {
      readonly kind: "create";
      readonly reservationId: string;
      readonly dropId: string;
      readonly userId: string;
      readonly qty: number;
      /** Payment deadline, server-clock ms. */
      readonly deadline: number;
      /** When the hold was placed, server-clock ms (for hold-to-order latency). */
      readonly placedAt: number;
      /** Tracing on: W3C traceparent of the relay span, parent of the job's span. Absent when off. */
      trace?: string;
      /** The hold's unit price when it differs from the product's (an auction's); absent: the product's. */
      priceMinor?: number;
    }
  | {
      readonly kind: "status";
      readonly reservationId: string;
      readonly dropId: string;
      readonly to: "paid" | "expired" | "cancelled";
      readonly reason: string;
    };

/** The `holds` queue: one delayed job per hold, due at its payment deadline. */
export interface ExpireJob {
  readonly dropId: string;
  readonly reservationId: string;
}

export interface PlannedJob<T> {
  readonly name: string;
  readonly data: T;
  readonly opts: { readonly jobId: string; readonly delay?: number };
}

/** Job id of the order job for a reservation: the reservation id itself (BullMQ ids may not hold ':'). */
export const createJobId = (reservationId: string) => reservationId;
export const statusJobId = (to: string, reservationId: string) => `${to}-${reservationId}`;
export const expireJobId = (reservationId: string) => `exp-${reservationId}`;

export function createJob(job: Extract<OrderJob, { kind: "create" }>): PlannedJob<OrderJob> {
  return { name: "create", data: job, opts: { jobId: createJobId(job.reservationId) } };
}

export function statusJob(job: Extract<OrderJob, { kind: "status" }>): PlannedJob<OrderJob> {
  return { name: "status", data: job, opts: { jobId: statusJobId(job.to, job.reservationId) } };
}

export function expireJob(
  dropId: string,
  reservationId: string,
  deadline: number,
  now: number,
): PlannedJob<ExpireJob> {
  return {
    name: "expire",
    data: { dropId, reservationId },
    opts: { jobId: expireJobId(reservationId), delay: Math.max(0, deadline - now) },
  };
}

/**
 * The jobs one sale-engine event asks for (none for drop-level events). `trace`: the context the
 * order job carries (a placed hold's only); the field is left out when there is none.
 */
export function jobsForEvent(
  event: SaleEvent,
  now: number,
  trace?: string,
): { orders: PlannedJob<OrderJob>[]; holds: PlannedJob<ExpireJob>[] } {
  switch (event.type) {
    case "reservation.placed": {
      const job: Extract<OrderJob, { kind: "create" }> = {
        kind: "create",
        reservationId: event.reservation,
        dropId: event.drop,
        userId: event.user,
        qty: event.qty,
        deadline: event.deadline,
        placedAt: event.at,
      };
      if (trace !== undefined) job.trace = trace;
      if (event.priceMinor !== undefined) job.priceMinor = event.priceMinor;
      return {
        orders: [createJob(job)],
        holds: [expireJob(event.drop, event.reservation, event.deadline, now)],
      };
    }
    case "reservation.confirmed":
      return {
        orders: [
          statusJob({
            kind: "status",
            reservationId: event.reservation,
            dropId: event.drop,
            to: "paid",
            reason: "payment confirmed",
          }),
        ],
        holds: [],
      };
    case "reservation.released":
      return {
        orders: [
          statusJob({
            kind: "status",
            reservationId: event.reservation,
            dropId: event.drop,
            to: event.reason === "expired" ? "expired" : "cancelled",
            reason: event.reason === "expired" ? "payment deadline passed" : "hold released",
          }),
        ],
        holds: [],
      };
    default:
      return { orders: [], holds: [] };
  }
}
