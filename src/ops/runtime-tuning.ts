// V8 settings for a long-running gateway process, applied once at start-up by the commands that
// serve traffic (and by the benches, which run the gateway as `serve` does).
//
// Allocation-site pretenuring: when V8 sees objects from one allocation site survive a scavenge it
// may allocate that site's later objects straight in the old generation. Under sustained proxy load
// this sometimes settled on the per-request objects: the old generation then grew ~55 MB/s and was
// mark-compacted every ~2 s, costing ~20 % of the throughput and several ms at p99, in 3 of 8 bench
// runs; with pretenuring off, in none of 8 (bench/README.md). A gateway's per-request objects die
// young; the few long-lived ones (sessions, caches) reach the old generation by being promoted.
import { setFlagsFromString } from 'node:v8'

export const GATEWAY_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const

export function applyGatewayRuntimeTuning(): void {
  for (const flag of GATEWAY_V8_FLAGS) setFlagsFromString(flag)
}
