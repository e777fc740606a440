// A light Dockerfile reader: stages, instructions (continuation lines joined), and the runtime
// stage's facts the production test relies on. Enough for our Dockerfile, not for every Dockerfile.
export interface Instruction { op: string; args: string }
export interface Stage { name: string | undefined; instructions: Instruction[] }
export interface Dockerfile { stages: Stage[] }

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
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
  /** the RUN line's first command when it is `npm ci ...` */
  npmCi: string | undefined
  copies: { from: string | undefined; sources: string[]; dest: string }[]
  entrypoint: string[]
  cmd: string[]
  /** the HEALTHCHECK's CMD in exec form */
  healthcheck: string[] | undefined
}

function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`)
  return parsed
}

/** the last stage: what the image runs */
export function runtimeStage(file: Dockerfile): RuntimeFacts {
  const stage = file.stages[file.stages.length - 1]
  if (!stage) throw new Error('Dockerfile: no stage')
  const facts: RuntimeFacts = { env: {}, user: undefined, npmCi: undefined, copies: [], entrypoint: [], cmd: [], healthcheck: undefined }
  for (const { op, args } of stage.instructions) {
    switch (op) {
      case 'ENV': {
        const m = /^(\S+?)[= ](.*)$/.exec(args)
        if (m) facts.env[m[1]!] = m[2]!
        break
      }
      case 'USER': facts.user = args; break
      case 'RUN': {
        const first = args.split('&&')[0]!.trim()
        if (first.startsWith('npm ci')) facts.npmCi = first
        break
      }
      case 'COPY': {
        const words = args.split(' ')
        const from = words[0]?.startsWith('--from=') ? words.shift()!.slice(7) : undefined
        const dest = words.pop()!
        facts.copies.push({ from, sources: words, dest })
        break
      }
      case 'ENTRYPOINT': facts.entrypoint = execForm(args); break
      case 'CMD': facts.cmd = execForm(args); break
      case 'HEALTHCHECK': {
        const m = /\bCMD\s+(\[.*\])$/.exec(args)
        facts.healthcheck = m ? execForm(m[1]!) : undefined
        break
      }
    }
  }
  return facts
}
