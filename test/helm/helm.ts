// Running the chart through a real helm binary and reading what it renders as objects.
import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseAllDocuments } from 'yaml'

const run = promisify(execFile)
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CHART = join(ROOT, 'helm', 'psc-gateway')
export const VALUES = join(ROOT, 'test', 'helm', 'values')
export const EXAMPLE = join(CHART, 'examples', 'bas.yaml')
/** the values every install must give (publicUrl, client id, session secret), put first unless `bare` */
export const REQUIRED = join(VALUES, 'required.yaml')

/** HELM_BIN, then helm on PATH, then the copy scripts/fetch-helm.sh caches; undefined if none. */
export function findHelm(): string | undefined {
  const candidates = [
    process.env.HELM_BIN,
    ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'helm')),
    join(ROOT, '.cache', 'helm', 'helm'),
  ]
  for (const c of candidates) {
    if (!c) continue
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {
      // next
    }
  }
  return undefined
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [key: string]: any
}

export interface RenderOptions {
  /** without test/helm/values/required.yaml (to test what happens when a required value is missing) */
  bare?: boolean
  values?: string[]
  set?: Record<string, string | number | boolean>
  setString?: Record<string, string>
  namespace?: string
}

function helmArgs(o: RenderOptions): string[] {
  const args = ['--namespace', o.namespace ?? 'gw']
  for (const v of [...(o.bare ? [] : [REQUIRED]), ...(o.values ?? [])]) args.push('-f', v)
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('--set', `${k}=${v}`)
  for (const [k, v] of Object.entries(o.setString ?? {})) args.push('--set-string', `${k}=${v}`)
  return args
}

export class Rendered {
  constructor(
    readonly objects: K8sObject[],
    readonly text: string,
  ) {}
  all(kind: string): K8sObject[] {
    return this.objects.filter((o) => o.kind === kind)
  }
  one(kind: string): K8sObject {
    const found = this.all(kind)
    if (found.length !== 1) throw new Error(`expected one ${kind}, got ${found.length}`)
    return found[0]!
  }
  kinds(): string[] {
    return this.objects.map((o) => o.kind).sort()
  }
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`)
      return d.toJS() as K8sObject | null
    })
    .filter((o): o is K8sObject => o !== null)
}

export async function template(helm: string, o: RenderOptions = {}): Promise<Rendered> {
  const { stdout } = await run(helm, ['template', 'gw', CHART, ...helmArgs(o)], { maxBuffer: 16 * 1024 * 1024 })
  return new Rendered(parseManifests(stdout), stdout)
}

/** the error helm prints when rendering fails; throws when it renders */
export async function templateError(helm: string, o: RenderOptions = {}): Promise<string> {
  try {
    await run(helm, ['template', 'gw', CHART, ...helmArgs(o)])
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err)
  }
  throw new Error('expected helm template to fail')
}

export async function lint(helm: string, o: RenderOptions = {}): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout } = await run(helm, ['lint', '--strict', CHART, ...helmArgs(o)])
    return { ok: true, output: stdout }
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

/** an install dry run (client side, no cluster): the NOTES.txt text */
export async function installNotes(helm: string, o: RenderOptions = {}): Promise<string> {
  const { stdout } = await run(helm, ['install', 'gw', CHART, '--dry-run=client', '-o', 'json', ...helmArgs(o)], {
    maxBuffer: 16 * 1024 * 1024,
  })
  return (JSON.parse(stdout) as { info: { notes: string } }).info.notes
}
