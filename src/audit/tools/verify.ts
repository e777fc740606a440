// `psc-gateway audit verify FILE...`: checks the hash chain of audit files (chain.ts), streaming,
// in constant memory, gzip-compressed files read as they are. Files may be given in any order:
// they are put in chain order (file-order.ts) or refused with the reason. A chain that continues
// in the next file is checked across the boundary. Each finding names the file, the line and what
// happened:
//   edited       the line's text does not match its mac (changed, or forged without the key)
//   unknown-key  the line names a key id none of the given keys has
//   removed      lines are missing (the next line's seq jumps, or a chain-start names a last line
//                that is not the one before it)
//   reordered    a line appears after a later one (swapped or moved)
//   truncated    a partial last line, a file cut in the middle of a line, or (--expect-head) the
//                head seen earlier is not in the files: lines cut from the end, or files replaced
//   malformed    not an audit line at all
//   time-backwards  an access event's time is earlier than the access event's before it: they are
//                written in the order their responses end, so the host's clock was set back (or
//                lines were forged with the key); times around it cannot be trusted
// A chain whose oldest files were removed by the gateway's retention is accepted: the first file
// given continues from a file not given, and an audit-retention event in the files names that
// file's last line (its seq and mac). Without such an event, the missing head is `removed`.
// Not findings: gaps (events the gateway itself recorded as lost, in a signed `gap` line) and key
// changes (a restart with a new key, in a signed `chain-start` with reason key-change) are listed
// apart: the chain is intact, the trail says what it could not hold.
import { runBlocks } from './block-pipeline.js'
import { ChainVerifier } from './chain-verifier.js'
import { orderAuditFiles } from './file-order.js'
import type { VerifyReport } from './verify-report.js'

export { parseHead, UsageProblem } from './chain-ends.js'
export { ChainVerifier }

export interface VerifyOptions {
  /** "seq:mac" of a chain head seen earlier (syslog, operational log): it must be in the files */
  expectHead?: string | undefined
  /** check the files in the order given instead of putting them in chain order */
  keepOrder?: boolean | undefined
  /** the oldest files were removed by something other than the gateway's retention: a missing head is no finding */
  headRemoved?: boolean | undefined
  /** worker threads for the HMACs; 0: none; default: by the files' size and the cores */
  threads?: number | undefined
}

export async function verifyAuditFiles(
  files: string[],
  keys: Buffer | Buffer[],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const verifier = new ChainVerifier(Array.isArray(keys) ? keys : [keys], {
    expectHead: options.expectHead,
    headRemoved: options.headRemoved,
  })
  const ordered = options.keepOrder === true ? files : await orderAuditFiles(files)
  await runBlocks(
    ordered,
    { chain: verifier.task },
    {
      beginFile: (file) => verifier.beginFile(file),
      block: (file, block, result) => verifier.block(file, block, result.check!),
      endFile: (file, read) => verifier.endFile(file, read.endsWithNewline),
    },
    { threads: options.threads },
  )
  return verifier.finish()
}
