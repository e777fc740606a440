// A real small disk that fills up: a tmpfs of a few KiB mounted for the test (root, as on this
// machine and in the CI container), grown later to play "the operator freed some space".
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SmallDisk {
  dir: string
  grow(kib: number): void
  unmount(): void
}

export function mountSmallDisk(kib: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'audit-disk-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0777`, 'tmpfs', dir])
  return {
    dir,
    grow: (k) => {
      execFileSync('mount', ['-o', `remount,size=${k}k`, dir])
    },
    unmount: () => {
      try {
        execFileSync('umount', ['-l', dir])
      } catch {
        /* already gone */
      }
      try {
        rmdirSync(dir)
      } catch {
        /* busy or gone */
      }
    },
  }
}
