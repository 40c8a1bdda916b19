import type { types } from "../mediasoup.ts";

/** One consumed stream as ffmpeg will receive it: RTP on `port`, RTCP on `port + 1`. */
export interface SdpStream {
  readonly port: number;
  readonly consumer: types.Consumer;
}

/**
 * The SDP file ffmpeg reads to receive the consumers' plain RTP: one m-line per stream with
 * the payload type, codec and fmtp the consumer sends (no RTX, no header extensions: the
 * consumers were created without them).
 */
export function buildSdp(streams: readonly SdpStream[], ip = "127.0.0.1"): string {
  const lines = ["v=0", `o=- 0 0 IN IP4 ${ip}`, "s=livedrop-hls", `c=IN IP4 ${ip}`, "t=0 0"];
  for (const { port, consumer } of streams) {
    const codec = consumer.rtpParameters.codecs[0];
    if (!codec) throw new Error(`consumer ${consumer.id} has no codec`);
    const [, name] = codec.mimeType.split("/");
    const rtpmap =
      consumer.kind === "audio"
        ? `${name}/${codec.clockRate}/${codec.channels ?? 1}`
        : `${name}/${codec.clockRate}`;
    lines.push(`m=${consumer.kind} ${port} RTP/AVP ${codec.payloadType}`);
    lines.push(`a=rtcp:${port + 1}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${rtpmap}`);
    const fmtp = Object.entries(codec.parameters ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(";");
    if (fmtp) lines.push(`a=fmtp:${codec.payloadType} ${fmtp}`);
    lines.push("a=recvonly");
  }
  return `${lines.join("\n")}\n`;
}

/** The router's capabilities without RTX and header extensions: what a PlainTransport consumer for ffmpeg may use. */
export function plainRtpCapabilities(router: types.Router): types.RtpCapabilities {
  return {
    codecs: (router.rtpCapabilities.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)),
    headerExtensions: [],
  };
}
