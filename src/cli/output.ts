// Output that survives its reader going away: `psc-gateway schema | head -1` closes the pipe after
// one line; the next write fails with EPIPE, which is the reader's choice, not an error.
let installed = false

export function exitQuietlyOnClosedPipe(): void {
  if (installed) return
  installed = true
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw err
    })
  }
}
