// Configuration errors carry a position in the YAML file so that an integrator can fix the file
// without reading our code. Messages never contain secret values (see load.ts: isSecretPath).

export interface ConfigIssue {
  /** the file the problem is in, as given to the loader */
  file: string
  /** 1-based line, when the problem can be placed in the file */
  line?: number
  /** 1-based column */
  column?: number
  /** key path in the configuration, e.g. "routes[2].access.professions[0]"; "" for the whole file */
  path: string
  message: string
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[]

  constructor(issues: ConfigIssue[]) {
    super(formatConfigIssues(issues))
    this.name = 'ConfigError'
    this.issues = issues
  }
}

/** One issue: `file:line:col: path: message` (the parts that are known). */
export function formatConfigIssue(issue: ConfigIssue): string {
  let where = issue.file
  if (issue.line !== undefined) {
    where += `:${issue.line}`
    if (issue.column !== undefined) where += `:${issue.column}`
  }
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`
}

/** All issues, one per line. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  if (issues.length === 0) return 'invalid configuration'
  return issues.map(formatConfigIssue).join('\n')
}
