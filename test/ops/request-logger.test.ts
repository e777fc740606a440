// The request's child logger is made only when the request logs, and then logs exactly as pino's
// own child would: the request id bound, the level obeyed (even a level changed by a reload after
// the request started), secrets redacted. Also through a real fastify request.
import t from 'tap'
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { lazyChildLogger } from '../../src/ops/request-logger.js'

function capture() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>)
      done()
    },
  })
  const logger = pino({ level: 'info', redact: ['req.headers.cookie'] }, stream)
  let children = 0
  // pino children inherit from their parent: the counting wrapper must call child on `this`.
  const child = logger.child
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    children++
    return child.apply(this, args)
  } as typeof logger.child
  return { logger, lines, children: () => children }
}

t.test('no child is made for a request that does not log, nor for one logging below the level', async (t) => {
  const c = capture()
  const log = lazyChildLogger(c.logger as unknown as FastifyBaseLogger, { reqId: 'r-1' }, {})
  t.equal(c.children(), 0)
  log.debug('not at info level')
  log.trace('nor this')
  t.equal(c.children(), 0, 'nothing below the level makes a child')
  t.same(c.lines, [])
  t.equal(log.level, 'info')
})

t.test('logs carry the bindings, are made once, and keep pino redaction', async (t) => {
  const c = capture()
  const log = lazyChildLogger(c.logger as unknown as FastifyBaseLogger, { reqId: 'r-2' }, {})
  log.warn({ req: { headers: { cookie: 'psc_session=secret-value' } } }, 'first')
  log.info('second')
  t.equal(c.children(), 1, 'one child for the whole request')
  t.equal(c.lines.length, 2)
  t.match(c.lines[0], { reqId: 'r-2', level: 40, msg: 'first', req: { headers: { cookie: '[Redacted]' } } })
  t.match(c.lines[1], { reqId: 'r-2', level: 30, msg: 'second' })
  t.notOk(JSON.stringify(c.lines).includes('secret-value'))
  const grandchild = log.child({ step: 'x' })
  grandchild.error('third')
  t.match(c.lines[2], { reqId: 'r-2', step: 'x', msg: 'third' })
})

t.test('a level changed on the parent after the request started is obeyed', async (t) => {
  const c = capture()
  const log = lazyChildLogger(c.logger as unknown as FastifyBaseLogger, { reqId: 'r-3' }, {})
  c.logger.level = 'debug'
  log.debug('now visible')
  t.match(c.lines, [{ reqId: 'r-3', msg: 'now visible', level: 20 }])
  t.ok((log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('debug'))
})

t.test('options given by fastify (a route log level) apply to the child', async (t) => {
  const c = capture()
  const log = lazyChildLogger(c.logger as unknown as FastifyBaseLogger, { reqId: 'r-4' }, { level: 'error' })
  t.equal(log.level, 'error')
  log.warn('below the route level')
  log.error('at the route level')
  t.equal(c.lines.length, 1)
  t.match(c.lines[0], { reqId: 'r-4', msg: 'at the route level' })
})

t.test('through fastify: request.log binds the request id; an idle request makes no child', async (t) => {
  const c = capture()
  const app = Fastify({
    loggerInstance: c.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    genReqId: () => 'fixed-id',
  })
  app.get('/quiet', async () => 'ok')
  app.get('/loud', async (request) => {
    request.log.warn('handled')
    return 'ok'
  })
  t.teardown(() => app.close())
  const before = c.children()
  t.equal((await app.inject('/quiet')).statusCode, 200)
  t.equal(c.children(), before, 'no child logger for a request that logs nothing')
  t.equal((await app.inject('/loud')).statusCode, 200)
  t.match(c.lines, [{ reqId: 'fixed-id', msg: 'handled' }])
})
