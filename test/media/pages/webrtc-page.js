// Test page logic (bundled with vite for the media tests): publish a fake camera, watch a room
// over WebRTC with mediasoup-client, play HLS with hls.js (loaded separately as window.Hls).
import { Device } from "mediasoup-client";

const state = { device: undefined, recv: undefined, send: undefined, consumers: [], hls: undefined };

async function call(o, method, path, body) {
  const res = await fetch(`${o.base}/media/v1/rooms/${o.room}${path}`, {
    method,
    headers: { authorization: `Bearer ${o.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function device(o) {
  if (!state.device) {
    state.device = new Device();
    await state.device.load({ routerRtpCapabilities: await call(o, "GET", "/rtp-capabilities") });
  }
  return state.device;
}

function wire(o, transport) {
  transport.on("connect", ({ dtlsParameters }, ok, fail) =>
    call(o, "POST", `/transports/${transport.id}/connect`, { dtlsParameters }).then(() => ok(), fail),
  );
}

/** Watches every producer of the room; the video plays in a <video> element. */
async function watch(o) {
  const d = await device(o);
  const t = await call(o, "POST", "/transports", { direction: "recv" });
  state.recv = d.createRecvTransport(t);
  wire(o, state.recv);
  const room = await call(o, "GET", "");
  const stream = new MediaStream();
  for (const p of room.producers) {
    const c = await call(o, "POST", `/transports/${state.recv.id}/consume`, {
      producerId: p.id,
      rtpCapabilities: d.rtpCapabilities,
    });
    const consumer = await state.recv.consume(c);
    state.consumers.push(consumer);
    stream.addTrack(consumer.track);
    await call(o, "POST", `/consumers/${c.id}/resume`);
  }
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.srcObject = stream;
  document.body.append(video);
  await video.play().catch(() => undefined);
  return { transportId: state.recv.id, consumers: state.consumers.map((c) => ({ id: c.id, kind: c.kind })) };
}

/** Publishes the fake camera and microphone. */
async function publish(o) {
  const d = await device(o);
  const t = await call(o, "POST", "/transports", { direction: "send" });
  state.send = d.createSendTransport(t);
  wire(o, state.send);
  state.send.on("produce", ({ kind, rtpParameters }, ok, fail) =>
    call(o, "POST", `/transports/${state.send.id}/produce`, { kind, rtpParameters }).then(ok, fail),
  );
  const media = await navigator.mediaDevices.getUserMedia({
    video: { width: 320, height: 240, frameRate: 15 },
    audio: true,
  });
  const ids = [];
  for (const track of media.getTracks()) ids.push((await state.send.produce({ track })).id);
  return { transportId: state.send.id, producerIds: ids };
}

/** framesDecoded of the inbound video, from the receive transport's RTCPeerConnection. */
async function framesDecoded() {
  if (!state.recv) return 0;
  let frames = 0;
  (await state.recv.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0;
  });
  return frames;
}

/** Plays an HLS playlist with hls.js (window.Hls). */
function playHls(url) {
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  document.body.append(video);
  const hls = new window.Hls({ lowLatencyMode: false });
  state.hls = { hls, video, errors: [] };
  hls.on(window.Hls.Events.ERROR, (_e, data) => state.hls.errors.push(`${data.type}/${data.details}`));
  hls.loadSource(url);
  hls.attachMedia(video);
  video.play().catch(() => undefined);
  return true;
}

function hlsStats() {
  if (!state.hls) return undefined;
  const { hls, video, errors } = state.hls;
  const date = hls.playingDate;
  return {
    currentTime: video.currentTime,
    playingDateMs: date ? date.getTime() : null,
    nowMs: Date.now(),
    errors: errors.slice(-5),
  };
}

function closeAll() {
  state.recv?.close();
  state.send?.close();
  state.hls?.hls.destroy();
}

window.ld = { watch, publish, framesDecoded, playHls, hlsStats, closeAll };
