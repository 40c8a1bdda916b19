/**
 * NTP-style clock offset from ping/pong: the protocol's own math. protocol/clock.ts imports
 * nothing, so k6 and the Node driver load it as it is (test/loadtest/k6-scripts.test.ts checks
 * that it stays dependency-free).
 */
export { bestOffset, type ClockEstimate, type ClockSample, clockOffset } from "../../protocol/clock.ts";
