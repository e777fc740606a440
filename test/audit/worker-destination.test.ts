// The audit file written by a worker thread, behind the real queue: lines in order and a chain that
// verifies, reopen after logrotate, a thread that dies with a batch in flight (the batch is retried
// by a new thread: nothing lost, nothing twice), close, a bad path at start-up, and a process that
// ends by itself with its last line written.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import type { AuditEvent } from '../../src/audit/events.js'
import { startModuleThread } from '../../src/audit/module-thread.js'
import { QueuedSink } from '../../src/audit/queued-sink.js'
import { createAuditOutput } from '../../src/audit/sinks.js'
import { verifyAuditFiles } from '../../src/audit/tools/verify.js'
import { startFileWriter, WorkerDestination, type StartFileWriter } from '../../src/audit/worker-destination.js'
import { TYPESCRIPT_NODE_ARGS } from '../helpers/typescript-node.js'

const KEY = 'worker-destination-test-key-0123456789abcdef'
const key = Buffer.from(KEY)
const dir = mkdtempSync(join(tmpdir(), 'audit-worker-'))

function accessEvent(i: number): AuditEvent {
  return {
    v: 1,
    time: new Date(Date.UTC(2025, 2, 1, 8, 0, 0, i)).toISOString(),
    event: 'access',
    decision: 'allow',
    requestId: `req-${i}`,
    client: '10.0.0.1',
    method: 'GET',
    path: `/dossier/${i}`,
    status: 200,
    durationMs: 1.5,
  }
}

type Line = {
  event: string
  seq: number
  mac: string
  reason?: string
  requestId?: string
  previous?: { seq: number; mac: string } | null
}

function lines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
}

const requestIds = (file: string) =>
  lines(file)
    .filter((l) => l.event === 'access')
    .map((l) => l.requestId)
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `req-${from + i}`)

/** Starts threads through `start`, and remembers them (to see them end). */
function recording(start: StartFileWriter = startFileWriter): StartFileWriter & { threads: Worker[] } {
  const threads: Worker[] = []
  return Object.assign(
    (settings: Parameters<StartFileWriter>[0]) => {
      const w = start(settings)
      threads.push(w)
      return w
    },
    { threads },
  )
}

/** QueuedSink's retry timer does not hold the process (nor does a pending promise): a server would. */
async function keptAlive<T>(work: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000)
  try {
    return await work()
  } finally {
    clearInterval(hold)
  }
}

function exited(w: Worker): Promise<void> {
  return w.threadId === -1 ? Promise.resolve() : new Promise((resolve) => w.once('exit', () => resolve()))
}

t.test('lines land in order, written by the thread, and the file verifies', async (t) => {
  const file = join(dir, 'ordered.log')
  const start = recording()
  const sink = new QueuedSink(new WorkerDestination(file, { hmacKey: KEY, startWorker: start }))
  for (let burst = 0; burst < 5; burst++) {
    for (let i = burst * 100; i < (burst + 1) * 100; i++) sink.write(accessEvent(i))
    await new Promise((r) => setImmediate(r))
  }
  await sink.close()
  t.equal(start.threads.length, 1, 'one thread wrote everything')
  const l = lines(file)
  t.match(l[0], { event: 'chain-start', seq: 0, reason: 'open', file, previous: null })
  t.same(requestIds(file), ids(0, 500), 'every event once, in order')
  t.same(
    l.map((x) => x.seq),
    Array.from({ length: 501 }, (_, i) => i),
  )
  const r = await verifyAuditFiles([file], key)
  t.ok(r.ok, JSON.stringify(r.findings))
  t.equal(r.chains, 1)
})

t.test(
  'reopen after logrotate moved the file: the new file starts with a chain-start linking to the old one',
  async (t) => {
    const file = join(dir, 'rotated.log')
    // No periodic check: only the reopen message can make the thread notice the move.
    const dest = new WorkerDestination(file, { hmacKey: KEY, checkEveryMs: 3_600_000 })
    const sink = new QueuedSink(dest)
    for (let i = 0; i < 5; i++) sink.write(accessEvent(i))
    await sink.flush()
    renameSync(file, `${file}.1`)
    dest.reopen()
    for (let i = 5; i < 10; i++) sink.write(accessEvent(i))
    await sink.close()
    const old = lines(`${file}.1`)
    const now = lines(file)
    t.same(requestIds(`${file}.1`), ids(0, 5))
    t.same(requestIds(file), ids(5, 10))
    t.match(now[0], { event: 'chain-start', reason: 'reopen', previous: { seq: 5, mac: old[5]!.mac } })
    const r = await verifyAuditFiles([`${file}.1`, file], key)
    t.ok(r.ok, JSON.stringify(r.findings))
  },
)

/** Writes events 0..9, then 10..19 (the second batch is the one the first thread dies with). */
async function twoBatches(dest: WorkerDestination, errors: Error[]): Promise<void> {
  const sink = new QueuedSink(dest, { retryDelayMs: 10, onError: (err) => errors.push(err) })
  for (let i = 0; i < 10; i++) sink.write(accessEvent(i))
  await sink.flush()
  for (let i = 10; i < 20; i++) sink.write(accessEvent(i))
  await keptAlive(() => sink.close())
}

/** The file of twoBatches after the first thread died: a second chain that links to the first. */
async function checkRetriedOnce(t: Test, file: string): Promise<void> {
  const l = lines(file)
  t.same(requestIds(file), ids(0, 20), 'every event once, in order: none lost, none twice')
  t.same(
    l.map((x) => (x.event === 'chain-start' ? 'start' : x.seq)),
    ['start', ...Array.from({ length: 10 }, (_, i) => i + 1), 'start', ...Array.from({ length: 10 }, (_, i) => i + 1)],
  )
  t.match(
    l[11],
    { event: 'chain-start', previous: { seq: 10, mac: l[10]!.mac } },
    "the new thread's chain links to the last line in the file",
  )
  const r = await verifyAuditFiles([file], key)
  t.ok(r.ok, JSON.stringify(r.findings))
  t.equal(r.chains, 2)
}

t.test('the thread terminated with a batch in flight: the batch is retried by a new thread', async (t) => {
  const file = join(dir, 'terminated.log')
  // The first thread is terminated as its second batch is posted, so that batch is in flight and unwritten.
  const start = recording((settings) => {
    const w = startFileWriter(settings)
    if (start.threads.length > 0) return w
    let batches = 0
    const post = w.postMessage.bind(w)
    w.postMessage = (message: { kind: string }) => {
      if (message.kind === 'batch' && ++batches === 2) void w.terminate()
      post(message)
    }
    return w
  })
  const errors: Error[] = []
  await twoBatches(new WorkerDestination(file, { hmacKey: KEY, startWorker: start }), errors)
  t.equal(start.threads.length, 2, 'a new thread took over')
  t.same(
    errors.map((e) => e.message),
    ['audit file writer thread stopped (exit code 1); a new one takes over'],
  )
  await checkRetriedOnce(t, file)
})

for (const dieBy of ['throw', 'exit'] as const) {
  t.test(
    `the thread dies (${dieBy === 'throw' ? 'an uncaught exception' : 'process.exit'}) with a batch in flight: the batch is retried by a new thread`,
    async (t) => {
      const file = join(dir, `died-${dieBy}.log`)
      const dying = new URL('./dying-file-writer.ts', import.meta.url)
      const start = recording((settings) =>
        start.threads.length === 0
          ? startModuleThread(dying, { ...settings, dieOnBatch: 2, dieBy })
          : startFileWriter(settings),
      )
      const errors: Error[] = []
      await twoBatches(new WorkerDestination(file, { hmacKey: KEY, startWorker: start }), errors)
      t.equal(start.threads.length, 2, 'a new thread took over')
      t.same(
        errors.map((e) => e.message),
        [
          `audit file writer thread stopped (${dieBy === 'throw' ? 'file writer bug' : 'exit code 3'}); a new one takes over`,
        ],
      )
      await checkRetriedOnce(t, file)
    },
  )
}

t.test("a write failing in the thread is reported with the OS's message and retried, by the same thread", async (t) => {
  const file = join(dir, 'failing.log')
  const start = recording()
  const errors: Error[] = []
  const sink = new QueuedSink(new WorkerDestination(file, { hmacKey: KEY, checkEveryMs: 0, startWorker: start }), {
    retryDelayMs: 10,
    // The disk "recovers" once the failure is reported: the retry succeeds.
    onError: (err) => {
      errors.push(err)
      rmdirSync(file)
    },
  })
  for (let i = 0; i < 3; i++) sink.write(accessEvent(i))
  await sink.flush()
  // Rotated, and a directory where the file should be: the thread's reopen fails.
  renameSync(file, `${file}.1`)
  mkdirSync(file)
  for (let i = 3; i < 6; i++) sink.write(accessEvent(i))
  await keptAlive(() => sink.close())
  t.equal(errors.length, 1)
  t.match(errors[0]!.message, /^EISDIR: .*failing\.log/)
  t.equal(start.threads.length, 1, 'a failed write does not replace the thread')
  t.same(requestIds(`${file}.1`), ids(0, 3))
  t.same(requestIds(file), ids(3, 6))
  const r = await verifyAuditFiles([`${file}.1`, file], key)
  t.ok(r.ok, JSON.stringify(r.findings))
})

t.test('close writes everything queued, closes the file and ends the thread', async (t) => {
  const file = join(dir, 'closed.log')
  const start = recording()
  const dest = new WorkerDestination(file, { hmacKey: KEY, startWorker: start })
  const sink = new QueuedSink(dest)
  // More than one batch (2,000 events at most each), closed without waiting for any.
  for (let i = 0; i < 4500; i++) sink.write(accessEvent(i))
  await sink.close()
  t.same(requestIds(file), ids(0, 4500))
  t.ok((await verifyAuditFiles([file], key)).ok)
  await t.resolves(exited(start.threads[0]!), 'the thread ended')
  const after = await new Promise<Error | null | undefined>((resolve) => dest.writeBatch(['{"late":true}'], resolve))
  t.match(after?.message, /closed/, 'a batch after close fails, and says why')
})

t.test('a path that cannot be opened throws at creation, naming the path, and starts no thread', async (t) => {
  const file = join(dir, 'no-such-dir', 'audit.log')
  const start = recording()
  t.throws(() => new WorkerDestination(file, { hmacKey: KEY, startWorker: start }), {
    code: 'ENOENT',
    message: new RegExp(`no such file or directory, open '${file}'`),
  })
  t.equal(start.threads.length, 0)
  t.throws(
    () =>
      createAuditOutput({
        stdout: false,
        file,
        hmacKey: KEY,
        onBackpressure: 'block',
        includeQuery: false,
        maxQueuedEvents: 100,
      }),
    { message: new RegExp(file) },
  )
})

t.test('an idle thread does not keep the process alive, and the last write is not lost at exit', async (t) => {
  const file = join(dir, 'natural-exit.log')
  const script = fileURLToPath(new URL('./write-one-event.ts', import.meta.url))
  const started = Date.now()
  const child = spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, script, file], {
    env: { ...process.env, AUDIT_HMAC_KEY: KEY },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  )
  clearTimeout(killer)
  t.same({ code, signal }, { code: 0, signal: null }, `the process ended by itself (in ${Date.now() - started} ms)`)
  t.same(
    lines(file).map((l) => l.event),
    ['chain-start', 'access'],
  )
  t.ok((await verifyAuditFiles([file], key)).ok)
})
