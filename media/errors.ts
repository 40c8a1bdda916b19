import {
  isLivedropError,
  LivedropError,
  MediaErrorCode,
  NotFoundError,
  RejectedError,
  ValidationError,
} from "../core/index.ts";

export const transportNotFound = (id: string) =>
  new NotFoundError(MediaErrorCode.MEDIA_TRANSPORT_NOT_FOUND, `no transport ${id} of yours in this room`);
export const producerNotFound = (id: string) =>
  new NotFoundError(MediaErrorCode.MEDIA_PRODUCER_NOT_FOUND, `no producer ${id} in this room`);
export const consumerNotFound = (id: string) =>
  new NotFoundError(MediaErrorCode.MEDIA_CONSUMER_NOT_FOUND, `no consumer ${id} of yours in this room`);
export const roomNotLive = (room: string) =>
  new RejectedError(MediaErrorCode.MEDIA_ROOM_NOT_LIVE, `room ${room} is not live`);

/**
 * Runs a mediasoup call fed with client input. mediasoup throws TypeError for malformed
 * parameters and UnsupportedError for codecs the router lacks (both a 400), InvalidStateError or
 * a plain Error for calls the current state refuses (connect twice: a 409); all become typed
 * errors so the client gets a code, never a 500.
 */
export async function mediasoupCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isLivedropError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    // TypeError: malformed; UnsupportedError: a codec or feature the router does not offer.
    if (err instanceof TypeError || (err instanceof Error && err.name === "UnsupportedError"))
      throw new ValidationError(`${what}: ${message}`);
    throw new RejectedError(MediaErrorCode.MEDIA_REFUSED, `${what}: ${message}`);
  }
}

/**
 * Opens a transport on a router. mediasoup throws a plain Error when the worker has no free port
 * in its RTC range ("no more available ports") and InvalidStateError when the router or worker is
 * gone: both are this node's capacity, not the caller's fault, so they become 503
 * MEDIA_UNAVAILABLE (retry later), never a 500.
 */
export async function openTransport<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isLivedropError(err) || err instanceof TypeError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const why = /no more available ports/i.test(message) ? "no free RTC port on this media node" : message;
    throw new LivedropError(
      MediaErrorCode.MEDIA_UNAVAILABLE,
      `cannot open a transport now (${why}); retry later`,
    );
  }
}
