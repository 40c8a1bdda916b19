import dgram from "node:dgram";

function bindUdp(port: number, host: string): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind({ port, address: host, exclusive: true }, () => resolve(socket));
  });
}

/**
 * An even UDP port whose successor is free too, for a receiver that takes RTP on `port` and
 * RTCP on `port + 1` (ffmpeg's RTP demuxer). Probed by binding both, then released: a small race
 * with other programs remains, which the ffmpeg restart covers.
 */
export async function freeUdpPair(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const probe = await bindUdp(0, host);
    if (!probe) continue;
    const base = probe.address().port & ~1;
    probe.close();
    if (base < 1024 || base >= 65534) continue;
    const a = await bindUdp(base, host);
    const b = a ? await bindUdp(base + 1, host) : undefined;
    a?.close();
    b?.close();
    if (a && b) return base;
  }
  throw new Error("no free UDP port pair on loopback after 100 attempts");
}

/** True when nothing holds `port` on `host` over UDP (leak checks). */
export async function isUdpPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  const socket = await bindUdp(port, host);
  socket?.close();
  return socket !== undefined;
}
