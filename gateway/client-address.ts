import { BlockList, isIP } from "node:net";

/**
 * Who is calling, by address: the peer, or (only when the peer is a trusted proxy) the address
 * the proxies recorded in `X-Forwarded-For`. Read right to left, skipping trusted proxies: the
 * first address that is not one is the client. Anything left of it was written by the client
 * itself and proves nothing, so a client cannot pick its own rate-limit key.
 */
export class ClientAddress {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  /** `proxies`: addresses or CIDRs (`10.0.0.0/8`, `::1`, `fd00::/8`). */
  constructor(proxies: readonly string[]) {
    for (const p of proxies) {
      const [address = "", bits] = p.split("/");
      const family = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (!isIP(address)) throw new Error(`trusted proxy ${p} is not an address or CIDR`);
      if (bits === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(bits), family);
    }
    this.any = proxies.length > 0;
  }

  /** The client address of a request from `peer` carrying `forwardedFor` ("" when absent). */
  resolve(peer: string, forwardedFor: string): string {
    const client = normalize(peer);
    if (!this.any || !forwardedFor || !this.isTrusted(client)) return client;
    const hops = forwardedFor.split(",");
    let last = client;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalize((hops[i] ?? "").trim());
      if (!isIP(hop)) return last; // garbage from the client side: stop at the last proxy we trust
      if (!this.isTrusted(hop)) return hop;
      last = hop;
    }
    return last;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return this.trusted.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}

/** uWS reports IPv4 peers of a dual-stack socket as `::ffff:a.b.c.d`; limits key on `a.b.c.d`. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}
