// The processes a process started, from /proc (Linux): a cluster's primary and its workers are
// measured together, and the bench waits for every worker to exist before it measures.
import { readdirSync, readFileSync } from 'node:fs'

/** Parent pid of `pid`, undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces): state, then the parent pid.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

/** Every live descendant of `pid` (children, their children, ...), in no particular order. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    const p = Number(name)
    if (!Number.isInteger(p)) continue
    const parent = parentOf(p)
    if (parent === undefined) continue
    const list = children.get(parent)
    if (list === undefined) children.set(parent, [p])
    else list.push(p)
  }
  const out: number[] = []
  const stack = [pid]
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c)
      stack.push(c)
    }
  }
  return out
}
