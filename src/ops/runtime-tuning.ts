// V8 settings for a long-running gateway process, applied once at start-up by the commands that
// serve traffic (and by the benches, which run the gateway as `serve` does).
//
// Allocation-site pretenuring: when V8 sees objects from one allocation site survive a scavenge it
// may allocate that site's later objects straight in the old generation. Under sustained proxy load
// this sometimes settled on the per-request objects: the old generation then grew ~55 MB/s and was
// mark-compacted every ~2 s, costing ~20 % of the throughput and several ms at p99, in 3 of 8 bench
// runs; with pretenuring off, in none of 8 (bench/README.md). A gateway's per-request objects die
// young; the few long-lived ones (sessions, caches) reach the old generation by being promoted.
//
// The young generation's size is fixed when the heap is set up, so it cannot be set from here
// (setFlagsFromString has no effect on it: measured); it goes on node's command line instead, as
// GATEWAY_NODE_FLAGS (the image's entrypoint, the benches). Node 24 sizes a semi-space from the
// machine's memory, up to 64 MB (Node 20: 16 MB); the young generation grows to that while
// sessions are made and keeps its pages after a full GC: 114 MB of the 334 MB RSS with 50,000
// sessions. 16 MB, Node 20's bound, measured in bench/README.md (memory and throughput).
import { setFlagsFromString } from 'node:v8'

export const GATEWAY_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const

/** For node's command line (before the script): not settable once the process runs. */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=16'] as const

export function applyGatewayRuntimeTuning(): void {
  for (const flag of GATEWAY_V8_FLAGS) setFlagsFromString(flag)
}
