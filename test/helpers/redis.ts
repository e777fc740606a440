// A real redis-server (Debian package) on a free loopback port, for the Redis store's tests.
// Persistence is on (append-only file in a temp dir) so a restart keeps the sessions, as it would
// in production; `stop()` then `start()` is a Redis restart.
import { waitForPort } from './ports.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './stack.js'

export interface RedisServer {
  port: number
  url: string
  start(): Promise<void>
  stop(): Promise<void>
  /** SIGSTOP / SIGCONT: a server that keeps its connections open and answers nothing */
  freeze(): void
  thaw(): void
  close(): Promise<void>
}

const REDIS_BIN = process.env.REDIS_SERVER ?? 'redis-server'

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'psc-redis-'))
  let child: ChildProcess | undefined
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async start() {
      child = spawn(
        REDIS_BIN,
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--save',
          '',
          '--protected-mode',
          'yes',
        ],
        { stdio: 'ignore' },
      )
      const failed = new Promise<never>((_, reject) =>
        child!.once('error', (err) =>
          reject(new Error(`cannot start ${REDIS_BIN} (apt-get install redis-server): ${err.message}`)),
        ),
      )
      await Promise.race([waitForPort(port, 10_000, 'redis-server'), failed])
    },
    async stop() {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null) return
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve())
        c.kill('SIGTERM')
      })
    },
    freeze() {
      child?.kill('SIGSTOP')
    },
    thaw() {
      child?.kill('SIGCONT')
    },
    async close() {
      child?.kill('SIGCONT')
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await server.start()
  return server
}
