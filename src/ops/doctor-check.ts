// What one check of `psc-gateway doctor` reports (its verdict, what it found, what to do), and the
// whole report.

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip'

export interface DoctorCheck {
  name:
    | 'config'
    | 'dns'
    | 'proxy'
    | 'tls'
    | 'discovery'
    | 'jwks'
    | 'clock'
    | 'client-auth'
    | 'certificate'
    | 'registered-urls'
    | 'directory'
  verdict: Verdict
  detail: string
  /** what to do about it */
  todo?: string
}

export interface DoctorReport {
  ok: boolean
  checks: DoctorCheck[]
}
