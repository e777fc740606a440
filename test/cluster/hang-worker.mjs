// Preloaded (NODE_OPTIONS --import) into serve and its workers: the worker whose number is
// TEST_HANG_WORKER hangs before anything of the gateway loads, alive and connected to its primary,
// as one stuck at start would be. Every other process goes on.
import cluster from 'node:cluster'

if (cluster.isWorker && process.env.PSC_GATEWAY_WORKER === process.env.TEST_HANG_WORKER) {
  setInterval(() => {}, 60_000)
  await new Promise(() => {})
}
