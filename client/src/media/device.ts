import type { Device } from "mediasoup-client";
import type { MediaApi } from "./media-api.ts";

/**
 * A mediasoup-client Device loaded with the room router's capabilities. mediasoup-client is
 * imported here, on demand: the viewer page's first load never pays for it. Browsers newer than
 * the library's detection table get the Chrome111 handler (proven with Debian chromium 156).
 */
export async function loadDevice(api: MediaApi): Promise<Device> {
  const ms = await import("mediasoup-client");
  let device: Device;
  try {
    device = await ms.Device.factory();
  } catch {
    device = new ms.Device({ handlerName: "Chrome111" });
  }
  const routerRtpCapabilities =
    await api.rtpCapabilities<Parameters<Device["load"]>[0]["routerRtpCapabilities"]>();
  await device.load({ routerRtpCapabilities });
  return device;
}

export type { Device };
