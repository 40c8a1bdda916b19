// The private PostgreSQL server lives in deploy/ (the benchmarks use it too).
export { type PrivatePostgres, startPrivatePostgres } from "../../deploy/index.ts";
