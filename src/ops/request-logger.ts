// fastify gives every request a child logger (`request.log`, bound to its request id). pino builds
// a child eagerly (bindings serialised, redaction prepared): microseconds on every request, for a
// logger that almost no request uses (requests are recorded in the audit trail, not in this log).
// This child is made only when the request logs something, with the same bindings and options.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions } from 'pino'

/** pino's loggers say whether a level is on; another logger is asked every time. */
type Logger = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean }

class LazyChildLogger {
  readonly #parent: Logger
  readonly #bindings: Bindings
  readonly #options: ChildLoggerOptions
  #made: Logger | undefined

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent
    this.#bindings = bindings
    this.#options = options
  }

  get #logger(): Logger {
    this.#made ??= this.#parent.child(this.#bindings, this.#options)
    return this.#made
  }

  get level(): string {
    return this.#made?.level ?? this.#options.level ?? this.#parent.level
  }

  set level(level: string) {
    this.#logger.level = level
  }

  isLevelEnabled(level: string): boolean {
    return (this.#made ?? this.#parent).isLevelEnabled?.(level) ?? true
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger.child(bindings, options)
  }

  // Methods on the prototype: no closure per request.
  fatal(...args: unknown[]): void {
    this.#log('fatal', args)
  }
  error(...args: unknown[]): void {
    this.#log('error', args)
  }
  warn(...args: unknown[]): void {
    this.#log('warn', args)
  }
  info(...args: unknown[]): void {
    this.#log('info', args)
  }
  debug(...args: unknown[]): void {
    this.#log('debug', args)
  }
  trace(...args: unknown[]): void {
    this.#log('trace', args)
  }
  silent(): void {}

  #log(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: unknown[]): void {
    // Below the level, not even the child is made.
    if (this.#made === undefined && this.#options.level === undefined && this.#parent.isLevelEnabled?.(level) === false)
      return
    ;(this.#logger[level] as (...a: unknown[]) => void)(...args)
  }
}

/** A fastify `childLoggerFactory`: the request's child logger, made on first use. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
