// A light Dockerfile reader: stages, instructions (continuation lines joined), and the runtime
// stage's facts the production test relies on. Enough for our Dockerfile, not for every Dockerfile.
export interface Instruction {
  op: string
  args: string
}
export interface Stage {
  name: string | undefined
  instructions: Instruction[]
}
export interface Dockerfile {
  stages: Stage[]
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const stages: Stage[] = []
  for (const line of lines) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line)
    if (!m) throw new Error(`Dockerfile: cannot read "${line}"`)
    const op = m[1]!.toUpperCase()
    const args = m[2]!.replace(/\s+/g, ' ')
    if (op === 'FROM') stages.push({ name: /\sAS\s+(\S+)$/i.exec(args)?.[1], instructions: [] })
    else if (op !== 'ARG' || stages.length > 0) {
      if (stages.length === 0) throw new Error(`Dockerfile: ${op} before FROM`)
      stages[stages.length - 1]!.instructions.push({ op, args })
    }
  }
  return { stages }
}

export interface RuntimeFacts {
  env: Record<string, string>
  user: string | undefined
  /** the `npm ci ...` that installs the runtime's node_modules: in this stage, or in the stage it copies them from */
  npmCi: string | undefined
  /** paths the runtime stage removes (RUN rm -rf ...) */
  removed: string[]
  labels: Record<string, string>
  stopSignal: string | undefined
  copies: { from: string | undefined; sources: string[]; dest: string }[]
  entrypoint: string[]
  cmd: string[]
  /** the HEALTHCHECK's CMD in exec form */
  healthcheck: string[] | undefined
}

function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`not an exec form: ${args}`)
  return parsed
}

/** the last stage: what the image runs */
export function runtimeStage(file: Dockerfile): RuntimeFacts {
  const stage = file.stages[file.stages.length - 1]
  if (!stage) throw new Error('Dockerfile: no stage')
  const facts: RuntimeFacts = {
    env: {},
    user: undefined,
    npmCi: undefined,
    removed: [],
    labels: {},
    stopSignal: undefined,
    copies: [],
    entrypoint: [],
    cmd: [],
    healthcheck: undefined,
  }
  for (const { op, args } of stage.instructions) {
    switch (op) {
      case 'ENV': {
        const m = /^(\S+?)[= ](.*)$/.exec(args)
        if (m) facts.env[m[1]!] = m[2]!
        break
      }
      case 'USER':
        facts.user = args
        break
      case 'RUN': {
        const first = args.split('&&')[0]!.trim()
        if (first.startsWith('npm ci')) facts.npmCi = first
        const rm = /^rm -rf (.*)$/.exec(first)
        if (rm) facts.removed.push(...rm[1]!.split(' '))
        break
      }
      case 'LABEL':
        for (const m of args.matchAll(/(\S+?)="([^"]*)"/g)) facts.labels[m[1]!] = m[2]!
        break
      case 'STOPSIGNAL':
        facts.stopSignal = args
        break
      case 'COPY': {
        const words = args.split(' ')
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice(7) : undefined
        const dest = words.pop()!
        facts.copies.push({ from, sources: words, dest })
        break
      }
      case 'ENTRYPOINT':
        facts.entrypoint = execForm(args)
        break
      case 'CMD':
        facts.cmd = execForm(args)
        break
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+(\[.*\])$/.exec(args)
        facts.healthcheck = m ? execForm(m[1]!) : undefined
        break
      }
    }
  }
  // node_modules copied from an install stage: that stage's npm ci is the runtime's.
  const modules = facts.copies.find((c) => c.from !== undefined && c.sources.some((s) => s.endsWith('/node_modules')))
  if (facts.npmCi === undefined && modules) {
    const from = file.stages.find((s) => s.name === modules.from)
    const run = from?.instructions.find((i) => i.op === 'RUN' && i.args.startsWith('npm ci'))
    facts.npmCi = run?.args.split('&&')[0]?.trim()
  }
  return facts
}
