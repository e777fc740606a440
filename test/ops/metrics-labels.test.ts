// Free-text reasons and error objects → the few fixed label values metrics may carry.
import t from 'tap'
import { PSC_ERR } from '../../src/errors.js'
import type { AuditEvent, AuditSink } from '../../src/audit/events.js'
import { loginFailureKind, statusClass, teeAuditSinks, upstreamErrorKind } from '../../src/ops/metrics.js'

t.test('login failure codes map to a fixed label; every login failure code has its own', async (t) => {
  t.equal(loginFailureKind(PSC_ERR.LOGIN_UNKNOWN_STATE.code), 'state')
  t.equal(loginFailureKind(PSC_ERR.LOGIN_ACR_TOO_LOW.code), 'acr')
  t.equal(loginFailureKind(PSC_ERR.LOGIN_CANCELLED.code), 'cancelled')
  t.equal(loginFailureKind(PSC_ERR.LOGIN_USERINFO.code), 'userinfo')
  t.equal(loginFailureKind(PSC_ERR.LOGIN_PSC_UNREACHABLE.code), 'unreachable')
  t.equal(loginFailureKind(PSC_ERR.LOGIN_STORE_UNAVAILABLE.code), 'store')
  t.equal(loginFailureKind(undefined), 'other')
  t.equal(
    loginFailureKind('authentication level eidas1 is below the required eidas2'),
    'other',
    'prose is never matched',
  )
  const loginCodes = Object.values(PSC_ERR)
    .map((d) => d.code)
    .filter((c) => c.startsWith('PSC_ERR_LOGIN_') && !c.startsWith('PSC_ERR_LOGIN_REQUIRED'))
  t.ok(loginCodes.length >= 9)
  for (const code of loginCodes) t.not(loginFailureKind(code), 'other', code)
})

t.test('upstream error kinds, from reply-from errors and their causes', async (t) => {
  const err = (code: string, cause?: object) => Object.assign(new Error(code), { code, cause })
  t.equal(upstreamErrorKind(err('FST_REPLY_FROM_GATEWAY_TIMEOUT')), 'timeout')
  t.equal(upstreamErrorKind(err('UND_ERR_CONNECT_TIMEOUT')), 'timeout')
  t.equal(upstreamErrorKind(err('FST_REPLY_FROM_INTERNAL_SERVER_ERROR', err('ECONNREFUSED'))), 'refused')
  t.equal(upstreamErrorKind(err('ECONNRESET')), 'reset')
  t.equal(upstreamErrorKind(err('FST_REPLY_FROM_SERVICE_UNAVAILABLE', err('ENOTFOUND'))), 'unresolved')
  t.equal(upstreamErrorKind(err('UND_ERR_SOCKET')), 'socket')
  t.equal(upstreamErrorKind(err('FST_REPLY_FROM_BAD_GATEWAY')), 'bad_response')
  t.equal(upstreamErrorKind(new Error('x')), 'other')
  t.equal(upstreamErrorKind(undefined), 'other')
})

t.test('status classes', async (t) => {
  t.same([200, 302, 404, 503, 99, 600].map(statusClass), ['2xx', '3xx', '4xx', '5xx', 'other', 'other'])
})

t.test('tee: the primary sink first and unchanged; a failing observer never breaks it', async (t) => {
  const seen: string[] = []
  const room = Promise.resolve()
  const primary: AuditSink = {
    write: (e) => {
      seen.push(`primary:${e.event}`)
      return room
    },
    whenRoom: () => room,
  }
  const broken: AuditSink = {
    write: () => {
      throw new Error('metrics broke')
    },
  }
  const after: AuditSink = { write: (e) => void seen.push(`after:${e.event}`) }
  const tee = teeAuditSinks(primary, broken, after)
  const event = { event: 'logout', cause: 'user' } as unknown as AuditEvent
  t.equal(tee.write(event), room, 'backpressure promise passed through')
  t.equal(tee.whenRoom?.(), room)
  t.same(seen, ['primary:logout', 'after:logout'])
  const failing = teeAuditSinks(
    {
      write: () => {
        throw new Error('disk full')
      },
    },
    after,
  )
  t.throws(() => failing.write(event), /disk full/, 'a failing audit sink still fails as before')
})

t.test('dropped audit events are exported as a counter that follows the sink total', async (t) => {
  const { createGatewayMetrics } = await import('../../src/ops/metrics.js')
  let dropped = 0
  const metrics = createGatewayMetrics({ activeSessions: () => 0, auditDropped: () => dropped, processMetrics: false })
  const value = async () =>
    Number(/^psc_gateway_audit_dropped_events_total (\d+)$/m.exec(await metrics.registry.metrics())?.[1])
  t.equal(await value(), 0)
  dropped = 5
  t.equal(await value(), 5)
  t.equal(await value(), 5, 'a scrape does not count twice')
  dropped = 12
  t.equal(await value(), 12)
})
