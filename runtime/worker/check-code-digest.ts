import type { AttemptSpec } from '../store/attempt-spec.ts'

/**
 * The runner's code-identity hook: called with the attempt and the DAG file it is about to import, it returns null
 * when the code on this machine is the code the run recorded, or a reason (non-retryable) when it is not. Code
 * digests are not recorded yet, so there is nothing to compare and every file passes; the code-identity work
 * replaces this body, and the runner already calls it at the right point.
 */
export async function checkCodeDigest(_spec: AttemptSpec, _dagFile: string): Promise<string | null> {
  return null
}
