// oidc-provider 9 ships no type declarations: this is the small part the emulator uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface InteractionDetails {
    uid: string
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> }
    params: Record<string, unknown>
    session?: { accountId?: string; uid?: string }
    returnTo: string
  }

  export class Grant {
    constructor(init: { accountId: string; clientId: string })
    jti: string
    accountId: string
    clientId: string
    addOIDCScope(scope: string): void
    addOIDCClaims(claims: string[]): void
    save(): Promise<string>
    static find(id: string): Promise<Grant | undefined>
  }

  /** A pending CIBA request (oidc-provider's BackchannelAuthenticationRequest model). */
  export class BackchannelAuthenticationRequest {
    jti: string
    accountId: string
    clientId: string
    scope: string
    /** epoch seconds; unset until the request is stored */
    exp?: number
    /** lifetime in seconds (ttl.BackchannelAuthenticationRequest) */
    readonly expiration?: number
    params: Record<string, unknown>
    grantId?: string
    error?: string
    readonly isExpired: boolean
    static find(
      id: string,
      options?: { ignoreExpiration?: boolean },
    ): Promise<BackchannelAuthenticationRequest | undefined>
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>)
    readonly issuer: string
    proxy: boolean
    Grant: typeof Grant
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void> | void
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>
    on(event: string, listener: (...args: any[]) => void): this
    BackchannelAuthenticationRequest: typeof BackchannelAuthenticationRequest
    backchannelResult(
      request: BackchannelAuthenticationRequest | string,
      result: Grant | Error,
      options?: { acr?: string; authTime?: number },
    ): Promise<void>
    /** koa middleware, run around every provider route */
    use(middleware: (ctx: any, next: () => Promise<void>) => Promise<void>): this
  }

  export const errors: Record<string, new (...args: any[]) => Error>
  export default Provider
}
